"""Overlays closed as soon as they appear, in every frame, at no cost to other actions.

``app.on_overlay("maintenance", close="maintenance_close")`` installs a small watcher in
every document the page (and each of its frames) loads: when an element matching the
overlay's selectors is shown, it clicks the close element and tells deskhand, which logs an
``overlay`` action with the frame it was in. Playwright's ``add_locator_handler`` does the
same by checking the overlay before every action, in every frame it was registered for:
that doubled the cost of each action, so it is only the fallback for selectors that are not
plain CSS (``text=...``, ``xpath=...``, ``>>`` chains), which the watcher cannot query.
"""

from __future__ import annotations

import re
from typing import Any

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
    """Install the watcher for overlay ``name`` in the page's every document, now and later."""
    raw = page.raw
    if not getattr(raw, "_deskhand_overlays", False):
        raw.expose_binding(BINDING, lambda source, seen: _closed(page, source, seen))
        raw._deskhand_overlays = True
    args = [name, list(overlay), list(close), BINDING]
    raw.add_init_script(script=f"({WATCHER})({_js(args)})")
    if raw.url != "about:blank":  # documents loaded already get it too
        for frame in raw.frames:
            try:
                frame.evaluate(WATCHER, args)
            except Exception:  # a frame that went away meanwhile
                continue


def _closed(page: PageHost, source: dict[str, Any], name: str) -> None:
    frame, path = source.get("frame"), []
    while frame is not None and frame.parent_frame is not None:
        path.insert(0, frame.name or frame.url)
        frame = frame.parent_frame
    page.ctx.action("overlay", element=name, data={"frame": path or None})


def _js(value: Any) -> str:
    import json

    return json.dumps(value)
