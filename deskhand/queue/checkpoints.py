"""The store's point-of-no-return side: fenced intents and outcomes (every attempt's kept),
the lease check before acting, and business keys unique per queue."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exc

from . import rows as q
from .models import (
    CANCELLED,
    FAILED,
    IN_PROGRESS,
    Item,
    QueueError,
    checkpoint_entries,
    item_from_row,
)


class Checkpoints:
    """Mixed into Store, which provides ``_write``, ``_read``, ``_finish``, ``_lease_lost``."""

    def holds(self, item_id: int, owner: str, token: int, now: datetime | None = None) -> bool:
        """Whether ``owner`` still holds the item under the claim ``token`` with an unexpired
        lease: asked right before a point of no return."""
        params = {"b_id": item_id, "b_owner": owner, "b_token": token, "now": q.utc(now)}
        with self._read() as conn:
            return conn.execute(q.HOLDS, params).first() is not None

    def record_intent(
        self,
        item_id: int,
        owner: str,
        step: str,
        data: dict,
        now: datetime | None = None,
        token: int | None = None,
        lease_seconds: float | None = None,
    ) -> Item:
        """Before the point of no return: remember what is about to be done, so that a retry
        after a crash knows to reconcile with the target instead of doing it again.

        Every attempt's intent is kept (``checkpoint["entries"]``), the latest also at the
        top. With ``token`` and ``lease_seconds`` it is also the last lease check: it is
        saved only while the claim's lease is unexpired, and extends it."""
        now = q.utc(now)

        def values(current: Any) -> dict:
            entry = {"step": step, "data": data, "intent_at": now.isoformat(), "outcome": None}
            entry["attempt"] = current.attempts
            entries = [*checkpoint_entries(current.checkpoint), entry]
            changes = {"checkpoint": {**entry, "entries": entries}, "status": IN_PROGRESS}
            if lease_seconds is not None:
                changes["lease_expires"] = now + timedelta(seconds=lease_seconds)
            return changes

        detail = {"step": step, "data": data}
        live = token is not None and lease_seconds is not None
        return self._finish(
            item_id, owner, values, "intent", detail, now, durable=True, token=token, live=live
        )

    def record_outcome(
        self,
        item_id: int,
        owner: str,
        data: dict,
        now: datetime | None = None,
        token: int | None = None,
    ) -> Item:
        """After the point of no return: what it produced (the created record). It goes with
        the latest intent; earlier attempts' records stay as they were."""
        now = q.utc(now)

        def values(current: Any) -> dict:
            entries = checkpoint_entries(current.checkpoint)
            if not entries:
                raise QueueError(f"item {item_id} has no recorded intent: call record_intent first")
            latest = {**entries[-1], "outcome": data, "outcome_at": now.isoformat()}
            detail["step"] = latest.get("step")
            checkpoint = {**latest, "entries": [*entries[:-1], latest]}
            return {"checkpoint": checkpoint, "status": IN_PROGRESS}

        detail = {"step": None, "data": data}
        return self._finish(
            item_id, owner, values, "outcome", detail, now, durable=True, token=token
        )

    def claim_key(
        self,
        item_id: int,
        owner: str,
        key: str,
        token: int | None = None,
        now: datetime | None = None,
    ) -> Item | None:
        """Declare what the item keys (its business key, unique per queue). None when it is
        the item's now; the item that holds it already otherwise (nothing changes then)."""
        now = q.utc(now)
        for attempt in range(3):
            try:
                with self._write(durable=True) as conn:
                    row = conn.execute(q.BY_ID, {"b_id": item_id}).first()
                    if row is None:
                        raise QueueError(f"no item {item_id}")
                    params = {"queue": row.queue, "key": key, "b_id": item_id}
                    holder = conn.execute(q.KEY_HOLDER, params).first()
                    if holder is not None and _gives_key_up(holder):
                        # Failed or cancelled before any point of no return: it keyed
                        # nothing, so the key moves here (retried, it would be the duplicate).
                        free = {"b_id": holder.id, "business_key": None, "updated_at": now}
                        conn.execute(q.SET_BY_ID, free)
                        detail = {"key": key, "to_item": item_id}
                        conn.execute(q.LOG, q.entry(holder.id, "key_released", owner, now, detail))
                    elif holder is not None:
                        return item_from_row(holder)
                    if row.business_key == key:
                        return None
                    params = {"b_id": item_id, "b_owner": owner}
                    params |= {"b_token": token} if token is not None else {}
                    params |= {"business_key": key, "status": IN_PROGRESS, "updated_at": now}
                    if conn.execute(q.fenced(q.FINISH, token), params).first() is None:
                        raise self._lease_lost(conn, item_id, owner, "business key")
                    conn.execute(q.LOG, q.entry(item_id, "key", owner, now, {"key": key}))
                return None
            except exc.IntegrityError:
                # Another runner took the key at the same moment (PostgreSQL): read again.
                if attempt == 2:
                    raise
        return None

    # -- managing ---------------------------------------------------------------------


def _gives_key_up(holder: Any) -> bool:
    """An item whose business key another item may take: it ended without keying."""
    return holder.status in (FAILED, CANCELLED) and not checkpoint_entries(holder.checkpoint)
