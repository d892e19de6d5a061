"""The desktop as a bot sees it: programs, windows, targets, keyboard, screen text.

``open_desktop(ctx)`` gives a :class:`Desktop` bound to the item's context: its actions are
written to the step log, and a step that fails saves a screenshot of the screen.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..actions import ActionLog
from ..errors import ApplicationError, SelectorNotFound
from ..logs import MASK, slug
from . import ocr, vision
from .screen import Region, mark, save_png
from .session import DesktopSession
from .targets import Found, Miss, Target
from .windows import Program, WindowInfo

DEFAULT_CONFIDENCE = 0.8


class Desktop:
    """The screen, mouse and keyboard of a session, every action logged to ``ctx``."""

    def __init__(
        self,
        session: DesktopSession,
        ctx: ActionLog | None = None,
        images: Path | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.session = session
        self.ctx = ctx
        self.images = Path(images) if images else None
        self.timeout = timeout
        self._evidence: str | None = None

    @property
    def display(self) -> str:
        return self.session.display

    # -- programs and windows -----------------------------------------------------------
    def start(
        self,
        command: Sequence[str],
        window: str | re.Pattern | None = None,
        *,
        name: str | None = None,
        cwd: Path | None = None,
        timeout: float | None = None,
    ) -> Window | None:
        """Start a program (stopped when the run ends) and wait for its ``window``."""
        name = name or Path(str(command[0])).name
        program = self.session.start_program(command, name, cwd)
        self._log("start", name, command=[str(c) for c in command], pid=program.pid)
        return self.window(window, timeout, program) if window is not None else None

    def window(
        self,
        title: str | re.Pattern,
        timeout: float | None = None,
        program: Program | None = None,
        focus: bool = True,
    ) -> Window:
        """Wait for a visible window whose title contains ``title`` (or matches a regex)
        and, with ``focus``, give it the keyboard as a window manager gives a new window."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while True:
            info = self.session.windows.find(title)
            if info is not None:
                self.settle(info.region, quiet=0.1)  # mapped is not yet painted
                self._log("window", info.title, region=info.region.as_list())
                window = Window(self, info)
                if focus:
                    window.focus()
                return window
            if program is not None:
                program.check_running()
            if time.monotonic() >= deadline:
                wanted = title.pattern if isinstance(title, re.Pattern) else title
                titles = ", ".join(f"'{w.title}'" for w in self.session.windows.list()) or "none"
                shot = self._failure_shot(f"window {wanted}", self.session.screen.region)
                raise SelectorNotFound(
                    f"window '{wanted}' did not appear within {limit:g} s on {self.display} "
                    f"(windows: {titles}); screenshot {shot}"
                )
            time.sleep(0.1)

    def find_window(self, title: str | re.Pattern) -> Window | None:
        """The window now, or None (no waiting)."""
        info = self.session.windows.find(title)
        return Window(self, info) if info else None

    def wait_closed(self, title: str | re.Pattern, timeout: float | None = None) -> None:
        """Wait until no visible window's title contains ``title``."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while self.session.windows.find(title) is not None:
            if time.monotonic() >= deadline:
                raise ApplicationError(f"window '{title}' still open after {limit:g} s")
            time.sleep(0.1)
        self._log("closed", str(title))

    # -- targets ------------------------------------------------------------------------
    def image(
        self,
        name: str | Path,
        *,
        confidence: float = DEFAULT_CONFIDENCE,
        region: Region | Target | None = None,
        scales: tuple[float, ...] = vision.DEFAULT_SCALES,
        timeout: float | None = None,
    ) -> Target:
        """A target found by its picture: ``name`` is a PNG in the bot's image folder
        (``selectors/<name>/``) without its suffix, or a path."""
        path = self._image_path(name)
        label = Path(name).stem if isinstance(name, Path) or "/" in str(name) else str(name)

        def locate() -> Found | Miss:
            area = self._area(region)
            match, best = vision.locate(self.session.screen.grab(area), path, confidence, scales)
            if match is None:
                best_region = None
                detail = f"no match at {confidence:.2f}"
                if best is not None:
                    best_region = Region(
                        area.left + best.x, area.top + best.y, best.width, best.height
                    )
                    detail = (
                        f"best match {best.score:.2f} at {best.scale:.0%} scale, "
                        f"needs {confidence:.2f}"
                    )
                return Miss(area, best_region, detail)
            found = Region(area.left + match.x, area.top + match.y, match.width, match.height)
            how = {"by": "image", "score": round(match.score, 3), "scale": match.scale}
            return Found(found, match.score, match.scale, how)

        return Target(self, "image", label, locate, timeout)

    def text(
        self, phrase: str, *, region: Region | Target | None = None, timeout: float | None = None
    ) -> Target:
        """A target found by OCR: the first place (in reading order) where ``phrase`` reads.
        ``region`` limits the search (smaller is faster): a Region, or a target's area."""

        def locate() -> Found | Miss:
            area = self._area(region)
            place = self.session.cached_phrase(area, phrase)
            how = {"by": "text", "ocr": "cached"}
            for psm in ocr.FIND_MODES if place is None else ():
                words, fresh = self.session.words(area, psm)
                places = ocr.find_phrase(words, phrase)
                if places:
                    place, how["ocr"] = places[0], (f"psm {psm}" if fresh else "cached")
                    break
            if place is None:
                return Miss(area, None, "OCR does not read it there")
            return Found(place, 1.0, 1.0, how)

        return Target(self, "text", repr(phrase), locate, timeout)

    def at(self, x: int, y: int, name: str | None = None) -> Target:
        """A fixed point on the screen."""
        spot = Found(Region(x, y, 1, 1), how={"by": "point"})
        return Target(self, "point", name or f"{x},{y}", lambda: spot)

    def area(self, region: Region, name: str | None = None) -> Target:
        """A fixed area of the screen (to read its text)."""
        spot = Found(region, how={"by": "area"})
        return Target(self, "area", name or str(region), lambda: spot)

    # -- keyboard -----------------------------------------------------------------------
    def type(self, text: str, *, secret: bool = False, interval: float = 0.0) -> None:
        """Type ``text`` where the keyboard focus is (any Unicode text)."""
        self._log("type", None, text=MASK if secret else text)
        self.session.typist().type(str(text), interval)

    def press(self, *keys: str) -> None:
        """Press keys one after the other: ``press("tab")``, ``press("down", "enter")``."""
        gui = self._gui()
        from .keyboard import key_name

        names = [key_name(gui, k) for k in keys]
        self._log("press", None, keys=names)
        for name in names:
            gui.press(name)

    def hotkey(self, *keys: str) -> None:
        """Press keys together: ``hotkey("ctrl", "s")``."""
        gui = self._gui()
        from .keyboard import key_name

        names = [key_name(gui, k) for k in keys]
        self._log("hotkey", None, keys=names)
        gui.hotkey(*names)

    # -- reading the screen -------------------------------------------------------------
    def read_text(self, region: Region | None = None) -> str:
        """The text OCR reads in ``region`` (default: the whole screen), line by line."""
        area = self._area(region)
        text = self._read(area)
        self._log("read", None, region=area.as_list(), text=text)
        return text

    def settle(self, region: Region | None = None, quiet: float = 0.05, limit: float = 2.0) -> bool:
        """Wait until ``region`` (default: the screen) has not changed for ``quiet`` seconds
        (a program catching up with input, a window painting itself), at most ``limit``
        seconds; True when it settled."""
        screen = self.session.screen
        deadline = time.monotonic() + limit
        before = screen.raw(region)
        while time.monotonic() < deadline:
            time.sleep(quiet)
            now = screen.raw(region)
            if now == before:
                return True
            before = now
        return False

    def screenshot(self, region: Region | None = None) -> np.ndarray:
        """The pixels of ``region`` (default: the whole screen), BGR."""
        return self.session.screen.grab(region)

    def _read(self, region: Region) -> str:
        words, _ = self.session.words(region, ocr.READ_MODE)
        return ocr.text_of(words)

    # -- evidence -----------------------------------------------------------------------
    def capture(self, folder: Path, stem: str) -> dict[str, Any]:
        """For a failed step: the marked screenshot of a target not found, else the screen."""
        if self._evidence:
            saved, self._evidence = self._evidence, None
            return {"screenshot": saved}
        try:
            path = save_png(self.session.screen.grab(), Path(folder) / f"{stem}.png")
        except Exception:  # the display is gone: nothing to photograph
            return {}
        return {"screenshot": f"screenshots/{path.name}"}

    def _failure_shot(self, what: str, searched: Region, best: Region | None = None) -> str:
        self.session.shots += 1
        ctx = self.ctx
        if ctx is not None:
            folder = ctx.run.log.screenshots
            ref = slug(ctx.current.reference, 24) if ctx.current else "run"
            stem = f"{ref}-a{ctx.attempt}-notfound{self.session.shots}-{slug(what, 30)}"
        else:
            folder = self.session.folder / "screenshots"
            stem = f"notfound{self.session.shots}-{slug(what, 30)}"
        try:
            image = mark(self.session.screen.grab(), searched, best)
            path = save_png(image, folder / f"{stem}.png")
        except Exception as exc:
            return f"not saved ({exc})"
        self._evidence = f"screenshots/{path.name}"
        return str(path)

    def _not_found(self, target: Target, miss: Miss, limit: float) -> SelectorNotFound:
        shot = self._failure_shot(f"{target.kind} {target.name}", miss.searched, miss.best)
        self._log("not_found", target, searched=miss.searched.as_list(), detail=miss.detail)
        hint = (
            f" in selectors/{self.images.name}/" if target.kind == "image" and self.images else ""
        )
        return SelectorNotFound(
            f"{target.kind} target {target.name} not found within {limit:g} s "
            f"(searched {miss.searched}{': ' + miss.detail if miss.detail else ''}); "
            f"check the program's state or the target{hint}; screenshot {shot}"
        )

    # -- internals ----------------------------------------------------------------------
    def _gui(self) -> Any:
        return self.session.gui()

    def _area(self, region: Region | Target | None) -> Region:
        screen = self.session.screen.region
        if isinstance(region, Target):
            region = region.find().region
        return screen if region is None else region.clip(screen)

    def _image_path(self, name: str | Path) -> Path:
        path = Path(name)
        if path.suffix.lower() == ".png" or path.is_absolute() or "/" in str(name):
            return path
        if self.images is None:
            raise ApplicationError(
                f"image '{name}': this desktop has no image folder; open_desktop(ctx, "
                "images=NAME) for selectors/NAME/, or pass a path"
            )
        return self.images / f"{name}.png"

    def _log(self, action: str, target: Target | str | None, **data: Any) -> None:
        if self.ctx is None:
            return
        element = target.name if isinstance(target, Target) else target
        self.ctx.action(action, element=element, data=data or None)
        self.ctx.last_page = self


class Window:
    """A top-level window; its targets are searched inside it only."""

    def __init__(self, desktop: Desktop, info: WindowInfo) -> None:
        self.desktop = desktop
        self.info = info

    @property
    def title(self) -> str:
        return self.info.title

    @property
    def region(self) -> Region:
        """Where the window is now (it may have moved); its last place once it is gone."""
        current = self.desktop.session.windows.find(self.info.title)
        if current is not None and current.id == self.info.id:
            self.info = current
        return self.info.region

    def focus(self) -> Window:
        """Send the keyboard to this window."""
        self.desktop.session.windows.focus(self.info.id)
        self.desktop._log("focus", self.title)
        return self

    def is_open(self) -> bool:
        return any(w.id == self.info.id for w in self.desktop.session.windows.list())

    def text(self, phrase: str, timeout: float | None = None) -> Target:
        return self.desktop.text(phrase, region=self.region, timeout=timeout)

    def image(self, name: str | Path, **options: Any) -> Target:
        return self.desktop.image(name, region=self.region, **options)

    def read_text(self) -> str:
        """The window's text by OCR, once it has stopped changing."""
        region = self.region
        self.desktop.settle(region)
        return self.desktop.read_text(region)

    def wait_closed(self, timeout: float | None = None) -> None:
        """Wait until this window is gone."""
        limit = self.desktop.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while self.is_open():
            if time.monotonic() >= deadline:
                raise ApplicationError(f"window '{self.title}' still open after {limit:g} s")
            time.sleep(0.05)
        self.desktop._log("closed", self.title)
