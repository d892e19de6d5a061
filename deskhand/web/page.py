"""A logged Playwright page whose elements are found by name in a selector repository.

``page["invoice_number"].fill("4711")`` resolves the element through its ranked selectors
(in its frame), performs the action with Playwright's auto-waiting, and writes an ``action``
event to the step log. ``page.raw`` is the plain Playwright page for anything else.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ..errors import ApplicationError, SelectorNotFound
from ..logs import mask, slug
from ..selectors import (
    ElementSpec,
    SelectorRepository,
    frame_css,
    playwright_selector,
    proposed_ranking,
    write_proposal,
)

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Locator, Page

    from ..context import Context


class WebPage:
    """A Playwright page bound to an item's context and a selector repository."""

    def __init__(
        self,
        page: Page,
        ctx: Context,
        selectors: SelectorRepository | None = None,
        base_url: str | None = None,
    ) -> None:
        self.raw = page
        self.ctx = ctx
        self.selectors = selectors
        self.base_url = base_url
        # element name -> index of the candidate that resolved, shared by the whole run
        self._resolved: dict[str, int] = ctx.run.resolved_selectors

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

    def __getitem__(self, name: str) -> Element:
        return self.element(name)

    def element(self, name: str, **params: Any) -> Element:
        """The named element; ``params`` fill placeholders such as ``{n}`` in its selectors
        (``page.element("line_amount", n=2)`` for the second line's amount)."""
        if self.selectors is None:
            raise ApplicationError("this page has no selector repository: use page.locator(css)")
        template = spec = self.selectors[name]
        if params:
            spec = replace(spec, candidates=tuple(c.format(**params) for c in spec.candidates))
        return Element(self, spec, template)

    def frame(self, name: str) -> Frame:
        """The Playwright frame (iframe) called ``name``, for waiting on its navigation."""
        frame = self.raw.frame(name=name)
        if frame is None:
            raise ApplicationError(f"no frame '{name}' on {self.url}")
        return frame

    def locator(self, selector: str, frame: str | None = None) -> Locator:
        """A plain Playwright locator, optionally inside the iframe named ``frame``."""
        root = self.raw if frame is None else self.raw.frame_locator(frame_css(frame))
        return root.locator(selector)

    @contextmanager
    def expect_navigation(self, frame: str | None = None) -> Iterator[None]:
        """Wait, after the block, until the page (or its iframe called ``frame``) has loaded
        the document that the block's action navigated to:
        ``with page.expect_navigation(frame="content"): page["save_button"].click()``."""
        target = self.raw.main_frame if frame is None else self._wait_for_frame(frame)
        with target.expect_navigation(wait_until="load"):
            yield
        self.ctx.action("navigated", data={"frame": frame, "url": target.url})

    def _wait_for_frame(self, name: str) -> Frame:
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
        """Wait, after the block, until this page (a popup) has closed itself."""
        with self.raw.expect_event("close"):
            yield
        self.ctx.action("close", data={"url": self.raw.url})

    def close(self) -> None:
        """Close this page (a popup the application leaves open)."""
        self.ctx.action("close", data={"url": self.raw.url})
        self.raw.close()

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

    # -- evidence ---------------------------------------------------------------------
    def capture(self, folder: Path, stem: str) -> dict[str, Any]:
        """Save a screenshot (password inputs masked) and the HTML of every frame."""
        saved: dict[str, Any] = {}
        page = self.raw
        if page.is_closed():
            return saved
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


class Element:
    """A named element on a WebPage; each action is logged."""

    def __init__(self, page: WebPage, spec: ElementSpec, template: ElementSpec | None = None):
        self.page = page
        self.spec = spec
        self.template = template or spec  # as the repository has it ({n} not filled in)

    @property
    def name(self) -> str:
        return self.spec.name

    def _root(self) -> Any:
        root: Any = self.page.raw
        for frame in self.spec.frames:
            root = root.frame_locator(frame_css(frame))
        return root

    @property
    def locator(self) -> Locator:
        """The Playwright locator of the best candidate that matches exactly one element."""
        root = self._root()
        selectors = [playwright_selector(c) for c in self.spec.candidates]
        cached = self.page._resolved.get(self.name)
        if cached is not None:
            return root.locator(selectors[cached])
        candidates = [root.locator(c) for c in selectors]
        either = candidates[0]
        for other in candidates[1:]:
            either = either.or_(other)
        try:
            either.first.wait_for(state="attached")
        except Exception:
            tried = ", ".join(self.spec.candidates)
            raise SelectorNotFound(
                f"element '{self.name}' not found on {self.page.url} (tried {tried}): "
                f"check selectors/{self.page.selectors.name}.yaml"
            ) from None
        matches: list[int] = []
        for index, candidate in enumerate(candidates):
            matches.append(candidate.count())
            if matches[-1] == 1:
                if index > 0:
                    self._heal(index, matches + [c.count() for c in candidates[index + 1 :]])
                self.page._resolved[self.name] = index
                return candidate
        raise SelectorNotFound(
            f"element '{self.name}' is ambiguous on {self.page.url}: no selector matches exactly "
            f"one element; make its selectors in selectors/{self.page.selectors.name}.yaml unique"
        )

    def _heal(self, index: int, matches: list[int]) -> None:
        """A fallback won: warn, and propose the new ranking (never edit the repository)."""
        ctx, repo = self.page.ctx, self.page.selectors
        spec, template = self.spec, self.template
        ctx.warning(
            f"element '{self.name}' found by fallback selector '{spec.candidates[index]}' "
            f"(first choice '{spec.candidates[0]}' failed)",
            element=self.name,
        )
        ranking = proposed_ranking(template.candidates, matches)
        failed = "; ".join(f"{c} matched {n}" for c, n in zip(template.candidates[:index], matches))
        run = ctx.run.log.run_id
        note = f"run {run}: {failed}; {template.candidates[index]} matched 1"
        proposal = None
        if repo.path is not None:
            proposal = write_proposal(repo, template, ranking, note, run)
        ctx.emit(
            "healing",
            "WARNING",
            element=self.name,
            page=template.page,
            frame=list(template.frames),
            repository=repo.name,
            candidates=[{"selector": c, "matches": n} for c, n in zip(spec.candidates, matches)],
            proposed=ranking,
            proposal=str(proposal) if proposal else None,
        )

    def _act(self, action: str, **data: Any) -> None:
        self.page.ctx.action(action, element=self.name, data=data or None)
        self.page.ctx.last_page = self.page

    def fill(self, value: Any) -> Element:
        text = "" if value is None else str(value)
        self._act("fill", value=text)
        self.locator.fill(text)
        return self

    def click(self) -> Element:
        self._act("click")
        self.locator.click()
        return self

    def select(self, *, label: str | None = None, value: str | None = None) -> Element:
        """Choose an option of a <select> by its visible label or its value."""
        self._act("select", label=label, value=value)
        if label is not None:
            self.locator.select_option(label=label)
        else:
            self.locator.select_option(value=value)
        return self

    def check(self, checked: bool = True) -> Element:
        self._act("check" if checked else "uncheck")
        self.locator.set_checked(checked)
        return self

    def press(self, key: str) -> Element:
        """Press a key in the element, e.g. ``press("Enter")`` to submit its form."""
        self._act("press", key=key)
        self.locator.press(key)
        return self

    def upload(self, *paths: str | Path) -> Element:
        """Choose files in a file input (``<input type=file>``)."""
        self._act("upload", files=[str(p) for p in paths])
        self.locator.set_input_files([str(p) for p in paths])
        return self

    def text(self) -> str:
        """The element's visible text, stripped."""
        return self.locator.inner_text().strip()

    def value(self) -> str:
        """The current value of an input, select or textarea."""
        return self.locator.input_value()

    def selected_label(self) -> str:
        """The visible text of a <select>'s chosen option ('' when none is chosen)."""
        script = "e => e.selectedIndex < 0 ? '' : e.options[e.selectedIndex].text"
        return self.locator.evaluate(script).strip()

    def is_checked(self) -> bool:
        return self.locator.is_checked()

    def exists(self) -> bool:
        """True when any candidate matches right now (no waiting)."""
        root = self._root()
        return any(root.locator(playwright_selector(c)).count() > 0 for c in self.spec.candidates)
