"""Running a bot: its source's items go into its durable queue, then one by one through
its process.

Each item ends ``done`` (with an output), ``needs_review`` (a BusinessError: the data is
wrong or unsure; never retried) or ``failed`` (any other error, after the bot's retries
with exponential back-off). One item's failure never stops the others. An item is claimed
under a lease kept alive by a heartbeat, so a runner that dies loses nothing: another run
takes the item back when the lease expires. A step marked as the point of no return records
its intent and outcome in the queue; an item retried with an intent but no outcome is
reconciled with the target (the bot's ``@bot.reconcile``) instead of being keyed again.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bot import Bot, WorkItem
from .config import describe
from .context import Context
from .errors import BusinessError, ConfigError, DeskhandError, Stopped
from .logs import RunLog
from .selectors import SelectorRepository
from .steps import error_info

POLL_SECONDS = 1.0  # how often a worker that runs forever looks for new items

DONE, NEEDS_REVIEW, FAILED = "done", "needs_review", "failed"


@dataclass
class ItemResult:
    reference: str
    label: str  # what a person calls the item: its file name, else its reference
    status: str
    attempts: int
    output: dict[str, Any] = field(default_factory=dict)
    error: dict[str, str] | None = None
    duration_ms: float = 0.0


@dataclass
class RunResult:
    bot: str
    run_id: str
    dir: Path
    items: list[ItemResult]
    secrets: Any = field(default=None, repr=False)  # the run's masking registry (alerts)

    @property
    def counts(self) -> dict[str, int]:
        counts = {DONE: 0, NEEDS_REVIEW: 0, FAILED: 0}
        for item in self.items:
            counts[item.status] += 1
        return counts

    @property
    def exit_code(self) -> int:
        """0 when every item is done, 1 otherwise."""
        return 0 if all(i.status == DONE for i in self.items) else 1

    @property
    def report(self) -> Path:
        return self.dir / "report.html"


class Run:
    """What the items of one run share: the bot, the settings, the log, the browser."""

    def __init__(
        self, bot: Bot, settings: Any, log: RunLog, browser: Any = None, store: Any = None
    ) -> None:
        self.bot = bot
        self.settings = settings
        self.log = log
        self.store = store
        self.stop = threading.Event()  # set: finish the current step, give the item back
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{log.run_id}"
        self.browser = browser  # shared (not ours to close) when given
        self._own_browser = browser is None
        self._context: Any = None
        self.resolved_selectors: dict[str, int] = {}
        self.desktop_session: Any = None  # deskhand.desktop: the display and programs
        self._selectors: SelectorRepository | None = None

    @property
    def selectors(self) -> SelectorRepository | None:
        if self.bot.selectors and self._selectors is None:
            path = self.settings.root / "selectors" / f"{self.bot.selectors}.yaml"
            self._selectors = SelectorRepository.load(path)
        return self._selectors

    @property
    def trace_path(self) -> Path | None:
        return self.log.dir / "trace.zip" if self.settings.trace else None

    def new_page(self) -> Any:
        """A new page in the run's browser context; the browser starts on first use."""
        from .web import Browser

        if self._context is None:
            if self.browser is None:
                self.browser = Browser(headless=not self.settings.headed).start()
            self._context = self.browser.new_context(
                timeout_ms=self.settings.timeout_ms, trace=self.settings.trace
            )
        return self._context.new_page()

    def close(self) -> None:
        from .web.browser import close_context

        try:
            if self._context is not None:
                close_context(self._context, self.trace_path)
        finally:
            self._context = None
            if self._own_browser and self.browser is not None:
                self.browser.close()
                self.browser = None
            if self.desktop_session is not None:
                self.desktop_session.close()
                self.desktop_session = None


def collect_items(bot: Bot, run: Run) -> list[WorkItem]:
    """The bot's work items, duplicates (same reference) dropped."""
    if bot._source is None:
        raise ConfigError(f"bot {bot.name} has no @bot.source: it has no work to find")
    items: dict[str, WorkItem] = {}
    for item in bot._source(Context(run)) or ():
        if not isinstance(item, WorkItem):
            raise ConfigError(f"bot {bot.name}'s source must yield ctx.item(...), got {item!r}")
        items.setdefault(item.reference, item)
    return list(items.values())


def enqueue(run: Run) -> None:
    """Queue what the bot's source yields; what the queue already holds adds nothing."""
    items = collect_items(run.bot, run)
    specs = [
        {"reference": i.reference, "payload": i.payload, "files": [str(i.file)] if i.file else []}
        for i in items
    ]
    added, existing = run.store.add_many(run.bot.queue, specs, by=run.owner)
    earlier: dict[str, int] = {}
    for item in existing:
        earlier[item.status] = earlier.get(item.status, 0) + 1
    run.log.event("source", total=len(items), added=len(added), already_queued=earlier)


def run_bot(
    bot: Bot,
    settings: Any,
    on_item: Callable[[ItemResult, int, int], None] | None = None,
    browser: Any = None,
    *,
    from_source: bool = True,
    forever: bool = False,
    stop: threading.Event | None = None,
) -> RunResult:
    """Queue the bot's work (``from_source``), process every claimable item of its queue,
    and render the report. ``forever``: keep polling for new items until ``stop`` is set.
    ``browser`` (a started :class:`deskhand.web.Browser`) is shared instead of started.
    A ConfigError (the set-up is wrong) stops the run and propagates."""
    from .queue import open_store
    from .report import render_report

    log = RunLog(settings.resolve(settings.logs_dir), bot.name)
    store = open_store(settings.db, settings.root)
    run = Run(bot, settings, log, browser, store)
    if stop is not None:
        run.stop = stop
    stop = run.stop
    if bot.selectors:
        run.selectors  # noqa: B018 - load now: a broken repository is a ConfigError up front
    results: list[ItemResult] = []
    with log:
        log.event("run_start", settings=describe(settings, bot), queue=bot.queue, db=store.url)
        try:
            if from_source:
                enqueue(run)
            while not stop.is_set():
                claimed = store.claim(bot.queue, run.owner, settings.lease_seconds)
                if claimed is None:
                    wait = _next_due(run)
                    if wait is None:
                        if not forever:
                            break
                        wait = POLL_SECONDS
                    stop.wait(min(wait, POLL_SECONDS) if forever else wait)
                    continue
                try:
                    result = _run_claimed(run, claimed)
                except Stopped:
                    break
                if result is not None:
                    results.append(result)
                    if on_item:
                        on_item(result, len(results), len(results) + _waiting(run))
        finally:
            run.close()
            outcome = RunResult(bot.name, log.run_id, log.dir, results, log.secrets)
            log.event("run_end", counts=outcome.counts, total=len(results))
            store.close()
            render_report(log.dir)
    return outcome


def _next_due(run: Run) -> float | None:
    """Seconds until the earliest queued retry is due; None when nothing waits."""
    waiting = run.store.list(run.bot.queue, status="new", limit=1000)
    if not waiting:
        return None
    now = time.time()
    due = [i.not_before.timestamp() for i in waiting if i.not_before is not None]
    return max(0.0, min(due) - now) if len(due) == len(waiting) else 0.0


def _waiting(run: Run) -> int:
    counts = run.store.counts(run.bot.queue)
    return counts.get("new", 0) + counts.get("in_progress", 0)


class _Heartbeat(threading.Thread):
    """Keeps the item's lease alive while the bot works on it."""

    def __init__(self, run: Run, item_id: int) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{item_id}")
        self.owner_run, self.item_id = run, item_id
        self.done = threading.Event()
        self.lost = False

    def run(self) -> None:
        run = self.owner_run
        lease = run.settings.lease_seconds
        while not self.done.wait(lease / 3):
            try:
                if not run.store.heartbeat(self.item_id, run.owner, lease):
                    self.lost = True
                    return
            except Exception:  # the database hiccuped: the next beat tries again
                continue


def _run_claimed(run: Run, queued: Any) -> ItemResult | None:
    """One attempt at a claimed item; its result when the item is finished, None when a
    retry was scheduled or the lease was lost."""
    bot, settings, store = run.bot, run.settings, run.store
    max_attempts = settings.max_attempts or bot.max_attempts
    delay = bot.retry_delay if settings.retry_delay is None else settings.retry_delay
    item = WorkItem(queued.reference, queued.payload or {})
    ctx = Context(run, item, queued.attempts, queued)
    ctx.emit("item_start", data=item.payload)
    if queued.attempts > max_attempts:  # the earlier attempts died with their runner
        error = {
            "kind": "ApplicationError",
            "message": f"gave up after {queued.attempts - 1} "
            "attempts that stopped with their runner",
        }
        store.fail(queued.id, run.owner, error["kind"], error["message"], max_attempts, delay)
        ctx.emit("item_end", "ERROR", status=FAILED, error=error)
        return ItemResult(item.reference, item.label, FAILED, queued.attempts, {}, error)
    started = time.perf_counter()
    beat = _Heartbeat(run, queued.id)
    beat.start()
    output: dict[str, Any] = {}
    error = None
    try:
        output = _attempt(bot, item, ctx, queued) or {}
        status = DONE
    except BusinessError as exc:
        status, error = NEEDS_REVIEW, error_info(exc)
    except (ConfigError, Stopped, KeyboardInterrupt):
        beat.done.set()
        ctx.close_pages()
        store.release(queued.id, run.owner)
        ctx.emit("released", "WARNING", message="the run stopped: item given back to the queue")
        raise
    except Exception as exc:  # a system failed: retry while attempts remain
        status, error = FAILED, error_info(exc)
        if not isinstance(exc, DeskhandError):
            error["message"] = f"{error['kind']}: {error['message']}"
    finally:
        beat.done.set()
        ctx.close_pages()
    duration = round((time.perf_counter() - started) * 1000, 1)
    try:
        if status == DONE:
            store.complete(queued.id, run.owner, output)
        elif status == NEEDS_REVIEW:
            store.to_review(queued.id, run.owner, error["kind"], error["message"])
        else:
            kind, message = error["kind"], error["message"]
            saved = store.fail(queued.id, run.owner, kind, message, max_attempts, delay)
            if saved.status == "new":
                wait = (saved.not_before.timestamp() - time.time()) if saved.not_before else 0
                ctx.emit(
                    "retry", "WARNING", message=f"retrying in {max(wait, 0):.3g} s", error=error
                )
                return None
    except DeskhandError as exc:  # LeaseLost: another runner has the item now
        ctx.emit("lease_lost", "WARNING", message=str(exc))
        return None
    level = "INFO" if status == DONE else "WARNING" if status == NEEDS_REVIEW else "ERROR"
    ctx.emit("item_end", level, status=status, output=output, error=error, duration_ms=duration)
    return ItemResult(item.reference, item.label, status, queued.attempts, output, error, duration)


def _attempt(bot: Bot, item: WorkItem, ctx: Context, queued: Any) -> dict | None:
    """Process the item, reconciling first when an earlier attempt passed its point of no
    return without recording an outcome."""
    if queued.intent_pending:
        step = queued.checkpoint.get("step")
        if bot._reconcile is None:
            raise BusinessError(
                f"an earlier attempt stopped during '{step}' (the point of no return) and "
                f"bot {bot.name} has no @bot.reconcile: check the target by hand"
            )
        with ctx.step("reconcile", after=step, intent=queued.checkpoint.get("data")):
            found = bot._reconcile(item, ctx, queued.checkpoint)
        if found is not None:
            ctx.info(f"'{step}' had already happened: completed without keying again")
            return {**found, "reconciled": True}
    return bot._process(item, ctx)
