"""Opening a document file: checks, pages, text layer or OCR, extraction, the result cache."""

from __future__ import annotations

import copy
import hashlib
import warnings
from collections import OrderedDict
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from deskhand.errors import ConfigError, DocumentError

from . import invoice, ocr, pdf
from .model import BBox, Document, Word

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
MAX_PIXELS = 60_000_000  # an A4 page at 600 dpi is 35 megapixels; more is a bomb or a poster
MAX_PAGES = 200
DEFAULT_IMAGE_DPI = 300.0  # for images that do not say how they were scanned
KINDS = {"invoice": invoice.extract}
CACHE_SIZE = 256

_cache: OrderedDict[tuple[str, str], Document] = OrderedDict()


def fingerprint(path: str | Path) -> str:
    """The sha256 of the file's bytes, in hex: the same document gives the same fingerprint."""
    path = Path(path)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError as exc:
        raise DocumentError(f"{path.name} not found ({path}): check the path") from exc
    return digest.hexdigest()


def extract(path: str | Path, kind: str = "invoice") -> Document:
    """Read the document at ``path`` as ``kind``: its fields with confidence and line items.

    PDF pages with a text layer are read from it; scanned pages and image files (PNG, JPG,
    TIFF) go through OCR. Results are cached by the file's content, so reading the same
    document again (a retried work item) costs nothing. Raises DocumentError (a
    BusinessError) for a file that cannot be read as a document.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}")
    path = Path(path)
    data = _read_bytes(path)
    key = (hashlib.sha256(data).hexdigest(), kind)
    if key in _cache:
        _cache.move_to_end(key)
        return _copy(_cache[key], path)
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        words, sizes, ocr_pages, rereaders = _pdf_pages(path, data)
    else:
        words, sizes, ocr_pages, rereaders = _image_pages(path)

    def reread(page: int, region: BBox, options: str) -> list[Word]:
        return rereaders[page].reread(region, options) if page in rereaders else []

    fields, lines, text = KINDS[kind](words, sizes, reread if rereaders else None)
    document = Document(path, kind, len(sizes), ocr_pages, fields, lines, text)
    _cache[key] = _copy(document, path)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return document


def clear_cache() -> None:
    """Forget every cached result (the next extract reads the file again)."""
    _cache.clear()


def _copy(document: Document, path: Path) -> Document:
    copied = copy.deepcopy(document)
    copied.file = path
    return copied


def _read_bytes(path: Path) -> bytes:
    if not path.exists():
        raise DocumentError(f"{path.name} not found ({path}): check the path and the file name")
    if path.is_dir():
        raise DocumentError(f"{path.name} is a folder, not a document: pass a file inside it")
    suffix = path.suffix.lower()
    if suffix not in PDF_SUFFIXES + IMAGE_SUFFIXES:
        shown = suffix or "(none)"
        raise DocumentError(
            f"{path.name}: unsupported file type {shown} (deskhand reads "
            f"{', '.join(PDF_SUFFIXES + IMAGE_SUFFIXES)}): export it as PDF"
        )
    data = path.read_bytes()
    if not data:
        raise DocumentError(
            f"{path.name} is empty (0 bytes): the download or scan did not finish; fetch it again"
        )
    if suffix in PDF_SUFFIXES:
        pdf.check_header(path, data[:1024])
    return data


def _pdf_pages(path: Path, data: bytes):
    with pdf.open_pdf(path) as document:
        sizes = pdf.page_sizes(document)
        if not sizes:
            raise DocumentError(f"{path.name} has no pages: ask the sender to re-export it")
        if len(sizes) > MAX_PAGES:
            raise DocumentError(f"{path.name} has {len(sizes)} pages, over {MAX_PAGES}: split it")
        layers = pdf.page_words(document, path)
    words: list[Word] = []
    ocr_pages, rereaders = [], {}
    for number, (layer, (width, height)) in enumerate(zip(layers, sizes, strict=True), start=1):
        if layer:
            words.extend(layer)
            continue
        dpi = ocr.OCR_DPI
        pixels = width * height * (dpi / 72) ** 2
        if pixels > MAX_PIXELS:  # a huge page: render it coarser rather than run out of memory
            dpi = max(72.0, dpi * (MAX_PIXELS / pixels) ** 0.5)
        page = ocr.OcrPage(pdf.render(path, number, dpi), dpi, number)
        words.extend(page.words)
        ocr_pages.append(number)
        rereaders[number] = page
    return words, sizes, ocr_pages, rereaders


def _image_pages(path: Path):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            frames = []
            for frame in ImageSequence.Iterator(image):
                _check_size(path, frame)
                frame.load()
                frames.append(ocr.open_image(frame.copy()))
                if len(frames) > MAX_PAGES:
                    raise DocumentError(f"{path.name} has over {MAX_PAGES} pages: split it")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(path, str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise DocumentError(
            f"{path.name} is not a readable image (not a {path.suffix.lower()[1:].upper()} file "
            "or an unknown format): re-scan it or export it as PDF"
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise DocumentError(
            f"{path.name} is a damaged image ({exc}): re-scan it or fetch it again"
        ) from exc
    words: list[Word] = []
    sizes, ocr_pages, rereaders = [], [], {}
    for number, frame in enumerate(frames, start=1):
        dpi = _dpi(frame)
        page = ocr.OcrPage(frame, dpi, number)
        words.extend(page.words)
        sizes.append(page.size)
        ocr_pages.append(number)
        rereaders[number] = page
    return words, sizes, ocr_pages, rereaders


def _check_size(path: Path, image: Image.Image) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _bomb(path, f"{width}x{height} pixels")


def _bomb(path: Path, detail: str) -> DocumentError:
    return DocumentError(
        f"{path.name} is too large to open safely ({detail}; the limit is "
        f"{MAX_PIXELS // 1_000_000} megapixels): a decompression bomb or a far too fine scan; "
        "re-scan it at 300 dpi"
    )


def _dpi(image: Image.Image) -> float:
    dpi = image.info.get("dpi")
    try:
        value = float(dpi[0]) if dpi else 0.0
    except (TypeError, ValueError, IndexError):
        value = 0.0
    return value if 50 <= value <= 1200 else DEFAULT_IMAGE_DPI
