"""The store: every state change of a work item is one short transaction plus its history."""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, exc

from . import rows as q
from . import runners
from .checkpoints import Checkpoints
from .models import (
    CANCELLED,
    DONE,
    FAILED,
    IN_PROGRESS,
    NEEDS_REVIEW,
    NEW,
    DatabaseUnavailable,
    Item,
    LeaseLost,
    QueueError,
    item_from_row,
)
from .reading import Reading
from .schema import create_queue_engine, mask_url, resolve_url


def open_store(url: str | None = None, root: Path | None = None) -> Store:
    """Open (and create if needed) the queue database.

    ``url`` (SQLAlchemy form: ``sqlite:///path.db``, ``postgresql+psycopg://u:p@host/db``),
    else ``$DESKHAND_DB``, else ``sqlite:///<root>/.deskhand/queue.db``. Raises ConfigError
    with one line (the password masked) when the URL is wrong or the database unreachable.
    """
    url = resolve_url(url, root)
    engine = create_queue_engine(url)
    measure_clock(engine)
    return Store(engine, mask_url(url))


def measure_clock(engine: Engine) -> None:
    """On PostgreSQL (runners on many hosts: one clock for leases and beats), read and
    write every time in the database's clock from now on, in this process (the runners and
    the console alike); on SQLite, one machine, this host's clock is the clock."""
    if engine.dialect.name == "postgresql":
        q.CLOCK["offset"] = _clock_offset(engine)


def _clock_offset(engine: Engine) -> timedelta:
    """The database's clock minus this host's (zero under a second: the same clock)."""
    with engine.connect() as conn:
        before = q.local_now()
        database = conn.exec_driver_sql("SELECT statement_timestamp()").scalar()
        after = q.local_now()
    offset = database - (before + (after - before) / 2)
    return offset if abs(offset) >= timedelta(seconds=1) else timedelta(0)


class Store(Reading, Checkpoints):
    """Durable work items. Every method that changes an item appends to its history; every
    ``now`` defaults to the current UTC time (tests pass their own clock)."""

    def __init__(self, engine: Engine, url: str) -> None:
        self.engine = engine
        self.url = url  # password masked
        self._thread = threading.get_ident()
        self._open: dict[str, Connection] = {}  # that thread's writer and reader

    def close(self) -> None:
        """Close the connections and the engine's pool."""
        for conn in self._open.values():
            conn.close()
        self._open.clear()
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    # -- adding -----------------------------------------------------------------------

    def add(
        self,
        queue: str,
        reference: str,
        payload: Any = None,
        files: Iterable[str | Path] | None = None,
        priority: int = 0,
        not_before: datetime | None = None,
        deadline: datetime | None = None,
        *,
        by: str | None = None,
        now: datetime | None = None,
    ) -> tuple[Item, bool]:
        """Queue one item; ``(item, True)`` when added, ``(existing, False)`` when the queue
        already holds ``reference`` (then nothing changes)."""
        spec = {"payload": payload, "files": files, "priority": priority}
        spec |= {"not_before": not_before, "deadline": deadline}
        added, existing = self.add_many(queue, [{"reference": reference, **spec}], by=by, now=now)
        return (added[0], True) if added else (existing[0], False)

    def add_many(
        self,
        queue: str,
        items: Iterable[Mapping[str, Any]],
        *,
        by: str | None = None,
        now: datetime | None = None,
        on_added: Callable[[Connection, dict[str, int]], None] | None = None,
    ) -> tuple[builtins.list[Item], builtins.list[Item]]:
        """Queue many items in one transaction. Each is a mapping with ``reference`` and
        optionally ``payload``, ``files``, ``priority``, ``not_before``, ``deadline``.
        Returns ``(added, existing)``: references already queued (or repeated) change nothing.
        ``on_added(conn, ids by reference)`` runs in the same transaction (files.py)."""
        now = q.utc(now)
        rows: dict[str, dict] = {}
        order: builtins.list[str] = []  # every reference in the order given, repeats too
        for spec in items:
            row = q.new_row(queue, spec, now)
            rows.setdefault(row["reference"], row)
            order.append(row["reference"])
        for attempt in range(3):
            try:
                with self._write(durable=True) as conn:
                    found = q.existing(conn, queue, builtins.list(rows))
                    fresh = [row for ref, row in rows.items() if ref not in found]
                    ids: dict[str, int] = {}
                    if fresh:
                        stmt = q.INSERT_ITEMS
                        ids = {r.reference: r.id for r in conn.execute(stmt, fresh)}
                        log = [q.entry(ids[ref], "added", by, now) for ref in ids]
                        conn.execute(q.LOG, log)
                    if on_added and ids:
                        on_added(conn, ids)
                break
            except exc.IntegrityError:
                # A concurrent writer (PostgreSQL) queued one of them first: read again.
                if attempt == 2:
                    raise
        added: builtins.list[Item] = []
        existing: builtins.list[Item] = []
        for ref in order:
            if ref in found:
                existing.append(found[ref])
            else:  # added now; a repeat later in this batch counts as existing
                found[ref] = item_from_row({**rows[ref], "id": ids[ref]})
                added.append(found[ref])
        return added, existing

    # -- working ----------------------------------------------------------------------

    def claim(
        self, queue: str, owner: str, lease_seconds: float = 60, now: datetime | None = None
    ) -> Item | None:
        """Take the best claimable item for ``owner`` under a lease, or None.

        Claimable: ``new`` and due (``not_before`` null or past), or ``in_progress`` with an
        expired lease (its runner died). Best: highest priority, then oldest. A ``new`` item
        past its deadline is failed ('deadline passed') instead, and the next one is taken.
        """
        now = q.utc(now)
        params = {"queue": queue, "now": now}
        with self._write() as conn:
            while True:
                candidates = [
                    row
                    for stmt in (q.EXPIRED, q.FRESH)
                    if (row := conn.execute(stmt, params).first()) is not None
                ]
                if not candidates:
                    return None
                row = min(candidates, key=lambda r: (-r.priority, r.id))
                if row.status == NEW and row.deadline is not None and row.deadline <= now:
                    detail = {"kind": "deadline", "message": "deadline passed"}
                    values = {"status": FAILED, "error_kind": "deadline"}
                    values |= {"error_message": "deadline passed", "updated_at": now}
                    conn.execute(q.SET_BY_ID, {"b_id": row.id, **values})
                    conn.execute(q.LOG, q.entry(row.id, FAILED, owner, now, detail))
                    continue
                break
            entries = []
            if row.status == IN_PROGRESS:
                detail = {"previous_owner": row.lease_owner}
                detail["lease_expires"] = row.lease_expires.isoformat()
                entries.append(q.entry(row.id, "lease_expired", owner, now, detail))
            values = {
                "status": IN_PROGRESS,
                "attempts": row.attempts + 1,
                "lease_token": (row.lease_token or 0) + 1,
                "lease_owner": owner,
                "lease_expires": now + timedelta(seconds=lease_seconds),
                "updated_at": now,
            }
            conn.execute(q.SET_BY_ID, {"b_id": row.id, **values})
            entries.append(q.entry(row.id, "claimed", owner, now, {"attempt": row.attempts + 1}))
            conn.execute(q.LOG, entries)
        return item_from_row({**row._mapping, **values})

    def heartbeat(
        self,
        item_id: int,
        owner: str,
        lease_seconds: float = 60,
        now: datetime | None = None,
        token: int | None = None,
    ) -> bool:
        """Extend the lease; False when ``owner`` (with the claim's ``token``) no longer
        holds it: stop working then."""
        now = q.utc(now)
        values = {"lease_expires": now + timedelta(seconds=lease_seconds), "updated_at": now}
        params = {"b_id": item_id, "b_owner": owner, **values}
        params |= {"b_token": token} if token is not None else {}
        with self._write() as conn:
            result = conn.execute(q.fenced(q.SET_IF_HELD, token), params)
            conn.execute(runners.BEAT, {"b_owner": owner, "b_now": now})  # the runner lives
            return result.rowcount == 1

    def complete(
        self,
        item_id: int,
        owner: str,
        output: Any = None,
        now: datetime | None = None,
        token: int | None = None,
    ) -> Item:
        """Mark the item done with its output. Raises LeaseLost when ``owner`` lost it."""
        now = q.utc(now)
        values = {"status": DONE, "output": output, "error_kind": None, "error_message": None}
        return self._finish(item_id, owner, values, "completed", {}, now, token=token)

    def to_review(
        self,
        item_id: int,
        owner: str,
        kind: str,
        message: str,
        now: datetime | None = None,
        token: int | None = None,
        output: Any = None,
    ) -> Item:
        """Send the item to a person (a BusinessError): needs_review, never retried.
        ``output``: what it produced anyway (a record created before the problem)."""
        now = q.utc(now)
        values = {"status": NEEDS_REVIEW, "error_kind": kind, "error_message": message}
        values["output"] = output
        detail = {"kind": kind, "message": message}
        return self._finish(item_id, owner, values, NEEDS_REVIEW, detail, now, token=token)

    def fail(
        self,
        item_id: int,
        owner: str,
        kind: str,
        message: str,
        max_attempts: int,
        backoff_seconds: float = 2.0,
        now: datetime | None = None,
        token: int | None = None,
    ) -> Item:
        """A system failed (an ApplicationError): back to ``new`` after
        ``backoff_seconds * 2**(attempts-1)`` while attempts < max_attempts, else failed."""
        now = q.utc(now)
        current = self.get(item_id)
        if current is None:
            raise QueueError(f"no item {item_id}")
        values = {"error_kind": kind, "error_message": message}
        detail: dict[str, Any] = {"kind": kind, "message": message}
        detail["attempt"] = current.attempts
        if current.attempts < max_attempts:
            due = now + timedelta(seconds=backoff_seconds * 2 ** max(current.attempts - 1, 0))
            values |= {"status": NEW, "not_before": due}
            detail["not_before"] = due.isoformat()
            event = "retry_scheduled"
        else:
            values["status"] = FAILED
            event = FAILED
        # The update re-checks the attempts it was computed from: a claim in between loses.
        stmt, extra = q.FINISH_AT_ATTEMPT, {"b_attempts": current.attempts}
        return self._finish(item_id, owner, values, event, detail, now, stmt, extra, token=token)

    def release(
        self,
        item_id: int,
        owner: str,
        now: datetime | None = None,
        token: int | None = None,
        wait_seconds: float | None = None,
        reason: str | None = None,
    ) -> Item:
        """Give an in-progress item back untouched (a clean shutdown): new, attempt undone.
        ``wait_seconds``: not claimable before then (it waits for another item)."""
        now = q.utc(now)
        values: dict[str, Any] = {"status": NEW}
        detail = {"reason": reason} if reason else {}
        if wait_seconds is not None:
            values["not_before"] = now + timedelta(seconds=wait_seconds)
        event = "waiting" if wait_seconds is not None else "released"
        return self._finish(item_id, owner, values, event, detail, now, q.RELEASE, token=token)

    def retry(self, item_id: int, *, by: str | None = None, now: datetime | None = None) -> Item:
        """Queue a failed, reviewed or cancelled item again, with its attempts reset. Its
        checkpoint stays, so a pending intent is still reconciled before keying."""
        values = {"status": NEW, "attempts": 0, "not_before": None, "output": None}
        values |= {"error_kind": None, "error_message": None} | q.NO_LEASE
        allowed = (FAILED, NEEDS_REVIEW, CANCELLED)
        return self._move(item_id, allowed, values, "manual_retry", by, now)

    def cancel(self, item_id: int, *, by: str | None = None, now: datetime | None = None) -> Item:
        """Cancel a new, failed or reviewed item (never one a runner is working on)."""
        values = {"status": CANCELLED} | q.NO_LEASE
        return self._move(item_id, (NEW, FAILED, NEEDS_REVIEW), values, CANCELLED, by, now)

    # -- internals --------------------------------------------------------------------

    @contextmanager
    def _write(self, durable: bool = False) -> Iterator[Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE). ``durable``: on disk even through
        a power cut when it returns (SQLite syncs FULL; PostgreSQL always does)."""
        with self._connection("writer") as conn, self._unavailable():
            if not durable:
                with conn.begin():
                    yield conn
                return
            conn.execution_options(durable=True)
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.execution_options(durable=False)

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._connection("reader") as conn, self._unavailable(), conn.begin():
            yield conn

    @contextmanager
    def _unavailable(self) -> Iterator[None]:
        try:
            yield
        except exc.OperationalError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseUnavailable(
                f"queue database {self.url} failed: {reason}: check that it is running"
            ) from error

    @contextmanager
    def _connection(self, role: str) -> Iterator[Connection]:
        """The thread that opened the store keeps its two connections open (a pool checkout
        per call costs more than the SQL); other threads, such as a heartbeat, check one
        out per call."""
        if threading.get_ident() != self._thread:
            with self.engine.connect() as conn:
                if role == "reader":
                    conn.execution_options(sqlite_begin="DEFERRED")
                yield conn
            return
        conn = self._open.get(role)
        if conn is None or conn.closed:
            conn = self._open[role] = self.engine.connect()
            if role == "reader":
                conn.execution_options(sqlite_begin="DEFERRED")
        yield conn

    def _finish(
        self,
        item_id: int,
        owner: str,
        values: dict | Callable[[Any], dict],
        event: str,
        detail: dict,
        now: datetime,
        stmt: Any = q.FINISH,
        extra: dict | None = None,
        durable: bool = False,
        token: int | None = None,
        live: bool = False,
    ) -> Item:
        """Apply ``values`` if ``owner`` still holds the lease (under the claim ``token``;
        ``live``: unexpired), else raise LeaseLost. ``values`` may be a function of the item
        as read in the same transaction."""
        with self._write(durable) as conn:
            if callable(values):
                current = conn.execute(q.BY_ID_LOCKED, {"b_id": item_id}).first()
                if current is None:
                    raise QueueError(f"no item {item_id}")
                values = values(current)
            if values["status"] != IN_PROGRESS:
                values = values | q.NO_LEASE
            params = {"b_id": item_id, "b_owner": owner, "updated_at": now, **values}
            params |= (extra or {}) | ({"b_token": token} if token is not None else {})
            params |= {"b_now": now} if live else {}
            row = conn.execute(q.fenced(stmt, token, live), params).first()
            if row is None:
                raise self._lease_lost(conn, item_id, owner, event)
            conn.execute(q.LOG, q.entry(item_id, event, owner, now, detail))
        return item_from_row(row)

    def _lease_lost(self, conn: Connection, item_id: int, owner: str, event: str) -> Exception:
        row = conn.execute(q.BY_ID, {"b_id": item_id}).first()
        if row is None:
            return QueueError(f"no item {item_id}")
        holder = f", leased by {row.lease_owner}" if row.lease_owner else ""
        return LeaseLost(
            f"item {item_id} ({row.reference}) is no longer leased by {owner} "
            f"(now {row.status}{holder}): {event} not saved; the item is another runner's"
        )

    def _move(
        self,
        item_id: int,
        allowed: tuple[str, ...],
        values: dict,
        event: str,
        by: str | None,
        now: datetime | None,
    ) -> Item:
        """A manual status change, allowed only from the ``allowed`` statuses."""
        now = q.utc(now)
        verb = "retried" if event == "manual_retry" else "cancelled"
        with self._write(durable=True) as conn:
            current = conn.execute(q.BY_ID_LOCKED, {"b_id": item_id}).first()
            if current is None:
                raise QueueError(f"no item {item_id}: see `queue list`")
            if current.status == values["status"] == CANCELLED:
                return item_from_row(current)  # cancelling twice changes nothing
            if current.status not in allowed:
                raise QueueError(
                    f"item {item_id} is {current.status}: only {', '.join(allowed)} items "
                    f"can be {verb}"
                )
            params = {"b_id": item_id, "updated_at": now, **values}
            row = conn.execute(q.SET_BY_ID_RETURNING, params).first()
            conn.execute(q.LOG, q.entry(item_id, event, by, now, {"from": current.status}))
        return item_from_row(row)
