"""deskhand.queue against real databases: SQLite in a temporary folder, and PostgreSQL in a
throwaway cluster this module starts (initdb/pg_ctl from Debian's postgresql package).

The clock is passed in (``now=``): no test sleeps."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pg_cluster as testing
import pytest
from pg_cluster import PostgresCluster, run_workers
from sqlalchemy import event

from deskhand.commands.queue import register as add_arguments
from deskhand.commands.queue import run as run_cli
from deskhand.errors import ApplicationError, ConfigError
from deskhand.queue import DatabaseUnavailable, LeaseLost, QueueError, open_store, schema

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture(scope="session")
def postgres(pg_cluster):
    """The session's one PostgreSQL cluster (tests/conftest.py)."""
    return pg_cluster


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """A fresh, empty database per test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    return request.getfixturevalue("postgres").empty_database()


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def events(store, item_id: int) -> list[str]:
    return [e.event for e in store.history(item_id)]


# -- adding ----------------------------------------------------------------------------


def test_add_is_idempotent_per_queue_and_reference(store):
    item, added = store.add("invoices", "INV-1", {"amount": "10.00"}, ["in/a.pdf"], now=T0)
    assert added and item.status == "new" and item.attempts == 0
    assert item.payload == {"amount": "10.00"} and item.files == ["in/a.pdf"]

    again, added = store.add("invoices", "INV-1", {"amount": "99.99"}, priority=9, now=at(5))
    assert not added and again == item  # nothing changed: payload, priority, timestamps
    assert store.get(item.id) == item
    assert events(store, item.id) == ["added"]

    other, added = store.add("claims", "INV-1", now=T0)  # unique per queue, not globally
    assert added and other.id != item.id

    new, existing = store.add_many(
        "invoices",
        [{"reference": "INV-1"}, {"reference": "INV-2", "priority": 3}, {"reference": "INV-2"}],
        now=T0,
    )
    assert [i.reference for i in new] == ["INV-2"] and new[0].priority == 3
    assert [i.id for i in existing] == [item.id, new[0].id]
    assert store.counts("invoices")["new"] == 2


def test_add_refuses_what_it_cannot_store(store):
    with pytest.raises(QueueError, match="not JSON"):
        store.add("q", "a", {"when": object()})
    with pytest.raises(QueueError, match="no reference"):
        store.add_many("q", [{"payload": {}}])
    with pytest.raises(ValueError, match="naive datetime"):
        store.add("q", "b", now=datetime(2030, 1, 1))
    assert store.list("q") == []


# -- claiming --------------------------------------------------------------------------


def test_claim_takes_highest_priority_then_oldest_and_waits_for_not_before(store):
    store.add("q", "low-old", now=T0)
    store.add("q", "high", priority=5, now=T0)
    store.add("q", "high-later", priority=5, not_before=at(10), now=T0)
    store.add("q", "low-new", now=T0)

    order = [store.claim("q", "w", now=T0) for _ in range(4)]
    assert [i.reference if i else None for i in order] == ["high", "low-old", "low-new", None]
    assert store.claim("q", "w", now=at(10)).reference == "high-later"
    assert store.claim("other", "w", now=at(10)) is None


def test_claim_holds_a_lease(store):
    store.add("q", "a", now=T0)
    item = store.claim("q", "w1", lease_seconds=60, now=T0)
    assert item.status == "in_progress" and item.attempts == 1
    assert item.lease_owner == "w1" and item.lease_expires == at(60)
    assert store.get(item.id) == item
    assert store.claim("q", "w2", now=at(59)) is None  # the lease still runs


def test_expired_lease_is_taken_back_and_the_stale_owner_cannot_finish(store):
    store.add("q", "a", now=T0)
    first = store.claim("q", "w1", lease_seconds=60, now=T0)

    second = store.claim("q", "w2", lease_seconds=60, now=at(61))
    assert second.id == first.id and second.attempts == 2 and second.lease_owner == "w2"
    assert events(store, first.id) == ["added", "claimed", "lease_expired", "claimed"]
    expired = store.history(first.id)[2]
    assert expired.runner == "w2" and expired.detail["previous_owner"] == "w1"

    assert store.heartbeat(first.id, "w1", now=at(62)) is False
    with pytest.raises(LeaseLost, match="no longer leased by w1.*leased by w2") as lost:
        store.complete(first.id, "w1", {"record": "from w1"})
    assert isinstance(lost.value, ApplicationError)
    with pytest.raises(LeaseLost):
        store.fail(first.id, "w1", "Timeout", "slow", max_attempts=3, now=at(62))
    with pytest.raises(LeaseLost):
        store.to_review(first.id, "w1", "BusinessError", "unsure")

    done = store.complete(first.id, "w2", {"record": "from w2"})
    assert done.status == "done" and done.output == {"record": "from w2"}
    assert done.lease_owner is None and done.lease_expires is None
    with pytest.raises(LeaseLost):
        store.complete(first.id, "w1", {"record": "from w1"})
    assert store.get(first.id).output == {"record": "from w2"}


def test_heartbeat_extends_the_lease(store):
    store.add("q", "a", now=T0)
    item = store.claim("q", "w1", lease_seconds=60, now=T0)
    assert store.heartbeat(item.id, "w1", lease_seconds=60, now=at(50)) is True
    assert store.get(item.id).lease_expires == at(110)
    assert store.claim("q", "w2", now=at(70)) is None  # would have expired without it
    assert store.claim("q", "w2", now=at(110)).lease_owner == "w2"


def test_heartbeat_from_another_thread(store):
    store.add("q", "a", now=T0)
    item = store.claim("q", "w1", lease_seconds=60, now=T0)
    beats = []
    thread = threading.Thread(
        target=lambda: beats.append(store.heartbeat(item.id, "w1", 60, at(30)))
    )
    thread.start()
    thread.join()
    assert beats == [True] and store.get(item.id).lease_expires == at(90)
    assert store.complete(item.id, "w1").status == "done"


def test_deadline_passed_fails_the_item_when_claimed(store):
    late, _ = store.add("q", "late", priority=1, deadline=at(10), now=T0)
    ok, _ = store.add("q", "ok", deadline=at(100), now=T0)
    assert store.claim("q", "w", now=at(11)).id == ok.id
    failed = store.get(late.id)
    assert failed.status == "failed" and failed.attempts == 0
    assert (failed.error_kind, failed.error_message) == ("deadline", "deadline passed")
    assert events(store, late.id) == ["added", "failed"]


# -- outcomes --------------------------------------------------------------------------


def test_fail_retries_with_exponential_backoff_then_fails(store):
    item, _ = store.add("q", "a", now=T0)
    store.claim("q", "w", now=T0)
    retry = store.fail(item.id, "w", "HTTPError", "500", max_attempts=3, now=at(0))
    assert retry.status == "new" and retry.not_before == at(2) and retry.lease_owner is None
    assert store.claim("q", "w", now=at(1.9)) is None

    assert store.claim("q", "w", now=at(2)).attempts == 2
    retry = store.fail(item.id, "w", "HTTPError", "500", max_attempts=3, now=at(2))
    assert retry.not_before == at(2 + 4)  # 2 * 2**(2-1)
    assert store.claim("q", "w", now=at(5.9)) is None

    assert store.claim("q", "w", now=at(6)).attempts == 3
    final = store.fail(item.id, "w", "HTTPError", "500 again", max_attempts=3, now=at(6))
    assert final.status == "failed" and final.error_message == "500 again"
    assert store.claim("q", "w", now=at(1000)) is None
    assert events(store, item.id) == [
        "added",
        *["claimed", "retry_scheduled"] * 2,
        "claimed",
        "failed",
    ]
    assert store.history(item.id)[2].detail["not_before"] == at(2).isoformat()


def test_to_review_is_never_retried(store):
    item, _ = store.add("q", "a", now=T0)
    store.claim("q", "w", now=T0)
    reviewed = store.to_review(item.id, "w", "BusinessError", "total does not add up")
    assert reviewed.status == "needs_review" and reviewed.error_kind == "BusinessError"
    assert reviewed.error_message == "total does not add up"
    assert store.claim("q", "w", now=at(10_000)) is None
    assert events(store, item.id)[-1] == "needs_review"


def test_intent_without_outcome_is_visible_when_claimed_again(store):
    item, _ = store.add("q", "INV-7", now=T0)
    first = store.claim("q", "w1", lease_seconds=60, now=T0)
    assert first.checkpoint is None and not first.intent_pending
    store.record_intent(first.id, "w1", "save", {"invoice": "INV-7"}, now=at(1))
    # w1 dies here, between the submit and recording what it created

    again = store.claim("q", "w2", now=at(61))
    assert again.intent_pending
    assert again.checkpoint["step"] == "save" and again.checkpoint["data"] == {"invoice": "INV-7"}
    assert again.checkpoint["intent_at"] == at(1).isoformat()
    assert again.checkpoint["outcome"] is None
    with pytest.raises(LeaseLost):
        store.record_outcome(item.id, "w1", {"record": "R-1"})

    found = store.record_outcome(item.id, "w2", {"record": "R-1"}, now=at(62))
    assert not found.intent_pending and found.status == "in_progress"
    assert found.checkpoint["outcome"] == {"record": "R-1"}
    assert found.checkpoint["outcome_at"] == at(62).isoformat()
    done = store.complete(item.id, "w2", {"record": "R-1"})
    assert done.checkpoint["outcome"] == {"record": "R-1"}
    assert events(store, item.id) == [
        "added",
        "claimed",
        "intent",
        "lease_expired",
        "claimed",
        "outcome",
        "completed",
    ]


def test_release_gives_the_item_back_untouched(store):
    item, _ = store.add("q", "a", now=T0)
    store.claim("q", "w1", now=T0)
    with pytest.raises(LeaseLost):
        store.release(item.id, "w2")
    released = store.release(item.id, "w1", now=at(1))
    assert released.status == "new" and released.attempts == 0
    assert released.lease_owner is None and released.lease_expires is None
    assert store.claim("q", "w2", now=at(2)).attempts == 1
    assert events(store, item.id) == ["added", "claimed", "released", "claimed"]


def test_manual_retry_and_cancel(store):
    item, _ = store.add("q", "a", now=T0)
    store.claim("q", "w", now=T0)
    with pytest.raises(QueueError, match="in_progress"):
        store.cancel(item.id)
    store.record_intent(item.id, "w", "save", {"n": 1})
    store.fail(item.id, "w", "Crash", "boom", max_attempts=1, now=T0)

    again = store.retry(item.id, by="cli", now=at(5))
    assert again.status == "new" and again.attempts == 0 and again.error_kind is None
    assert again.checkpoint["step"] == "save"  # a pending intent survives a manual retry
    assert store.history(item.id)[-1].detail == {"from": "failed"}

    cancelled = store.cancel(item.id, by="cli", now=at(6))
    assert cancelled.status == "cancelled"
    assert store.claim("q", "w", now=at(7)) is None
    assert store.cancel(item.id) == cancelled  # twice: no change
    assert store.retry(item.id).status == "new"
    store.claim("q", "w")
    done = store.complete(item.id, "w")
    with pytest.raises(QueueError, match="is done"):
        store.retry(item.id)
    with pytest.raises(QueueError, match="is done"):
        store.cancel(item.id)
    with pytest.raises(QueueError, match="no item 999"):
        store.retry(999)
    assert store.get(999) is None and store.get(item.id) == done
    assert events(store, item.id)[-6:] == [
        "failed",
        "manual_retry",
        "cancelled",
        "manual_retry",
        "claimed",
        "completed",
    ]


# -- reading ---------------------------------------------------------------------------


def test_find_list_counts_and_history_order(store):
    a, _ = store.add("q", "a", now=T0)
    b, _ = store.add("q", "b", priority=1, now=at(1))
    store.add("other", "c", now=at(1))
    store.claim("q", "w", now=at(2))  # takes b
    store.complete(b.id, "w", {"ok": True}, now=at(3))

    assert store.find("q", "b") == store.get(b.id) and store.find("q", "zz") is None
    assert [i.reference for i in store.list("q")] == ["a", "b"]
    assert [i.reference for i in store.list()] == ["a", "b", "c"]
    assert [i.reference for i in store.list("q", status="done")] == ["b"]
    assert len(store.list(limit=1)) == 1
    assert store.counts("q") == {
        "new": 1,
        "in_progress": 0,
        "done": 1,
        "needs_review": 0,
        "failed": 0,
        "cancelled": 0,
    }
    history = store.history(b.id)
    assert [(e.event, e.at, e.runner) for e in history] == [
        ("added", at(1), None),
        ("claimed", at(2), "w"),
        ("completed", at(3), "w"),
    ]
    assert all(e.item_id == b.id for e in history)


def test_export_csv_and_json(store):
    a, _ = store.add("q", "INV-1", {"vendor": "Bluepeak"}, ["in/1.pdf"], now=T0)
    store.add("q", "INV-2", now=T0)
    store.claim("q", "w", now=at(1))
    store.complete(a.id, "w", {"record": "R-9"}, now=at(2))

    out = io.StringIO()
    assert store.export("q", "csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [r["reference"] for r in rows] == ["INV-1", "INV-2"]
    assert rows[0]["status"] == "done" and rows[1]["status"] == "new"
    assert json.loads(rows[0]["payload"]) == {"vendor": "Bluepeak"}
    assert json.loads(rows[0]["files"]) == ["in/1.pdf"]
    assert json.loads(rows[0]["output"]) == {"record": "R-9"} and rows[1]["output"] == ""
    assert rows[0]["updated_at"] == at(2).isoformat()

    out = io.StringIO()
    store.export("q", "json", out)
    data = json.loads(out.getvalue())
    assert [d["reference"] for d in data] == ["INV-1", "INV-2"]
    assert data[0]["output"] == {"record": "R-9"} and data[0]["attempts"] == 1
    assert [h["event"] for h in data[0]["history"]] == ["added", "claimed", "completed"]
    assert data[0]["history"][2]["at"] == at(2).isoformat()
    with pytest.raises(QueueError, match="csv or json"):
        store.export("q", "xml", io.StringIO())


# -- concurrency -----------------------------------------------------------------------


def test_concurrent_workers_process_every_item_exactly_once(store, db_url):
    added, _ = store.add_many("q", [{"reference": f"doc-{n}"} for n in range(200)])
    all_ids = {i.id for i in added}

    # Each "processes" its item for 2 ms outside any transaction, as a bot does for
    # seconds; with none, one SQLite process can keep re-taking the write lock while the
    # others back off in SQLite's busy handler, and the queue would not really be shared.
    reports = run_workers(db_url, "q", workers=4, work_seconds=0.002)

    claimed = [i for r in reports for i in r.ids]
    assert len(claimed) == len(set(claimed)) == 200 and set(claimed) == all_ids
    assert sum(1 for r in reports if r.ids) >= 2  # they really shared the queue
    assert store.counts("q")["done"] == 200
    owners = {i: r.owner for r in reports for i in r.ids}
    for item_id in all_ids:
        history = store.history(item_id)
        assert [e.event for e in history].count("completed") == 1
        assert [e.event for e in history].count("claimed") == 1
        assert history[-1].runner == owners[item_id]
        assert store.get(item_id).output == {"by": owners[item_id]}


# -- opening ---------------------------------------------------------------------------


def test_open_store_default_location_and_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("DESKHAND_DB", raising=False)
    with open_store(root=tmp_path) as s:
        s.add("q", "a")
    db = tmp_path / ".deskhand" / "queue.db"
    assert db.is_file()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)

    monkeypatch.setenv("DESKHAND_DB", f"sqlite:///{tmp_path / 'env.db'}")
    with open_store(root=tmp_path) as s:
        assert s.list() == []
        row = s.engine.connect().exec_driver_sql("PRAGMA foreign_keys").fetchone()
        assert row == (1,)
    assert (tmp_path / "env.db").is_file()


def test_open_store_errors_are_one_actionable_line_without_the_password():
    with pytest.raises(ConfigError, match="invalid queue database URL") as bad:
        open_store("not a url://x")
    assert "\n" not in str(bad.value)
    with pytest.raises(ConfigError, match="unknown driver"):
        open_store("nosuchdb://u:p@h/d")
    with pytest.raises(ConfigError, match="cannot open the queue database") as down:
        open_store("postgresql+psycopg://bot:s3cret-pw@127.0.0.1:1/queue")
    message = str(down.value)
    assert "s3cret-pw" not in message and "bot:***@127.0.0.1:1/queue" in message
    assert "fix DESKHAND_DB" in message and "\n" not in message


def test_a_locked_database_is_an_application_error(tmp_path, monkeypatch):
    monkeypatch.setattr(schema, "SQLITE_BUSY_TIMEOUT_MS", 50)
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        store.add("q", "a")
        blocker = sqlite3.connect(tmp_path / "q.db", isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            with pytest.raises(DatabaseUnavailable, match="database is locked") as locked:
                store.claim("q", "w")
            assert isinstance(locked.value, ApplicationError)
        finally:
            blocker.rollback()
            blocker.close()
        assert store.claim("q", "w").reference == "a"


def test_sqlite_syncs_the_point_of_no_return_to_disk(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'q.db'}") as store:
        sent = []
        event.listen(store.engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
        store.add("q", "a")  # queued work is never lost, not even by a power cut
        assert sent[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]
        sent.clear()
        item = store.claim("q", "w")  # a claim may be undone by a power cut: it is redone
        assert sent[:2] == ["PRAGMA synchronous = NORMAL", "BEGIN IMMEDIATE"]
        sent.clear()
        store.record_intent(item.id, "w", "save", {})
        assert sent[:2] == ["PRAGMA synchronous = FULL", "BEGIN IMMEDIATE"]


def test_missing_postgresql_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(testing.glob, "glob", lambda pattern: [])
    with pytest.raises(ConfigError, match="apt-get install postgresql"):
        PostgresCluster()


# -- command line ----------------------------------------------------------------------


class StrictParser(argparse.ArgumentParser):
    """Like deskhand.cli's parser: errors raise instead of printing usage."""

    def error(self, message):
        raise ConfigError(message)


def queue_cli(root, *argv) -> str:
    parser = StrictParser(prog="run_bot.py")
    add_arguments(parser.add_subparsers(dest="command", parser_class=StrictParser))
    args = parser.parse_args(["queue", *argv])
    out = io.StringIO()
    assert run_cli(args, root, out) == 0
    return out.getvalue()


def test_cli_manages_items(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("DESKHAND_DB", db_url)
    assert "added item 1" in queue_cli(tmp_path, "add", "inv", "INV-1", "--payload", '{"a": 1}')
    assert "already queued" in queue_cli(tmp_path, "add", "inv", "INV-1")
    queue_cli(tmp_path, "add", "inv", "INV-2", "--priority", "5")

    table = queue_cli(tmp_path, "list", "inv").splitlines()
    assert table[0].split()[:5] == ["ID", "QUEUE", "REFERENCE", "ITEM", "STATUS"]
    assert [line.split()[2] for line in table[1:]] == ["INV-1", "INV-2"]
    assert "(no items)" in queue_cli(tmp_path, "list", "--status", "failed")

    shown = queue_cli(tmp_path, "show", "1")
    assert "reference:      INV-1" in shown and 'payload:        {"a": 1}' in shown
    assert "history:" in shown and "added" in shown

    assert "cancelled" in queue_cli(tmp_path, "cancel", "1")
    assert "queued again" in queue_cli(tmp_path, "retry", "1")
    assert [line.split()[4] for line in queue_cli(tmp_path, "list").splitlines()[1:]] == [
        "new",
        "new",
    ]

    out = tmp_path / "inv.json"
    assert "exported 2 items" in queue_cli(tmp_path, "export", "inv", "--format", "json",
                                           "--output", str(out))  # fmt: skip
    assert [d["reference"] for d in json.loads(out.read_text())] == ["INV-1", "INV-2"]
    assert queue_cli(tmp_path, "export", "inv").splitlines()[0].startswith("id,queue,reference")

    with pytest.raises(ConfigError, match="no item 42"):
        queue_cli(tmp_path, "show", "42")
    with pytest.raises(ConfigError, match="no item 42"):
        queue_cli(tmp_path, "retry", "42")
    with pytest.raises(ConfigError, match="--payload is not JSON"):
        queue_cli(tmp_path, "add", "inv", "X", "--payload", "{oops")
    with pytest.raises(ConfigError, match="invalid choice"):
        queue_cli(tmp_path, "list", "--status", "bogus")


def test_cli_bulk_retry_and_cancel_with_db_option_and_labels(tmp_path, db_url):
    store = open_store(db_url)
    for n in range(4):
        payload = {"file": f"/in/box/invoice-{n}.pdf", "name": f"invoice-{n}.pdf"}
        store.add("invoices", f"sha-{n}", payload)
    store.add("other", "row-7", {"name": "row 7"})
    for owner in ("w1", "w2", "w3"):
        item = store.claim("invoices", owner)
        store.fail(item.id, owner, "ApplicationError", "down", max_attempts=1)
    store.close()

    table = queue_cli(tmp_path, "list", "invoices", "--db", db_url)  # no $DESKHAND_DB
    assert "invoice-0.pdf" in table and "/in/box" not in table
    statuses = [line.split()[4] for line in table.splitlines()[1:]]
    assert statuses == ["failed", "failed", "failed", "new"]

    with pytest.raises(ConfigError, match="an item id or --status"):
        queue_cli(tmp_path, "retry", "--db", db_url)
    assert "3 failed items in queue invoices queued again" in queue_cli(
        tmp_path, "retry", "--status", "failed", "--queue", "invoices", "--yes", "--db", db_url
    )
    assert "no failed items" in queue_cli(tmp_path, "retry", "--status", "failed", "--db", db_url)
    assert "5 new items cancelled" in queue_cli(
        tmp_path, "cancel", "--status", "new", "--yes", "--db", db_url
    )
    with open_store(db_url) as store:
        assert store.counts("invoices")["cancelled"] == 4
        assert store.counts("other")["cancelled"] == 1
        first = store.find("invoices", "sha-0")
        assert [e.event for e in store.history(first.id)][-2:] == ["manual_retry", "cancelled"]


# -- fencing, checkpoints, business keys -----------------------------------------------


def test_a_stale_claim_token_cannot_write_even_under_the_same_owner(store):
    item, _ = store.add("q", "a", now=T0)
    first = store.claim("q", "w", lease_seconds=10, now=T0)
    again = store.claim("q", "w", lease_seconds=10, now=at(11))  # its own lease ran out
    assert (first.lease_token, again.lease_token) == (1, 2)
    assert store.holds(item.id, "w", again.lease_token, now=at(12))
    assert not store.holds(item.id, "w", first.lease_token, now=at(12))
    assert not store.holds(item.id, "w", again.lease_token, now=at(30))  # expired
    with pytest.raises(LeaseLost):
        store.record_intent(item.id, "w", "save", {}, now=at(12), token=first.lease_token)
    with pytest.raises(LeaseLost):
        store.complete(item.id, "w", {}, now=at(12), token=first.lease_token)
    assert not store.heartbeat(item.id, "w", 10, now=at(12), token=first.lease_token)
    assert store.heartbeat(item.id, "w", 10, now=at(12), token=again.lease_token)
    # The intent is the last check before acting: refused once the lease ran out, even
    # though nobody took the item over; saved (and the lease extended) while it holds.
    with pytest.raises(LeaseLost):
        store.record_intent(item.id, "w", "save", {}, now=at(23), token=2, lease_seconds=10)
    saved = store.record_intent(item.id, "w", "save", {}, now=at(21), token=2, lease_seconds=10)
    assert saved.lease_expires == at(31)


def test_checkpoints_keep_every_attempts_intent_and_outcome(store):
    item, _ = store.add("q", "a", now=T0)
    store.claim("q", "w1", now=T0)
    store.record_intent(item.id, "w1", "save", {"n": 1}, now=at(1))
    store.record_outcome(item.id, "w1", {"record": "R-1"}, now=at(2))
    store.claim("q", "w2", now=at(100))
    store.record_intent(item.id, "w2", "save", {"n": 2}, now=at(101))
    latest = store.get(item.id)
    assert latest.intent_pending and latest.outcome == {"record": "R-1"}  # never lost
    entries = latest.checkpoint["entries"]
    assert [(e["attempt"], e["data"], e["outcome"]) for e in entries] == [
        (1, {"n": 1}, {"record": "R-1"}),
        (2, {"n": 2}, None),
    ]
    done = store.record_outcome(item.id, "w2", {"record": "R-2"}, now=at(102))
    assert [e["outcome"] for e in done.checkpoint["entries"]] == [
        {"record": "R-1"},
        {"record": "R-2"},
    ]


def test_a_business_key_belongs_to_one_item_of_a_queue(store):
    a, _ = store.add("q", "scan-1", now=T0)
    b, _ = store.add("q", "scan-2", now=T0)
    c, _ = store.add("other", "scan-3", now=T0)
    for queue, owner in (("q", "w1"), ("q", "w2"), ("other", "w3")):
        store.claim(queue, owner, now=T0)
    assert store.claim_key(a.id, "w1", "acme | 17", token=1) is None
    assert store.claim_key(a.id, "w1", "acme | 17", token=1) is None  # again: still its own
    holder = store.claim_key(b.id, "w2", "acme | 17", token=1)
    assert holder.id == a.id and holder.status == "in_progress"
    assert store.claim_key(c.id, "w3", "acme | 17", token=1) is None  # another queue
    assert store.get(b.id).business_key is None
    with pytest.raises(LeaseLost):
        store.claim_key(b.id, "w2", "acme | 18", token=7)

    # A holder that failed before any point of no return keyed nothing: it gives the key up.
    store.fail(a.id, "w1", "ApplicationError", "down", max_attempts=1)
    assert store.claim_key(b.id, "w2", "acme | 17", token=1) is None
    assert store.get(a.id).business_key is None and store.get(b.id).business_key == "acme | 17"
    assert events(store, a.id)[-1] == "key_released"


def test_an_older_queue_database_gets_the_new_columns(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:  # the table as an older deskhand made it
        conn.execute(
            "CREATE TABLE deskhand_items (id INTEGER PRIMARY KEY, queue TEXT NOT NULL, "
            "reference TEXT NOT NULL, payload JSON NOT NULL, files JSON NOT NULL, "
            "priority INTEGER NOT NULL, not_before DATETIME, deadline DATETIME, "
            "status VARCHAR(20) NOT NULL, attempts INTEGER NOT NULL, lease_owner TEXT, "
            "lease_expires DATETIME, output JSON, error_kind TEXT, error_message TEXT, "
            "checkpoint JSON, created_at DATETIME NOT NULL, updated_at DATETIME NOT NULL)"
        )
        conn.execute(
            "INSERT INTO deskhand_items VALUES (1, 'q', 'old', '{}', '[]', 0, NULL, NULL, "
            "'new', 0, NULL, NULL, NULL, NULL, NULL, NULL, '2030-01-01 09:00:00', "
            "'2030-01-01 09:00:00')"
        )
    with open_store(f"sqlite:///{db}") as store:
        item = store.claim("q", "w")
        assert item.reference == "old" and item.lease_token == 1 and item.business_key is None
        assert store.claim_key(item.id, "w", "k", token=1) is None
