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

OCR_REGIONS = 8  # regions whose recent OCR results are kept
OCR_HISTORY = 4  # results kept per region: a dropdown or dialog over it comes and goes


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
        self._ocr: OrderedDict[Region, list[tuple[np.ndarray, int, list[ocr.Word]]]] = OrderedDict()
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
    def start_program(self, command: Sequence[str], name: str, cwd: Path | None = None) -> Program:
        import os

        env = {**os.environ, "DISPLAY": self.display}
        log = self.folder / "programs" / f"{slug(name)}.log"
        program = Program(command, log, cwd=cwd, env=env)
        self.programs.append(program)
        return program

    # -- OCR ----------------------------------------------------------------------------
    def words(self, region: Region, psm: int) -> tuple[list[ocr.Word], bool]:
        """(words, fresh) read in ``region`` now with page mode ``psm``; OCR runs again only
        when the pixels differ from every recent read of the same region in that mode."""
        image = self.screen.grab(region)
        for pixels, mode, found in self._ocr.get(region, ()):
            if mode == psm and np.array_equal(pixels, image):
                return found, False
        found = ocr.words(image, origin=(region.left, region.top), psm=psm)
        self._remember(region, image, psm, found)
        return found, True

    def cached_phrase(self, region: Region, phrase: str) -> Region | None:
        """The first place ``phrase`` read in a recent OCR of ``region`` (any mode) whose
        pixels are still the same now, so that no OCR is needed; None when there is none."""
        image = self.screen.grab(region)
        bounds = Region(0, 0, image.shape[1], image.shape[0])
        for pixels, _, found in self._ocr.get(region, ()):
            if pixels.shape != image.shape:
                continue
            for place in ocr.find_phrase(found, phrase):
                box = place.grow(2).shift(-region.left, -region.top).clip(bounds)
                rows, cols = slice(box.top, box.bottom), slice(box.left, box.right)
                if np.array_equal(pixels[rows, cols], image[rows, cols]):
                    return place
        return None

    def _remember(self, region: Region, image: np.ndarray, psm: int, found: list[ocr.Word]) -> None:
        reads = self._ocr.pop(region, [])
        self._ocr[region] = [(image, psm, found), *reads[: OCR_HISTORY - 1]]
        while len(self._ocr) > OCR_REGIONS:
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
