"""The one set of statuses every layer uses: the queue stores them, the runner returns them,
the journal records them, and the report, bot.log, the run summary, alerts and the console
show them.

``Status`` is a ``StrEnum``: a member *is* its string (``Status.DONE == "done"``), so the
queue's stored strings, old journals and JSON read back as they always did.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "ITEM_OUTCOMES",
    "QUEUE_STATUSES",
    "SUMMARY_STATUSES",
    "Status",
    "StepStatus",
    "count_statuses",
]


class Status(StrEnum):
    """Where a work item stands: in the queue, or at the end of an attempt of a run."""

    NEW = "new"  # queued, not claimed yet (or back for a retry)
    IN_PROGRESS = "in_progress"  # claimed by a runner under a lease
    DONE = "done"  # finished with an output (also when reconciled: ``output.reconciled``)
    NEEDS_REVIEW = "needs_review"  # a BusinessError: a person must look; never retried
    FAILED = "failed"  # a system failed and no attempts remain
    CANCELLED = "cancelled"  # a person cancelled it
    # How an item can leave a run without a queue status of its own:
    RELEASED = "released"  # a stop gave it back to the queue before its point of no return
    LEASE_LOST = "lease_lost"  # another runner holds it now: its result is not this run's
    RETRYING = "retrying"  # back in the queue for another attempt (a retry, a key wait)
    UNFINISHED = "unfinished"  # its attempt never ended in the journal (crash, still running)

    @property
    def label(self) -> str:
        """How a person reads it: ``needs review``."""
        return self.value.replace("_", " ")


class StepStatus(StrEnum):
    """How a step ended (``running`` until it does)."""

    RUNNING = "running"
    OK = "ok"
    BUSINESS_ERROR = "business_error"
    FAILED = "failed"


QUEUE_STATUSES = (
    Status.NEW,
    Status.IN_PROGRESS,
    Status.DONE,
    Status.NEEDS_REVIEW,
    Status.FAILED,
    Status.CANCELLED,
)
ITEM_OUTCOMES = (  # how an item stands at the end of a run, in the order views list them
    Status.DONE,
    Status.NEEDS_REVIEW,
    Status.FAILED,
    Status.RELEASED,
    Status.LEASE_LOST,
    Status.RETRYING,
    Status.UNFINISHED,
)
SUMMARY_STATUSES = (Status.DONE, Status.NEEDS_REVIEW, Status.FAILED)  # always counted


def count_statuses(statuses: list[str] | tuple[str, ...]) -> dict[str, int]:
    """Items per status as every view shows them: done, needs_review and failed always (0
    too), the others only when some item has them; in :data:`ITEM_OUTCOMES` order."""
    counts = {str(s): 0 for s in SUMMARY_STATUSES}
    for status in statuses:
        counts[str(Status(status))] = counts.get(str(Status(status)), 0) + 1
    order = {str(s): n for n, s in enumerate(ITEM_OUTCOMES)}
    return dict(sorted(counts.items(), key=lambda kv: order.get(kv[0], len(order))))
