"""What the screen looked like a moment ago, and pictures cut from it.

:class:`ScreenHistory` samples the screen in a thread and keeps its last distinct states,
timed; ``frame_before(t)`` answers "what was on the screen just before t". The desktop
recorder cuts each click's picture from the screen as it was before the pointer arrived,
so the picture shows what a bot will see, not a hover highlight.
"""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np

from .screen import Screen

UNIQUE_BELOW = 0.95  # another place matching this well makes a picture ambiguous


class ScreenHistory:
    """The last ``keep`` distinct screen states of a display, sampled every ``interval`` s."""

    def __init__(self, display: str, keep: int = 40, interval: float = 0.05) -> None:
        self.display = display
        self.interval = interval
        self.frames: deque[tuple[float, np.ndarray]] = deque(maxlen=keep)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="screen-history")

    def start(self) -> ScreenHistory:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def frame_before(self, t: float) -> np.ndarray | None:
        """The screen (BGR) as it was just before ``t`` (``time.monotonic()``); the oldest
        state kept when ``t`` is older than that, None before the first sample."""
        with self._lock:
            frames = list(self.frames)
        earlier = [pixels for when, pixels in frames if when < t]
        if earlier:
            return earlier[-1]
        return frames[0][1] if frames else None

    def _sample(self) -> None:
        screen = Screen(self.display)
        size = (screen.region.height, screen.region.width, 4)
        last = b""
        try:
            while not self._stop.is_set():
                raw = screen.raw()
                if raw != last:
                    pixels = np.frombuffer(raw, np.uint8).reshape(size)[:, :, :3]
                    with self._lock:
                        self.frames.append((time.monotonic(), pixels))
                    last = raw
                self._stop.wait(self.interval)
        finally:
            screen.close()


def cut(frame: np.ndarray, x: int, y: int, width: int, height: int):
    """(picture, offset): the ``width`` x ``height`` picture centred on (x, y) as far as the
    screen's edges allow, and the offset of (x, y) from the picture's centre."""
    rows, cols = frame.shape[:2]
    left = min(max(0, x - width // 2), max(0, cols - width))
    top = min(max(0, y - height // 2), max(0, rows - height))
    picture = np.ascontiguousarray(frame[top : top + height, left : left + width])
    center = (left + picture.shape[1] // 2, top + picture.shape[0] // 2)
    return picture, (x - center[0], y - center[1])


def is_unique(frame: np.ndarray, picture: np.ndarray) -> bool:
    """True when ``picture`` (cut from ``frame``) matches nowhere else in ``frame``."""
    import cv2

    gray = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_BGR2GRAY)
    template = cv2.cvtColor(picture, cv2.COLOR_BGR2GRAY)
    if template.std() < 1:  # a flat patch matches everywhere
        return False
    scores = cv2.matchTemplate(gray, template, cv2.TM_CCOEFF_NORMED)
    _, _, _, (bx, by) = cv2.minMaxLoc(scores)
    h, w = template.shape
    scores[max(0, by - h // 2) : by + h // 2 + 1, max(0, bx - w // 2) : bx + w // 2 + 1] = -1
    return float(scores.max()) < UNIQUE_BELOW
