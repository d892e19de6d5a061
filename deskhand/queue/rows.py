"""The store's statements, built once (SQLAlchemy caches their compiled form), and the
helpers that turn arguments into rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, insert, or_, select, update

from .models import IN_PROGRESS, NEW, Item, QueueError, item_from_row
from .schema import history, items

_ORDER = (items.c.priority.desc(), items.c.id)

# The two kinds of claimable item, each read in index order and locked. PostgreSQL skips
# rows another claimer holds; SQLite renders no FOR UPDATE and relies on BEGIN IMMEDIATE.
FRESH = (
    select(items)
    .where(
        items.c.queue == bindparam("queue"),
        items.c.status == NEW,
        or_(items.c.not_before.is_(None), items.c.not_before <= bindparam("now")),
    )
    .order_by(*_ORDER)
    .limit(1)
    .with_for_update(skip_locked=True)
)
EXPIRED = (
    select(items)
    .where(
        items.c.queue == bindparam("queue"),
        items.c.status == IN_PROGRESS,
        items.c.lease_expires <= bindparam("now"),
    )
    .order_by(*_ORDER)
    .limit(1)
    .with_for_update(skip_locked=True)
)
# Updates whose SET clause comes from the execution parameters (one cached form per key set).
SET_BY_ID = update(items).where(items.c.id == bindparam("b_id"))
SET_BY_ID_RETURNING = SET_BY_ID.returning(items)
_HELD = (
    items.c.id == bindparam("b_id"),
    items.c.status == IN_PROGRESS,
    items.c.lease_owner == bindparam("b_owner"),
)
SET_IF_HELD = update(items).where(*_HELD)
FINISH = update(items).where(*_HELD).returning(items)
FINISH_AT_ATTEMPT = FINISH.where(items.c.attempts == bindparam("b_attempts"))
RELEASE = FINISH.values(attempts=items.c.attempts - 1)
HOLDS = select(items.c.id).where(
    *_HELD,
    items.c.lease_token == bindparam("b_token"),
    items.c.lease_expires > bindparam("now"),
)
KEY_HOLDER = select(items).where(
    items.c.queue == bindparam("queue"),
    items.c.business_key == bindparam("key"),
    items.c.id != bindparam("b_id"),
)
BY_ID = select(items).where(items.c.id == bindparam("b_id"))
BY_ID_LOCKED = BY_ID.with_for_update()
LOG = insert(history)
INSERT_ITEMS = insert(items).returning(items.c.id, items.c.reference, sort_by_parameter_order=True)
NO_LEASE = {"lease_owner": None, "lease_expires": None}
ADD_FIELDS = {"payload", "files", "priority", "not_before", "deadline"}


def fenced(stmt: Any, token: int | None, live: bool = False) -> Any:
    """``stmt`` also requiring the lease ``token`` (a claim after ours changed it) and, with
    ``live``, an unexpired lease."""
    if token is not None:
        stmt = stmt.where(items.c.lease_token == bindparam("b_token"))
    if live:
        stmt = stmt.where(items.c.lease_expires > bindparam("b_now"))
    return stmt


def new_row(queue: str, spec: Mapping[str, Any], now: datetime) -> dict:
    """The row for a new item from an ``add`` spec (reference, payload, files, ...)."""
    spec = dict(spec)
    reference = spec.pop("reference", None)
    if reference is None or str(reference) == "":
        raise QueueError(f"an item for queue {queue!r} has no reference: give each one")
    reference = str(reference)
    if unknown := set(spec) - ADD_FIELDS:
        raise QueueError(
            f"unknown item fields {sorted(unknown)} for {reference!r}: "
            f"use {', '.join(sorted(ADD_FIELDS))}"
        )
    payload = {} if spec.get("payload") is None else spec["payload"]
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as error:
        raise QueueError(
            f"payload of {reference!r} is not JSON ({error}): pass plain values "
            "(str(path) for a path, or files=[path])"
        ) from None
    return {
        "queue": queue,
        "reference": reference,
        "payload": payload,
        "files": [str(f) for f in spec.get("files") or ()],
        "priority": int(spec.get("priority") or 0),
        "not_before": utc_or_none(spec.get("not_before")),
        "deadline": utc_or_none(spec.get("deadline")),
        "status": NEW,
        "attempts": 0,
        "lease_owner": None,
        "lease_expires": None,
        "output": None,
        "error_kind": None,
        "error_message": None,
        "checkpoint": None,
        "lease_token": 0,
        "business_key": None,
        "created_at": now,
        "updated_at": now,
    }


def existing(conn: Connection, queue: str, references: list[str]) -> dict[str, Item]:
    """The items of ``queue`` among ``references``, by reference."""
    found: dict[str, Item] = {}
    for start in range(0, len(references), 500):
        chunk = references[start : start + 500]
        stmt = select(items).where(items.c.queue == queue, items.c.reference.in_(chunk))
        found.update((row.reference, item_from_row(row)) for row in conn.execute(stmt))
    return found


def entry(
    item_id: int, event: str, runner: str | None, at: datetime, detail: dict | None = None
) -> dict:
    """A history row."""
    return {"item_id": item_id, "at": at, "event": event, "runner": runner, "detail": detail or {}}


# The queue database's clock minus this host's, when they differ by a second or more (set
# by open_store on PostgreSQL): every host then writes and reads leases in one time.
CLOCK = {"offset": timedelta(0)}


def local_now() -> datetime:
    """This host's clock, in UTC."""
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime:
    """``value`` in UTC (now, in the database's time, when None); a naive datetime is
    refused, not guessed."""
    if value is None:
        return local_now() + CLOCK["offset"]
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value}: pass an aware one, e.g. datetime.now(UTC)")
    return value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)
