"""Screen regions and screenshots (mss: X11 with no desktop environment needed).

Images are numpy arrays in OpenCV's BGR order; regions are in screen pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import numpy as np

MARK = (0, 0, 255)  # the searched region, drawn in red (BGR) on failure screenshots
FOUND = (0, 160, 0)  # the best candidate that was not good enough, in green


class Region(NamedTuple):
    """A rectangle on the screen: left, top, width, height in pixels."""

    left: int
    top: int
    width: int
    height: int

    @property
    def right(self) -> int:
        return self.left + self.width

    @property
    def bottom(self) -> int:
        return self.top + self.height

    @property
    def center(self) -> tuple[int, int]:
        return self.left + self.width // 2, self.top + self.height // 2

    def contains(self, x: int, y: int) -> bool:
        return self.left <= x < self.right and self.top <= y < self.bottom

    def clip(self, other: Region) -> Region:
        """This region cut to ``other`` (the screen); an empty region when they do not meet."""
        left, top = max(self.left, other.left), max(self.top, other.top)
        right, bottom = min(self.right, other.right), min(self.bottom, other.bottom)
        return Region(left, top, max(0, right - left), max(0, bottom - top))

    def grow(self, by: int) -> Region:
        return Region(self.left - by, self.top - by, self.width + 2 * by, self.height + 2 * by)

    def shift(self, dx: int, dy: int) -> Region:
        return Region(self.left + dx, self.top + dy, self.width, self.height)

    def __str__(self) -> str:
        return f"{self.width}x{self.height} at {self.left},{self.top}"

    def as_list(self) -> list[int]:
        return [self.left, self.top, self.width, self.height]


class Screen:
    """Screenshots of one X display."""

    def __init__(self, display: str) -> None:
        import mss

        factory = getattr(mss, "MSS", None) or mss.mss  # mss 10 renamed the factory
        self.display = display
        self._mss = factory(display=display)
        monitor = self._mss.monitors[0]
        self.region = Region(monitor["left"], monitor["top"], monitor["width"], monitor["height"])

    def grab(self, region: Region | None = None) -> np.ndarray:
        """The pixels of ``region`` (default: the whole screen), BGR."""
        area = (region or self.region).clip(self.region)
        if area.width == 0 or area.height == 0:
            return np.zeros((0, 0, 3), np.uint8)
        shot = self._mss.grab(
            {"left": area.left, "top": area.top, "width": area.width, "height": area.height}
        )
        return np.ascontiguousarray(np.asarray(shot)[:, :, :3])

    def raw(self, region: Region | None = None) -> bytes:
        """The pixels of ``region`` as bytes: the cheap way to tell whether it changed."""
        area = (region or self.region).clip(self.region)
        if area.width == 0 or area.height == 0:
            return b""
        return self._mss.grab(
            {"left": area.left, "top": area.top, "width": area.width, "height": area.height}
        ).raw

    def close(self) -> None:
        try:
            self._mss.close()
        except Exception:
            pass


def save_png(image: np.ndarray, path: Path) -> Path:
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image):
        raise OSError(f"cannot write {path}")
    return path


def mark(image: np.ndarray, searched: Region, best: Region | None = None) -> np.ndarray:
    """A copy of a full-screen image with the searched region (red) and the best but
    rejected candidate (green) outlined, and a label saying which is which."""
    import cv2

    marked = image.copy()
    cv2.rectangle(marked, searched[:2], (searched.right - 1, searched.bottom - 1), MARK, 3)
    label_at = (searched.left + 4, max(searched.top - 6, 14))
    cv2.putText(marked, "searched", label_at, cv2.FONT_HERSHEY_SIMPLEX, 0.5, MARK, 1)
    if best is not None:
        cv2.rectangle(marked, best[:2], (best.right - 1, best.bottom - 1), FOUND, 2)
        cv2.putText(
            marked, "best", (best.left, best.bottom + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.5, FOUND, 1
        )
    return marked
