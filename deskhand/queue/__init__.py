"""Durable work items: a queue in SQL (SQLite by default, PostgreSQL by URL, same code).

    from deskhand.queue import open_store

    store = open_store()                        # <root>/.deskhand/queue.db, or $DESKHAND_DB
    store.add("invoices", "INV-1", payload={"file": "in/inv-1.pdf"})   # twice: no change
    item = store.claim("invoices", owner="host-1:4242", lease_seconds=60)
    if item.intent_pending:                     # a previous attempt crashed mid-submit
        ...                                     # ask the target whether the record exists
    store.record_intent(item.id, "host-1:4242", "save", {"invoice": "INV-1"})
    ...                                         # the submit: the point of no return
    store.record_outcome(item.id, "host-1:4242", {"record": "R-17"})
    store.complete(item.id, "host-1:4242", output={"record": "R-17"})

Every claim gives the item a new ``lease_token``; writes that pass it (``token=``) are
refused once another claim happened, and ``record_intent(..., token, lease_seconds)`` also
refuses an expired lease: the last check before a point of no return. Checkpoints keep
every attempt's intent and outcome (``checkpoint["entries"]``; ``Item.outcome`` is the
first record created). ``claim_key`` gives an item a business key unique in its queue.

A runner keeps its lease alive with ``heartbeat`` while it works; a lease that expires (the
runner died) makes the item claimable again, and the late runner's ``complete`` raises
``LeaseLost`` instead of overwriting the new owner's result. ``fail`` schedules a retry
with exponential back-off until ``max_attempts``; ``to_review`` sends it to a person.
Every change is appended to the item's ``history``.

Durability on SQLite (WAL): adds, intent and outcome records and manual retries/cancels
are synced to disk before they return; claims and results are safe against a crash of the
process, and a power cut can at worst undo the latest of them (the item is then redone,
and a recorded intent still makes the retry reconcile). PostgreSQL syncs every commit.
"""

from .models import (
    CANCELLED,
    DONE,
    FAILED,
    IN_PROGRESS,
    NEEDS_REVIEW,
    NEW,
    STATUSES,
    DatabaseUnavailable,
    HistoryEntry,
    Item,
    LeaseLost,
    QueueError,
)
from .store import Store, open_store

__all__ = [
    "CANCELLED",
    "DONE",
    "FAILED",
    "IN_PROGRESS",
    "NEEDS_REVIEW",
    "NEW",
    "STATUSES",
    "DatabaseUnavailable",
    "HistoryEntry",
    "Item",
    "LeaseLost",
    "QueueError",
    "Store",
    "open_store",
]
