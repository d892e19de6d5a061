"""RunResult.items: one entry per item, its state at the end of the run, with this run's
attempts at it inside (a retry or a lost lease is an attempt, not another item)."""

from __future__ import annotations

import textwrap

from deskhand import runner
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.status import Status

FLAKY = """
    from deskhand import ApplicationError, Bot

    bot = Bot("flaky", max_attempts=3, retry_delay=0)

    @bot.source
    def items(ctx):
        for ref in ("steady", "flaky", "broken"):
            yield ctx.item(reference=ref)

    @bot.process
    def process(item, ctx):
        with ctx.step("work"):
            if item.reference == "broken" or (item.reference == "flaky" and ctx.attempt < 3):
                raise ApplicationError(f"the ledger is down (attempt {ctx.attempt})")
        return ctx.done(record="R-" + item.reference)
"""


def test_one_result_per_item_with_its_attempts_inside(tmp_path):
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "flaky.py").write_text(textwrap.dedent(FLAKY))
    bot = load_bot("flaky", root)
    told = []
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}"}
    result = runner.run_bot(
        bot, load_settings(root, bot.settings, cli), on_item=lambda r, n, t: told.append(r)
    )

    by_ref = {i.reference: i for i in result.items}
    assert [i.reference for i in result.items] == ["steady", "flaky", "broken"]
    assert [(i.status, i.attempts) for i in result.items] == [
        (Status.DONE, 1),
        (Status.DONE, 3),
        (Status.FAILED, 3),
    ]
    assert [(t.number, t.status) for t in by_ref["flaky"].tries] == [
        (1, Status.RETRYING),
        (2, Status.RETRYING),
        (3, Status.DONE),
    ]
    assert by_ref["flaky"].output["record"] == "R-flaky" and by_ref["flaky"].error is None
    assert [t.status for t in by_ref["broken"].tries] == [Status.RETRYING] * 2 + [Status.FAILED]
    assert by_ref["broken"].error["message"] == "the ledger is down (attempt 3)"
    assert [t.steps[0].error.message for t in by_ref["broken"].tries] == [
        f"the ledger is down (attempt {n})" for n in (1, 2, 3)
    ]
    # The same items the run model counts (the summary, run_end, the report).
    assert result.counts == {"done": 2, "needs_review": 0, "failed": 1}
    assert len(told) == 3  # on_item: each item once it is finished


STOLEN = """
    import time
    from datetime import UTC, datetime, timedelta

    from deskhand import Bot
    from deskhand.queue import open_store

    bot = Bot("stolen", max_attempts=3, retry_delay=0)

    @bot.source
    def items(ctx):
        yield ctx.item(reference="a")

    @bot.process
    def process(item, ctx):
        if ctx.attempt == 1:  # another runner takes the item over (its clock ahead), then dies
            ahead = datetime.now(UTC) + timedelta(seconds=1)
            with open_store(ctx.settings.db) as store:
                store.claim("stolen", "thief", lease_seconds=0.5, now=ahead)
            while not ctx.beat.lost:  # this runner's heartbeat notices
                time.sleep(0.02)
        with ctx.step("save"):
            ctx.action("insert", "ledger")  # the lease is checked first: lost on attempt 1
        return ctx.done(record="R-1")
"""


def test_an_item_lost_to_another_runner_then_taken_back_is_one_item(tmp_path):
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "stolen.py").write_text(textwrap.dedent(STOLEN))
    bot = load_bot("stolen", root)
    told = []
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}",
           "lease_seconds": 0.3}  # fmt: skip
    result = runner.run_bot(
        bot, load_settings(root, bot.settings, cli), on_item=lambda r, n, t: told.append(r)
    )
    [item] = result.items  # one item, done in the end: not one entry per claim
    assert (item.status, item.attempts, item.output["record"]) == (Status.DONE, 3, "R-1")
    lost, done = item.tries  # attempt 2 was the thief's
    assert (lost.number, lost.status, done.number, done.status) == (
        1, Status.LEASE_LOST, 3, Status.DONE
    )  # fmt: skip
    assert "another runner took it" in lost.end.error.message
    assert [r.status for r in told] == [Status.LEASE_LOST, Status.DONE]  # as the claims ended
    assert result.counts == {"done": 1, "needs_review": 0, "failed": 0}
