"""Runners and their health: who works a queue, from which host, and whether it still beats.

Every run registers itself in ``deskhand_runners`` (host, pid, deskhand version, the bots
it serves, when it started) and beats while it runs: a thread every third of its lease,
and every item lease renewal (``Store.heartbeat``) in the same transaction. A runner whose
beat stops is ``lost`` once a lease has passed since its last one; the items it held become
claimable then, and another runner (on any host) takes them back (``Store.claim``)::

    with serving(store, owner, ["invoice_entry"], lease_seconds=60):
        ...                                   # claim and work
    for runner in list_runners(store):
        print(runner.host, runner.state())    # working / lost / stopped
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exists, insert, select, update

from . import rows as q
from .models import IN_PROGRESS
from .schema import items, runners

WORKING, LOST, STOPPED = "working", "lost", "stopped"
BEAT = (
    update(runners)
    .where(runners.c.id == bindparam("b_owner"))
    .values(heartbeat_at=bindparam("b_now"))
)


@dataclass(frozen=True)
class Runner:
    """One registered run of a runner."""

    id: str  # the lease owner it claims items as: host:pid:run-id
    host: str
    pid: int
    version: str
    bots: list[str]
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None
    lease_seconds: float

    def state(self, now: datetime | None = None) -> str:
        """``stopped`` (ended cleanly), ``working`` (beat within its lease) or ``lost`` (its
        beat stopped: dead, frozen or cut off; its items are taken back)."""
        if self.stopped_at is not None:
            return STOPPED
        silent = q.utc(now) - self.heartbeat_at
        return WORKING if silent <= timedelta(seconds=self.lease_seconds) else LOST


def version() -> str:
    """The installed deskhand's version."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("deskhand")
    except PackageNotFoundError:
        return "unknown"


def register(
    store: Any, owner: str, bots: list[str], lease_seconds: float, now: datetime | None = None
) -> None:
    """Record the runner ``owner`` (this process) as working for ``bots``."""
    now = q.utc(now)
    row = {"id": owner, "host": socket.gethostname(), "pid": os.getpid(), "version": version()}
    row |= {"bots": list(bots), "started_at": now, "heartbeat_at": now, "stopped_at": None}
    row["lease_seconds"] = float(lease_seconds)
    with store._write() as conn:
        conn.execute(insert(runners), row)


def beat(store: Any, owner: str, now: datetime | None = None) -> None:
    """The runner is alive."""
    with store._write() as conn:
        conn.execute(BEAT, {"b_owner": owner, "b_now": q.utc(now)})


def stop(store: Any, owner: str, now: datetime | None = None) -> None:
    """The runner ended cleanly."""
    with store._write() as conn:
        stmt = update(runners).where(runners.c.id == owner)
        conn.execute(stmt.values(stopped_at=q.utc(now)))


def list_runners(store: Any, limit: int = 50) -> list[Runner]:
    """The registered runners an operator needs first: those not stopped (working, or lost
    and still holding what they held) by latest beat, then the stopped ones, latest first;
    ``limit`` in all (the table keeps every run that ever registered)."""
    stmt = (
        select(runners)
        .order_by(runners.c.stopped_at.is_(None).desc(), runners.c.heartbeat_at.desc())
        .limit(limit)
    )
    with store._read() as conn:
        return [Runner(**row._mapping) for row in conn.execute(stmt)]


def holders(store: Any, owners: set[str]) -> dict[str, Runner]:
    """The registered runners among lease ``owners``, by id."""
    if not owners:
        return {}
    stmt = select(runners).where(runners.c.id.in_(sorted(owners)))
    with store._read() as conn:
        return {row.id: Runner(**row._mapping) for row in conn.execute(stmt)}


def held_by(store: Any, leases: Mapping[int, str | None]) -> dict[int, str]:
    """Who holds each item, as ``queue list`` and the console show it: ``host:pid (state)``
    (``host:pid`` alone for an owner that never registered). ``leases`` maps the ids of
    in-progress items to their lease owner; items without one are left out."""
    leases = {item_id: owner for item_id, owner in leases.items() if owner}
    known = holders(store, set(leases.values()))
    shown = {}
    for item_id, owner in leases.items():
        where = ":".join(owner.split(":")[:2])
        runner = known.get(owner)
        shown[item_id] = f"{where} ({runner.state()})" if runner else where
    return shown


def held_items(store: Any, owners: Iterable[str]) -> dict[str, list[int]]:
    """The ids of the items each of the lease ``owners`` holds now (in progress)."""
    owners = sorted(set(owners))
    found: dict[str, list[int]] = {}
    if not owners:
        return found
    stmt = (
        select(items.c.lease_owner, items.c.id)
        .where(items.c.status == IN_PROGRESS, items.c.lease_owner.in_(owners))
        .order_by(items.c.id)
    )
    with store._read() as conn:
        for owner, item_id in conn.execute(stmt):
            found.setdefault(owner, []).append(item_id)
    return found


def forget(store: Any, before: datetime) -> int:
    """Delete the records of runners silent since ``before`` (stopped, or lost that long)
    that hold no item in progress; how many. Every run registers, so without this the
    table grows by one row a run."""
    holding = exists().where(items.c.status == IN_PROGRESS, items.c.lease_owner == runners.c.id)
    stmt = delete(runners).where(runners.c.heartbeat_at < q.utc(before), ~holding)
    with store._write() as conn:
        return conn.execute(stmt).rowcount or 0


@contextmanager
def serving(store: Any, owner: str, bots: list[str], lease_seconds: float) -> Iterator[None]:
    """Registered and beating for the block (a thread beats every third of the lease);
    marked stopped when it ends, also by an exception."""
    register(store, owner, bots, lease_seconds)
    done = threading.Event()

    def beating() -> None:
        while not done.wait(lease_seconds / 3):
            try:
                beat(store, owner)
            except Exception:  # the database hiccuped (or is cut off): the next beat tries
                continue

    thread = threading.Thread(target=beating, daemon=True, name=f"runner-beat-{owner}")
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)
        try:
            stop(store, owner)
        except Exception:
            pass  # the database is gone: the runner shows as lost once its lease has passed
