"""OCR of page images: the page read as it is first, prepared only where that reads better.

Each page is measured (how large its characters are in pixels, how speckled it is: see
prepare.py), small print is scaled up to the size tesseract reads best (a 70 dpi scan to an
effective ~300 dpi; never past the pixel budget of limits.py), and the plain page (grayscale,
straightened, ruled lines painted out) is read first. Only when that read is unsure (mean
word confidence under UNSURE) are the prepared variants read too (threshold + despeckle;
contrast),
and one is kept only if it raises the mean word confidence without losing text: a page is
never read worse than plainly. The engine (tesseract, rapidocr, auto: engines.py) reads the
words; word boxes come back in PDF points, like the words of a text layer. Tesseract runs
in-process through its library where it can be loaded (tessapi.py), else as a program.
"""

from __future__ import annotations

import dataclasses
import io
import os

os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # tesseract's OpenMP threads fight each other

import numpy as np  # noqa: E402
import pytesseract  # noqa: E402, F401  (tests point it at a missing program)
from PIL import Image, ImageOps  # noqa: E402

from . import engines, limits, prepare  # noqa: E402
from .engines import LANGUAGE, MIN_WORD_CONFIDENCE, check_tesseract  # noqa: E402, F401
from .model import Word  # noqa: E402
from .prepare import binarize, grayscale, skew_angle, without_rules  # noqa: E402, F401

OCR_DPI = 300
PAGE_OPTIONS = "--psm 6"  # one block: tesseract keeps more of the small lone numbers
# A plain read with a lower mean word confidence tries the prepared variants. Measured on
# the SROIE receipts (bench/ocr_quality.py): chosen by confidence, the variants of a page
# read between 0.70 and 0.85 lowered the character error rate by under 1 % of itself and
# doubled the time; only a poor read is worth a second pass.
UNSURE = 0.70
# auto: a plain read this sure tries the threshold variant before escalating (the demo's
# 200 dpi photo reads under 0.85 plainly and over ESCALATE thresholded: tesseract suffices)
NEAR = 0.70
# ocr_engine="auto": a page whose best tesseract read (plain or prepared) is under this goes
# to RapidOCR. Chosen on the corpus (bench/real_documents.py): every real receipt and photo
# reads under it (0.90 sends 62 of its 64 scanned pages, SROIE 88.0 % of fields against
# tesseract's 72.0 %), clean invoice scans read over it (the demo scans 0.92 to 0.95).
ESCALATE = 0.90
GAIN = 0.01  # a variant must raise the mean confidence by this much to be kept
KEEP_TEXT = 0.85  # ... and keep this share of the plain read's characters
_checked = False  # kept for callers that reset it: engines.check_tesseract remembers
_MARGIN = 10  # pixels of white around a re-read crop
RULE_LENGTH = prepare.RULE_LENGTH


def image_dpi(image: Image.Image) -> float:
    """The resolution an image file states (its dpi tag), or 300 when it states none or a
    value no scanner makes."""
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 50 <= value <= 1200 else float(OCR_DPI)


def reading_scale(image: Image.Image, dpi: float) -> float:
    """The factor by which OCR scales ``image`` (scanned at ``dpi``) before reading it."""
    return _at_reading_size(np.asarray(grayscale(image)), dpi)[2]


def _at_reading_size(gray: np.ndarray, dpi: float) -> tuple[np.ndarray, prepare.Measure, float]:
    """The grayscale page scaled to the size it is read at, its measure, and the factor."""
    budget = limits.ocr_scale(gray.shape[1], gray.shape[0], 1.0)
    if budget < 1.0:  # measured, thresholded, labelled below: reduce a huge page first
        gray = prepare.resize(gray, budget)
    found = prepare.measure(gray)
    wanted = prepare.scale_for(found, dpi * budget)
    scale = limits.ocr_scale(gray.shape[1], gray.shape[0], wanted)
    return prepare.resize(gray, scale), found, budget * scale


def read_page(image: Image.Image, dpi: float, page: int, engine: str | None = None) -> OcrPage:
    """``image`` (page ``page``, scanned at ``dpi``) read by OCR with ``engine``."""
    return OcrPage(image, dpi, page, engine=engine)


class OcrPage:
    """One page read by OCR: its words, how it was read, and the image to read cells again.

    ``variant`` says which image gave the words ("plain", "threshold", "contrast"),
    ``engine`` which engine ("tesseract" or "rapidocr"), ``scale`` how much the scan was
    enlarged (or reduced) first.
    """

    def __init__(self, image: Image.Image, dpi: float, page: int, engine: str | None = None):
        self.page = page
        self.engine = engines.engine_name(engine)
        if self.engine != "rapidocr":
            check_tesseract()
        self._again: dict[tuple, list[Word]] = {}  # re-read regions, by pixels and options
        gray, found, self.scale = _at_reading_size(np.asarray(grayscale(image)), dpi)
        del image  # the caller's copy only: one decoded page at a time
        self.dpi = dpi * self.scale
        self.variant = "plain"
        plain = prepare.plain(gray, found)
        del gray
        self.image = Image.fromarray(plain)
        if self.engine == "rapidocr":
            self._rapidocr(plain)
            return
        self.words = self._read(plain)  # the one read most pages get
        auto, self.engine = self.engine == "auto", "tesseract"
        blank = not self.words and found.char_height is None  # no text, no character ink
        escalate = (
            auto
            and not blank  # a blank page costs RapidOCR memory for nothing
            and engines.rapidocr_installed()  # without the ocr extra, tesseract's read stays
        )
        sure = engines.mean_confidence(self.words)
        if escalate and sure < ESCALATE:
            if sure >= NEAR:  # nearly sure: perhaps thresholded it is, and tesseract suffices
                self._try_variants(plain, found, first_only=True)
            if engines.mean_confidence(self.words) < ESCALATE:
                # a photo, a thermal receipt, a faint scan: tesseract's variants would cost
                # reads that RapidOCR makes moot
                self._rapidocr(plain)
            return
        if _unsure(self.words):
            self._try_variants(plain, found)
        if _poor(self.words):
            self._upright()

    def _try_variants(self, plain: np.ndarray, found: prepare.Measure, first_only=False) -> None:
        """Read the prepared variants of the page; keep one only if it reads surer."""
        for name, candidate in prepare.variants(plain, found):
            if name == "contrast" and (first_only or not _poor(self.words)):
                break  # a third read only for a page still poor: each read costs a pass
            words = self._read(candidate)
            if _better(words, self.words):
                self.words, self.variant = words, name
                self.image = Image.fromarray(candidate)
            if not _unsure(self.words):
                break

    def _rapidocr(self, plain: np.ndarray) -> None:
        """Read the page with RapidOCR, as enlarged for tesseract: its text lines are cut
        from the page at most engines.RAPID_SIDE long (a small scan read at its own size
        lost characters: '.69002')."""
        self.words = engines.rapidocr(plain, self.dpi, self.page)
        self.variant, self.engine = "plain", "rapidocr"
        self.image = Image.fromarray(plain)

    def state(self) -> dict:
        """What restored() needs to answer re-reads as this page would: the image (PNG), its
        resolution and how it was read, and the regions read again so far."""
        from . import pagecache

        if not self._png:
            buffer = io.BytesIO()
            self.image.save(buffer, "PNG", compress_level=1)
            png = buffer.getvalue()
        else:
            png = self._png
        return {
            "page": self.page,
            "engine": self.engine,
            "variant": self.variant,
            "scale": self.scale,
            "dpi": self.dpi,
            "png": pagecache.encode(png),
            "again": [[list(k), pagecache.dump_words(w)] for k, w in self._again.items()],
            "words": pagecache.dump_words(self.words),
        }

    @classmethod
    def restored(cls, state: dict) -> OcrPage:
        """The page as state() kept it, without reading it again."""
        from . import pagecache

        page = cls.__new__(cls)
        page.page, page.engine, page.variant = state["page"], state["engine"], state["variant"]
        page.scale, page.dpi = float(state["scale"]), float(state["dpi"])
        page._png = pagecache.decode(state["png"])
        page._image = None
        with Image.open(io.BytesIO(page._png)) as image:  # the header only: its size
            page._pixels = image.size
        page._again = {tuple(k): pagecache.words(w) for k, w in state["again"]}
        page.words = pagecache.words(state["words"])
        return page

    @property
    def image(self) -> Image.Image:
        """The image the words were read from (grayscale, at ``dpi``)."""
        if self._image is None:
            self._image = Image.open(io.BytesIO(self._png))
            self._image.load()
        return self._image

    @image.setter
    def image(self, value: Image.Image) -> None:
        self._image, self._png, self._pixels = value, b"", value.size

    def release(self) -> None:
        """Keep the image compressed (PNG) until a re-read needs it: the pages of a long
        document do not all stay in memory decoded."""
        if self._image is not None:
            buffer = io.BytesIO()
            self._image.save(buffer, "PNG", compress_level=1)
            self._png, self._image = buffer.getvalue(), None

    def _read(self, image: np.ndarray | Image.Image) -> list[Word]:
        return engines.tesseract(image, self.dpi, self.page, PAGE_OPTIONS)

    def _upright(self) -> None:
        """Perhaps the page lies on its side or upside down: ask tesseract which way is up,
        and keep the turned read if it is surer."""
        turn = engines.rotation(self.image)
        if turn:
            turned = self.image.rotate(-turn, expand=True, fillcolor=255)  # exact quarter turns
            retry = self._read(turned)
            if sum(w.conf for w in retry) > sum(w.conf for w in self.words):
                self.image, self.words = turned, retry

    @property
    def size(self) -> tuple[float, float]:
        """The page's width and height in points."""
        return self._pixels[0] * 72 / self.dpi, self._pixels[1] * 72 / self.dpi

    def reread(self, region: tuple[float, float, float, float], options: str) -> list[Word]:
        """Read ``region`` (points) of the page again on its own, with tesseract ``options``."""
        return self.reread_many([region], options)[0]

    def reread_many(
        self, regions: list[tuple[float, float, float, float]], options: str
    ) -> list[list[Word]]:
        """Read each region again on its own: by tesseract's library in-process (tessapi.py:
        a crop costs ~10 ms), else all in one run of the tesseract program (its start-up,
        not the reading, is most of what a small crop costs there); the same region and
        options asked again are answered from memory."""
        scale = self.dpi / 72
        keys = []
        todo: dict[tuple, tuple[Image.Image, float, float]] = {}
        for region in regions:
            x0, top, x1, bottom = (max(0, round(v * scale)) for v in region)
            key = (min(x1, self._pixels[0]), min(bottom, self._pixels[1]), x0, top, options)
            keys.append(key)
            if key not in self._again and key not in todo:
                crop = self._crop(x0, top, key[0], key[1])
                if crop is None:
                    self._again[key] = []
                else:
                    todo[key] = crop
        if todo:
            images = [image for image, _, _ in todo.values()]
            read = engines.tesseract_many(images, self.dpi, self.page, options)
            for (key, (_, dx, dy)), words in zip(todo.items(), read, strict=True):
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
        if self._png:
            self._image = None  # released: decoded again only for the next re-read
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


def _unsure(words: list[Word]) -> bool:
    return len(words) < 10 or engines.mean_confidence(words) < UNSURE


def _poor(words: list[Word]) -> bool:
    return len(words) < 10 or sum(w.conf for w in words) / len(words) < 0.7


def _better(words: list[Word], than: list[Word]) -> bool:
    """Whether ``words`` read surer than ``than`` (by the mean confidence of their
    characters) without dropping text."""
    chars, before = sum(len(w.text) for w in words), sum(len(w.text) for w in than)
    gain = engines.mean_confidence(words) - engines.mean_confidence(than)
    return gain > GAIN and chars >= KEEP_TEXT * before


def open_image(image: Image.Image) -> Image.Image:
    """An opened image file, turned upright as its EXIF orientation says."""
    return ImageOps.exif_transpose(image) or image
