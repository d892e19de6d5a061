"""Targets: something on the screen to click, type into or read, found when it is used.

A target is found by image (:meth:`Desktop.image`), by OCR text (:meth:`Desktop.text`), or
by an offset from another target, its anchor (:meth:`Target.offset`, :meth:`Target.right_of`,
:meth:`Target.below`). Every use waits for the target up to its time limit; a target that
never shows raises SelectorNotFound after saving a screenshot with the searched region
marked. Every action is written to the step log.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .protocols import DesktopHost
from .screen import Region

POLL = 0.1  # seconds between two looks at the screen
ORIGINS = ("center", "left", "right", "top", "bottom", "top-left", "bottom-left")


@dataclass
class Found:
    """Where a target was found, and how sure the finder is."""

    region: Region
    score: float = 1.0
    scale: float = 1.0
    how: dict[str, Any] = field(default_factory=dict)
    pixels: bytes = b""  # the region's pixels when it was found

    def describe(self) -> dict[str, Any]:
        return {"region": self.region.as_list(), **self.how}


@dataclass
class Miss:
    """Why the last look found nothing (for the message and the failure screenshot)."""

    searched: Region
    best: Region | None = None
    detail: str = ""


# A locator looks once: it returns a Found, or a Miss saying what it saw instead.
Locator = Callable[[], "Found | Miss"]


class Target:
    """A thing on the screen, found by ``locate`` each time it is used."""

    def __init__(
        self,
        desktop: DesktopHost,
        kind: str,
        name: str,
        locate: Locator,
        timeout: float | None = None,
    ) -> None:
        self.desktop = desktop
        self.kind = kind  # image, text, offset, point
        self.name = name
        self._locate = locate
        self.timeout = timeout
        self.last: Found | None = None  # where find() found it last

    def __repr__(self) -> str:
        return f"<{self.kind} target {self.name}>"

    # -- finding ------------------------------------------------------------------------
    def find(self, timeout: float | None = None) -> Found:
        """Wait until the target shows (up to its time limit) and return where it is."""
        limit = self._limit(timeout)
        deadline = time.monotonic() + limit
        while True:
            result = self._locate()
            if isinstance(result, Found):
                result.pixels = self.desktop.session.screen.raw(result.region)
                self.last = result
                return result
            if time.monotonic() >= deadline:
                raise self.desktop._not_found(self, result, limit)
            time.sleep(POLL)

    def exists(self) -> bool:
        """True when the target is on the screen right now (no waiting)."""
        return isinstance(self._locate(), Found)

    def wait_gone(self, timeout: float | None = None) -> None:
        """Wait until the target is no longer on the screen (a list or dialog closing).

        After a find (a click, a read), that is when what was found is no longer drawn where
        it was (its pixels changed): no new search needed. Otherwise: until it is not found.
        """
        from ..errors import ApplicationError

        limit = self._limit(timeout)
        deadline = time.monotonic() + limit
        screen = self.desktop.session.screen
        last = self.last

        def present() -> bool:
            if last is not None:
                return screen.raw(last.region) == last.pixels
            return isinstance(self._locate(), Found)

        while present():
            if time.monotonic() >= deadline:
                raise ApplicationError(f"{self} still on the screen after {limit:g} s")
            time.sleep(POLL)
        self.desktop._log("gone", self)

    def _limit(self, timeout: float | None) -> float:
        if timeout is not None:
            return timeout
        return self.timeout if self.timeout is not None else self.desktop.timeout

    # -- anchors ------------------------------------------------------------------------
    def offset(
        self,
        dx: int = 0,
        dy: int = 0,
        *,
        origin: str = "center",
        width: int | None = None,
        height: int | None = None,
        name: str | None = None,
    ) -> Target:
        """A target ``dx``, ``dy`` pixels from a point of this one (its ``origin``: center,
        left, right, top, bottom, top-left or bottom-left edge point). With ``width`` and
        ``height`` it is an area whose top-left corner is that point (for
        :meth:`read_text`); otherwise a point. Distances grow with an image anchor's scale.
        """
        if origin not in ORIGINS:
            raise ValueError(f"origin must be one of {', '.join(ORIGINS)}")
        label = name or f"{self.name}{dx:+d}{dy:+d}@{origin}"

        def locate() -> Found | Miss:
            anchor = self._locate()
            if isinstance(anchor, Miss):
                return anchor
            r, s = anchor.region, anchor.scale
            x, y = {
                "center": r.center,
                "left": (r.left, r.center[1]),
                "right": (r.right, r.center[1]),
                "top": (r.center[0], r.top),
                "bottom": (r.center[0], r.bottom),
                "top-left": (r.left, r.top),
                "bottom-left": (r.left, r.bottom),
            }[origin]
            x, y = x + round(dx * s), y + round(dy * s)
            if width is None or height is None:
                region = Region(x, y, 1, 1)
            else:
                region = Region(x, y, round(width * s), round(height * s))
            how = {"by": "offset", "anchor": self.name, "anchor_region": r.as_list()}
            return Found(region, anchor.score, s, how)

        return Target(self.desktop, "offset", label, locate, self.timeout)

    def right_of(self, px: int = 16, name: str | None = None) -> Target:
        """The point ``px`` pixels right of this target's right edge (the field beside a
        label)."""
        return self.offset(px, 0, origin="right", name=name)

    def below(self, px: int = 16, name: str | None = None) -> Target:
        """The point ``px`` pixels below this target's bottom edge, at its left edge + 8."""
        return self.offset(8, px, origin="bottom-left", name=name)

    # -- actions ------------------------------------------------------------------------
    def click(self, button: str = "left") -> Target:
        found = self.find()
        x, y = found.region.center
        self.desktop._log("click", self, at=[x, y], button=button, found=found.describe())
        self.desktop._gui().click(x, y, button=button)
        self.desktop.settle(limit=0.5)  # let the program take the click first
        return self

    def double_click(self) -> Target:
        found = self.find()
        x, y = found.region.center
        self.desktop._log("double_click", self, at=[x, y], found=found.describe())
        self.desktop._gui().doubleClick(x, y, interval=0.05)
        self.desktop.settle(limit=0.5)
        return self

    def right_click(self) -> Target:
        return self.click(button="right")

    def fill(self, text: str, secret: bool = False) -> Target:
        """Click the field, select what it holds (Ctrl+A) and type ``text`` over it."""
        self.click()
        self.desktop.hotkey("ctrl", "a")
        self.desktop.type(text, secret=secret)
        return self

    def read_text(self, timeout: float | None = None) -> str:
        """The text OCR reads in the target's area."""
        found = self.find(timeout)
        text = self.desktop._read(found.region)
        self.desktop._log("read", self, region=found.region.as_list(), text=text)
        return text
