"""Overlays closed as soon as they appear, in every frame, at no cost to other actions.

``app.on_overlay("maintenance", close="maintenance_close")`` installs a small watcher, once
per browser context (``add_init_script`` and ``expose_binding`` of the context), in every
document its pages and their frames load: when an element matching the overlay's selectors
is shown, it clicks the close element and tells deskhand, which logs an ``overlay`` action
with the frame it was in. The run's items share the context, so the next item's call costs
nothing, and a retry's clean context gets the same watchers (deskhand.web.session).

Playwright's ``add_locator_handler`` does the same by checking the overlay before every
action, in every frame it was registered for: that doubled the cost of each action, so it is
only the fallback for selectors that are not plain CSS (``text=...``, ``xpath=...``, ``>>``
chains), which the watcher cannot query.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import ApplicationError
from ..selectors import ElementSpec, frame_css, playwright_selector
from .protocols import PageHost

BINDING = "__deskhandOverlay"
WATCHER = """([name, overlay, close, binding]) => {
  const query = (list) => {
    for (const css of list) {
      let found = null;
      try { found = document.querySelector(css); } catch (e) { continue; }
      if (found) return found;
    }
    return null;
  };
  let busy = false;
  const check = () => {
    if (busy) return;
    const shown = query(overlay);
    if (!shown || !shown.getClientRects().length) return;
    const button = query(close);
    if (!button) return;
    busy = true;
    try { button.click(); } finally { busy = false; }
    if (window[binding]) window[binding](name);
  };
  const watch = () => {
    new MutationObserver(check).observe(document, {
      childList: true, subtree: true, attributes: true,
      attributeFilter: ['style', 'class', 'hidden', 'open'],
    });
    check();
  };
  watch();
  document.addEventListener('DOMContentLoaded', check);
}"""

_NOT_CSS = re.compile(r"^[a-z_-]+=|^//|>>|:has-text\(|:text(-is|-matches)?\(|:visible|:nth-match\(")


def plain_css(candidates: tuple[str, ...]) -> bool:
    """True when every candidate is a CSS selector a document can query itself."""
    return all(not _NOT_CSS.search(c) for c in candidates)


def watch(page: PageHost, name: str, overlay: tuple[str, ...], close: tuple[str, ...]) -> None:
    """Install the watcher for overlay ``name`` once in the page's browser context: every
    page (popups too) and frame the context loads from then on runs it. A later call, from
    any page of the context (the next item's), costs no round trip: it only makes that page
    the one whose item the closings are logged to."""
    context = page.raw.context
    state = watched(context) or _install(context, _Watched())
    state.attach(page)
    if name in state.overlays:
        return
    args = state.overlays[name] = [name, list(overlay), list(close), BINDING]
    context.add_init_script(script=f"({WATCHER})({_js(args)})")
    for loaded in context.pages:  # documents loaded already get it too
        if loaded.url == "about:blank":
            continue
        for frame in loaded.frames:
            try:
                frame.evaluate(WATCHER, args)
            except Exception:  # a frame that went away meanwhile
                continue


def watched(context: Any) -> _Watched | None:
    """What ``context`` watches (None: no overlay yet)."""
    return getattr(context, "_deskhand_overlays", None)


def carry_over(state: _Watched | None, context: Any) -> None:
    """Install the overlays of ``state`` (an earlier context's) in a new ``context``."""
    if state is None or not state.overlays:
        return
    _install(context, state)
    for args in state.overlays.values():
        context.add_init_script(script=f"({WATCHER})({_js(args)})")


def _install(context: Any, state: _Watched) -> _Watched:
    """One binding per context, for all its overlays."""
    context._deskhand_overlays = state
    context.expose_binding(BINDING, lambda source, seen: _closed(state, source, seen))
    return state


class _Watched:
    """The overlays a browser context watches, and the logged page of each of its pages."""

    def __init__(self) -> None:
        self.overlays: dict[str, list[Any]] = {}  # name -> the watcher's arguments
        self.hosts: dict[Any, PageHost] = {}  # raw Playwright page -> its logged page
        self.last: PageHost | None = None

    def attach(self, page: PageHost) -> None:
        self.hosts = {raw: host for raw, host in self.hosts.items() if not raw.is_closed()}
        self.hosts[page.raw] = self.last = page

    def host(self, raw: Any) -> PageHost | None:
        """The logged page of ``raw``; for a page that never asked (a popup), the page that
        asked last: the item being worked on."""
        return self.hosts.get(raw, self.last)


def _closed(state: _Watched, source: dict[str, Any], name: str) -> None:
    page = state.host(source.get("page"))
    if page is None:
        return
    frame, path = source.get("frame"), []
    while frame is not None and frame.parent_frame is not None:
        path.insert(0, frame.name or frame.url)
        frame = frame.parent_frame
    page.ctx.action("overlay", element=name, data={"frame": path or None})


def handle_before_actions(
    page: PageHost, name: str, overlay: ElementSpec, closer: ElementSpec
) -> None:
    """The fallback for selectors that are not plain CSS: Playwright's locator handlers,
    checked before every action, in the page and in every frame the repository names."""
    frames = {()} | {s.frames for s in page.selectors.elements.values()}
    for path in sorted(frames):
        root: Any = page.raw
        for frame in path:
            root = root.frame_locator(frame_css(frame))
        page.raw.add_locator_handler(
            _either(root, overlay.candidates), _closer(page, root, name, closer, path)
        )


def _closer(page: PageHost, root: Any, name: str, closer: ElementSpec, path: tuple) -> Callable:
    def close(_overlay: Any) -> None:
        page.ctx.action("overlay", element=name, data={"frame": list(path) or None})
        _either(root, closer.candidates).first.click()

    return close


def _either(root: Any, candidates: tuple[str, ...]) -> Any:
    """A locator matching any of ``candidates`` under ``root``."""
    either = root.locator(playwright_selector(candidates[0]))
    for other in candidates[1:]:
        either = either.or_(root.locator(playwright_selector(other)))
    return either


@contextmanager
def confirm_modal(
    page: PageHost,
    name: str,
    ok: str,
    expect: str | None = None,
    cancel: str | None = None,
    timeout: float | None = None,
) -> Iterator[list[str]]:
    """``page.confirm_modal(...)``: the page's own modal confirm, handled like a dialog."""
    seen: list[str] = []
    yield seen
    modal = page.element(name)
    wait = {} if timeout is None else {"timeout": timeout * 1000}
    try:
        modal.locator.wait_for(state="visible", **wait)
    except Exception:
        raise ApplicationError(
            f"expected the confirmation '{name}', but it did not appear"
        ) from None
    seen.append(modal.text())
    expected = expect is None or expect in seen[0]
    if expected:
        page.element(ok).click()
    elif cancel is not None:
        page.element(cancel).click()
    page.ctx.action("dialog", element=name, data={"message": seen[0], "accepted": expected})
    if not expected:
        raise ApplicationError(f"unexpected confirmation '{seen[0]}' (wanted '{expect}')")
    modal.locator.wait_for(state="hidden", **wait)


def _js(value: Any) -> str:
    import json

    return json.dumps(value)
