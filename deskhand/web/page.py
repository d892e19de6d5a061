"""A logged Playwright page whose elements are found by name in a selector repository.

``page["invoice_number"].fill("4711")`` resolves the element through its ranked selectors
(in its frame), performs the action with Playwright's auto-waiting, and writes an ``action``
event to the step log. Rows (``page.rows``), overlays, modal confirms, frames and batched
form filling are here too; ``page.raw`` is the plain Playwright page, a last resort.

Waiting for navigation has one way: ``with page.expect_navigation(frame="content"): ...``
(``page.frame("content").expect_navigation()`` is the same call).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from playwright.sync_api import Error as PlaywrightError

from ..actions import ActionLog
from ..errors import ApplicationError
from ..logs import mask, slug
from ..selectors import ElementSpec, SelectorRepository, frame_css
from .element import Element, Option
from .overlays import confirm_modal, handle_before_actions, plain_css, watch
from .rows import Row, page_rows

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Locator, Page


class WebPage:
    """A Playwright page bound to an item's context and a selector repository."""

    def __init__(
        self,
        page: Page,
        ctx: ActionLog,
        selectors: SelectorRepository | None = None,
        base_url: str | None = None,
    ) -> None:
        self.raw = page
        self.ctx = ctx
        self.selectors = selectors
        self.base_url = base_url
        # element name -> index of the candidate that resolved, shared by the whole run
        self._resolved: dict[str, int] = ctx.run.resolved_selectors
        self._kept: dict[str, Any] = {}  # evidence taken before a popup closed
        self.is_popup = False
        self._closing = False  # inside expect_close: the block's action closes this page
        self._elements: dict[str, Element] = {}  # named elements without placeholders
        self._locators: dict[tuple[tuple[str, ...], str], Locator] = {}  # see _locator_for

    def _root_for(self, spec: ElementSpec) -> Any:
        root: Any = self.raw
        for frame in spec.frames:
            root = root.frame_locator(frame_css(frame))
        return root

    def _locator_for(self, spec: ElementSpec, selector: str) -> Locator:
        """The Locator of ``selector`` in the frames of ``spec``, made once per page: a
        Locator is a query run anew by each action, so one serves every action on it."""
        key = (spec.frames, selector)
        found = self._locators.get(key)
        if found is None:
            if len(self._locators) >= 1024:  # rows by number: do not grow without bound
                self._locators.clear()
            found = self._locators[key] = self._root_for(spec).locator(selector)
        return found

    # -- navigation -------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.raw.url

    def goto(self, url: str = "") -> WebPage:
        """Open ``url`` (relative URLs are joined to the target's base URL)."""
        full = urljoin(self.base_url or "", url) if self.base_url else url
        self.ctx.action("goto", data={"url": full})
        try:
            self.raw.goto(full, wait_until="domcontentloaded")
        except Exception as exc:  # playwright.Error: connection refused, DNS, timeout
            first = str(exc).strip().splitlines()[0]
            raise ApplicationError(f"cannot open {full}: {first}") from None
        return self

    def save_session(self) -> None:
        """Keep this page's cookies and storage (after a log-in) as the run's session: the
        clean context of an item's retry starts from them (see deskhand.web.session).
        Kept in memory only; the values are never logged."""
        self.ctx.action("save_session")
        self.ctx.run.session.save(self.raw.context)

    def __getitem__(self, name: str) -> Element:
        return self.element(name)

    def element(self, _name: str, /, **params: Any) -> Element:
        """The named element; ``params`` fill placeholders such as ``{n}`` in its selectors
        (``page.element("line_amount", n=2)`` for the second line's amount); values are
        escaped, and any name works as a placeholder (``element("by_name", name="x")``)."""
        if self.selectors is None:
            raise ApplicationError("this page has no selector repository: use page.locator(css)")
        template = spec = self.selectors[_name]
        known = None if params else self._elements.get(_name)
        if known is not None and known.template is spec:
            return known  # made before, from what the repository still holds
        if params or "{" in "".join(spec.candidates):
            spec = spec.with_values(params)
            return Element(self, spec, template, params)
        self._elements[_name] = found = Element(self, spec, template, params)
        return found

    def frame(self, name: str) -> FramePage:
        """The page inside the iframe called ``name``, logged like this one: its elements are
        looked up inside it, ``goto`` loads the frame, ``expect_navigation`` waits for it."""
        return FramePage(self, name)

    # -- reading --------------------------------------------------------------------------
    def wait_for_text(
        self, name: str, pattern: str | re.Pattern[str] | None = None, timeout: float | None = None
    ) -> str:
        """Wait until element ``name`` shows ``pattern`` (or, with none, any text: an
        AJAX-filled field); see :meth:`Element.wait_for_text`."""
        return self.element(name).wait_for_text(pattern, timeout)

    def rows(
        self, name: str, until: Callable[[Row], bool] | None = None, max_pages: int = 100
    ) -> list[Row]:
        """The rows of list element ``name`` (``cells`` in the repository), following its
        ``next`` element page by page until ``until(row)`` is true (that row is the last
        returned) or the rows run out: ``app.rows("results")``."""
        return page_rows(self, name, until, max_pages)

    def find_row(
        self, name: str, where: Callable[[Row], bool] | None = None, **cells: str
    ) -> Row | None:
        """The first row of list ``name`` whose cells equal ``cells`` (and for which
        ``where(row)`` is true), paging as needed; None when no row matches:
        ``app.find_row("results", invoice_number="4711", vendor="Acme")``."""

        def match(row: Row) -> bool:
            same = all(row.cells.get(k) == str(v) for k, v in cells.items())
            return same and (where is None or where(row))

        rows = self.rows(name, until=match)
        return rows[-1] if rows and match(rows[-1]) else None

    def fill_form(self, values: dict[str, Any]) -> dict[str, str]:
        """Set many fields in one round trip per frame (input and change events fired, as
        a person's typing does), read them back in the same trip and log every field:
        ``app.fill_form({"invoice_number": "4711", "currency": "USD", "recurring": True})``.
        Returns what each field holds afterwards (a select: its value)."""
        from .forms import fill_form

        return fill_form(self, values)

    # -- overlays and modal confirms ------------------------------------------------------
    def on_overlay(self, name: str, close: str) -> None:
        """Whenever overlay ``name`` shows on the page (or in one of its frames), click its
        ``close`` element and go on (logged each time, see deskhand.web.overlays):
        ``app.on_overlay("maintenance", close="maintenance_close")``."""
        overlay, closer = self.element(name).spec, self.element(close).spec
        if plain_css(overlay.candidates + closer.candidates):  # no cost to other actions
            watch(self, name, overlay.candidates, closer.candidates)
        else:
            handle_before_actions(self, name, overlay, closer)

    def confirm_modal(
        self,
        name: str,
        ok: str,
        expect: str | None = None,
        cancel: str | None = None,
        timeout: float | None = None,
    ) -> AbstractContextManager[list[str]]:
        """A page's own modal confirm, handled like a JavaScript dialog: after the block,
        wait for modal ``name``; if its text contains ``expect``, click ``ok``; else click
        ``cancel`` (when given) and raise ApplicationError. No modal: ApplicationError.
        ``with app.confirm_modal("confirm_modal", ok="confirm_ok", expect="Clear"): ...``"""
        return confirm_modal(self, name, ok, expect, cancel, timeout)

    def locator(self, selector: str, frame: str | None = None) -> Locator:
        """A plain Playwright locator, optionally inside the iframe named ``frame``."""
        root = self.raw if frame is None else self.raw.frame_locator(frame_css(frame))
        return root.locator(selector)

    @contextmanager
    def expect_navigation(self, frame: str | None = None) -> Iterator[Any]:
        """Wait, after the block, until the page (or its iframe called ``frame``) has loaded
        the document that the block's action navigated to:
        ``with page.expect_navigation(frame="content"): page["save_button"].click()``.
        ``as nav``: ``nav.value`` is the response (its ``status`` tells an error page)."""
        target = self.raw.main_frame if frame is None else self._wait_for_frame(frame)
        with target.expect_navigation(wait_until="load") as info:
            yield info
        self.ctx.action("navigated", data={"frame": frame, "url": target.url})

    def _wait_for_frame(self, name: str) -> Frame:
        found = self.raw.frame(name=name)  # known to the page already: no round trip
        if found is not None:
            return found
        self.raw.locator(frame_css(name)).first.wait_for(state="attached")
        found = self.raw.frame(name=name)
        if found is None:  # a frame given by CSS, not by name
            handle = self.raw.locator(frame_css(name)).first.element_handle()
            found = handle.content_frame() if handle else None
        if found is None:
            raise ApplicationError(f"no frame '{name}' on {self.url}")
        return found

    @contextmanager
    def expect_close(self) -> Iterator[None]:
        """Wait, after the block, until this page (a popup) has closed itself; a block that
        fails keeps the popup's screenshot and HTML first."""
        with self.raw.expect_event("close"):
            self._closing = True
            try:
                yield
            except PlaywrightError as error:
                if not self.closed_by_action(error) and not self.raw.is_closed():
                    self.keep_evidence("expect_close")
                    raise
            except BaseException:
                self.keep_evidence("expect_close")
                raise
            finally:
                self._closing = False
        self.ctx.action("close", data={"url": self.raw.url})
        self._forget()

    def closed_by_action(self, error: BaseException) -> bool:
        """Whether ``error``, raised by a click that started on an open page, is this page
        closing under it inside ``expect_close``: the page's script called window.close()
        in the click, before Playwright heard back from it (a race Playwright reports as
        TargetClosedError). That is what the block awaits, not a failure (logged as such);
        ``expect_close`` still waits for the close itself. Reads and fills never pass here."""
        closed = "TargetClosedError" in (type(error).__name__, getattr(error, "name", None))
        if not (self._closing and closed):  # (playwright.sync_api does not export the class)
            return False
        self.ctx.action("closed_by_click", data={"url": self.raw.url})
        return True

    def close(self) -> None:
        """Close this page (a popup the application leaves open)."""
        self.ctx.action("close", data={"url": self.raw.url})
        self.raw.close()
        self._forget()

    def _forget(self) -> None:
        """A closed page is not the item's to close at its end (no round trip for it)."""
        if self in self.ctx.pages:
            self.ctx.pages.remove(self)

    def keep_evidence(self, name: str) -> None:
        """Save this popup's screenshot and HTML now, for the failing step to report after
        the popup has closed (the main page's evidence is taken by the step itself)."""
        if not self.is_popup or self._kept or self.raw.is_closed():
            return
        self.ctx.last_page = self
        self._kept = self.ctx.capture(f"popup-{name}")

    # -- popups and dialogs -----------------------------------------------------------
    @contextmanager
    def expect_popup(self) -> Iterator[_Holder]:
        """``with page.expect_popup() as popup: page["lookup"].click()``; then ``popup.value``."""
        holder = _Holder()
        with self.raw.expect_popup() as info:
            yield holder
        popup = info.value
        popup.wait_for_load_state("domcontentloaded")
        self.ctx.action("popup", data={"url": popup.url})
        holder.value = WebPage(popup, self.ctx, self.selectors, self.base_url)
        holder.value.is_popup = True
        self.ctx.pages.append(holder.value)

    @contextmanager
    def accept_dialog(
        self, expect: str | None = None, text: str | None = None
    ) -> Iterator[list[str]]:
        """Accept the JavaScript dialog (confirm/alert/prompt) the block's action opens;
        ``text`` is typed into a prompt.

        A dialog whose text does not contain ``expect`` is dismissed and raises
        ApplicationError; no dialog at all raises ApplicationError too.
        """
        with self._dialog(expect, accept=True, text=text) as seen:
            yield seen

    @contextmanager
    def dismiss_dialog(self, expect: str | None = None) -> Iterator[list[str]]:
        """Dismiss (Cancel) the JavaScript dialog the block's action opens; as accept_dialog."""
        with self._dialog(expect, accept=False) as seen:
            yield seen

    @contextmanager
    def _dialog(self, expect: str | None, accept: bool, text: str | None = None):
        seen: list[str] = []

        def handle(dialog: Any) -> None:
            seen.append(dialog.message)
            if (expect is None or expect in dialog.message) and accept:
                dialog.accept(*(() if text is None else (text,)))
            else:
                dialog.dismiss()

        self.raw.once("dialog", handle)
        yield seen
        if not seen:
            self.raw.remove_listener("dialog", handle)
            raise ApplicationError("expected a confirmation dialog, but none appeared")
        expected = expect is None or expect in seen[0]
        self.ctx.action("dialog", data={"message": seen[0], "accepted": expected and accept})
        if not expected:
            raise ApplicationError(f"unexpected dialog '{seen[0]}' (wanted '{expect}'): dismissed")

    def pdf(self, paper: str = "A4") -> bytes:
        """The page printed as a PDF (headless Chromium), for a mail or an archive:
        ``attachment = app.pdf()``."""
        self.ctx.action("pdf", data={"url": self.raw.url, "format": paper})
        return self.raw.pdf(format=paper)

    # -- evidence ---------------------------------------------------------------------
    def capture(self, folder: Path, stem: str) -> dict[str, Any]:
        """Save a screenshot (password inputs masked) and the HTML of every frame."""
        saved: dict[str, Any] = {}
        page = self.raw
        if page.is_closed():
            return dict(self._kept)
        try:
            masks = [f.locator("input[type=password]") for f in page.frames]
            shot = folder / f"{stem}.png"
            page.screenshot(path=str(shot), mask=masks, full_page=True, timeout=5000)
            saved["screenshot"] = f"screenshots/{shot.name}"
        except Exception:  # a crashed page cannot be photographed; the HTML may still come
            pass
        html_files = []
        for index, frame in enumerate(page.frames):
            try:
                name = "page" if index == 0 else slug(frame.name or f"frame{index}")
                target = folder / f"{stem}.{name}.html"
                target.write_text(mask(frame.content()), encoding="utf-8")
                html_files.append(f"screenshots/{target.name}")
            except Exception:
                continue
        if html_files:
            saved["html"] = html_files
        return saved


class _Holder:
    value: WebPage


# -- frame-scoped pages ---------------------------------------------------------------------
# ``app.frame("content")``: its elements are looked up inside the frame (an element whose
# repository ``frame:`` starts with this frame relative to it; any other with its own frames
# inside it). ``goto`` loads the frame, ``expect_navigation`` waits for it; dialogs, popups
# and evidence belong to the page that holds the frame.
class FramePage(WebPage):
    """The page in iframe ``name`` of ``parent`` (itself possibly a frame)."""

    def __init__(self, parent: WebPage, name: str) -> None:
        super().__init__(parent.raw, parent.ctx, parent.selectors, parent.base_url)
        self.parent = parent
        self.name = name
        self.path: tuple[str, ...] = getattr(parent, "path", ()) + (name,)
        self.is_popup = parent.is_popup
        self._kept = parent._kept

    def closed_by_action(self, error: BaseException) -> bool:
        """A frame closes with its page: the page's ``expect_close`` decides."""
        return self.parent.closed_by_action(error)

    def _scope(self) -> Any:
        root: Any = self.raw
        for frame in self.path:
            root = root.frame_locator(frame_css(frame))
        return root

    def _root_for(self, spec: ElementSpec) -> Any:
        frames = spec.frames
        if frames[: len(self.path)] == self.path:
            frames = frames[len(self.path) :]
        root = self._scope()
        for frame in frames:
            root = root.frame_locator(frame_css(frame))
        return root

    @property
    def frame_object(self) -> Frame:
        """The Playwright Frame (waits for the iframe to be attached)."""
        found: Any = self.parent.raw.main_frame
        if isinstance(self.parent, FramePage):
            found = self.parent.frame_object
        for waited in (False, True):  # a frame the page knows already needs no round trip
            for child in found.child_frames:
                if child.name == self.name:
                    return child
            if not waited:
                self.raw.locator(frame_css(self.path[0])).first.wait_for(state="attached")
        handle = self._scope_handle()
        if handle is None:
            raise ApplicationError(f"no frame '{self.name}' on {self.parent.url}")
        return handle

    def _scope_handle(self) -> Frame | None:
        outer: Any = self.raw
        for frame in self.path[:-1]:
            outer = outer.frame_locator(frame_css(frame))
        handle = outer.locator(frame_css(self.name)).first.element_handle()
        return handle.content_frame() if handle else None

    @property
    def url(self) -> str:
        return self.frame_object.url

    def goto(self, url: str = "") -> FramePage:
        """Load ``url`` in this frame (relative URLs are joined to the target's base URL)."""
        full = urljoin(self.base_url or "", url) if self.base_url else url
        self.ctx.action("goto", data={"url": full, "frame": self.name})
        try:
            self.frame_object.goto(full, wait_until="domcontentloaded")
        except Exception as exc:
            first = str(exc).strip().splitlines()[0]
            raise ApplicationError(f"cannot open {full} in frame '{self.name}': {first}") from None
        return self

    @contextmanager
    def expect_navigation(self, frame: str | None = None) -> Iterator[Any]:
        """Wait, after the block, until this frame (or its iframe ``frame``) has loaded.
        ``with content.expect_navigation() as nav: ...``: ``nav.value`` is the response
        (its ``status`` tells an error page from an answer)."""
        target = self.frame(frame) if frame else self
        with target.frame_object.expect_navigation(wait_until="load") as info:
            yield info
        self.ctx.action("navigated", data={"frame": "/".join(target.path), "url": target.url})

    def wait_for_url(self, pattern: str, timeout: float | None = None) -> None:
        """Wait until this frame shows a URL matching ``pattern`` (a glob: ``**/search*``)."""
        wait = {} if timeout is None else {"timeout": timeout * 1000}
        self.frame_object.wait_for_url(pattern, **wait)
        self.ctx.action("wait_for_url", data={"frame": self.name, "url": self.url})

    def locator(self, selector: str, frame: str | None = None) -> Locator:
        """A plain Playwright locator inside this frame (a last resort: not logged)."""
        root = self._scope()
        return (root if frame is None else root.frame_locator(frame_css(frame))).locator(selector)

    def capture(self, folder: Any, stem: str) -> dict[str, Any]:
        return self.parent.capture(folder, stem)

    def keep_evidence(self, name: str) -> None:
        self.parent.keep_evidence(name)


__all__ = ["Element", "FramePage", "Option", "Row", "WebPage"]
