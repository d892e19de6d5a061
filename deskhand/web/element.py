"""Named elements and rows of a :class:`~deskhand.web.page.WebPage`; every action is logged.

An element resolves once per run through its ranked selectors (the winner is cached, a
fallback winner is healed: warned and proposed); after that each action is one Playwright
call, no extra round trip. An element that later disappears still fails with the clear
:class:`SelectorNotFound` message, and the cache forgets it so the next use resolves anew.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from ..errors import ApplicationError, SelectorNotFound
from ..selectors import ElementSpec, playwright_selectors, proposed_ranking, write_proposal
from .overlays import plain_css
from .protocols import PageHost

if TYPE_CHECKING:
    from playwright.sync_api import Locator

_COUNT_FIRST = """(_, json) => JSON.stringify(JSON.parse(json).map(css => {
  try { return document.querySelectorAll(css).length; } catch (e) { return -1; }
}))"""


class Option(NamedTuple):
    """One option of a <select>."""

    value: str
    label: str


class Element:
    """A named element on a WebPage; each action is logged."""

    def __init__(
        self,
        page: PageHost,
        spec: ElementSpec,
        template: ElementSpec | None = None,
        values: dict[str, Any] | None = None,
    ):
        self.page = page
        self.spec = spec
        self.template = template or spec  # as the repository has it ({n} not filled in)
        self.values = values or {}  # what filled its placeholders

    @property
    def name(self) -> str:
        return self.spec.name

    def _root(self) -> Any:
        return self.page._root_for(self.spec)

    def _selectors(self) -> tuple[str, ...]:
        return playwright_selectors(self.spec.candidates)

    # -- resolution ---------------------------------------------------------------------
    @property
    def locator(self) -> Locator:
        """The Playwright locator of the best candidate that matches exactly one element
        (for a list, ``many: true``: the best candidate that matches any)."""
        return self._resolve()

    def _resolve(self, timeout: float | None = None) -> Locator:
        selectors = self._selectors()
        cached = self.page._resolved.get(self.name)
        if cached is not None and cached < len(selectors):
            return self.page._locator_for(self.spec, selectors[cached])
        if len(selectors) == 1 and not self.spec.many and timeout is None:
            # nothing to rank: the action's own auto-waiting resolves it (no extra round trip)
            self.page._resolved[self.name] = 0
            return self.page._locator_for(self.spec, selectors[0])
        root = self._root()
        candidates = [root.locator(c) for c in selectors]
        if timeout is None:  # the page has it already, as first choice: one round trip
            if self._resolve_together():
                first = 1 if self.name in self.page._resolved else 0
            else:
                first = candidates[0].count()
            if first == 1 or (self.spec.many and first > 0):
                self.page._resolved[self.name] = 0
                return candidates[0]
        either = candidates[0]
        for other in candidates[1:]:
            either = either.or_(other)
        try:
            wait = {} if timeout is None else {"timeout": timeout * 1000}
            either.first.wait_for(state="attached", **wait)
        except PlaywrightError:
            raise SelectorNotFound(self._not_found()) from None
        matches: list[int] = []
        for index, candidate in enumerate(candidates):
            matches.append(candidate.count())
            if matches[-1] == 1 or (self.spec.many and matches[-1] > 0):
                if index > 0:
                    self._heal(index, matches + [c.count() for c in candidates[index + 1 :]])
                self.page._resolved[self.name] = index
                return candidate
        raise SelectorNotFound(self._ambiguous())

    def _resolve_together(self) -> bool:
        """Count, in one round trip, the first choice of every element of this frame not yet
        resolved, and take those the page shows exactly once (a list: at least once): the
        first element resolved on a page pays for the page's others. Elements whose
        placeholders this one's values fill (``line_quantity`` with ``line_amount``'s
        ``n=2``) are counted with those values. False when this element cannot be counted
        so (a selector that is not plain CSS)."""
        repo, resolved = self.page.selectors, self.page._resolved
        group = []
        for spec in repo.elements.values():
            if spec.frames != self.spec.frames or spec.name in resolved:
                continue
            holes = spec.placeholders()
            if holes and not all(hole in self.values for hole in holes):
                continue
            spec = spec.with_values(self.values) if holes else spec
            if plain_css(spec.candidates[:1]):
                group.append(spec)
        if self.name not in {spec.name for spec in group}:
            return False
        try:
            answer = (
                self._root()
                .locator(":root")
                .evaluate_all(_COUNT_FIRST, json.dumps([spec.candidates[0] for spec in group]))
            )
        except PlaywrightError:  # the frame is not there yet
            return False
        for spec, count in zip(group, json.loads(answer)):
            if count == 1 or (spec.many and count > 0):
                resolved[spec.name] = 0
        return True

    def _ambiguous(self) -> str:
        return (
            f"element '{self.name}' is ambiguous on {self.page.url}: no selector matches exactly "
            f"one element; make its selectors in selectors/{self.page.selectors.name}.yaml unique"
        )

    def _not_found(self) -> str:
        tried = ", ".join(self.spec.candidates)
        return (
            f"element '{self.name}' not found on {self.page.url} (tried {tried}): "
            f"check selectors/{self.page.selectors.name}.yaml"
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

    # -- doing ----------------------------------------------------------------------------
    def _act(self, action: str, **data: Any) -> None:
        self.page.ctx.action(action, element=self.name, data=data or None)
        self.page.ctx.last_page = self.page

    def _do(self, action: Callable[[Locator], Any], closes: bool = False) -> Any:
        """Run ``action`` on the resolved locator; a cached element that has gone away fails
        with the same clear SelectorNotFound as a first resolution (and is resolved anew
        next time); a failure in a popup keeps its evidence before the popup can close.
        ``closes``: a click that may close its page (see ``WebPage.closed_by_action``)."""
        was_open = closes and not self.page.raw.is_closed()
        try:
            return action(self.locator)
        except PlaywrightError as exc:
            if was_open and self.page.closed_by_action(exc):
                return None
            self.page.keep_evidence(self.name)
            if self.page.raw.is_closed():
                raise ApplicationError(
                    f"{self.name}: its page has closed ({self.page.url}): nothing to act on"
                ) from None
            if "strict mode violation" in str(exc):
                self.page._resolved.pop(self.name, None)
                raise SelectorNotFound(self._ambiguous()) from None
            if not self.exists():
                self.page._resolved.pop(self.name, None)
                raise SelectorNotFound(self._not_found()) from None
            raise ApplicationError(
                f"{self.name}: {str(exc).strip().splitlines()[0]} (on {self.page.url})"
            ) from None
        except SelectorNotFound:
            self.page.keep_evidence(self.name)
            raise

    def fill(self, value: Any) -> Element:
        """Type ``value`` into an input or textarea (replacing what it held)."""
        text = "" if value is None else str(value)
        self._act("fill", value=text)
        self._do(lambda loc: loc.fill(text))
        return self

    def click(self) -> Element:
        """Click the element (Playwright waits until it is visible, stable and enabled)."""
        self._act("click")
        self._do(lambda loc: loc.click(), closes=True)
        return self

    def select(self, *, label: str | None = None, value: str | None = None) -> Element:
        """Choose an option of a <select> by its visible label or its value."""
        self._act("select", label=label, value=value)
        if label is not None:
            self._do(lambda loc: loc.select_option(label=label))
        else:
            self._do(lambda loc: loc.select_option(value=value))
        return self

    def check(self, checked: bool = True) -> Element:
        """Tick (or, with ``False``, clear) a checkbox or choose a radio button."""
        self._act("check" if checked else "uncheck")
        self._do(lambda loc: loc.set_checked(checked))
        return self

    def press(self, key: str) -> Element:
        """Press a key in the element, e.g. ``press("Enter")`` to submit its form."""
        self._act("press", key=key)
        self._do(lambda loc: loc.press(key))
        return self

    def upload(self, *paths: str | Path) -> Element:
        """Choose files in a file input (``<input type=file>``)."""
        self._act("upload", files=[str(p) for p in paths])
        self._do(lambda loc: loc.set_input_files([str(p) for p in paths]))
        return self

    # -- reading --------------------------------------------------------------------------
    def text(self) -> str:
        """The element's visible text, stripped."""
        return self._do(lambda loc: loc.inner_text()).strip()

    def value(self) -> str:
        """The current value of an input, select or textarea."""
        return self._do(lambda loc: loc.input_value())

    def selected_label(self) -> str:
        """The visible text of a <select>'s chosen option ('' when none is chosen)."""
        script = "e => e.selectedIndex < 0 ? '' : e.options[e.selectedIndex].text"
        return self._do(lambda loc: loc.evaluate(script)).strip()

    def is_checked(self) -> bool:
        """Whether a checkbox or radio button is ticked."""
        return self._do(lambda loc: loc.is_checked())

    def attribute(self, name: str) -> str | None:
        """The value of the element's attribute ``name`` (None when it has none)."""
        found = self._do(lambda loc: loc.get_attribute(name))
        self._act("attribute", attribute=name, found=found)
        return found

    def options(self) -> list[Option]:
        """The options of a <select>, in order: ``[Option(value, label), ...]``."""
        script = "e => Array.from(e.options, o => [o.value, o.text.trim()])"
        found = [Option(v, t) for v, t in self._do(lambda loc: loc.evaluate(script))]
        self._act("options", count=len(found))
        return found

    def checked_value(self) -> str | None:
        """The value of the checked radio button of the group this element names (a list:
        ``many: true``, e.g. ``input[name=terms]``); None when none is checked."""
        script = "es => { const e = es.find(e => e.checked); return e ? e.value : null; }"
        found = self._do(lambda loc: loc.evaluate_all(script))
        self._act("checked_value", found=found)
        return found

    def exists(self, timeout: float = 0) -> bool:
        """True when any candidate matches; with ``timeout`` (seconds), wait that long for
        one to appear: ``app["form_errors"].exists(timeout=2)``."""
        root = self._root()
        selectors = self._selectors()
        either = root.locator(selectors[0])
        for other in selectors[1:]:
            either = either.or_(root.locator(other))
        if timeout <= 0:
            return either.count() > 0  # every candidate in one round trip
        try:
            either.first.wait_for(state="attached", timeout=timeout * 1000)
            found = True
        except PlaywrightError:
            found = False
        self._act("exists", timeout=timeout, found=found)
        return found

    def wait_for_text(
        self, pattern: str | re.Pattern[str] | None = None, timeout: float | None = None
    ) -> str:
        """Wait until the element's text (an input's value) contains ``pattern`` (a string,
        or a compiled regular expression to search for); with no pattern, until it is not
        empty: an AJAX-filled field. Returns the text. ApplicationError after ``timeout``
        seconds (default: the run's timeout)."""
        if pattern is None:
            wanted: re.Pattern[str] = re.compile(r"\S")
        elif isinstance(pattern, str):
            wanted = re.compile(re.escape(pattern))
        else:
            wanted = pattern
        self._act("wait_for_text", pattern=None if pattern is None else wanted.pattern)
        loc = self.locator
        is_field = self._do(lambda loc: loc.evaluate("e => e.matches('input, textarea, select')"))
        wait = {} if timeout is None else {"timeout": timeout * 1000}
        try:
            if is_field:
                expect(loc).to_have_value(wanted, **wait)
            else:
                expect(loc).to_have_text(wanted, **wait)
        except AssertionError:
            shown = loc.input_value() if is_field else loc.inner_text()
            what = "any text" if pattern is None else f"'{wanted.pattern}'"
            raise ApplicationError(
                f"element '{self.name}' did not show {what} in time (it shows '{shown.strip()}')"
            ) from None
        return (loc.input_value() if is_field else loc.inner_text()).strip()
