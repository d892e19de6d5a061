"""One claimed item: an attempt driven by the item's checkpoint, and what the queue records.

On every claim the checkpoint is read first:

- an outcome recorded (an earlier attempt passed its point of no return): the item is
  completed with it, after the bot's ``@bot.reconcile`` confirms it when it has one; it is
  never processed again;
- an intent without an outcome: reconciled with the target, or sent to review when the bot
  has no reconcile;
- nothing: the bot's process runs.

A failure after the point of no return is never retried by running the process again: the
item is reconciled on its next claim (bots with a reconcile) or goes to review showing the
record it created. Writes to the queue carry the claim's lease token, so a runner whose
lease expired (frozen, partitioned) cannot record, complete or key over another's claim.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .actions import RunHandle
from .bot import RESUME, Bot, WorkItem
from .context import Context, WaitForKey
from .errors import ApplicationError, BusinessError, ConfigError, DeskhandError, Stopped
from .journal import events as ev
from .queue import LeaseLost
from .queue.models import checkpoint_entries
from .status import Status
from .steps import error_info

DONE, NEEDS_REVIEW, FAILED = Status.DONE, Status.NEEDS_REVIEW, Status.FAILED
RELEASED, LEASE_LOST = Status.RELEASED, Status.LEASE_LOST  # given back by a stop; not ours now
RETRYING = Status.RETRYING  # the attempt ended; the item waits in the queue for another
KEY_WAIT_SECONDS = 2.0  # how soon an item whose business key another item holds looks again


@dataclass
class ItemResult:
    """How an item ended (in a run's ``items``: its state at the end of the run)."""

    reference: str
    label: str  # what a person calls the item: its file name, else its reference
    status: Status
    attempts: int  # the queue's count, earlier runs' attempts included
    output: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None
    duration_ms: float = 0.0
    # This run's attempts at the item, as its journal tells them (deskhand.journal's
    # AttemptRun: number, status, steps, values): retries and a lost lease included.
    tries: list[Any] = field(default_factory=list, repr=False)


class Heartbeat(threading.Thread):
    """Keeps the item's lease alive while the bot works on it; ``lost`` once it is not."""

    def __init__(self, run: RunHandle, queued: Any) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{queued.id}")
        self.owner_run, self.item_id, self.token = run, queued.id, queued.lease_token
        self.done = threading.Event()
        self.lost = False

    def run(self) -> None:
        run = self.owner_run
        lease = run.settings.lease_seconds
        while not self.done.wait(lease / 3):
            try:
                if not run.store.heartbeat(self.item_id, run.owner, lease, token=self.token):
                    self.lost = True
                    return
            except Exception:  # the database hiccuped: the next beat tries again
                continue


def check_lease(run: RunHandle, ctx: Context, strict: bool = False) -> None:
    """Raise LeaseLost when the heartbeat found the lease gone; ``strict`` (right before
    the point of no return acts) asks the queue itself."""
    queued, beat = ctx.queued, ctx.beat
    if queued is None:
        return
    if (beat is not None and beat.lost) or (
        strict and not run.store.holds(queued.id, run.owner, queued.lease_token)
    ):
        raise LeaseLost(
            f"the lease on item {queued.id} ({queued.reference}) expired or another runner "
            "took it: stopped before acting, the item is the other runner's"
        )


def declare_key(run: RunHandle, ctx: Context, key: str) -> None:
    """Make ``key`` the item's business key; another item of the queue holding it makes
    this one wait (that one is still being worked on) or go to review as a duplicate."""
    queued = ctx.queued
    if queued is None:
        return
    check_lease(run, ctx)
    holder = run.store.claim_key(queued.id, run.owner, key, token=queued.lease_token)
    if holder is None:
        ctx.emit(ev.KeyDeclared(key=key))
        return
    what = f"item {holder.id} ({holder.label})"
    if holder.status in (Status.NEW, Status.IN_PROGRESS):
        raise WaitForKey(f"{what} has the same business key ({key}) and is {holder.status}")
    record = _record_note(holder.output or holder.outcome)
    raise BusinessError(
        f"duplicate: {what} has the same business key ({key}) and is {holder.status}"
        f"{f' as {record}' if record else ''}: not keyed again; check both by hand"
    )


def run_claimed(run: RunHandle, queued: Any) -> ItemResult | None:
    """One attempt at a claimed item; its result when the item is finished (or released, or
    lost to another runner), None when it goes back to the queue for a retry or a wait."""
    bot, settings, store = run.bot, run.settings, run.store
    max_attempts = settings.max_attempts or bot.max_attempts
    delay = bot.retry_delay if settings.retry_delay is None else settings.retry_delay
    item = WorkItem(queued.reference, queued.payload or {})
    ctx = Context(run, item, queued.attempts, queued)
    ctx.emit(ev.ItemStarted(data=item.payload))
    started = time.perf_counter()
    beat = ctx.beat = Heartbeat(run, queued)
    beat.start()
    output: dict[str, Any] = {}
    error = None
    token = queued.lease_token

    def result(status: Status) -> ItemResult:
        duration = round((time.perf_counter() - started) * 1000, 1)
        problem = ev.ErrorInfo(**error) if error else None
        ctx.emit(ev.ItemEnded(status=status, output=output, error=problem, duration_ms=duration))
        return ItemResult(
            item.reference, item.label, status, queued.attempts, output, error, duration
        )

    try:
        output = _attempt(bot, item, ctx, queued, may_process=queued.attempts <= max_attempts)
        output = output or {}
        status = DONE
    except WaitForKey as exc:
        beat.done.set()
        try:
            store.release(queued.id, run.owner, token=token, wait_seconds=KEY_WAIT_SECONDS,
                          reason=str(exc))  # fmt: skip
        except LeaseLost:
            pass
        ctx.emit(ev.Waiting(message=f"waiting: {exc}"))
        result(RETRYING)  # the attempt ends here; the item waits in the queue
        return None
    except LeaseLost as exc:
        error = error_info(exc)
        return result(LEASE_LOST)
    except BusinessError as exc:
        status, error = NEEDS_REVIEW, error_info(exc)
    except (ConfigError, Stopped, KeyboardInterrupt) as exc:
        beat.done.set()
        ctx.close_pages()
        try:
            store.release(queued.id, run.owner, token=token)
        except LeaseLost:
            pass
        ctx.emit(ev.Released(message="the run stopped: item given back to the queue"))
        error = error_info(exc)
        released = result(RELEASED)  # the journal ends the attempt however the run goes on
        if isinstance(exc, Stopped):
            return released
        raise
    except Exception as exc:  # a system failed: retry while attempts remain
        status, error = FAILED, error_info(exc)
        if not isinstance(exc, DeskhandError):
            error["message"] = f"{error['kind']}: {error['message']}"
    finally:
        beat.done.set()
        ctx.close_pages()
    latest = ctx.queued  # the checkpoint as this attempt left it
    created = latest.outcome
    try:
        if status == DONE:
            store.complete(queued.id, run.owner, output, token=token)
            return result(DONE)
        if status == FAILED:
            # Past the point of no return the next claim reconciles, never keys: a retry
            # only helps a bot that has a reconcile.
            may_retry = queued.attempts < max_attempts and (created is None or bot._reconcile)
            if may_retry or (created is None and not latest.intent_pending):
                if _retry(ctx, queued, error, max_attempts, delay) is None:
                    result(RETRYING)  # retried later; else no attempts left: failed
                    return None
                return result(FAILED)
        if created is not None or status == FAILED:  # FAILED here: an intent is pending
            error = _after_point_of_no_return(latest, error)
            output = {**(created or {}), **output}
        store.to_review(queued.id, run.owner, error["kind"], error["message"], token=token,
                        output=output or None)  # fmt: skip
        return result(NEEDS_REVIEW)
    except LeaseLost as exc:  # another runner has the item now: its result is not ours
        ctx.emit(ev.LeaseLostEvent(message=str(exc)))
        error = error_info(exc)
        return result(LEASE_LOST)


def _retry(ctx: Context, queued: Any, error: dict, max_attempts: int, delay: float) -> None | str:
    """Schedule a retry (None) or mark the item failed for good (``Status.FAILED``)."""
    run = ctx.run
    saved = run.store.fail(
        queued.id, run.owner, error["kind"], error["message"], max_attempts, delay,
        token=queued.lease_token,
    )  # fmt: skip
    if saved.status != Status.NEW:
        return FAILED
    wait = (saved.not_before.timestamp() - time.time()) if saved.not_before else 0
    message = f"retrying in {max(wait, 0):.3g} s"
    ctx.emit(ev.Retry(message=message, error=ev.ErrorInfo(**error)))
    return None


def _after_point_of_no_return(latest: Any, error: dict) -> dict:
    """The error of an item that passed (or may have passed) its point of no return, with
    the record it created, so that nobody keys it again by hand."""
    entries = checkpoint_entries(latest.checkpoint)
    done = [e for e in entries if e.get("outcome") is not None]
    if done:  # every record the item created, so that none of them is keyed again by hand
        what = ", ".join(
            f"'{e['step']}' created {_record_note(e['outcome'])} "
            f"(attempt {e.get('attempt') or '?'})"
            for e in done
        )
        todo = (
            "check that record; do not key it again"
            if len(done) == 1
            else ("check those records; do not key them again")
        )
    else:
        entry = entries[-1]
        what = f"'{entry['step']}' may have happened (intent recorded, no outcome)"
        todo = "check the target before keying it again"
    message = f"{what}, then {error['kind']}: {error['message']}: {todo}"
    return {"kind": error["kind"], "message": message}


def _record_note(outcome: dict | None) -> str:
    if not outcome:
        return ""
    if outcome.get("record"):
        return f"record {outcome['record']}"
    shown = ", ".join(f"{k}={v}" for k, v in outcome.items() if not isinstance(v, dict | list))
    return f"a record ({shown})" if shown else "a record"


def _attempt(
    bot: Bot, item: WorkItem, ctx: Context, queued: Any, may_process: bool = True
) -> dict | None:
    """Complete from the checkpoint, reconcile, or process the item (see the module)."""
    entries = checkpoint_entries(queued.checkpoint)
    passed = [e for e in entries if e.get("outcome") is not None]
    if passed:
        entry = passed[0]
        step, outcome = entry["step"], entry["outcome"]
        note = _record_note(outcome)
        if bot._reconcile is None:
            ctx.info(
                f"'{step}' had completed on attempt {entry.get('attempt') or '?'} ({note}): "
                "completed from the checkpoint without keying again"
            )
            return {**outcome, "from_checkpoint": True}
        with ctx.step("reconcile", after=step, outcome=outcome):
            found = bot._reconcile(item, ctx, entry)
        if found is None:
            raise BusinessError(
                f"'{step}' recorded {note} on attempt {entry.get('attempt') or '?'} but the "
                "reconcile does not find it in the target: check it by hand, do not key again"
            )
        if found is not RESUME:
            return {**outcome, **found, "reconciled": True}
        ctx.info(f"'{step}' is in the target ({note}); the process resumes for the rest")
    elif queued.intent_pending:
        step = queued.checkpoint.get("step")
        if bot._reconcile is None:
            raise BusinessError(
                f"an earlier attempt stopped during '{step}' (the point of no return) and "
                f"bot {bot.name} has no @bot.reconcile: check the target by hand"
            )
        with ctx.step("reconcile", after=step, intent=queued.checkpoint.get("data")):
            found = bot._reconcile(item, ctx, queued.checkpoint)
        if found is not None and found is not RESUME:
            ctx.info(f"'{step}' had already happened: completed without keying again")
            return {**found, "reconciled": True}
    if not may_process:
        raise ApplicationError(
            f"gave up after {queued.attempts - 1} attempts that stopped with their runner"
        )
    return bot._process(item, ctx)
