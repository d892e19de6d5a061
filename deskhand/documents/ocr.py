"""OCR of page images with tesseract: clean up, deskew, read words with their confidence.

Every page is brought to 300 dpi grayscale, cleared of speckles, straightened (a projection
profile search over +-3 degrees) and read with ``pytesseract.image_to_data``. Word boxes come
back in PDF points, like the words of a text layer.
"""

from __future__ import annotations

import os
import shutil

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract's OpenMP threads fight each other

import numpy as np  # noqa: E402
import pytesseract  # noqa: E402
from PIL import Image, ImageFilter, ImageOps  # noqa: E402

from deskhand.errors import ApplicationError  # noqa: E402

from .model import Word  # noqa: E402

OCR_DPI = 300
LANGUAGE = os.environ.get("DESKHAND_OCR_LANG", "eng")
MIN_WORD_CONFIDENCE = 0.2  # below this a "word" is a speckle or a ruling read as text
PAGE_OPTIONS = "--psm 6"  # one block: tesseract keeps more of the small lone numbers
_checked = False
_MARGIN = 10  # pixels of white around a re-read crop


def check_tesseract() -> None:
    """Raise ApplicationError unless the tesseract program can be run."""
    global _checked
    if _checked:
        return
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr")
    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError as exc:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr") from exc
    _checked = True


def grayscale(image: Image.Image) -> Image.Image:
    """The image as 8-bit grayscale, transparency flattened onto white."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    return image.convert("L")


def prepare(image: Image.Image, dpi: float) -> tuple[Image.Image, float]:
    """Grayscale, despeckled, 300 dpi and deskewed; returns it and its dpi."""
    gray = grayscale(image)
    # Speckles are a pixel or two at the scan's own resolution: remove them before scaling.
    gray = gray.filter(ImageFilter.MedianFilter(3))
    if dpi < OCR_DPI * 0.85 or dpi > OCR_DPI * 1.5:
        scale = OCR_DPI / dpi
        size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
        gray = gray.resize(size, Image.Resampling.LANCZOS)
        dpi = OCR_DPI
    angle = skew_angle(gray)
    if abs(angle) >= 0.05:
        gray = gray.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    return gray, dpi


def binarize(gray: Image.Image) -> Image.Image:
    """Black text on white paper at Otsu's threshold (grey paper and grain gone)."""
    histogram = np.asarray(gray.histogram(), dtype=np.float64)
    p = histogram / max(histogram.sum(), 1)
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega) + 1e-12)
    threshold = int(np.argmax(between))
    return gray.point(lambda v: 255 if v > threshold else 0)


def skew_angle(gray: Image.Image, limit: float = 3.0) -> float:
    """The rotation (degrees, counter-clockwise) that makes the text lines horizontal.

    Projection profile: rotated by the right angle, the rows of a page alternate sharply
    between ink (text lines) and paper, so the row sums vary the most.
    """
    small = gray.reduce(2) if gray.width > 1800 else gray
    ink = small.point(lambda v: 255 if v < 160 else 0)
    if not ink.getbbox():
        return 0.0

    def score(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle, resample=Image.Resampling.NEAREST), dtype=np.float64)
        profile = rows.sum(axis=1)
        return float(np.square(np.diff(profile)).sum())

    best = max(np.arange(-limit, limit + 0.001, 0.25), key=score)
    fine = max(np.arange(best - 0.25, best + 0.2501, 0.05), key=score)
    return round(float(fine), 2)


class OcrPage:
    """One page read by tesseract: its words, and the prepared image to read cells again."""

    def __init__(self, image: Image.Image, dpi: float, page: int):
        check_tesseract()
        self.page = page
        self.image, self.dpi = prepare(image, dpi)  # kept gray: a re-read thresholds its crop
        self.words = _tesseract(binarize(self.image), self.dpi, page, PAGE_OPTIONS)
        if _poor(self.words):
            # Perhaps the page lies on its side or upside down: ask tesseract which way is up.
            turn = _rotation(binarize(self.image))
            if turn:
                turned = self.image.rotate(-turn, expand=True, fillcolor=255)
                retry = _tesseract(binarize(turned), self.dpi, page, PAGE_OPTIONS)
                if sum(w.conf for w in retry) > sum(w.conf for w in self.words):
                    self.image, self.words = turned, retry

    @property
    def size(self) -> tuple[float, float]:
        """The page's width and height in points."""
        return self.image.width * 72 / self.dpi, self.image.height * 72 / self.dpi

    def reread(self, region: tuple[float, float, float, float], options: str) -> list[Word]:
        """Read ``region`` (points) of the page again on its own, with tesseract ``options``."""
        scale = self.dpi / 72
        x0, top, x1, bottom = (max(0, round(v * scale)) for v in region)
        x1, bottom = min(x1, self.image.width), min(bottom, self.image.height)
        if x1 - x0 < 4 or bottom - top < 4:
            return []
        # Thresholded on its own, a crop gets the threshold its few characters need.
        crop = binarize(self.image.crop((x0, top, x1, bottom)))
        ink = ImageOps.invert(crop).getbbox()
        if ink is None:
            return []
        # Tesseract drops a lone small character (a quantity of '1') in a wide blank crop:
        # cut to the ink with a narrow white margin.
        x0, top = x0 + ink[0], top + ink[1]
        framed = ImageOps.expand(crop.crop(ink), border=_MARGIN, fill=255)
        words = _tesseract(framed, self.dpi, self.page, options)
        shift_x, shift_y = (x0 - _MARGIN) / scale, (top - _MARGIN) / scale
        return [
            Word(
                w.text,
                round(w.x0 + shift_x, 2),
                round(w.top + shift_y, 2),
                round(w.x1 + shift_x, 2),
                round(w.bottom + shift_y, 2),
                w.page,
                w.conf,
                ocr=True,
            )
            for w in words
        ]


def _tesseract(image: Image.Image, dpi: float, page: int, options: str) -> list[Word]:
    try:
        data = pytesseract.image_to_data(
            image,
            lang=LANGUAGE,
            config=f"{options} --dpi {round(dpi)}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr") from exc
    except pytesseract.TesseractError as exc:
        raise ApplicationError(f"tesseract failed on page {page}: {exc}") from exc
    to_pt = 72.0 / dpi
    words = []
    for text, conf, left, top, width, height in zip(
        data["text"],
        data["conf"],
        data["left"],
        data["top"],
        data["width"],
        data["height"],
        strict=True,
    ):
        text = text.strip()
        conf = float(conf) / 100
        if not text or conf < MIN_WORD_CONFIDENCE or not _meaningful(text):
            continue
        words.append(
            Word(
                text,
                round(left * to_pt, 2),
                round(top * to_pt, 2),
                round((left + width) * to_pt, 2),
                round((top + height) * to_pt, 2),
                page,
                conf,
                ocr=True,
            )
        )
    return words


def _meaningful(text: str) -> bool:
    return any(ch.isalnum() or ch in "#£€$" for ch in text) or text in ("-", "–", "&", "/")


def _poor(words: list[Word]) -> bool:
    return len(words) < 10 or sum(w.conf for w in words) / len(words) < 0.7


def _rotation(image: Image.Image) -> int:
    """Degrees clockwise that would make the page upright (0 if it is, or cannot tell)."""
    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return 0  # too little text to tell
    return int(osd.get("rotate", 0)) % 360


def open_image(image: Image.Image) -> Image.Image:
    """An opened image file, turned upright as its EXIF orientation says."""
    return ImageOps.exif_transpose(image) or image
