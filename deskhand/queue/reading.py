"""The store's read side: items, history, counts and exports (no state changes)."""

from __future__ import annotations

import builtins
from contextlib import AbstractContextManager
from typing import TextIO

from sqlalchemy import Connection, func, select

from . import rows as q
from .export import write_export
from .models import STATUSES, HistoryEntry, Item, QueueError, entry_from_row, item_from_row
from .schema import history, items


class Reading:
    """Mixed into Store, which provides ``_read()``: a connection in a read transaction."""

    def _read(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    # -- reading ----------------------------------------------------------------------

    def get(self, item_id: int) -> Item | None:
        with self._read() as conn:
            row = conn.execute(q.BY_ID, {"b_id": item_id}).first()
        return None if row is None else item_from_row(row)

    def find(self, queue: str, reference: str) -> Item | None:
        with self._read() as conn:
            return q.existing(conn, queue, [reference]).get(reference)

    def history(self, item_id: int) -> builtins.list[HistoryEntry]:
        """The item's history, oldest first."""
        stmt = select(history).where(history.c.item_id == item_id).order_by(history.c.id)
        with self._read() as conn:
            return [entry_from_row(row) for row in conn.execute(stmt)]

    def counts(self, queue: str) -> dict[str, int]:
        """Items per status (every status, zeros included)."""
        stmt = (
            select(items.c.status, func.count())
            .where(items.c.queue == queue)
            .group_by(items.c.status)
        )
        with self._read() as conn:
            found = dict(conn.execute(stmt).all())
        return {status: found.get(status, 0) for status in STATUSES}

    def list(
        self, queue: str | None = None, status: str | None = None, limit: int | None = 100
    ) -> builtins.list[Item]:
        """Items in the order they were queued, optionally of one queue and status."""
        if status is not None and status not in STATUSES:
            raise QueueError(f"unknown status {status!r}: use one of {', '.join(STATUSES)}")
        stmt = select(items).order_by(items.c.id).limit(limit)
        if queue is not None:
            stmt = stmt.where(items.c.queue == queue)
        if status is not None:
            stmt = stmt.where(items.c.status == status)
        with self._read() as conn:
            return [item_from_row(row) for row in conn.execute(stmt)]

    def export(self, queue: str, fmt: str, out: TextIO) -> int:
        """Write the queue's items to ``out`` as ``csv`` or ``json`` (items with their
        history); returns the number of items written."""
        if fmt not in ("csv", "json"):
            raise QueueError(f"unknown export format {fmt!r}: use csv or json")
        with self._read() as conn:
            rows = conn.execute(select(items).where(items.c.queue == queue).order_by(items.c.id))
            all_items = [item_from_row(row) for row in rows]
            entries: dict[int, builtins.list[HistoryEntry]] = {}
            if fmt == "json":
                stmt = (
                    select(history)
                    .join(items, items.c.id == history.c.item_id)
                    .where(items.c.queue == queue)
                    .order_by(history.c.id)
                )
                for row in conn.execute(stmt):
                    entries.setdefault(row.item_id, []).append(entry_from_row(row))
        write_export(all_items, entries, fmt, out)
        return len(all_items)
