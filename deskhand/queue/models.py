"""What the store hands out: plain frozen records, never live database objects."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from ..errors import ApplicationError, DeskhandError
from ..status import QUEUE_STATUSES, Status

# The queue's statuses: members of the one Status enum (deskhand.status), stored as strings.
NEW, IN_PROGRESS, DONE = Status.NEW, Status.IN_PROGRESS, Status.DONE
NEEDS_REVIEW, FAILED, CANCELLED = Status.NEEDS_REVIEW, Status.FAILED, Status.CANCELLED
STATUSES = QUEUE_STATUSES


class QueueError(DeskhandError):
    """A queue operation that does not apply: unknown item, or a status it cannot leave."""


class LeaseLost(ApplicationError):
    """This runner no longer holds the item's lease (it expired and another runner took it,
    or the item was released): its result must not be saved over the other runner's."""


class DatabaseUnavailable(ApplicationError):
    """The queue database failed (down, unreachable, locked too long): retry later."""


@dataclass(frozen=True)
class Item:
    """One work item as it was when read. ``checkpoint`` is the point-of-no-return record:
    the latest ``{"step", "data", "intent_at", "attempt", "outcome", "outcome_at"}`` and all
    of them, oldest first, in ``"entries"``; or None. ``lease_token`` grows with every
    claim; ``business_key`` is what the item keys (``ctx.key``), unique in its queue."""

    id: int
    queue: str
    reference: str
    payload: Any
    files: list[str]
    priority: int
    not_before: datetime | None
    deadline: datetime | None
    status: str
    attempts: int
    lease_owner: str | None
    lease_expires: datetime | None
    output: Any
    error_kind: str | None
    error_message: str | None
    checkpoint: dict | None
    created_at: datetime
    updated_at: datetime
    lease_token: int | None = 0
    business_key: str | None = None

    @property
    def intent_pending(self) -> bool:
        """An intent was recorded and no outcome followed: a previous attempt may have
        passed the point of no return. Reconcile with the target before keying again."""
        return bool(self.checkpoint) and self.checkpoint.get("outcome") is None

    @property
    def outcome(self) -> dict | None:
        """What an attempt's point of no return produced (its step's data, e.g. the record
        it created), the first one recorded; None when none was."""
        for entry in checkpoint_entries(self.checkpoint):
            if entry.get("outcome") is not None:
                return entry["outcome"]
        return None

    @property
    def label(self) -> str:
        """What a person calls the item: its name or file name, else its reference."""
        payload = self.payload if isinstance(self.payload, dict) else {}
        name = payload.get("name") or payload.get("file") or (self.files[0] if self.files else "")
        return str(name).replace("\\", "/").rsplit("/", 1)[-1] or self.reference

    def to_dict(self) -> dict:
        """The fields as JSON-ready values (datetimes in ISO 8601)."""
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


@dataclass(frozen=True)
class HistoryEntry:
    """One line of an item's append-only history."""

    id: int
    item_id: int
    at: datetime
    event: str
    runner: str | None
    detail: dict

    def to_dict(self) -> dict:
        return {f.name: _plain(getattr(self, f.name)) for f in fields(self)}


def checkpoint_entries(checkpoint: dict | None) -> list[dict]:
    """Every attempt's intent and outcome, oldest first (a checkpoint written by an older
    deskhand holds only the latest)."""
    if not checkpoint:
        return []
    return list(checkpoint.get("entries") or [checkpoint])


ITEM_FIELDS = tuple(f.name for f in fields(Item))


def item_from_row(row: Any) -> Item:
    m = row._mapping if hasattr(row, "_mapping") else row
    return Item(**{name: m[name] for name in ITEM_FIELDS if name in m})


def entry_from_row(row: Any) -> HistoryEntry:
    m = row._mapping
    return HistoryEntry(m["id"], m["item_id"], m["at"], m["event"], m["runner"], m["detail"])


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
