"""Running a bot: its source's items, one by one, through its process.

Each item ends ``done`` (with an output), ``needs_review`` (a BusinessError: the data is
wrong or unsure; never retried) or ``failed`` (any other error, after the bot's retries
with exponential back-off). One item's failure never stops the others.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .bot import Bot, WorkItem
from .config import describe
from .errors import BusinessError, ConfigError, DeskhandError
from .logs import RunLog, slug
from .selectors import SelectorRepository
from .steps import Step, error_info

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

    def __init__(self, bot: Bot, settings: Any, log: RunLog, browser: Any = None) -> None:
        self.bot = bot
        self.settings = settings
        self.log = log
        self.browser = browser  # shared (not ours to close) when given
        self._own_browser = browser is None
        self._context: Any = None
        self.resolved_selectors: dict[str, int] = {}
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


class Context:
    """What a bot's functions get as ``ctx``: settings, steps, the browser, the output."""

    def __init__(self, run: Run, item: WorkItem | None = None, attempt: int = 1) -> None:
        self.run = run
        self.current = item
        self.attempt = attempt
        self.steps: list[Step] = []
        self.pages: list[Any] = []
        self.last_page: Any = None
        self._shots = 0

    # -- settings -----------------------------------------------------------------------
    @property
    def settings(self) -> Any:
        return self.run.settings

    @property
    def input(self) -> Path:
        """The input folder or file (``--input``); a ConfigError when missing."""
        path = self.settings.resolve(self.settings.input)
        if path is None:
            raise ConfigError(f"bot {self.run.bot.name} needs --input PATH")
        if not path.exists():
            raise ConfigError(f"input {path} does not exist: create it or pass --input PATH")
        return path

    @property
    def target(self) -> str:
        """The target application's URL (``--target``); a ConfigError when missing."""
        if not self.settings.target:
            raise ConfigError(f"bot {self.run.bot.name} needs --target URL (the app to key into)")
        return self.settings.target

    @property
    def run_dir(self) -> Path:
        return self.run.log.dir

    # -- building blocks ----------------------------------------------------------------
    def item(self, reference: str, **payload: Any) -> WorkItem:
        """Make a work item (used in a bot's source)."""
        return WorkItem(str(reference), payload)

    def step(self, name: str, *, point_of_no_return: bool = False, **data: Any) -> Step:
        """A logged step: ``with ctx.step("save", point_of_no_return=True): ...``."""
        return Step(self, name, point_of_no_return, **data)

    def done(self, **output: Any) -> dict[str, Any]:
        """The item's output; return it from the process function."""
        return output

    def web(self, url: str | None = None) -> Any:
        """A new logged browser page on ``url`` (default: the target), named elements from
        the bot's selector repository. The browser starts on first use and is shared."""
        from .web import WebPage

        base = url or self.target
        page = WebPage(self.run.new_page(), self, self.run.selectors, base)
        self.pages.append(page)
        self.last_page = page
        return page

    # -- logging ------------------------------------------------------------------------
    def emit(self, kind: str, level: str = "INFO", /, **fields: Any) -> dict:
        ref = self.current.reference if self.current else None
        return self.run.log.event(kind, level, item=ref, attempt=self.attempt, **fields)

    def action(self, action: str, element: str | None = None, data: Any = None) -> None:
        step = self.steps[-1].name if self.steps else None
        self.emit("action", "DEBUG", step=step, action=action, element=element, data=data)

    def info(self, message: str, **data: Any) -> None:
        """A free-form line in the step log."""
        self.emit("log", message=message, data=data or None)

    def warning(self, message: str, **data: Any) -> None:
        self.emit("warning", "WARNING", message=message, data=data or None)

    def values(self, kind: str, mapping: dict[str, Any]) -> None:
        """Record field values for the report's comparison table.

        ``kind`` is one of ``extracted``, ``keyed``, ``read_back``.
        """
        if kind not in ("extracted", "keyed", "read_back"):
            raise ValueError(f"values kind must be extracted, keyed or read_back, not {kind!r}")
        self.emit("values", kind=kind, data=mapping)

    def capture(self, name: str) -> dict[str, Any]:
        """Screenshot + HTML of the page last used, into the run's screenshots folder."""
        page = self.last_page
        if page is None:
            return {}
        self._shots += 1
        ref = slug(self.current.reference, 24) if self.current else "run"
        stem = f"{ref}-a{self.attempt}-{self._shots}-{name}"
        return page.capture(self.run.log.screenshots, stem)

    def close_pages(self) -> None:
        for page in self.pages:
            try:
                page.raw.close()
            except Exception:
                pass
        self.pages.clear()


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


def run_bot(
    bot: Bot,
    settings: Any,
    on_item: Callable[[ItemResult, int, int], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    browser: Any = None,
) -> RunResult:
    """Run every item of ``bot``'s source and render the report; the run folder is returned
    in the result. A ConfigError (the set-up is wrong) stops the run and propagates.
    ``browser`` (a started :class:`deskhand.web.Browser`) is shared instead of started."""
    from .report import render_report

    log = RunLog(settings.resolve(settings.logs_dir), bot.name)
    run = Run(bot, settings, log, browser)
    if bot.selectors:
        run.selectors  # noqa: B018 - load now: a broken repository is a ConfigError up front
    results: list[ItemResult] = []
    items: list[WorkItem] = []
    with log:
        log.event("run_start", settings=describe(settings, bot))
        try:
            items = collect_items(bot, run)
            log.event("source", total=len(items))
            for index, item in enumerate(items, 1):
                result = _run_item(run, item, sleep)
                results.append(result)
                if on_item:
                    on_item(result, index, len(items))
        finally:
            run.close()
            outcome = RunResult(bot.name, log.run_id, log.dir, results)
            log.event("run_end", counts=outcome.counts, total=len(items))
            render_report(log.dir)
    return outcome


def _run_item(run: Run, item: WorkItem, sleep: Callable[[float], None]) -> ItemResult:
    bot, settings = run.bot, run.settings
    attempts = settings.max_attempts or bot.max_attempts
    delay = bot.retry_delay if settings.retry_delay is None else settings.retry_delay
    started = time.perf_counter()
    for attempt in range(1, attempts + 1):
        ctx = Context(run, item, attempt)
        ctx.emit("item_start", data=item.payload)
        try:
            output = bot._process(item, ctx) or {}
            status, error = DONE, None
        except BusinessError as exc:
            status, error, output = NEEDS_REVIEW, error_info(exc), {}
        except ConfigError:
            raise
        except Exception as exc:  # an application error: retry while attempts remain
            status, error, output = FAILED, error_info(exc), {}
            if not isinstance(exc, DeskhandError):
                error["message"] = f"{error['kind']}: {error['message']}"
        finally:
            ctx.close_pages()
        if status == FAILED and attempt < attempts:
            wait = delay * 2 ** (attempt - 1)
            ctx.emit("retry", "WARNING", message=f"retrying in {wait:g} s", error=error)
            sleep(wait)
            continue
        duration = round((time.perf_counter() - started) * 1000, 1)
        level = "INFO" if status == DONE else "WARNING" if status == NEEDS_REVIEW else "ERROR"
        ctx.emit("item_end", level, status=status, output=output, error=error, duration_ms=duration)
        return ItemResult(item.reference, item.label, status, attempt, output, error, duration)
    raise AssertionError("unreachable")
