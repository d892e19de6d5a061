"""Two runners on one queue: an item this run gave back for a retry may be claimed and
finished by the other runner first. The run's exit code and summary say so, rather than
counting an item that ended done as this run's failure."""

from __future__ import annotations

import textwrap

from deskhand import runner
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.queue import open_store
from deskhand.status import Status
from deskhand.summary import summary

RELAY = """
    from datetime import UTC, datetime, timedelta

    from deskhand import ApplicationError, Bot
    from deskhand.queue import open_store

    bot = Bot("relay", max_attempts=3, retry_delay=30)

    @bot.source
    def items(ctx):
        yield ctx.item(reference="first")
        yield ctx.item(reference="second")

    @bot.process
    def process(item, ctx):
        if item.reference == "first":
            raise ApplicationError("the ledger is down")  # retried in 30 s
        # While this runner works on "second", another runner (its clock past the retry's
        # delay) claims "first" and finishes it.
        ahead = datetime.now(UTC) + timedelta(seconds=60)
        with open_store(ctx.settings.db) as store:
            other = store.claim("relay", "other-host:1:run", lease_seconds=60, now=ahead)
            store.complete(other.id, "other-host:1:run", {"record": "R-other"},
                           now=ahead, token=other.lease_token)
        return ctx.done(record="R-" + item.reference)
"""


def run_relay(tmp_path, source: str = RELAY):
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True, exist_ok=True)
    (root / "bots" / "relay.py").write_text(textwrap.dedent(source))
    bot = load_bot("relay", root)
    db = f"sqlite:///{tmp_path / 'queue.db'}"
    settings = load_settings(root, bot.settings, {"logs_dir": tmp_path / "logs", "db": db})
    return runner.run_bot(bot, settings), db


def test_a_retry_finished_by_another_runner_is_not_this_runs_failure(tmp_path):
    result, db = run_relay(tmp_path)

    assert result.counts == {"done": 1, "needs_review": 0, "failed": 0, "retrying": 1}
    assert result.done_elsewhere == {"first"}
    assert result.exit_code == 0
    with open_store(db) as store:
        first = store.find("relay", "first")
        assert (first.status, first.output) == (Status.DONE, {"record": "R-other"})
    lines = summary("relay", result)
    assert lines[0] == "relay: 2 items: 1 done, 0 needs review, 0 failed, 1 retrying"
    assert lines[1] == "relay: 1 item handed over (a retry, a lost lease) and done since by " \
        "another runner"  # fmt: skip


def test_a_retry_another_runner_holds_but_has_not_finished_is_still_open(tmp_path):
    # The other runner claims "first" and fails it for good: this run cannot call it done.
    failing = RELAY.replace(
        'store.complete(other.id, "other-host:1:run", {"record": "R-other"},',
        'store.to_review(other.id, "other-host:1:run", "BusinessError", "unsure total",',
    ).replace("now=ahead, token=other.lease_token)", "token=other.lease_token)")
    result, db = run_relay(tmp_path, failing)

    assert result.done_elsewhere == frozenset()
    assert result.exit_code == 1
    with open_store(db) as store:
        assert store.find("relay", "first").status == Status.NEEDS_REVIEW
    assert len(summary("relay", result)) == 1
