"""A frame-scoped page: ``app.frame("content")`` is a logged page inside an iframe.

Its elements are looked up inside the frame: an element whose repository ``frame:`` starts
with this frame is found relative to it; any other element is looked for inside it with its
own frames. ``goto`` loads the frame, ``expect_navigation`` waits for it; dialogs, popups
and evidence belong to the page that holds the frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from ..errors import ApplicationError
from ..selectors import ElementSpec, frame_css
from .page import WebPage

if TYPE_CHECKING:
    from playwright.sync_api import Frame, Locator


class FramePage(WebPage):
    """The page in iframe ``name`` of ``parent`` (itself possibly a frame)."""

    def __init__(self, parent: WebPage, name: str) -> None:
        super().__init__(parent.raw, parent.ctx, parent.selectors, parent.base_url)
        self.parent = parent
        self.name = name
        self.path: tuple[str, ...] = getattr(parent, "path", ()) + (name,)
        self.is_popup = parent.is_popup
        self._kept = parent._kept

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
