"""Page images made ready for OCR: measured first, changed only as far as the page needs.

``measure`` estimates how large the page's characters are in pixels (the scan's effective
resolution, whatever the file's dpi says) and how speckled it is; ``scale_for`` picks the
factor that brings small print to the size tesseract reads best. ``plain`` is the page as
scanned at that size (grayscale, straightened, ruled lines painted out); ``variants`` are the
prepared pages (threshold and despeckle; contrast) that the OCR tries only when the plain read
is unsure, keeping one only when it raises the mean word confidence.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

RULE_LENGTH = 100  # pixels (1/3 inch at 300 dpi): a straight ink run this long is a rule
TARGET_HEIGHT = 22.0  # median character height (pixels) tesseract reads best: 10 pt at 300 dpi
SMALL_HEIGHT = 12.0  # below this the print is too small for tesseract: scale it up
LARGE_HEIGHT = 45.0  # above this (and a fine scan) it is larger than needed: scale it down
MAX_UPSCALE = 4.0
SPECKLED = 0.6  # a page whose ink blobs are mostly specks (dust, grain, fax noise)


@dataclass(frozen=True)
class Measure:
    """What a page image looks like: its characters' median height in pixels (None when it
    has too few to tell) and the share of its ink blobs that are specks."""

    char_height: float | None
    speckle: float


def grayscale(image: Image.Image) -> Image.Image:
    """The image as 8-bit grayscale, transparency flattened onto white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


def measure(gray: np.ndarray) -> Measure:
    """The page's character height and speckle, from its connected ink blobs (Otsu's
    threshold; blobs taller than 1/8 of the page or far wider than tall are not characters).
    On a speckled page the height is measured on the page despeckled: clusters of grain are
    not characters."""
    height, speckle = _blobs(gray)
    if speckle > SPECKLED:
        height = _blobs(cv2.medianBlur(gray, 3))[0] or height
    return Measure(height, speckle)


def _blobs(gray: np.ndarray) -> tuple[float | None, float]:
    _, ink = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    count, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if count < 2:
        return None, 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    widths = stats[1:, cv2.CC_STAT_WIDTH]
    areas = stats[1:, cv2.CC_STAT_AREA]
    specks = (areas <= 4) & (heights <= 2)
    chars = (heights >= 4) & (heights <= gray.shape[0] / 8) & (widths <= 3 * heights) & (areas >= 8)
    height = float(np.median(heights[chars])) if chars.sum() >= 20 else None
    return height, float(specks.sum()) / max(1, count - 1)


def scale_for(found: Measure, dpi: float) -> float:
    """The factor that brings the page's print to a size tesseract reads well: small print
    up to TARGET_HEIGHT whatever the file says (a 70 dpi scan, an untagged photo); a scan
    under 255 dpi up to 300 dpi (unless its print is large already: then the dpi the file
    states is wrong); a needlessly fine scan (over 450 dpi, large print) down."""
    height = found.char_height
    by_dpi = min(MAX_UPSCALE, 300 / dpi) if dpi < 255 else 1.0
    if height is None:
        return by_dpi
    if height < SMALL_HEIGHT:
        return min(MAX_UPSCALE, TARGET_HEIGHT / height)
    if by_dpi > 1 and height * by_dpi <= 2 * TARGET_HEIGHT:
        return by_dpi
    if height > LARGE_HEIGHT and dpi > 450:
        return max(300 / dpi, TARGET_HEIGHT * 1.5 / height)
    return 1.0


def resize(gray: np.ndarray, factor: float) -> np.ndarray:
    """``gray`` scaled by ``factor`` (area averaging down, cubic up)."""
    if abs(factor - 1.0) < 0.02:
        return gray
    size = (max(1, round(gray.shape[1] * factor)), max(1, round(gray.shape[0] * factor)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC)


def plain(gray: np.ndarray, found: Measure | None = None) -> np.ndarray:
    """The page as scanned, straightened (lines of text must be rows for the layout that
    reads fields) and its ruled lines (table and box borders) painted white: tesseract reads
    a ruled box as a picture and drops the text inside it. The text's own pixels are not
    thresholded or filtered, except that a page measured as speckled (``found``: most of its
    ink blobs are specks) is despeckled, at the reading size, where strokes are wider than
    the 3-pixel filter (at the scan's own size a 70 dpi page's strokes were not)."""
    if found is not None and found.speckle > SPECKLED:
        gray = cv2.medianBlur(gray, 3)
    angle = skew_angle(gray)
    if abs(angle) >= 0.05:
        gray = rotate(gray, angle)
    rules = _rules(_otsu(gray))
    if rules is None:
        return gray
    cleaned = gray.copy()
    cleaned[rules > 0] = 255
    return cleaned


def variants(straight: np.ndarray, found: Measure) -> list[tuple[str, np.ndarray]]:
    """The prepared pages to try when the plain read (``straight``: plain's image) is
    unsure, most promising first: despeckled (a page with some specks; plain has done a
    speckled one) and thresholded; and contrast-stretched (CLAHE) for a faint or unevenly
    lit photo."""
    clean = straight
    if 0.3 < found.speckle <= SPECKLED:
        clean = cv2.medianBlur(clean, 3)  # at the reading size: strokes are wider than 3
    threshold = _otsu(clean)
    rules = _rules(threshold)
    if rules is not None:
        threshold[rules > 0] = 255
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(straight)
    return [("threshold", threshold), ("contrast", clahe)]


def binarize(gray: Image.Image) -> Image.Image:
    """Black text on white paper at Otsu's threshold (grey paper and grain gone)."""
    return Image.fromarray(_otsu(np.asarray(gray)))


def without_rules(binary: Image.Image) -> Image.Image:
    """The black-on-white ``binary`` image with its ruled lines (ink runs longer than any
    character) painted white."""
    pixels = np.asarray(binary)
    rules = _rules(pixels)
    if rules is None:
        return binary
    cleaned = pixels.copy()
    cleaned[rules > 0] = 255
    return Image.fromarray(cleaned)


def _otsu(gray: np.ndarray) -> np.ndarray:
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return binary


def _rules(binary: np.ndarray) -> np.ndarray | None:
    """The mask of the ruled lines of a black-on-white image (dilated over their soft
    edges), None if it has none."""
    ink = np.where(binary < 128, 255, 0).astype(np.uint8)
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (RULE_LENGTH, 1))
    vertical = cv2.getStructuringElement(cv2.MORPH_RECT, (1, RULE_LENGTH))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, horizontal)
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, vertical)
    if not rules.any():
        return None
    return cv2.dilate(rules, np.ones((3, 3), np.uint8))


def rotate(gray: np.ndarray, angle: float) -> np.ndarray:
    """``gray`` turned ``angle`` degrees counter-clockwise about its centre, on white."""
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (width, height), flags=cv2.INTER_CUBIC, borderValue=255)


def skew_angle(gray: np.ndarray, limit: float = 3.0) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines horizontal.

    Projection profile: rotated by the right angle, the rows of a page alternate sharply
    between ink (text lines) and paper, so the row sums vary the most. Only the ink pixels'
    coordinates are turned (at half resolution), not the image.
    """
    small = gray
    if gray.shape[1] > 1800:
        half = (gray.shape[1] // 2, gray.shape[0] // 2)
        small = cv2.resize(gray, half, interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(small < 160)
    if not len(xs):
        return 0.0
    xs = xs - small.shape[1] // 2  # whole pixels: at 0 degrees every row stays a row
    ys = ys - small.shape[0] // 2

    def score(angle: float) -> float:
        theta = np.deg2rad(angle)
        rows = np.floor(ys * np.cos(theta) - xs * np.sin(theta)).astype(np.int64)
        profile = np.bincount(rows - rows.min()).astype(np.float64)
        return float(np.square(np.diff(profile)).sum())

    best = max(np.arange(-limit, limit + 0.001, 0.25), key=score)
    fine = max(np.arange(best - 0.25, best + 0.2501, 0.05), key=score)
    return round(float(fine), 2)
