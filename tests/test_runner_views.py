"""What a run renders when it ends: the views the layers above hand the runner
(deskhand.runner.VIEWS; the package registers report.html), never imported by it."""

from __future__ import annotations

import json

import pytest

from deskhand import runner
from deskhand.journal import read_run
from deskhand.status import Status
from tests.bot_runs import load, other_run, python, run, settings_for, write_bot

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


def test_run_bot_from_python_renders_the_report_and_every_registered_view(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setitem(runner.VIEWS, "probe", lambda run_dir, model: seen.append((run_dir, model)))
    result = run(tmp_path, "two", TWO)

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


def test_the_report_is_a_view_the_runner_is_handed_not_one_it_renders_itself(tmp_path, monkeypatch):
    monkeypatch.delitem(runner.VIEWS, "report")
    result = run(tmp_path, "two", TWO)
    assert result.counts["done"] == 1 and (result.dir / "steps.jsonl").is_file()
    assert not result.report.exists()


def test_a_scheduled_run_in_a_fresh_interpreter_writes_its_report(tmp_path):
    """The scheduler's child imports only deskhand.runner's side of the package: the
    package facade still hands the runner the report."""
    project = str(write_bot(tmp_path, "two", TWO))
    job = json.dumps({"logs_dir": str(tmp_path / "logs")})
    child = ["-m", "deskhand.scheduling.child", project, "two", "--settings", job]
    proc = python(*child, env={"DESKHAND_DB": f"sqlite:///{tmp_path / 'queue.db'}"})
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

    bot, settings = load(tmp_path, "fragile", FRAGILE)
    result = runner.run_bot(bot, settings)  # teardown fails
    [teardown] = [e for e in read_lines(result.dir / "steps.jsonl")[0] if e["event"] == "teardown"]
    assert teardown["status"] == "failed" and result.counts["done"] == 1
    assert (
        'fragile.py", line' in teardown["traceback"] and "in close_ledger" in teardown["traceback"]
    )
    assert teardown["traceback"].endswith("ValueError: the ledger would not close")

    cli = {"target": "http://127.0.0.1:9/", "db": f"sqlite:///{tmp_path / 'other.db'}"}
    with pytest.raises(ApplicationError, match="setup of bot fragile failed"):
        runner.run_bot(bot, settings_for(tmp_path, bot, **cli))
    run_dir = other_run(tmp_path, "fragile", result.dir)
    [setup] = [e for e in read_lines(run_dir / "steps.jsonl")[0] if e["event"] == "setup"]
    assert "in open_ledger" in setup["traceback"]
    assert setup["traceback"].endswith("RuntimeError: the ledger is closed")
