"""Running a bot: its source's items go into its durable queue, then one by one through
its process.

Each item ends ``done`` (with an output), ``needs_review`` (a BusinessError: the data is
wrong or unsure; never retried) or ``failed`` (any other error, after the bot's retries
with exponential back-off). One item's failure never stops the others. An item is claimed
under a lease kept alive by a heartbeat, so a runner that dies loses nothing: another run
takes the item back when the lease expires. A step marked as the point of no return records
its intent and outcome in the queue, and every claim starts from that checkpoint (see
deskhand.attempts): nothing that passed its point of no return is keyed again.

A stopped run (SIGTERM) finishes its current step, gives its item back (or completes it
when the point of no return is behind it) and ends with ``stopped`` set.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import attempts
from .attempts import DONE, FAILED, LEASE_LOST, NEEDS_REVIEW, RELEASED, ItemResult
from .bot import Bot, WorkItem
from .config import describe
from .context import Context
from .errors import ApplicationError, ConfigError, Stopped
from .journal import RunModel, from_dict
from .journal.events import RunEnded, RunStarted, Sourced, WaitingForLease
from .logs import RunLog, format_traceback
from .selectors import SelectorRepository
from .status import Status, count_statuses

__all__ = [
    "DONE",
    "EXIT_STOPPED",
    "FAILED",
    "LEASE_LOST",
    "NEEDS_REVIEW",
    "RELEASED",
    "ItemResult",
    "Run",
    "RunResult",
    "run_bot",
]

POLL_SECONDS = 1.0  # how often a worker that runs forever looks for new items
EXIT_STOPPED = 143  # a run stopped by a signal (128 + SIGTERM), after giving its item back

# What every run renders from its run model when it ends, by name: ``view(run_dir, model)``.
# The layers above register theirs (the package registers the HTML report, see
# deskhand/__init__.py): the runner never imports the views it is handed.
VIEWS: dict[str, Callable[[Path, RunModel], object]] = {}


@dataclass
class RunResult:
    bot: str
    run_id: str
    dir: Path
    items: list[ItemResult]  # one per item the run worked on, in the order first claimed
    already: dict[str, int] = field(default_factory=dict)  # what the queue held before, by status
    stopped: bool = False  # a stop (SIGTERM, time limit) ended the run early
    secrets: Any = field(default=None, repr=False)  # the run's masking registry (alerts)
    journal: RunModel | None = field(default=None, repr=False)  # what every view renders
    # Items this run handed over (a retry another runner claimed, a lost lease) that the
    # queue shows done by another runner when this run ended: not this run's to answer for.
    done_elsewhere: frozenset[str] = frozenset()

    @property
    def counts(self) -> dict[str, int]:
        """Items per status at the end of the run, as the journal's run model counts them
        (the report, bot.log's run_end and alerts show the same); done, needs_review and
        failed always, the others (released, lease_lost, ...) when there are some."""
        if self.journal is not None:
            return self.journal.counts()
        latest = {i.reference: i.status for i in self.items}  # an item's last result counts
        return count_statuses(list(latest.values()))

    @property
    def exit_code(self) -> int:
        """0 when every item is done (here, or by another runner after this run handed it
        over), 143 when the run was stopped, 1 otherwise."""
        if self.stopped:
            return EXIT_STOPPED
        if self.journal is not None:
            open_ = [i for i in self.journal.items.values() if i.status != DONE]
            return 0 if all(i.reference in self.done_elsewhere for i in open_) else 1
        return 0 if all(n == 0 for s, n in self.counts.items() if s != DONE) else 1

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
        self._session: Any = None  # deskhand.web.session: the items' browser context
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

    @property
    def session(self) -> Any:
        """The run's browser session (deskhand.web.session): one context for its items."""
        if self._session is None:
            from .web.session import WebSession

            self._session = WebSession(
                self._started_browser,
                timeout_ms=self.settings.timeout_ms,
                trace_dir=self.log.dir if self.settings.trace else None,
            )
        return self._session

    def _started_browser(self) -> Any:
        from .web import Browser

        if self.browser is None:
            self.browser = Browser(headless=not self.settings.headed).start()
        return self.browser

    def new_page(self, ctx: Context | None = None) -> Any:
        """A new page in the run's browser context (a retry's first: in a clean one, see
        deskhand.web.session); the browser starts on first use."""
        item = ctx.current.reference if ctx is not None and ctx.current else None
        return self.session.new_page(item, ctx.attempt if ctx is not None else 1)

    def check_lease(self, ctx: Context, strict: bool = False) -> None:
        """Raise LeaseLost when this runner no longer holds ``ctx``'s item."""
        attempts.check_lease(self, ctx, strict)

    def declare_key(self, ctx: Context, key: str) -> None:
        """``ctx.key(...)``: the item's business key (see deskhand.attempts)."""
        attempts.declare_key(self, ctx, key)

    def close(self) -> None:
        try:
            if self._session is not None:
                self._session.close()
        finally:
            self._session = None
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


def enqueue(run: Run) -> dict[str, int]:
    """Queue what the bot's source yields; what the queue already holds adds nothing.
    Returns how many of the source's items the queue held already, by status."""
    from .queue import files

    items = collect_items(run.bot, run)  # their files go into the queue (deskhand.queue.files)
    added, existing = files.queue_items(run.store, run.bot.queue, items, run.settings, by=run.owner)
    earlier: dict[str, int] = {}
    for item in existing:
        earlier[item.status] = earlier.get(item.status, 0) + 1
    run.log.event(Sourced(total=len(items), added=len(added), already_queued=earlier))
    return earlier


def check_requirements(bot: Bot, settings: Any, from_source: bool = True) -> None:
    """The settings the bot says it needs (``Bot(requires=...)``), before anything is
    queued or claimed. A worker (not ``from_source``) needs no input."""
    hints = {"input": "--input PATH", "target": "--target URL (the app to key into)"}
    needed = [n for n in bot.requires if from_source or n != "input"]
    for name in needed:
        if not hasattr(settings, name):
            raise ConfigError(f"bot {bot.name}: requires names an unknown setting {name!r}")
        if getattr(settings, name) in (None, ""):
            raise ConfigError(f"bot {bot.name} needs {hints.get(name, name)}")
    if "input" in needed:
        path = settings.resolve(settings.input)
        if not path.exists():
            raise ConfigError(f"input {path} does not exist: create it or pass --input PATH")


def run_bot(
    bot: Bot,
    settings: Any,
    on_item: Callable[[ItemResult, int, int], None] | None = None,
    browser: Any = None,
    *,
    from_source: bool = True,
    forever: bool = False,
    stop: threading.Event | None = None,
    on_note: Callable[[str], None] | None = None,
    trigger: str | None = None,
) -> RunResult:
    """Queue the bot's work (``from_source``), process every claimable item of its queue,
    and render its VIEWS. ``forever``: keep polling for new items until ``stop`` is set.
    ``browser`` (a started :class:`deskhand.web.Browser`) is shared instead of started.
    ``on_note`` gets what a person watching should know (waiting for a lease).
    ``trigger`` (recorded in run_start): "schedule" from the scheduler; by default "on
    demand" for a run that reads its source and "worker" for one that only works the queue.
    A ConfigError (the set-up is wrong) stops the run and propagates."""
    from .documents import cache as documents_cache
    from .documents import extract
    from .queue import open_store

    check_requirements(bot, settings, from_source)
    log = RunLog(settings.resolve(settings.logs_dir), bot.name)
    store = open_store(settings.db, settings.root)
    run = Run(bot, settings, log, browser, store)
    if stop is not None:
        run.stop = stop
    stop = run.stop
    if bot.selectors:
        run.selectors  # noqa: B018 - load now: a broken repository is a ConfigError up front
    results: list[ItemResult] = []
    set_up = False  # the bot's @bot.setup ran (then its @bot.teardown runs at the end)
    already: dict[str, int] = {}
    told: set[int] = set()  # leased items the person was told about already
    # The run reads documents through a cache of its own (fresh memory; results on disk in
    # the default folder): a long-lived worker or the next run shares no memory with it.
    from .queue import files, runners

    with (
        log,
        documents_cache.scope(),
        runners.serving(store, run.owner, [bot.name], settings.lease_seconds),
    ):
        log.event(
            RunStarted(
                settings=describe(settings, bot),
                queue=bot.queue,
                db=store.url,
                trigger=trigger or ("on demand" if from_source else "worker"),
            )
        )
        try:
            if from_source:
                already = enqueue(run)
            while not stop.is_set():
                claimed = store.claim(bot.queue, run.owner, settings.lease_seconds)
                if claimed is None:
                    wait = _next_due(run, told, on_note)
                    if wait is None:
                        if not forever:
                            break
                        wait = POLL_SECONDS
                    stop.wait(min(max(wait, 0.05), POLL_SECONDS))  # a lease may end early
                    continue
                # Its files, copied from the queue into this run's folder (any host).
                claimed = files.local_copy(store, claimed, log.dir / "files")
                if not set_up and bot.reads and run.selectors:  # Chromium starts while the
                    first = WorkItem(claimed.reference, claimed.payload or {})  # first item's
                    run.session.start(  # documents are read (the step gets them cached)
                        lambda item=first: [extract(p, kind=bot.reads) for p in item.files]
                    )
                if not set_up and not (set_up := _set_up(run, claimed)):
                    break  # stopped during the setup: the item went back to the queue
                result = attempts.run_claimed(run, claimed)
                if result is not None:
                    results.append(result)
                    if on_item:
                        on_item(result, len(results), len(results) + _waiting(run))
                if result is not None and result.status == RELEASED:
                    break
        finally:
            if set_up:
                _tear_down(run)
            run.close()
            model = log.read()  # steps.jsonl's model, as `deskhand report` reads it again
            items = _per_item(results, model)
            outcome = RunResult(
                bot.name, log.run_id, log.dir, items, already, stop.is_set(), log.secrets, model,
                _done_elsewhere(store, bot.queue, model),
            )  # fmt: skip
            end = RunEnded(counts=model.counts(), total=len(model.items), stopped=outcome.stopped)
            model.add(from_dict(log.event(end)))
            store.close()
            for render in VIEWS.values():
                render(log.dir, model)
    return outcome


def _done_elsewhere(store: Any, queue: str, model: RunModel) -> frozenset[str]:
    """The items this run handed over (its last attempt ended retrying or lease_lost) that
    another runner has finished since: with two runners on one queue, a retry is claimed by
    whichever runner is free first."""
    handed = [r for r, i in model.items.items() if i.status in (Status.RETRYING, LEASE_LOST)]
    done = set()
    for reference in handed:
        try:
            item = store.find(queue, reference)
        except Exception:  # noqa: BLE001 - the queue is out of reach: the item stays open
            break
        if item is not None and item.status == Status.DONE:
            done.add(reference)
    return frozenset(done)


def _per_item(results: list[ItemResult], model: RunModel) -> list[ItemResult]:
    """One result per item (its last: the item's state at the end of the run), in the order
    first claimed, with this run's attempts at it from the run model inside."""
    last = {r.reference: r for r in results}
    return [
        replace(r, tries=list(model.items[ref].attempts) if ref in model.items else [])
        for ref, r in last.items()
    ]


def _next_due(
    run: Run, told: set[int], on_note: Callable[[str], None] | None = None
) -> float | None:
    """Seconds until an item of the queue may be claimable: the earliest queued retry, or
    the lease of an item another runner holds (it may have died: then its lease runs out
    and this run takes the item over). None when nothing waits."""
    store, queue = run.store, run.bot.queue
    now = time.time()
    due = []
    for item in store.list(queue, status=Status.NEW, limit=1000):
        due.append(item.not_before.timestamp() - now if item.not_before else 0.0)
    for item in store.list(queue, status=Status.IN_PROGRESS, limit=1000):
        if item.lease_expires is None:
            continue
        due.append(item.lease_expires.timestamp() - now)
        if item.id not in told:
            told.add(item.id)
            note = (
                f"waiting for item {item.id} ({item.label}): leased by {item.lease_owner} until "
                f"{item.lease_expires:%H:%M:%S} UTC; taken over if that runner is gone by then"
            )
            run.log.event(WaitingForLease(message=note, item_id=item.id))
            if on_note:
                on_note(note)
    if not due:
        return None
    return max(0.0, min(due))


def _waiting(run: Run) -> int:
    counts = run.store.counts(run.bot.queue)
    return counts.get(Status.NEW, 0) + counts.get(Status.IN_PROGRESS, 0)


def _set_up(run: Run, claimed: Any) -> bool:
    """The bot's ``@bot.setup``, before the first item (``claimed``) is processed. When it
    fails the item goes back untouched and the run ends with the error; False: stopped."""
    bot, ctx = run.bot, Context(run)
    if bot._setup is None:
        return True
    started = time.perf_counter()
    try:
        bot._setup(ctx)
    except BaseException as exc:
        run.store.release(claimed.id, run.owner, token=claimed.lease_token, reason="setup failed")
        if isinstance(exc, Stopped):
            return False
        if not isinstance(exc, Exception):
            raise
        waiting = _waiting(run)
        kind = ConfigError if isinstance(exc, ConfigError) else ApplicationError
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        message = (
            f"setup of bot {bot.name} failed ({type(exc).__name__}: {first}): no item was "
            f"processed, {waiting} item(s) stay queued; fix it and run again"
        )
        ctx.emit(
            "setup", "ERROR", status="failed", message=message, traceback=format_traceback(exc)
        )
        raise kind(message) from None
    finally:
        ctx.close_pages()
    ctx.emit("setup", status="ok", duration_ms=round((time.perf_counter() - started) * 1000, 1))
    return True


def _tear_down(run: Run) -> None:
    """The bot's ``@bot.teardown``, once at the end of a run that was set up; an error in it
    is logged (it changes no item's outcome), then the run closes as usual."""
    bot, ctx = run.bot, Context(run)
    if bot._teardown is None:
        return
    try:
        bot._teardown(ctx)
        ctx.emit("teardown", status="ok")
    except BaseException as exc:  # an interrupt too: the run still closes its browser
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        message = f"teardown of bot {bot.name} failed ({type(exc).__name__}: {first})"
        ctx.emit(
            "teardown", "ERROR", status="failed", message=message, traceback=format_traceback(exc)
        )
    finally:
        ctx.close_pages()
