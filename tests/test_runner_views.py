"""What a run renders when it ends: the views the layers above hand the runner
(deskhand.runner.VIEWS; the package registers report.html), never imported by it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from deskhand import runner
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.journal import read_run
from deskhand.status import Status

ROOT = Path(__file__).resolve().parents[1]

TWO = """
    from deskhand import Bot, BusinessError

    bot = Bot("two", max_attempts=1)

    @bot.source
    def items(ctx):
        yield ctx.item(reference="good", file="in/good.pdf")
        yield ctx.item(reference="odd", file="in/odd.pdf")

    @bot.process
    def process(item, ctx):
        with ctx.step("check", ref=item.reference):
            if item.reference == "odd":
                raise BusinessError("the total does not add up")
        return ctx.done(record="R-" + item.reference)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "two.py").write_text(textwrap.dedent(TWO))
    return root


def _run(project: Path, tmp_path: Path) -> runner.RunResult:
    bot = load_bot("two", project)
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}"}
    return runner.run_bot(bot, load_settings(project, bot.settings, cli))


def test_run_bot_from_python_renders_the_report_and_every_registered_view(
    project, tmp_path, monkeypatch
):
    seen = []
    monkeypatch.setitem(runner.VIEWS, "probe", lambda run_dir, model: seen.append((run_dir, model)))
    result = _run(project, tmp_path)

    assert result.report.is_file()
    html = result.report.read_text()
    assert "the total does not add up" in html and "R-good" in html
    [(run_dir, model)] = seen
    assert run_dir == result.dir
    # The view gets the whole run: its run_end included, counted as the summary counts.
    assert model.ended and model.end.counts == result.counts
    assert {ref: item.status for ref, item in model.items.items()} == {
        "good": Status.DONE,
        "odd": Status.NEEDS_REVIEW,
    }
    assert read_run(run_dir).counts() == model.counts()  # the same as the journal on disk


def test_the_report_is_a_view_the_runner_is_handed_not_one_it_renders_itself(
    project, tmp_path, monkeypatch
):
    monkeypatch.delitem(runner.VIEWS, "report")
    result = _run(project, tmp_path)
    assert result.counts["done"] == 1 and (result.dir / "steps.jsonl").is_file()
    assert not result.report.exists()


def test_a_scheduled_run_in_a_fresh_interpreter_writes_its_report(project, tmp_path):
    """The scheduler's child imports only deskhand.runner's side of the package: the
    package facade still hands the runner the report."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "DESKHAND_DB": f"sqlite:///{tmp_path / 'queue.db'}",
    }
    job = json.dumps({"logs_dir": str(tmp_path / "logs")})
    proc = subprocess.run(
        [sys.executable, "-m", "deskhand.scheduling.child", str(project), "two", "--settings", job],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr  # one item needs review
    [run_dir] = (tmp_path / "logs" / "two").iterdir()
    assert "R-good" in (run_dir / "report.html").read_text()


FRAGILE = """
    from deskhand import Bot

    bot = Bot("fragile", max_attempts=1)

    @bot.source
    def items(ctx):
        yield ctx.item(reference="one")

    @bot.setup
    def open_ledger(ctx):
        if ctx.settings.target:
            raise RuntimeError("the ledger is closed")

    @bot.process
    def process(item, ctx):
        return ctx.done()

    @bot.teardown
    def close_ledger(ctx):
        raise ValueError("the ledger would not close")
"""


def test_setup_and_teardown_failures_journal_their_traceback(tmp_path):
    from deskhand.errors import ApplicationError
    from deskhand.journal import read_lines

    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "fragile.py").write_text(textwrap.dedent(FRAGILE))
    bot = load_bot("fragile", root)
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}"}

    result = runner.run_bot(bot, load_settings(root, bot.settings, cli))  # teardown fails
    [teardown] = [e for e in read_lines(result.dir / "steps.jsonl")[0] if e["event"] == "teardown"]
    assert teardown["status"] == "failed" and result.counts["done"] == 1
    assert (
        'fragile.py", line' in teardown["traceback"] and "in close_ledger" in teardown["traceback"]
    )
    assert teardown["traceback"].endswith("ValueError: the ledger would not close")

    cli |= {"target": "http://127.0.0.1:9/", "db": f"sqlite:///{tmp_path / 'other.db'}"}
    with pytest.raises(ApplicationError, match="setup of bot fragile failed"):
        runner.run_bot(bot, load_settings(root, bot.settings, cli))
    [run_dir] = [d for d in (tmp_path / "logs" / "fragile").iterdir() if d != result.dir]
    [setup] = [e for e in read_lines(run_dir / "steps.jsonl")[0] if e["event"] == "setup"]
    assert "in open_ledger" in setup["traceback"]
    assert setup["traceback"].endswith("RuntimeError: the ledger is closed")
