"""OCR of page images with tesseract: clean up, deskew, read words with their confidence.

Every page is brought to 300 dpi grayscale, cleared of speckles, straightened (a projection
profile search over +-3 degrees) and read with ``pytesseract.image_to_data``. Word boxes come
back in PDF points, like the words of a text layer.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import tempfile

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract's OpenMP threads fight each other

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pytesseract  # noqa: E402
from PIL import Image, ImageOps  # noqa: E402

from deskhand.errors import ApplicationError  # noqa: E402

from .model import Word  # noqa: E402

OCR_DPI = 300
LANGUAGE = os.environ.get("DESKHAND_OCR_LANG", "eng")
MIN_WORD_CONFIDENCE = 0.2  # below this a short "word" is a speckle or a ruling read as text
PAGE_OPTIONS = "--psm 6"  # one block: tesseract keeps more of the small lone numbers
_checked = False
_MARGIN = 10  # pixels of white around a re-read crop
RULE_LENGTH = 100  # pixels (1/3 inch at 300 dpi): a straight ink run this long is a rule


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
    """Grayscale, despeckled, 300 dpi and deskewed; returns it and its dpi.

    OpenCV does the pixel work: a page costs tens of milliseconds here, not the second
    Pillow's median filter and rotations took, so the OCR pass itself dominates.
    """
    gray = np.asarray(grayscale(image))
    # Speckles are a pixel or two at the scan's own resolution: remove them before scaling.
    gray = cv2.medianBlur(gray, 3)
    if dpi < OCR_DPI * 0.85 or dpi > OCR_DPI * 1.5:
        scale = OCR_DPI / dpi
        size = (max(1, round(gray.shape[1] * scale)), max(1, round(gray.shape[0] * scale)))
        smaller = scale < 1
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if smaller else cv2.INTER_CUBIC)
        dpi = OCR_DPI
    angle = skew_angle(gray)
    if abs(angle) >= 0.05:
        gray = _rotate(gray, angle, cv2.INTER_CUBIC)
    return Image.fromarray(gray), dpi


def _rotate(gray: np.ndarray, angle: float, interpolation: int) -> np.ndarray:
    """``gray`` turned ``angle`` degrees counter-clockwise about its centre, on white."""
    height, width = gray.shape
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(gray, matrix, (width, height), flags=interpolation, borderValue=255)


def binarize(gray: Image.Image) -> Image.Image:
    """Black text on white paper at Otsu's threshold (grey paper and grain gone)."""
    histogram = np.asarray(gray.histogram(), dtype=np.float64)
    p = histogram / max(histogram.sum(), 1)
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(256))
    between = (mu[-1] * omega - mu) ** 2 / (omega * (1 - omega) + 1e-12)
    threshold = int(np.argmax(between))
    return gray.point(lambda v: 255 if v > threshold else 0)


def without_rules(binary: Image.Image) -> Image.Image:
    """The black-on-white ``binary`` image with its ruled lines (table and box borders,
    underlines: ink runs longer than any character) painted white. Tesseract reads a ruled
    box as a picture and drops the text inside it; without the rules it reads the text."""
    pixels = np.asarray(binary)
    ink = np.where(pixels < 128, 255, 0).astype(np.uint8)
    horizontal = cv2.getStructuringElement(cv2.MORPH_RECT, (RULE_LENGTH, 1))
    vertical = cv2.getStructuringElement(cv2.MORPH_RECT, (1, RULE_LENGTH))
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, horizontal)
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, vertical)
    if not rules.any():
        return binary
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8))  # the rule's soft edges too
    cleaned = pixels.copy()
    cleaned[rules > 0] = 255
    return Image.fromarray(cleaned)


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


class OcrPage:
    """One page read by tesseract: its words, and the prepared image to read cells again."""

    def __init__(self, image: Image.Image, dpi: float, page: int):
        check_tesseract()
        self.page = page
        self._again: dict[tuple, list[Word]] = {}  # re-read regions, by pixels and options
        self.image, self.dpi = prepare(image, dpi)  # kept gray: a re-read thresholds its crop
        self.words = _tesseract(without_rules(binarize(self.image)), self.dpi, page, PAGE_OPTIONS)
        if _poor(self.words):
            # Perhaps the page lies on its side or upside down: ask tesseract which way is up.
            turn = _rotation(binarize(self.image))
            if turn:
                turned = self.image.rotate(-turn, expand=True, fillcolor=255)  # exact quarter turns
                retry = _tesseract(without_rules(binarize(turned)), self.dpi, page, PAGE_OPTIONS)
                if sum(w.conf for w in retry) > sum(w.conf for w in self.words):
                    self.image, self.words = turned, retry

    @property
    def size(self) -> tuple[float, float]:
        """The page's width and height in points."""
        return self.image.width * 72 / self.dpi, self.image.height * 72 / self.dpi

    def reread(self, region: tuple[float, float, float, float], options: str) -> list[Word]:
        """Read ``region`` (points) of the page again on its own, with tesseract ``options``."""
        return self.reread_many([region], options)[0]

    def reread_many(
        self, regions: list[tuple[float, float, float, float]], options: str
    ) -> list[list[Word]]:
        """Read each region again on its own, all in one run of tesseract (its start-up,
        not the reading, is most of what a small crop costs); the same region and options
        asked again are answered from memory."""
        scale = self.dpi / 72
        keys = []
        todo: dict[tuple, tuple[Image.Image, float, float]] = {}
        for region in regions:
            x0, top, x1, bottom = (max(0, round(v * scale)) for v in region)
            key = (min(x1, self.image.width), min(bottom, self.image.height), x0, top, options)
            keys.append(key)
            if key not in self._again and key not in todo:
                crop = self._crop(x0, top, key[0], key[1])
                if crop is None:
                    self._again[key] = []
                else:
                    todo[key] = crop
        if todo:
            images = [image for image, _, _ in todo.values()]
            for (key, (_, dx, dy)), words in zip(
                todo.items(), _tesseract_many(images, self.dpi, self.page, options), strict=True
            ):
                self._again[key] = [
                    dataclasses.replace(
                        w,
                        x0=round(w.x0 + dx, 2),
                        top=round(w.top + dy, 2),
                        x1=round(w.x1 + dx, 2),
                        bottom=round(w.bottom + dy, 2),
                    )
                    for w in words
                ]
        return [self._again[key] for key in keys]

    def _crop(self, x0: int, top: int, x1: int, bottom: int):
        """The region thresholded on its own and cut to its ink with a white margin, and
        the shift (points) back to page coordinates; None for a blank or tiny region."""
        if x1 - x0 < 4 or bottom - top < 4:
            return None
        # Thresholded on its own, a crop gets the threshold its few characters need.
        crop = without_rules(binarize(self.image.crop((x0, top, x1, bottom))))
        ink = ImageOps.invert(crop).getbbox()
        if ink is None:
            return None
        # Tesseract drops a lone small character (a quantity of '1') in a wide blank crop:
        # cut to the ink with a narrow white margin.
        x0, top = x0 + ink[0], top + ink[1]
        framed = ImageOps.expand(crop.crop(ink), border=_MARGIN, fill=255)
        scale = self.dpi / 72
        return framed, (x0 - _MARGIN) / scale, (top - _MARGIN) / scale


def _tesseract(image: Image.Image, dpi: float, page: int, options: str) -> list[Word]:
    return _words(_image_to_data(image, dpi, page, options), dpi, page)


def _tesseract_many(
    images: list[Image.Image], dpi: float, page: int, options: str
) -> list[list[Word]]:
    """The words of each image, read by one tesseract process (a list file of images:
    tesseract reads each as a page of its own)."""
    if len(images) == 1:
        return [_tesseract(images[0], dpi, page, options)]
    with tempfile.TemporaryDirectory(prefix="deskhand-ocr-") as folder:
        paths = []
        for number, image in enumerate(images, start=1):
            path = os.path.join(folder, f"{number:04d}.png")
            image.save(path, dpi=(dpi, dpi), compress_level=1)
            paths.append(path)
        listing = os.path.join(folder, "images.txt")
        with open(listing, "w", encoding="utf-8") as f:
            f.write("\n".join(paths) + "\n")
        data = _image_to_data(listing, dpi, page, options)
    return [_words(data, dpi, page, image=n) for n in range(1, len(images) + 1)]


def _image_to_data(image: Image.Image | str, dpi: float, page: int, options: str) -> dict:
    try:
        return pytesseract.image_to_data(
            image,
            lang=LANGUAGE,
            config=f"{options} --dpi {round(dpi)}",
            output_type=pytesseract.Output.DICT,
        )
    except pytesseract.TesseractNotFoundError as exc:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr") from exc
    except pytesseract.TesseractError as exc:
        raise ApplicationError(f"tesseract failed on page {page}: {exc}") from exc


def _words(data: dict, dpi: float, page: int, image: int | None = None) -> list[Word]:
    """Words of tesseract's output (of its ``image``-th input image, for a list file)."""
    to_pt = 72.0 / dpi
    words = []
    for number, text, conf, left, top, width, height in zip(
        data["page_num"],
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
        if image is not None and number != image:
            continue
        if not text or conf < 0 or not _meaningful(text):
            continue
        if conf < MIN_WORD_CONFIDENCE and not _word_like(text):
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


def _word_like(text: str) -> bool:
    """Three letters or more and nothing else: a real word tesseract was unsure of (a bold
    column header at 0.02), not a speckle; its low confidence goes with it."""
    core = text.strip(".:,;")
    return len(core) >= 3 and core.isalpha()


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
