"""OCR engines behind one interface: a grayscale page image in, words with boxes (points)
and confidences (0..1) out.

- ``tesseract``: tesseract's library called in-process (tessapi.py: what
  ``pytesseract.image_to_data`` gives, without a process and a model load per read), or the
  tesseract program through pytesseract where the library cannot be loaded; also reads
  regions again with special options (one line, a character whitelist).
- ``rapidocr``: RapidOCR's PP-OCR detection and recognition models (ONNX, shipped inside the
  ``rapidocr`` wheel: no download), stronger on photos and faint thermal receipts, slower.
- ``auto`` (default): tesseract, and RapidOCR for a page whose best tesseract read is unsure
  (ocr.ESCALATE): clean scans cost what tesseract costs, receipts and photos are read well.

The engine is chosen by ``extract(..., ocr_engine=...)``, else the ``DESKHAND_OCR_ENGINE``
environment variable, else auto.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

import numpy as np
import pytesseract
from PIL import Image

from deskhand.errors import ApplicationError, ConfigError

from . import tessapi
from .model import Word

ENGINES = ("tesseract", "rapidocr", "auto")
DEFAULT = "auto"  # by the corpus's figures: see ocr.ESCALATE and the README
LANGUAGE = os.environ.get("DESKHAND_OCR_LANG", "eng")
MIN_WORD_CONFIDENCE = 0.2  # below this a short "word" is a speckle or a ruling read as text
# Signs that are text when printed alone ('Total : 9.00', 'Qty 2 @ 4.50', '= 12.00',
# '6 %'), kept from tesseract's read when it is this sure of them; specks are read as
# '.', ',', '|', '_', '~' or quotes, and lone ones of those stay dropped. On the SROIE
# receipts dropping the signs cost 0.4 % of character error rate (bench/ocr_quality.py).
SIGNS = frozenset(":=*%@+")
SIGN_CONFIDENCE = 0.5
_checked: str | bool = False  # the tesseract program path last found to run
# RapidOCR reads a page at most RAPID_SIDE pixels long (its own default). Its detector's
# memory grows with its input's pixels: ~0.65 GB at 2000 x 1400, ~0.9 GB for the whole read
# of a 300 dpi A4 page. A detector limited to 1600 pixels took ~0.7 GB but lost characters
# on the demo's 200 dpi photo ('.69002'), so the limit stays RapidOCR's.
RAPID_SIDE = 2000
_rapid = None
_installed: bool | None = None  # rapidocr_installed(), once per process
_rapid_lock = threading.Lock()


def engine_name(setting: str | None = None) -> str:
    """The engine to use: ``setting``, else $DESKHAND_OCR_ENGINE, else DEFAULT; ConfigError
    for a name that is none of ENGINES."""
    name = (setting or os.environ.get("DESKHAND_OCR_ENGINE") or DEFAULT).strip().lower()
    if name not in ENGINES:
        raise ConfigError(
            f"unknown OCR engine {name!r}: set ocr_engine (or DESKHAND_OCR_ENGINE) to one of "
            f"{', '.join(ENGINES)}"
        )
    return name


def rapidocr_installed() -> bool:
    """True when the second engine can be loaded (the ``ocr`` extra: rapidocr, onnxruntime).
    ``auto`` keeps tesseract's read without it; ``rapidocr`` asked by name says what to
    install. Looked up once per process (a package is not installed mid-run)."""
    global _installed
    if _installed is None:
        import importlib.util

        _installed = all(
            importlib.util.find_spec(m) is not None for m in ("rapidocr", "onnxruntime")
        )
    return _installed


def check_tesseract() -> None:
    """Raise ApplicationError unless the tesseract program can be run (looked up once per
    program path: pointed elsewhere, it is looked up again)."""
    global _checked
    command = pytesseract.pytesseract.tesseract_cmd
    if _checked == command:
        return
    if shutil.which(pytesseract.pytesseract.tesseract_cmd) is None:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr")
    try:
        pytesseract.get_tesseract_version()
    except pytesseract.TesseractNotFoundError as exc:
        raise ApplicationError("tesseract not found: apt-get install tesseract-ocr") from exc
    _checked = command


def tesseract(image: Image.Image | np.ndarray, dpi: float, page: int, options: str) -> list[Word]:
    """The words tesseract reads on ``image`` (``dpi`` converts its pixels to points)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image)
    return _words(_image_to_data(image, dpi, page, options), dpi, page)


def tesseract_many(
    images: list[Image.Image], dpi: float, page: int, options: str
) -> list[list[Word]]:
    """The words of each image, read by one tesseract process (a list file of images:
    tesseract reads each as a page of its own; its start-up is most of a small crop's cost)."""
    if len(images) == 1 or _in_process(options):
        return [tesseract(image, dpi, page, options) for image in images]
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


def rapidocr(image: np.ndarray, dpi: float, page: int) -> list[Word]:
    """The words RapidOCR reads on the grayscale ``image``, each with its own box and score."""
    result = _rapid_engine()(np.dstack([image] * 3), return_word_box=True)
    if getattr(result, "boxes", None) is None:
        return []  # nothing detected (a blank page): word_results is then one empty entry
    to_pt = 72.0 / dpi
    words = []
    for line in getattr(result, "word_results", None) or ():
        for entry in line:
            if not isinstance(entry, tuple | list) or len(entry) != 3 or entry[2] is None:
                continue  # an entry without a box
            text, score, quad = entry
            text = str(text).strip()
            if not text or not meaningful(text):
                continue
            xs = [float(p[0]) for p in quad]
            ys = [float(p[1]) for p in quad]
            box = (min(xs) * to_pt, min(ys) * to_pt, max(xs) * to_pt, max(ys) * to_pt)
            words.append(Word(text, *(round(v, 2) for v in box), page, float(score), ocr=True))
    return words


def _rapid_engine():
    """RapidOCR, loaded once per process (its models take a second to load)."""
    global _rapid
    with _rapid_lock:
        if _rapid is None:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise ConfigError(
                    "the rapidocr OCR engine is not installed: pip install rapidocr onnxruntime, "
                    "or set ocr_engine to tesseract"
                ) from exc
            threads = int(os.environ.get("OMP_THREAD_LIMIT", "1") or 1)
            _rapid = RapidOCR(
                params={
                    "Global.log_level": "error",
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                    "EngineConfig.onnxruntime.enable_cpu_mem_arena": False,  # freed after a page
                    "Global.max_side_len": RAPID_SIDE,
                }
            )
        return _rapid


def _in_process(options: str) -> bool:
    """Whether reads with ``options`` go to libtesseract in-process (tessapi.py)."""
    if not tessapi.available():
        return False
    try:
        tessapi.parse_options(options, 300)
    except tessapi.OptionsError:
        return False
    return True


def _image_to_data(image: Image.Image | str, dpi: float, page: int, options: str) -> dict:
    if not isinstance(image, str) and _in_process(options):
        gray = np.asarray(image if image.mode == "L" else image.convert("L"))
        try:
            return tessapi.image_to_data(gray, dpi, options, LANGUAGE)
        except RuntimeError as exc:
            raise ApplicationError(f"tesseract failed on page {page}: {exc}") from exc
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
        if not text or conf < 0:
            continue
        if not meaningful(text) and not (conf >= SIGN_CONFIDENCE and _signs(text)):
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


def _signs(text: str) -> bool:
    """Whether ``text`` is made of SIGNS only (':', '=', '**', '@')."""
    return all(ch in SIGNS for ch in text)


def meaningful(text: str) -> bool:
    """Whether a read 'word' carries a letter, digit or sign (not a lone speck of ink)."""
    return any(ch.isalnum() or ch in "#£€$" for ch in text) or text in ("-", "–", "&", "/")


def mean_confidence(words: list[Word]) -> float:
    """The words' confidence, each weighted by its length (0 for no words)."""
    chars = sum(len(w.text) for w in words)
    return sum(w.conf * len(w.text) for w in words) / chars if chars else 0.0


def rotation(image: Image.Image) -> int:
    """Degrees clockwise that would make the page upright (0 if it is, or cannot tell)."""
    try:
        osd = pytesseract.image_to_osd(image, output_type=pytesseract.Output.DICT)
    except pytesseract.TesseractError:
        return 0  # too little text to tell
    return int(osd.get("rotate", 0)) % 360
