"""What the items of one run share on the desktop: the display, its screen, mouse and
keyboard, an OCR cache and the programs started. Closed when the run ends."""

from __future__ import annotations

import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..logs import slug
from . import ocr
from .display import Xvfb, start_xvfb
from .keyboard import Typist, pyautogui_on
from .screen import Region, Screen
from .windows import Program, Windows

OCR_CACHE = 8  # regions whose last OCR is kept


class DesktopSession:
    """One display and everything opened on it; :meth:`close` stops what it started."""

    def __init__(self, virtual: bool | None = None, folder: Path | None = None) -> None:
        self.virtual = virtual
        self.folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="deskhand-"))
        self.display = ""
        self.closed = False
        self.xvfb: Xvfb | None = None
        self.screen: Screen | None = None
        self.windows: Windows | None = None
        self.programs: list[Program] = []
        self._typist: Typist | None = None
        self._gui: Any = None
        self._ocr: OrderedDict[Region, tuple[np.ndarray, list[ocr.Word]]] = OrderedDict()
        self.shots = 0

    def start(self) -> DesktopSession:
        import os

        from ..errors import ConfigError

        current = os.environ.get("DISPLAY")
        if self.virtual is False and not current:
            raise ConfigError("this bot needs a screen: set DISPLAY (or allow Xvfb)")
        try:
            if current and not self.virtual:
                self.display = current
            else:
                self.xvfb = start_xvfb()
                self.display = self.xvfb.display
            self.screen = Screen(self.display)
            self.windows = Windows(self.display)
        except Exception:
            self.close()
            raise
        return self

    @property
    def is_virtual(self) -> bool:
        return self.xvfb is not None

    # -- input --------------------------------------------------------------------------
    def gui(self) -> Any:
        """pyautogui on this display (imported on first use)."""
        if self._gui is None:
            self._gui = pyautogui_on(self.display, failsafe=not self.is_virtual)
        return self._gui

    def typist(self) -> Typist:
        if self._typist is None:
            self._typist = Typist(self.display)
        return self._typist

    # -- programs -----------------------------------------------------------------------
    def start_program(
        self, command: Sequence[str], name: str, cwd: Path | None = None
    ) -> Program:
        import os

        env = {**os.environ, "DISPLAY": self.display}
        log = self.folder / "programs" / f"{slug(name)}.log"
        program = Program(command, log, cwd=cwd, env=env)
        self.programs.append(program)
        return program

    # -- OCR ----------------------------------------------------------------------------
    def words(self, region: Region) -> tuple[np.ndarray, list[ocr.Word], bool]:
        """(pixels, words, fresh) for ``region`` now; OCR runs again only when the pixels
        changed since the last read of the same region."""
        image = self.screen.grab(region)
        cached = self._ocr.get(region)
        if cached is not None and np.array_equal(cached[0], image):
            self._ocr.move_to_end(region)
            return image, cached[1], False
        found = ocr.words(image, origin=(region.left, region.top))
        self._remember(region, image, found)
        return image, found, True

    def cached_phrase(self, region: Region, phrase: str) -> tuple[np.ndarray, Region | None]:
        """The first place ``phrase`` read in the last OCR of ``region`` whose pixels are
        still the same now (no OCR); ``None`` when there is none."""
        image = self.screen.grab(region)
        cached = self._ocr.get(region)
        if cached is None or cached[0].shape != image.shape:
            return image, None
        for place in ocr.find_phrase(cached[1], phrase):
            box = place.grow(2).shift(-region.left, -region.top)
            box = box.clip(Region(0, 0, image.shape[1], image.shape[0]))
            rows = slice(box.top, box.bottom)
            cols = slice(box.left, box.right)
            if np.array_equal(cached[0][rows, cols], image[rows, cols]):
                return image, place
        return image, None

    def _remember(self, region: Region, image: np.ndarray, found: list[ocr.Word]) -> None:
        self._ocr[region] = (image, found)
        self._ocr.move_to_end(region)
        while len(self._ocr) > OCR_CACHE:
            self._ocr.popitem(last=False)

    # -- the end ------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the programs started (last first), give the keyboard back, stop Xvfb."""
        if self.closed:
            return
        self.closed = True
        for program in reversed(self.programs):
            program.stop()
        if self._gui is not None:
            try:
                self._gui.platformModule._display.close()
            except Exception:
                pass
        for part in (self._typist, self.windows, self.screen):
            if part is not None:
                part.close()
        if self.xvfb is not None:
            self.xvfb.stop()
        self._ocr.clear()
