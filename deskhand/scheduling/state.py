"""What daemons share through the queue's database: which slot of each job was started,
which bot is running where (a lock with an expiry), and each daemon's heartbeat.

Starting a run is one transaction on two rows: the job's row moves to the new slot (only
if no daemon started that slot yet) and the bot's lock is taken (only if free or expired).
PostgreSQL row locks (and SQLite's BEGIN IMMEDIATE) make the second daemon wait and then see
the first one's result, so a slot is started once however many daemons share the database.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    Table,
    Text,
    delete,
    exc,
    insert,
    or_,
    select,
    update,
)

from ..queue.schema import UTCDateTime, create_queue_engine

STARTED, TAKEN, BUSY = "started", "taken", "busy"

metadata = MetaData()

job_runs = Table(
    "deskhand_schedule_jobs",
    metadata,
    Column("job", Text, primary_key=True),
    Column("bot", Text, nullable=False),
    Column("last_slot", BigInteger),  # epoch seconds of the slot last started
    Column("last_start", UTCDateTime),
    Column("last_owner", Text),
    Column("last_end", UTCDateTime),
    Column("last_exit", Integer),
)

locks = Table(
    "deskhand_locks",
    metadata,
    Column("bot", Text, primary_key=True),
    Column("owner", Text),  # the daemon holding it (host:pid), None when free
    Column("job", Text),
    Column("pid", Integer),  # the run's child process
    Column("acquired_at", UTCDateTime),
    Column("expires_at", UTCDateTime),  # renewed while the run lives
)

daemons = Table(
    "deskhand_daemons",
    metadata,
    Column("id", Text, primary_key=True),  # host:pid
    Column("started_at", UTCDateTime, nullable=False),
    Column("beat_at", UTCDateTime, nullable=False),
    Column("running", JSON, nullable=False),  # the bots it runs now
)


def utcnow() -> dt.datetime:
    """The current UTC time (through the module, so that a test's clock applies)."""
    return dt.datetime.now(dt.UTC)


class State:
    """The scheduler's rows, for the daemon ``owner`` (``host:pid``)."""

    def __init__(self, url: str, owner: str) -> None:
        self.engine = create_queue_engine(url)
        self.owner = owner
        try:
            metadata.create_all(self.engine)
        except (exc.IntegrityError, exc.ProgrammingError):  # another daemon made them now
            metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def acquire(self, job: str, bot: str, slot: int, ttl: float, now: dt.datetime) -> str:
        """Start ``slot`` of ``job``: STARTED (the slot and the bot's lock are ours), TAKEN
        (a daemon already started this slot or a later one) or BUSY (the bot is running)."""
        self._ensure(job_runs, {"job": job, "bot": bot})
        self._ensure(locks, {"bot": bot})
        with self.engine.connect() as conn:
            trans = conn.begin()
            moved = conn.execute(
                update(job_runs)
                .where(job_runs.c.job == job)
                .where(or_(job_runs.c.last_slot.is_(None), job_runs.c.last_slot < slot))
                .values(
                    last_slot=slot,
                    last_start=now,
                    last_owner=self.owner,
                    last_end=None,
                    last_exit=None,
                )  # fmt: skip
            )
            if moved.rowcount != 1:
                trans.rollback()
                return TAKEN
            locked = conn.execute(
                update(locks)
                .where(locks.c.bot == bot)
                .where(or_(locks.c.owner.is_(None), locks.c.expires_at < now))
                .values(
                    owner=self.owner,
                    job=job,
                    pid=None,
                    acquired_at=now,
                    expires_at=now + dt.timedelta(seconds=ttl),
                )  # fmt: skip
            )
            if locked.rowcount != 1:
                trans.rollback()
                return BUSY
            trans.commit()
        return STARTED

    def set_pid(self, bot: str, pid: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(locks).where(locks.c.bot == bot, locks.c.owner == self.owner).values(pid=pid)
            )

    def renew(self, bot: str, ttl: float, now: dt.datetime) -> bool:
        """Extend our lock on ``bot``; False when we no longer hold it."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(locks)
                .where(locks.c.bot == bot, locks.c.owner == self.owner)
                .values(expires_at=now + dt.timedelta(seconds=ttl))
            )
            return result.rowcount == 1

    def release(self, bot: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(locks)
                .where(locks.c.bot == bot, locks.c.owner == self.owner)
                .values(owner=None, job=None, pid=None, acquired_at=None, expires_at=None)
            )

    def finish(self, job: str, slot: int, exit_code: int | None, now: dt.datetime) -> None:
        """Record how the run of ``slot`` ended (None: it never started)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(job_runs)
                .where(job_runs.c.job == job, job_runs.c.last_slot == slot)
                .where(job_runs.c.last_owner == self.owner)
                .values(last_end=now, last_exit=exit_code)
            )

    def jobs(self) -> dict[str, Any]:
        """Every job's row by job name: last_slot, last_start, last_end, last_exit, ..."""
        with self._reading() as conn:
            return {row.job: row for row in conn.execute(select(job_runs))}

    def locks(self) -> dict[str, Any]:
        """The held locks by bot name."""
        with self._reading() as conn:
            rows = conn.execute(select(locks).where(locks.c.owner.is_not(None)))
            return {row.bot: row for row in rows}

    def beat(self, id: str, started_at: dt.datetime, running: list[str], now: dt.datetime) -> None:
        """The heartbeat: the daemon's row says when it was last alive and what it runs."""
        values = {"beat_at": now, "running": sorted(running), "started_at": started_at}
        with self.engine.begin() as conn:
            done = conn.execute(update(daemons).where(daemons.c.id == id).values(values))
            if done.rowcount == 0:
                conn.execute(insert(daemons).values(id=id, **values))

    def forget(self, id: str) -> None:
        """Remove a daemon's heartbeat (a clean exit)."""
        with self.engine.begin() as conn:
            conn.execute(delete(daemons).where(daemons.c.id == id))

    def daemons(self) -> list[Any]:
        with self._reading() as conn:
            return list(conn.execute(select(daemons).order_by(daemons.c.id)))

    def _reading(self) -> Any:
        # SQLite: a plain read transaction, not the write lock the queue's engine takes.
        return self.engine.connect().execution_options(sqlite_begin="DEFERRED")

    def _ensure(self, table: Table, row: dict[str, Any]) -> None:
        key = next(iter(row))
        with self._reading() as conn:
            if conn.execute(select(table.c[key]).where(table.c[key] == row[key])).first():
                return
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(table).values(row))
        except exc.IntegrityError:
            pass  # another daemon inserted it at the same moment
