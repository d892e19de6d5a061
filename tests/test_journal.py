"""The typed run journal: one run model read from steps.jsonl, and every view rendered from
it agreeing on every item's status (the report, bot.log, the run summary and run_end,
alerts, the console); golden journals of every version read back; the JSON Schema of
steps.jsonl generated from the event dataclasses and up to date in the docs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deskhand import alerts
from deskhand.console import runs as console_runs
from deskhand.journal import events as ev
from deskhand.journal import read_lines, read_run, render_bot_log
from deskhand.runner import run_bot
from deskhand.status import Status
from tests.bot_runs import load, other_run, python, run

GOLDEN = Path(__file__).parent / "golden"

# One item of each ending: done, needs_review, failed (after two attempts), reconciled (its
# first attempt passed the point of no return then failed; the second confirms the record
# in the target instead of keying it again), and released (the run is stopped while it
# works: it goes back to the queue). The bot that wrote the v1 golden journal.
MIXED = (GOLDEN / "v1-mixed" / "mixed.py").read_text()

EXPECTED = {
    "ok": Status.DONE,
    "bad-data": Status.NEEDS_REVIEW,
    "broken": Status.FAILED,
    "recon": Status.DONE,
    "stop-me": Status.RELEASED,
}


@pytest.fixture
def mixed_run(tmp_path):
    return run(tmp_path, "mixed", MIXED)


class _ReportStatuses(HTMLParser):
    """The statuses report.html shows: the summary table's cells, each item row's status."""

    def __init__(self) -> None:
        super().__init__()
        self.summary: dict[str, int] = {}
        self.rows: dict[str, str] = {}
        self._cell: str | None = None
        self._row: str | None = None
        self._in_ref = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "td" and "data-status" in a:
            self._cell = a["data-status"]
        if tag == "tr" and "item-row" in (a.get("class") or ""):
            self._row = a["data-status"]
        if tag == "code" and self._row:
            self._in_ref = True

    def handle_data(self, data: str) -> None:
        if self._cell:
            self.summary[self._cell] = int(data)
            self._cell = None
        if self._in_ref:
            self.rows[data] = self._row
            self._in_ref, self._row = False, None


def _bot_log_statuses(text: str) -> tuple[dict[str, str], str]:
    """Each item's last ``item … after`` line, and the run_end line, of bot.log."""
    items = dict(re.findall(r"\| \[([^\]]+)\] item (\w+) after", text))
    [end] = re.findall(r"run \S+ ended: (.*)", text)
    return items, end


def test_report_bot_log_summary_alerts_and_console_agree_on_every_status(mixed_run):
    result = mixed_run
    want_counts = {"done": 2, "needs_review": 1, "failed": 1, "released": 1}

    # The run summary (what `deskhand run` prints, the exit code) and its run model.
    assert result.counts == want_counts
    assert result.stopped and result.exit_code == 143
    model = result.journal
    assert {ref: item.status for ref, item in model.items.items()} == EXPECTED
    assert model.items["recon"].reconciled and not model.items["ok"].reconciled
    assert [len(model.items[r].attempts) for r in EXPECTED] == [1, 1, 2, 2, 1]
    first, second = model.items["recon"].attempts  # values and actions by attempt and step
    assert first.values == {"extracted": {"total": "12.50"}} and second.values == {}
    assert [(s.name, [a.action for a in s.actions]) for s in first.steps] == [
        ("read", []),
        ("save", ["click"]),
    ]
    assert second.steps[0].name == "reconcile" and second.end.output["reconciled"] is True
    assert {i.reference: i.status for i in result.items} == EXPECTED  # what on_item was told

    # run_end in steps.jsonl, read back from the file by the one reader.
    lines, torn = read_lines(result.dir / "steps.jsonl")
    assert not torn and lines[-1]["event"] == "run_end"
    assert lines[-1]["counts"] == want_counts and lines[-1]["total"] == 5
    assert all(line["v"] == ev.SCHEMA_VERSION for line in lines)
    assert read_run(result.dir).counts() == want_counts

    # bot.log: each item's last end line, and the run_end line.
    text = (result.dir / "bot.log").read_text()
    items, end = _bot_log_statuses(text)
    assert items == EXPECTED
    assert end == "2 done, 1 needs review, 1 failed, 1 released"

    # report.html: the summary table and each item's row.
    report = _ReportStatuses()
    report.feed(result.report.read_text())
    assert report.summary == want_counts
    assert report.rows == EXPECTED
    assert "(reconciled)" in result.report.read_text()

    # The alert: the items that call for one, and the same counts.
    alert = alerts.build_alert("mixed", result, None)
    assert alert["counts"] == want_counts and alert["status"] == "failed"
    assert {i["reference"]: i["status"] for i in alert["items"]} == {
        "bad-data": "needs_review",
        "broken": "failed",
    }
    assert "1 needs review, 1 failed, 1 released" in alert["text"]

    # The console's runs page.
    shown = console_runs.load(result.dir)
    assert shown["counts"] == want_counts
    assert {i["reference"]: i["status"] for i in shown["items"]} == EXPECTED


def test_bot_log_is_a_rendering_of_steps_jsonl(mixed_run):
    lines, _ = read_lines(mixed_run.dir / "steps.jsonl")
    assert render_bot_log(lines) == (mixed_run.dir / "bot.log").read_text()


# Ending a run with an item half done: a stop while an attempt is failing leaves the item
# back in the queue for a retry this run does not make; Ctrl-C gives the item back and
# ends the run. Before the run model, the report showed both as "unfinished" (counted
# with the failed) while run_end counted neither.
INTERRUPTED = """
    from deskhand import ApplicationError, Bot

    bot = Bot("halted", max_attempts=2, retry_delay=0)

    @bot.source
    def items(ctx):
        for ref in ("ok", "again", "ctrl-c"):
            yield ctx.item(reference=ref)

    @bot.process
    def process(item, ctx):
        with ctx.step("work"):
            pass
        if item.reference == "again" and ctx.attempt == 1:
            ctx.run.stop.set()
            raise ApplicationError("the ledger is down")
        if item.reference == "ctrl-c":
            raise KeyboardInterrupt
        return ctx.done()
"""


def _views(run_dir: Path) -> dict[str, tuple[dict, dict]]:
    """Every view's (counts, statuses by item) of the run in ``run_dir``."""
    lines, _ = read_lines(run_dir / "steps.jsonl")
    items, end = _bot_log_statuses((run_dir / "bot.log").read_text())
    report = _ReportStatuses()
    report.feed((run_dir / "report.html").read_text())
    shown = console_runs.load(run_dir)
    model = read_run(run_dir)
    return {
        "model": (model.counts(), {r: i.status for r, i in model.items.items()}),
        "run_end": (lines[-1]["counts"], items),
        "bot.log": (end, items),
        "report": (report.summary, report.rows),
        "console": (shown["counts"], {i["reference"]: i["status"] for i in shown["items"]}),
    }


def _agree(run_dir: Path, line: str, counts: dict[str, int], statuses: dict[str, str]) -> None:
    """Every view of the run says ``counts`` (those not 0; bot.log: ``line``) and each
    item's status (``statuses``; run_end holds counts only)."""
    views = _views(run_dir)
    assert views["bot.log"][0] == line
    for name, (shown, by_item) in views.items():
        if name != "bot.log":
            assert {s: n for s, n in shown.items() if n} == counts, name
        if name != "run_end":
            assert by_item == statuses, name


def test_a_stopped_retry_and_an_interrupted_item_agree_everywhere(tmp_path):
    bot, settings = load(tmp_path, "halted", INTERRUPTED)
    stopped = run_bot(bot, settings)  # "again" fails while the run is being stopped
    assert stopped.counts == {"done": 1, "needs_review": 0, "failed": 0, "retrying": 1}
    _agree(
        stopped.dir,
        "1 done, 0 needs review, 0 failed, 1 retrying",
        {"done": 1, "retrying": 1},
        {"ok": "done", "again": "retrying"},
    )

    with pytest.raises(KeyboardInterrupt):  # the next run: "again" is done, then Ctrl-C
        run_bot(bot, settings)
    _agree(
        other_run(tmp_path, "halted", stopped.dir),
        "1 done, 0 needs review, 0 failed, 1 released",
        {"done": 1, "released": 1},
        {"again": "done", "ctrl-c": "released"},
    )


# -- golden journals ---------------------------------------------------------------------------


def digest(model) -> dict:
    """What a golden journal's expected.json pins: the run model, item by item."""
    return {
        "bot": model.bot,
        "run_id": model.run_id,
        "version": model.version,
        "ended": model.ended,
        "torn": model.torn,
        "counts": model.counts(),
        "items": {
            ref: {
                "status": str(item.status),
                "reconciled": item.reconciled,
                "output": item.output,
                "values": sorted(item.values),
                "attempts": [
                    {
                        "number": a.number,
                        "status": str(a.status),
                        "steps": [[s.name, str(s.status), len(s.actions)] for s in a.steps],
                    }
                    for a in item.attempts
                ],
            }
            for ref, item in model.items.items()
        },
    }


GOLDENS = sorted(p.parent.name for p in GOLDEN.glob("*/steps.jsonl"))


@pytest.mark.parametrize("name", GOLDENS)
def test_golden_journals_read_into_the_same_run_model(name):
    folder = GOLDEN / name
    expected = json.loads((folder / "expected.json").read_text())
    assert digest(read_run(folder)) == expected


def test_golden_journals_cover_both_versions_and_every_ending():
    versions = {read_run(GOLDEN / name).version for name in GOLDENS}
    assert versions == {0, ev.SCHEMA_VERSION}
    endings = {i.status for name in GOLDENS for i in read_run(GOLDEN / name).items.values()}
    assert {Status.DONE, Status.NEEDS_REVIEW, Status.FAILED, Status.RELEASED} <= endings
    assert Status.RETRYING in endings


def test_a_v1_golden_bot_log_is_its_journal_rendered():
    folder = GOLDEN / "v1-mixed"
    lines, _ = read_lines(folder / "steps.jsonl")
    assert render_bot_log(lines) == (folder / "bot.log").read_text()


@pytest.mark.parametrize("name", GOLDENS)
def test_a_torn_last_line_is_skipped(name, tmp_path):
    text = (GOLDEN / name / "steps.jsonl").read_text()
    lines = text.splitlines(keepends=True)
    (tmp_path / "steps.jsonl").write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    model = read_run(tmp_path)
    whole = read_run(GOLDEN / name)
    assert model.torn and not whole.torn
    assert not model.ended  # the torn line was run_end: the run reads as not finished
    assert model.counts() == whole.counts()
    assert {r: i.status for r, i in model.items.items()} == {
        r: i.status for r, i in whole.items.items()
    }


# -- the schema of steps.jsonl -----------------------------------------------------------------

SCHEMA_FILE = Path(__file__).parent.parent / "docs" / "journal.schema.json"


def test_the_schema_in_the_docs_is_the_one_the_dataclasses_give():
    from deskhand.journal.schema import journal_schema

    generated = json.dumps(journal_schema(), indent=2) + "\n"
    assert SCHEMA_FILE.read_text() == generated, (
        "docs/journal.schema.json is out of date: "
        "python -m deskhand.journal.schema > docs/journal.schema.json"
    )


def _validator():
    import jsonschema

    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", GOLDENS)
def test_every_golden_line_matches_the_schema(name):
    validator = _validator()
    lines, _ = read_lines(GOLDEN / name / "steps.jsonl")
    for line in lines:
        errors = [e.message for e in validator.iter_errors(line)]
        assert not errors, (line["event"], errors)


def test_the_schema_refuses_a_line_of_the_wrong_shape():
    validator = _validator()
    good = {"ts": "2026-03-01T09:00:00+00:00", "event": "item_end", "v": 1, "run_id": "r"}
    good |= {"bot": "b", "item": "a", "attempt": 1, "status": "done"}
    assert validator.is_valid(good)
    assert not validator.is_valid(good | {"status": "finished"})  # not a Status
    assert not validator.is_valid(good | {"attempt": "one"})
    assert not validator.is_valid({k: v for k, v in good.items() if k != "run_id"})
    own = {"ts": "2026-03-01T09:00:00+00:00", "event": "my_own", "run_id": "r", "bot": "b"}
    assert validator.is_valid(own | {"anything": [1, 2]})  # a bot's own kind: kept


@pytest.mark.parametrize("cls", sorted(ev.EVENTS.values(), key=lambda c: c.EVENT))
def test_every_event_kind_round_trips_through_its_line(cls):
    made = ev.from_dict({"event": cls.EVENT, "ts": "t", "run_id": "r", "bot": "b", "v": 1})
    assert type(made) is cls
    line = made.to_dict()
    assert line["event"] == cls.EVENT and line["v"] == ev.SCHEMA_VERSION
    assert ev.from_dict(line) == made
    assert _validator().is_valid(line)


def test_unknown_kinds_and_fields_are_kept_not_dropped():
    line = {"ts": "t", "event": "my_own", "run_id": "r", "bot": "b", "item": "a", "n": 3}
    own = ev.from_dict(line)
    assert isinstance(own, ev.Other) and own.kind == "my_own" and own.item == "a"
    assert own.to_dict() == {**line, "v": 0}
    end = ev.from_dict({"event": "item_end", "status": "done", "future_field": [1]})
    assert isinstance(end, ev.ItemEnded) and end.extra == {"future_field": [1]}
    assert end.to_dict()["future_field"] == [1]
    odd = ev.from_dict({"event": "item_end", "status": "exploded"})  # a status unknown here
    assert isinstance(odd, ev.Other) and odd.to_dict()["status"] == "exploded"


# -- the writer ----------------------------------------------------------------------------------

DIES = """
import os, sys
from deskhand.journal import events as ev
from deskhand.logs import RunLog

log = RunLog(sys.argv[1], "dies", "20260301-090000-dead").__enter__()
log.event(ev.RunStarted(queue="q"))
log.event(ev.ItemStarted(item="a", attempt=1))
log.event(ev.StepStarted(item="a", attempt=1, step="save"))
log.event(ev.Action(item="a", attempt=1, step="save", action="click", element="save"))
log.event(ev.StepEnded(item="a", attempt=1, step="save", duration_ms=1.0))
os._exit(9)  # killed: no clean-up, no flush, no run_end
"""


def test_a_process_killed_after_a_step_keeps_the_step_in_its_journal(tmp_path):
    proc = python("-c", DIES, str(tmp_path))
    assert proc.returncode == 9, proc.stderr
    run_dir = tmp_path / "dies" / "20260301-090000-dead"
    model = read_run(run_dir)
    assert not model.ended and not model.torn
    [step] = model.items["a"].attempts[0].steps
    assert (step.name, step.status, len(step.actions)) == ("save", "ok", 1)
    assert model.items["a"].status == Status.UNFINISHED
    lines, _ = read_lines(run_dir / "steps.jsonl")
    assert render_bot_log(lines) == (run_dir / "bot.log").read_text()  # flushed together


EXITS = """
import sys
from deskhand.journal import events as ev
from deskhand.logs import RunLog

log = RunLog(sys.argv[1], "exits", "20260301-090000-exit").__enter__()
log.event(ev.Action(item="a", attempt=1, action="click", element="save"))  # buffered
sys.exit(0)  # the run is never closed: the interpreter's exit still writes it out
"""


def test_buffered_events_are_written_when_the_interpreter_exits(tmp_path):
    proc = python("-c", EXITS, str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    lines, _ = read_lines(tmp_path / "exits" / "20260301-090000-exit" / "steps.jsonl")
    assert [(e["event"], e["action"]) for e in lines] == [("action", "click")]


def test_secrets_are_masked_once_in_both_files(tmp_path):
    from deskhand import masking
    from deskhand.logs import RunLog, register_secret

    with RunLog(tmp_path, "masked") as log:
        register_secret("hunter2-secret")
        log.event(ev.ItemStarted(item="a", attempt=1, data={"password": "hunter2-secret"}))
        log.event("warning", "WARNING", item="a", message="login with hunter2-secret failed")
    for name in ("steps.jsonl", "bot.log"):
        text = (log.dir / name).read_text()
        assert "hunter2-secret" not in text and masking.MASK in text, name
    lines, _ = read_lines(log.dir / "steps.jsonl")
    assert lines[0]["data"] == {"password": masking.MASK}
    assert render_bot_log(lines) == (log.dir / "bot.log").read_text()
