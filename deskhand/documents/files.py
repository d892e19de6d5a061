"""Opening a document file safely: what it really is, its pages, words from text or OCR.

Every refusal is one DocumentError line naming the file, what is wrong and what to do, and
comes within bounded time and memory: the file size, the page count (read from the page
tree, before any page is parsed) and the pixels of every image are checked before the work.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from deskhand.errors import DocumentError

from . import ocr, pdf
from .model import BBox, Table, Word

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
MAX_PIXELS = 60_000_000  # an A4 page at 600 dpi is 35 megapixels; more is a bomb or a poster
MAX_PAGES = 200  # per document; extract(..., max_pages=N) raises or lowers it
MAX_BYTES = 200 * 1024 * 1024
DEFAULT_IMAGE_DPI = 300.0  # for images that do not say how they were scanned
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*", b"BM", b"GIF8")


@dataclass
class Pages:
    """The words of every page, the pages' sizes in points, which pages were OCR'd, and the
    ruled tables of the text-layer pages."""

    words: list[Word]
    sizes: list[tuple[float, float]]
    ocr_pages: list[int] = field(default_factory=list)
    readers: dict[int, ocr.OcrPage] = field(default_factory=dict)
    tables: list[Table] = field(default_factory=list)

    def reread(self, page: int, region: BBox, options: str) -> list[Word]:
        """Read ``region`` of OCR page ``page`` again on its own ([] for a text page)."""
        return self.reread_many([(page, region)], options)[0]

    def reread_many(self, regions: list[tuple[int, BBox]], options: str) -> list[list[Word]]:
        """Read each (page, region) again on its own: one tesseract run per page."""
        found: list[list[Word]] = [[] for _ in regions]
        for page, reader in self.readers.items():
            mine = [i for i, (number, _) in enumerate(regions) if number == page]
            if mine:
                words = reader.reread_many([regions[i][1] for i in mine], options)
                for i, page_words in zip(mine, words, strict=True):
                    found[i] = page_words
        return found


class Rereader:
    """Reads regions of a document's OCR pages again: call it for one region (page, box in
    points, tesseract options), ``many`` for several in one tesseract run."""

    def __init__(self, pages: Pages) -> None:
        self._pages = pages

    def __call__(self, page: int, region: BBox, options: str) -> list[Word]:
        return self._pages.reread(page, region, options)

    def many(self, regions: list[tuple[int, BBox]], options: str) -> list[list[Word]]:
        return self._pages.reread_many(regions, options)


def read_bytes(path: Path) -> bytes:
    """The file's bytes; DocumentError if it is missing, a folder, empty, huge or not a type
    deskhand reads."""
    if not path.exists():
        raise DocumentError(f"{path.name} not found ({path}): check the path and the file name")
    if path.is_dir():
        raise DocumentError(f"{path.name} is a folder, not a document: pass a file inside it")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DocumentError(
            f"{path.name} is {size // 1024 // 1024} MB, over the {MAX_BYTES // 1024 // 1024} MB "
            "limit for one document: split it or scan it at 300 dpi"
        )
    data = path.read_bytes()
    if not data:
        raise DocumentError(
            f"{path.name} is empty (0 bytes): the download or scan did not finish; fetch it again"
        )
    suffix = path.suffix.lower()
    what = sniff(data)
    if what is None and suffix not in PDF_SUFFIXES + IMAGE_SUFFIXES:
        shown = suffix or "(none)"
        raise DocumentError(
            f"{path.name}: unsupported file type {shown} (deskhand reads "
            f"{', '.join(PDF_SUFFIXES + IMAGE_SUFFIXES)}): export it as PDF"
        )
    if what is None and suffix in PDF_SUFFIXES:
        pdf.check_header(path, data[:1024])
    return data


def sniff(data: bytes) -> str | None:
    """'pdf' or 'image' by the file's first bytes (not its name), None if neither."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    if data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return "image"
    return None


def read_pages(path: Path, data: bytes, password: str | None, max_pages: int) -> Pages:
    """Words of every page: from the text layer where it is usable, else by OCR."""
    what = sniff(data) or ("pdf" if path.suffix.lower() in PDF_SUFFIXES else "image")
    if what == "pdf":
        pages = _pdf_pages(path, data, password, max_pages)
    else:
        pages = _image_pages(path, max_pages)
    if not any(any(ch.isalnum() for ch in w.text) for w in pages.words):
        kind = "scan" if pages.ocr_pages else "document"
        raise DocumentError(
            f"{path.name} has no readable text on its {len(pages.sizes)} page(s): a blank "
            f"{kind}, a photo or not a document; check the file or re-scan it"
        )
    return pages


def _too_many(path: Path, count: int, max_pages: int) -> DocumentError:
    return DocumentError(
        f"{path.name} has {count} pages, over the limit of {max_pages}: split it, or raise "
        f"the limit with extract(path, max_pages={count})"
    )


def _pdf_pages(path: Path, data: bytes, password: str | None, max_pages: int) -> Pages:
    count = pdf.count_pages(path, data, password)
    if count == 0:
        raise DocumentError(f"{path.name} has no pages: ask the sender to re-export it")
    if count > max_pages:
        raise _too_many(path, count, max_pages)
    with pdf.open_pdf(path, password) as document:
        sizes = pdf.page_sizes(document)
        layers = pdf.page_words(document, path)
        tables = pdf.page_tables(document, layers)
    pages = Pages([], sizes, tables=tables)
    for number, (layer, (width, height)) in enumerate(zip(layers, sizes, strict=True), start=1):
        if layer:
            pages.words.extend(layer)
            continue
        dpi = ocr.OCR_DPI
        pixels = width * height * (dpi / 72) ** 2
        if pixels > MAX_PIXELS:  # a huge page: render it coarser rather than run out of memory
            dpi = max(72.0, dpi * (MAX_PIXELS / pixels) ** 0.5)
        page = ocr.OcrPage(pdf.render(path, number, dpi, password), dpi, number)
        pages.words.extend(page.words)
        pages.ocr_pages.append(number)
        pages.readers[number] = page
    return pages


def _image_pages(path: Path, max_pages: int) -> Pages:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
            count = getattr(image, "n_frames", 1)
            if count > max_pages:
                raise _too_many(path, count, max_pages)
            frames = []
            for frame in ImageSequence.Iterator(image):
                _check_size(path, frame)
                frame.load()
                frames.append((ocr.open_image(frame.copy()), _dpi(frame)))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb(path, str(exc)) from exc
    except UnidentifiedImageError as exc:
        raise DocumentError(
            f"{path.name} is not a readable image (not a {path.suffix.lower()[1:].upper()} file "
            "or an unknown format): re-scan it or export it as PDF"
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DocumentError(
            f"{path.name} is a damaged image ({exc}): re-scan it or fetch it again"
        ) from exc
    pages = Pages([], [])
    for number, (frame, dpi) in enumerate(frames, start=1):
        page = ocr.OcrPage(frame, dpi, number)
        pages.words.extend(page.words)
        pages.sizes.append(page.size)
        pages.ocr_pages.append(number)
        pages.readers[number] = page
    return pages


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
