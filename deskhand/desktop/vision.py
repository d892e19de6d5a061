"""Finding an image on the screen: OpenCV template matching across scales.

The template is matched in grayscale with normalised correlation (``TM_CCOEFF_NORMED``,
1.0 is a perfect match). Programs drawn larger (a 125 % desktop, bigger fonts) are found by
trying the template enlarged in steps, from 100 % to 150 % by default. The scale that last
worked for a template is tried first, so a bot pays for the search once per run.
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


_templates: dict[Path, np.ndarray] = {}
_last_scale: dict[Path, float] = {}


def load_template(path: Path) -> np.ndarray:
    """The template in grayscale; a ConfigError naming the file when it cannot be read."""
    import cv2

    path = Path(path)
    if path not in _templates:
        if not path.is_file():
            raise ConfigError(f"image target {path} not found: record it or fix the name")
        image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise ConfigError(f"image target {path} is not an image (PNG expected)")
        _templates[path] = image
    return _templates[path]


def best_match(
    haystack: np.ndarray, template: np.ndarray, scale: float
) -> ImageMatch | None:
    """The best place for ``template`` enlarged by ``scale`` in ``haystack`` (both gray)."""
    import cv2

    if scale != 1.0:
        size = (max(1, round(template.shape[1] * scale)), max(1, round(template.shape[0] * scale)))
        interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
        template = cv2.resize(template, size, interpolation=interpolation)
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
    if best is not None and best.score >= confidence:
        _last_scale[path] = best.scale
        return best, best
    return None, best
