"""Finding an image on the screen: OpenCV template matching across scales.

The template is matched in grayscale with normalised correlation (``TM_CCOEFF_NORMED``,
1.0 is a perfect match). Programs drawn larger (a 125 % desktop, bigger fonts) are found by
trying the template enlarged in 5 % steps, from 100 % to 150 % by default, then halfway
between the best step and its neighbours. The scale that last worked for a template is
tried first, so a bot pays for the search once per run.

Text is not drawn by scaling pixels: at 125 % a button's label scores about 0.85 against
its 100 % picture, while a different button of the same size scores about 0.5 to 0.65.
Hence the default confidence of 0.8; raise it for targets that only ever appear at 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError

DEFAULT_SCALES = tuple(round(1.0 + 0.05 * n, 2) for n in range(11))  # 1.00 .. 1.50


@dataclass(frozen=True)
class ImageMatch:
    """Where a template matched best: top-left in the searched image, size, score, scale."""

    x: int
    y: int
    width: int
    height: int
    score: float
    scale: float


_templates: dict[tuple[Path, float], np.ndarray] = {}
_last_scale: dict[Path, float] = {}


def load_template(path: Path) -> np.ndarray:
    """The template in grayscale; a ConfigError naming the file when it cannot be read."""
    import cv2

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"image target {path} not found: record it or fix the name")
    key = (path, path.stat().st_mtime)  # a picture recorded again is read again
    if key not in _templates:
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ConfigError(f"image target {path} is not an image (PNG expected)")
        _templates[key] = image
    return _templates[key]


def best_match(haystack: np.ndarray, template: np.ndarray, scale: float) -> ImageMatch | None:
    """The best place for ``template`` enlarged by ``scale`` in ``haystack`` (both gray)."""
    import cv2

    if scale != 1.0:
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        template = cv2.resize(template, None, fx=scale, fy=scale, interpolation=interpolation)
    height, width = template.shape[:2]
    if height > haystack.shape[0] or width > haystack.shape[1]:
        return None
    scores = cv2.matchTemplate(haystack, template, cv2.TM_CCOEFF_NORMED)
    np.nan_to_num(scores, copy=False, nan=0.0, posinf=0.0, neginf=0.0)  # flat areas
    _, score, _, (x, y) = cv2.minMaxLoc(scores)
    return ImageMatch(x, y, width, height, float(score), scale)


def locate(
    haystack_bgr: np.ndarray,
    path: Path,
    confidence: float,
    scales: tuple[float, ...] = DEFAULT_SCALES,
) -> tuple[ImageMatch | None, ImageMatch | None]:
    """(match, best): ``match`` when some scale reaches ``confidence``; ``best`` is the best
    candidate seen either way (for the failure message and screenshot)."""
    import cv2

    template = load_template(path)
    haystack = cv2.cvtColor(haystack_bgr, cv2.COLOR_BGR2GRAY)
    preferred = _last_scale.get(path, scales[0])
    order = [preferred] + [s for s in scales if s != preferred]
    best: ImageMatch | None = None
    for scale in order:
        found = best_match(haystack, template, scale)
        if found is None:
            continue
        if best is None or found.score > best.score:
            best = found
        if scale == preferred and found.score >= confidence:
            return found, found  # the scale that worked before works again: done
    if best is not None and best.score < confidence and best.score >= confidence - 0.15:
        # near miss: drawn sizes fall between the steps; try halfway to the neighbours
        step = min((abs(a - b) for a, b in zip(scales, scales[1:])), default=0.05)
        for delta in (-step / 2, step / 2, -step / 4, step / 4):
            found = best_match(haystack, template, round(best.scale + delta, 4))
            if found is not None and found.score > best.score:
                best = found
    if best is not None and best.score >= confidence:
        _last_scale[path] = best.scale
        return best, best
    return None, best
