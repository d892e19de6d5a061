"""What a bot's functions get as ``ctx``: settings, steps, the browser, the item's output."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import inputs
from .actions import RunHandle
from .bot import WorkItem
from .errors import ConfigError, DeskhandError
from .journal import events as ev
from .journal.events import Event, ItemEvent
from .logs import slug
from .steps import Step

if TYPE_CHECKING:
    from .queue import Item


class WaitForKey(DeskhandError):
    """Another item of the queue with the same business key is still being worked on: this
    one goes back to the queue for a while instead of keying."""


class _Refused(WorkItem):
    """A source's item whose file must not be read: it is queued with its error, which
    ``item.file`` raises when the item is processed."""

    @property
    def file(self) -> None:
        return None


class Context:
    """What a bot's functions get as ``ctx``: settings, steps, the browser, the output."""

    def __init__(
        self,
        run: RunHandle,
        item: WorkItem | None = None,
        attempt: int = 1,
        queued: Item | None = None,
    ) -> None:
        self.run = run
        self.current = item
        self.attempt = attempt
        self.queued = queued  # the queue's record of the item (None outside a queue)
        self.steps: list[Step] = []
        self.pages: list[Any] = []
        self.last_page: Any = None
        self._shots = 0
        self.beat: Any = None  # the runner's heartbeat for this item (its ``lost`` flag)
        self.in_point_of_no_return = False  # inside the step: every action checks the lease
        self.passed_point_of_no_return: str | None = None  # the step, once it completed

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
        if not getattr(self.run, "_links_reported", False):  # once a run (deskhand.inputs)
            self.run._links_reported = True
            if broken := inputs.broken_links(path):
                self.warning("broken links in the input folder, not read: " + ", ".join(broken))
        return path

    def rows(self, columns: list[str] | tuple[str, ...] = ()) -> list[dict[str, str]]:
        """The rows of the --input spreadsheet (CSV or XLSX, one header row; or a folder
        holding exactly one), each a dict of text by column. ``columns``: the ones the bot
        needs; a ConfigError names any the sheet lacks."""
        from deskhand.spreadsheet import read_rows

        return read_rows(self.input, columns)

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
        """Make a work item (used in a bot's source). A ``file`` that is a link out of the
        input folder is refused by the item itself (``item.file``: deskhand.inputs)."""
        folder = self.settings.resolve(self.settings.input)
        if payload.get("file") and folder is not None and folder.is_dir():
            if problem := inputs.escape(payload["file"], folder):
                return _Refused(str(reference), payload | {"input_error": problem})
        return WorkItem(str(reference), payload)

    def key(self, *parts: Any) -> str:
        """Declare what this item keys, once known: ``ctx.key(invoice.issuer,
        invoice.invoice_number)``. Two items of the queue never key the same business key:
        while another one with it is being worked on this one waits; once that one is
        finished this one goes to review as a duplicate. Call it before the point of no
        return. Returns the key (parts joined, spaces and case normalised)."""
        words = [" ".join(str(p).split()).casefold() for p in parts if p is not None]
        if not any(words):
            raise ValueError("ctx.key(...) needs at least one non-empty part")
        key = " | ".join(words)
        self.run.declare_key(self, key)
        return key

    def step(self, name: str, *, point_of_no_return: bool = False, **data: Any) -> Step:
        """A logged step: ``with ctx.step("save", point_of_no_return=True): ...``."""
        return Step(self, name, point_of_no_return, **data)

    def done(self, **output: Any) -> dict[str, Any]:
        """The item's output; return it from the process function."""
        return output

    def web(self, url: str | None = None) -> Any:
        """A new logged browser page on ``url`` (default: the target), named elements from
        the bot's selector repository. The browser starts on first use; the run's items share
        one browser context (a retry's first page: a clean one, see deskhand.web.session)."""
        from .web import WebPage

        base = url or self.target
        page = WebPage(self.run.new_page(self), self, self.run.selectors, base)
        self.pages.append(page)
        self.last_page = page
        return page

    def desktop(self, images: str | None = None) -> Any:
        """The run's desktop (its own Xvfb when there is no $DISPLAY), actions logged to this
        item; ``images`` names selectors/<images>/ holding the image targets."""
        from .desktop import open_desktop

        return open_desktop(self, images=images)

    # -- logging ------------------------------------------------------------------------
    def emit(self, kind: str | Event, level: str = "INFO", /, **fields: Any) -> dict:
        """Journal an event of this item's attempt: a typed one (deskhand.journal.events),
        or an event's name and fields."""
        ref = self.current.reference if self.current else None
        if isinstance(kind, ItemEvent):
            if kind.item != ref or kind.attempt != self.attempt:
                kind = replace(kind, item=ref, attempt=self.attempt)
            return self.run.log.event(kind)
        return self.run.log.event(kind, level, item=ref, attempt=self.attempt, **fields)

    def action(self, action: str, element: str | None = None, data: Any = None) -> None:
        """Log one action of a driver; inside the point-of-no-return step it first checks
        that this runner still holds the item (a LeaseLost stops the step otherwise)."""
        self.run.check_lease(self, strict=self.in_point_of_no_return)
        self.run.log.event_later(  # made whole here: the one event per action of a page
            ev.Action(
                item=self.current.reference if self.current else None,
                attempt=self.attempt,
                step=self.steps[-1].name if self.steps else None,
                action=action,
                element=element,
                data=data,
            )
        )

    def info(self, message: str, **data: Any) -> None:
        """A free-form line in the step log."""
        self.emit(ev.LogRecord(message=message, data=data or None))

    def warning(self, message: str, **data: Any) -> None:
        self.emit(ev.Warning_(message=message, data=data or None))

    def values(self, kind: str, mapping: dict[str, Any]) -> None:
        """Record field values for the report's comparison table.

        ``kind`` is one of ``extracted``, ``reviewed`` (a person's corrections),
        ``keyed``, ``read_back``.
        """
        if kind not in ("extracted", "reviewed", "keyed", "read_back"):
            raise ValueError(
                f"values kind must be extracted, reviewed, keyed or read_back, not {kind!r}"
            )
        self.emit(ev.Values(kind_of=kind, data=mapping))

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
