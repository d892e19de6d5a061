"""Opening a document file safely: what it really is, its pages, words from text or OCR.

Every refusal is one DocumentError line naming the file, what is wrong and what to do, and
comes within bounded time and memory (limits.py): the file size, the page count (read from
the page tree, before any page is parsed), the pixels of every image, frame and rendered
page, alone and together, are checked before anything is decoded; frames are decoded one at
a time. Whatever else goes wrong while reading a file (a page tree too deep to walk, a
parser's own bug) is that file's DocumentError too: the next file is read, and a bot sends
the item to review instead of retrying it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from deskhand.errors import DeskhandError, DocumentError

from . import limits, ocr, pdf
from .limits import MAX_PIXELS
from .model import BBox, Table, Word

PDF_SUFFIXES = (".pdf",)
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
MAX_PAGES = 200  # per document; extract(..., max_pages=N) raises or lowers it
MAX_BYTES = 200 * 1024 * 1024
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

    @classmethod
    def restored(
        cls,
        words: list[Word],
        sizes: list[tuple[float, float]],
        ocr_pages: list[int],
        readers: dict[int, dict],
        tables: list[Table],
    ) -> Pages:
        """Pages kept by the documents cache (pagecache.load), OCR pages from their state."""
        found = {n: ocr.OcrPage.restored(state) for n, state in readers.items()}
        return cls(words, sizes, ocr_pages, found, tables)

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


def read_pages(
    path: Path, data: bytes, password: str | None, max_pages: int, engine: str | None = None
) -> Pages:
    """Words of every page: from the text layer where it is usable, else by OCR with
    ``engine`` (engines.py). Anything that goes wrong reading the file is a DocumentError
    naming it (a missing tesseract stays an ApplicationError: a system to fix, not a file)."""
    what = sniff(data) or ("pdf" if path.suffix.lower() in PDF_SUFFIXES else "image")
    try:
        if what == "pdf":
            pages = _pdf_pages(path, data, password, max_pages, engine)
        else:
            pages = _image_pages(path, max_pages, engine)
    except DeskhandError:
        raise
    except MemoryError as exc:
        raise DocumentError(
            f"{path.name} needs more memory than one document may use: split it or re-scan "
            "it at 300 dpi"
        ) from exc
    except Exception as exc:
        if not _caused_by(exc, RecursionError):
            raise _unexpected(path, exc) from exc
        raise DocumentError(
            f"{path.name}: the PDF's structure is too deep to read (its page tree or objects "
            "nest thousands of levels): a damaged or hostile file; ask the sender to re-export it"
        ) from exc
    if not any(any(ch.isalnum() for ch in w.text) for w in pages.words):
        kind = "scan" if pages.ocr_pages else "document"
        raise DocumentError(
            f"{path.name} has no readable text on its {len(pages.sizes)} page(s): a blank "
            f"{kind}, a photo or not a document; check the file or re-scan it"
        )
    return pages


def _caused_by(exc: BaseException, kind: type, depth: int = 0) -> bool:
    """Whether ``exc`` is, wraps or was raised while handling an exception of ``kind``
    (pdfplumber wraps pdfminer's errors in its own)."""
    if isinstance(exc, kind):
        return True
    if depth > 5:
        return False
    inner = [exc.__cause__, exc.__context__, *(a for a in exc.args if isinstance(a, BaseException))]
    return any(e is not None and _caused_by(e, kind, depth + 1) for e in inner)


def _unexpected(path: Path, exc: BaseException) -> DocumentError:
    """A parser's failure on this file, as this file's error."""
    detail = " ".join(str(exc).split())[:200] or "no detail"
    return DocumentError(
        f"{path.name} could not be read ({type(exc).__name__}: {detail}): a damaged or "
        "unusual file; open it to check it, or ask the sender to re-export it"
    )


def _too_many(path: Path, count: int, max_pages: int) -> DocumentError:
    return DocumentError(
        f"{path.name} has {count} pages, over the limit of {max_pages}: split it, or raise "
        f"the limit with extract(path, max_pages={count})"
    )


def _pdf_pages(
    path: Path, data: bytes, password: str | None, max_pages: int, engine: str | None
) -> Pages:
    count = pdf.count_pages(path, data, password)
    if count == 0:
        raise DocumentError(f"{path.name} has no pages: ask the sender to re-export it")
    if count > max_pages:
        raise _too_many(path, count, max_pages)
    with pdf.open_pdf(path, password) as document:
        sizes = pdf.page_sizes(document)
        layers = pdf.page_words(document, path)
        tables = pdf.page_tables(document, layers)
    scans = [n for n, layer in enumerate(layers, start=1) if not layer]
    dpis = {n: limits.render_dpi(*sizes[n - 1], ocr.OCR_DPI) for n in scans}
    total = sum(sizes[n - 1][0] * sizes[n - 1][1] * (dpis[n] / 72) ** 2 for n in scans)
    if total > limits.MAX_TOTAL_PIXELS:
        raise DocumentError(
            f"{path.name} has {len(scans)} scanned pages of {limits.megapixels(total)} "
            f"together, over the {limits.megapixels(limits.MAX_TOTAL_PIXELS)} one document "
            "may have: split it"
        )
    pages = Pages([], sizes, tables=tables)
    for number, layer in enumerate(layers, start=1):
        if layer:
            pages.words.extend(layer)
            continue
        dpi = dpis[number]
        if dpi < limits.MIN_DPI:  # a poster-sized page: too coarse to read at the budget
            width, height = sizes[number - 1]
            raise DocumentError(
                f"{path.name}: page {number} is {width / 72:.0f} x {height / 72:.0f} inches; "
                f"read within {limits.megapixels(limits.MAX_OCR_PIXELS)} it would be "
                f"{dpi:.0f} dpi, too coarse for OCR: crop the page or export it at A4 size"
            )
        pdf.check_images(path, number, password)
        page = ocr.OcrPage(pdf.render(path, number, dpi, password), dpi, number, engine=engine)
        for earlier in pages.readers.values():
            earlier.release()
        pages.words.extend(page.words)
        pages.ocr_pages.append(number)
        pages.readers[number] = page
    return pages


def _image_pages(path: Path, max_pages: int, engine: str | None) -> Pages:
    pages = Pages([], [])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                count = getattr(image, "n_frames", 1)
                if count > max_pages:
                    raise _too_many(path, count, max_pages)
                _check_frames(path, image, count)
                for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
                    frame.load()  # one frame decoded at a time, dropped once read
                    dpi = ocr.image_dpi(frame)
                    page = ocr.OcrPage(ocr.open_image(frame.copy()), dpi, number, engine=engine)
                    for earlier in pages.readers.values():
                        earlier.release()
                    pages.words.extend(page.words)
                    pages.sizes.append(page.size)
                    pages.ocr_pages.append(number)
                    pages.readers[number] = page
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
    return pages


def _check_frames(path: Path, image: Image.Image, count: int) -> None:
    """Refuse an image whose frames, one or together, are too large: read from each frame's
    header (seeking a TIFF reads its directory, not its pixels), before any is decoded."""
    total = 0
    for number in range(count):
        image.seek(number)
        _check_size(path, image)
        total += image.size[0] * image.size[1]
    image.seek(0)
    if total > limits.MAX_TOTAL_PIXELS:
        raise DocumentError(
            f"{path.name} has {count} frames of {limits.megapixels(total)} together, over the "
            f"{limits.megapixels(limits.MAX_TOTAL_PIXELS)} one document may have: split it or "
            "re-scan it at 300 dpi"
        )


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
