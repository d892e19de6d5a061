"""The console's queries on the queue's tables (SQLAlchemy Core): lists, counts, search,
bulk actions and review decisions. State changes the queue's store already offers (retry,
cancel) go through it; a review decision, which the store has no call for, is one
transaction here: the item's new state and its history line together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, Text, cast, func, insert, or_, select, update

from ..bot import WorkItem
from ..queue import CANCELLED, FAILED, NEEDS_REVIEW, NEW, QueueError
from ..queue.schema import history, items
from .tables import reading, utcnow, writing

PAGE_SIZE = 100
LIST_COLUMNS = (
    items.c.id,
    items.c.queue,
    items.c.reference,
    items.c.payload,
    items.c.status,
    items.c.attempts,
    items.c.error_kind,
    items.c.error_message,
    items.c.created_at,
    items.c.updated_at,
    items.c.lease_owner,  # who holds an item in progress
)
# Bulk actions: which statuses each applies to, and the store call that does it.
ACTIONS = {
    "retry": (FAILED,),  # failed by a system: try again, attempts reset
    "requeue": (NEEDS_REVIEW, CANCELLED),  # back to the queue as they are
    "cancel": (NEW, FAILED, NEEDS_REVIEW),
}


@dataclass(frozen=True)
class Filter:
    """What the queue page shows: a queue, a status, a search in labels and references."""

    queue: str = ""
    status: str = ""
    search: str = ""

    def where(self) -> list[Any]:
        clauses = []
        if self.queue:
            clauses.append(items.c.queue == self.queue)
        if self.status:
            clauses.append(items.c.status == self.status)
        if self.search:
            needle = self.search.lower()
            clauses.append(
                or_(
                    func.lower(items.c.reference).contains(needle, autoescape=True),
                    func.lower(cast(items.c.payload, Text)).contains(needle, autoescape=True),
                )
            )
        return clauses

    def args(self) -> dict[str, str]:
        """As query-string arguments (empty ones left out)."""
        return {
            k: v
            for k, v in (("queue", self.queue), ("status", self.status), ("q", self.search))
            if v
        }


def label(reference: str, payload: Any) -> str:
    """What a person calls the item: its name, file name or row key, else its reference."""
    payload = payload if isinstance(payload, dict) else {}
    found = WorkItem(reference, payload).label
    if found == reference:
        for key in ("key", "row_key", "row"):
            if payload.get(key) not in (None, ""):
                return str(payload[key])
    return found


def counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Items per queue and status."""
    stmt = select(items.c.queue, items.c.status, func.count()).group_by(
        items.c.queue, items.c.status
    )
    found: dict[str, dict[str, int]] = {}
    with reading(engine) as conn:
        for queue, status, n in conn.execute(stmt):
            found.setdefault(queue, {})[status] = n
    return dict(sorted(found.items()))


def listing(engine: Engine, where: Filter, before: int | None = None) -> list[dict[str, Any]]:
    """One page of items matching ``where``, newest first (ids below ``before``)."""
    stmt = select(*LIST_COLUMNS).where(*where.where()).order_by(items.c.id.desc())
    if before:
        stmt = stmt.where(items.c.id < before)
    now = utcnow()
    with reading(engine) as conn:
        rows = conn.execute(stmt.limit(PAGE_SIZE)).all()
    return [
        {
            **row._mapping,
            "label": label(row.reference, row.payload),
            "age": age(now, row.created_at),
        }
        for row in rows
    ]


def matching(engine: Engine, where: Filter, statuses: tuple[str, ...]) -> list[int]:
    """The ids of every item matching ``where`` whose status is one of ``statuses``."""
    stmt = select(items.c.id).where(*where.where(), items.c.status.in_(statuses))
    with reading(engine) as conn:
        return list(conn.execute(stmt.order_by(items.c.id)).scalars())


def eligible(engine: Engine, ids: list[int], statuses: tuple[str, ...]) -> list[int]:
    """Of ``ids``, those whose status is one of ``statuses`` now."""
    if not ids:
        return []
    stmt = select(items.c.id).where(items.c.id.in_(ids), items.c.status.in_(statuses))
    with reading(engine) as conn:
        return list(conn.execute(stmt.order_by(items.c.id)).scalars())


def ids_by_reference(engine: Engine, queue: str | None, references: list[str]) -> dict[str, int]:
    """The queue's item ids of these references (those it still holds)."""
    if not queue or not references:
        return {}
    found: dict[str, int] = {}
    with reading(engine) as conn:
        for start in range(0, len(references), 500):
            chunk = references[start : start + 500]
            stmt = select(items.c.reference, items.c.id).where(
                items.c.queue == queue, items.c.reference.in_(chunk)
            )
            found.update(dict(conn.execute(stmt).all()))
    return found


def apply_action(store: Any, action: str, ids: list[int], by: str) -> tuple[int, list[str]]:
    """Retry, requeue or cancel each item through the queue's store; ``(done, problems)``:
    an item a runner took meanwhile is reported, never forced."""
    done, problems = 0, []
    call = store.cancel if action == "cancel" else store.retry
    for item_id in ids:
        try:
            call(item_id, by=by)
            done += 1
        except QueueError as exc:
            problems.append(str(exc))
    return done, problems


def approve(engine: Engine, item_id: int, reviewed: dict[str, dict], by: str) -> None:
    """Send a ``needs_review`` item back to the queue with ``reviewed`` in its payload
    (``payload["reviewed"]``) and one history line: who, when, each field's old and new."""
    now = utcnow()
    with writing(engine) as conn:
        row = conn.execute(
            select(items.c.payload, items.c.status).where(items.c.id == item_id).with_for_update()
        ).first()
        if row is None or row.status != NEEDS_REVIEW:
            state = "gone" if row is None else row.status
            raise QueueError(f"item {item_id} is {state}, no longer in review: reload the page")
        payload = dict(row.payload) if isinstance(row.payload, dict) else {"value": row.payload}
        merged = {**(payload.get("reviewed") or {}), **reviewed}
        values = {
            "payload": {**payload, "reviewed": merged},
            "status": NEW,
            "attempts": 0,
            "not_before": None,
            "output": None,
            "error_kind": None,
            "error_message": None,
            "lease_owner": None,
            "lease_expires": None,
            "updated_at": now,
        }
        conn.execute(update(items).where(items.c.id == item_id).values(**values))
        changes = {
            name: {"old": c.get("old"), "new": c.get("value")} for name, c in reviewed.items()
        }
        detail = {"by": by, "from": NEEDS_REVIEW, "changes": changes}
        conn.execute(
            insert(history).values(
                item_id=item_id, at=now, event="approved", runner=by, detail=detail
            )
        )


def reject(engine: Engine, item_id: int, reason: str, by: str) -> None:
    """Cancel a ``needs_review`` item, the reason and the reviewer in its history."""
    now = utcnow()
    with writing(engine) as conn:
        status = conn.execute(
            select(items.c.status).where(items.c.id == item_id).with_for_update()
        ).scalar()
        if status != NEEDS_REVIEW:
            raise QueueError(f"item {item_id} is {status or 'gone'}, no longer in review: reload")
        conn.execute(
            update(items)
            .where(items.c.id == item_id)
            .values(status=CANCELLED, lease_owner=None, lease_expires=None, updated_at=now)
        )
        detail = {"by": by, "from": NEEDS_REVIEW, "reason": reason}
        conn.execute(
            insert(history).values(
                item_id=item_id, at=now, event="rejected", runner=by, detail=detail
            )
        )


def age(now: datetime, then: datetime | None) -> str:
    """``3 d``, ``5 h``, ``12 min``, ``40 s``."""
    if then is None:
        return ""
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
