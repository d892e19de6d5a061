"""A bot's own loguru and logging calls land in bot.log and steps.jsonl with the item and
step, secrets masked; ``--log-json`` ships the same events to stdout as JSON lines."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path

import pytest
from loguru import logger

from deskhand import cli, masking, vault
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.logs import human_line, read_events
from deskhand.runner import run_bot

SECRET = "Pa55-w0rd!chatty"

CHATTY = """
    import logging
    from loguru import logger
    from deskhand import Bot, vault

    bot = Bot("chatty", max_attempts=1)
    std = logging.getLogger("chatty.bot")

    @bot.source
    def items(ctx):
        for ref in ("inv-1", "inv-2"):
            yield ctx.item(reference=ref)

    @bot.process
    def process(item, ctx):
        password = vault.get("chatty")["password"]
        std.info("before any step of %s", item.reference)
        with ctx.step("read"):
            logger.info("loguru read {} with {}", item.reference, password)
            std.warning("logging read %s with %s", item.reference, password)
        with ctx.step("save"):
            with ctx.step("confirm"):
                logger.debug("loguru confirm {}", item.reference)
            std.info("logging save %s", item.reference)
            try:
                raise ValueError(f"refused {password}")
            except ValueError:
                std.exception("save of %s failed", item.reference)
        return ctx.done(saved=True)
"""


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv(vault.env_name("chatty"), json.dumps({"username": "u", "password": SECRET}))
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "chatty.py").write_text(textwrap.dedent(CHATTY))
    return root


def logs_of(events: list[dict]) -> dict[str, dict]:
    return {e["message"]: e for e in events if e["event"] == "log"}


def test_loguru_and_logging_land_with_item_and_step_secret_masked(project, tmp_path):
    bot = load_bot("chatty", project)
    settings = load_settings(
        project,
        bot.settings,
        {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}"},
    )
    root_level = logging.getLogger().level
    handlers = list(logging.getLogger().handlers)

    result = run_bot(bot, settings)

    assert [i.status for i in result.items] == ["done", "done"]
    events = read_events(result.dir)
    logs = logs_of(events)
    masked = f"loguru read inv-1 with {masking.MASK}"
    assert logs[masked]["item"] == "inv-1"
    assert logs[masked]["step"] == "read"
    assert logs[masked]["source"] == "loguru"
    assert logs[masked]["level"] == "INFO"
    std = logs[f"logging read inv-2 with {masking.MASK}"]
    assert std["level"] == "WARNING"
    assert (std["item"], std["step"], std["source"], std["logger"]) == (
        "inv-2",
        "read",
        "logging",
        "chatty.bot",
    )
    assert logs["loguru confirm inv-1"]["step"] == "confirm"  # the innermost step
    assert logs["logging save inv-2"]["step"] == "save"  # back out of the nested one
    failed = logs["save of inv-1 failed"]
    assert failed["level"] == "ERROR" and failed["step"] == "save"
    assert f"ValueError: refused {masking.MASK}" in failed["traceback"]
    before = logs["before any step of inv-1"]
    assert before["item"] == "inv-1" and "step" not in before

    text = (result.dir / "bot.log").read_text()
    assert "[inv-1] (read) loguru:" in text and masked in text
    assert f"[inv-2] (read) logging:chatty.bot: logging read inv-2 with {masking.MASK}" in text
    assert "| WARNING | [inv-2] (read) logging:chatty.bot" in text
    for name in ("bot.log", "steps.jsonl"):
        assert SECRET not in (result.dir / name).read_text()

    # removed after the run: the root logger is as it was, later records go nowhere
    assert logging.getLogger().level == root_level
    assert logging.getLogger().handlers == handlers
    logger.info("after the run")
    logging.getLogger("chatty.bot").warning("after the run too")
    assert "after the run" not in (result.dir / "bot.log").read_text()
    assert "after the run" not in (result.dir / "steps.jsonl").read_text()


def test_log_json_writes_the_events_to_stdout(project, monkeypatch, capsys):
    monkeypatch.chdir(project)

    code = cli.main(["run", "chatty", "--log-json", "--retry-delay", "0"])

    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]  # nothing else on stdout
    kinds = [e["event"] for e in events]
    assert kinds[0] == "run_start" and kinds[-1] == "run_end"
    assert kinds.count("item_end") == 2
    logs = logs_of(events)
    shipped = logs[f"logging read inv-1 with {masking.MASK}"]
    assert (shipped["item"], shipped["step"], shipped["bot"]) == ("inv-1", "read", "chatty")
    assert SECRET not in out and SECRET not in err
    assert "log:" in err  # the summary for people went to stderr
    run_dir = Path(next(line.split()[-1] for line in err.splitlines() if line.startswith("log:")))
    assert [e["event"] for e in read_events(run_dir.parent)] == kinds  # the same events


def test_bot_log_lines_say_what_source_values_and_healing_hold():
    source = {"event": "source", "total": 5, "added": 2, "already_queued": {"done": 3}}
    assert human_line(source) == "source: 5 item(s) read, 2 queued; already in the queue: 3 done"
    fresh = {"event": "source", "total": 2, "added": 2, "already_queued": {}}
    assert human_line(fresh) == "source: 2 item(s) read, 2 queued"
    values = {"event": "values", "item": "inv-1", "kind": "keyed", "data": {"total": "12.50"}}
    assert human_line(values) == '[inv-1] values keyed {"total": "12.50"}'
    healing = {
        "event": "healing",
        "item": "inv-1",
        "element": "save",
        "repository": "legacy_ap",
        "candidates": [
            {"selector": "#save", "matches": 0},
            {"selector": "text=Save", "matches": 1},
        ],
        "proposal": "selectors/legacy_ap.proposed.yaml",
    }
    line = human_line(healing)
    assert line.startswith("[inv-1] healing save (selectors/legacy_ap.yaml): ")
    assert "#save matched 0, text=Save matched 1" in line
    assert line.endswith("proposal selectors/legacy_ap.proposed.yaml")


def test_bot_log_lines_for_run_end_key_and_step_data_read_as_sentences():
    end = {"event": "run_end", "run_id": "r1", "counts": {"done": 2, "needs_review": 1}}
    assert human_line(end) == "run r1 ended: 2 done, 1 needs review"
    key = {"event": "key", "item": "inv-1", "key": "acme | 4711"}
    assert human_line(key) == "[inv-1] business key acme | 4711"
    data = {"event": "data", "item": "inv-1", "step": "read", "data": {"pages": 2}}
    assert human_line(data) == "[inv-1] step 'read' data {\"pages\": 2}"
