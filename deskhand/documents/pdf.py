"""PDF pages: words with positions and ruled tables from the text layer (pdfplumber), images
for OCR (pypdfium2)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pdfplumber
import pypdfium2
from pdfminer.layout import LTChar, LTContainer
from PIL import Image

from deskhand.errors import DocumentError

from .layout import group_lines
from .limits import MAX_PIXELS
from .model import BBox, Table, Word

TEXT_CONFIDENCE = 0.99
MIN_TEXT_CHARS = 20  # fewer letters and digits than this on a page: it is a scan, OCR it


def check_header(path: Path, head: bytes) -> None:
    """Raise DocumentError unless ``head`` (the file's first bytes) starts like a PDF."""
    if b"%PDF-" not in head[:1024]:
        shown = head[:9].decode("latin-1")
        shown = "".join(ch if ch.isprintable() else "?" for ch in shown)
        raise DocumentError(
            f"{path.name} is not a PDF (it starts with {shown!r}): "
            "check the file is the document that was meant, and re-export it as PDF"
        )


def count_pages(path: Path, data: bytes, password: str | None = None) -> int:
    """The number of pages, read from the page tree alone (fast for any size).

    DocumentError if the PDF is corrupt, encrypted without ``password``, or the password is
    wrong.
    """
    try:
        document = pypdfium2.PdfDocument(data, password=password)
    except pypdfium2.PdfiumError as exc:
        raise _pdf_error(path, exc, password) from exc
    try:
        return len(document)
    finally:
        document.close()


@contextlib.contextmanager
def open_pdf(path: Path, password: str | None = None) -> Iterator[pdfplumber.PDF]:
    """Open ``path`` with pdfplumber; DocumentError if it is encrypted or corrupt."""
    try:
        pdf = pdfplumber.open(path, password=password or "")
    except Exception as exc:  # pdfplumber wraps every pdfminer failure in one type
        raise _pdf_error(path, exc, password) from exc
    try:
        yield pdf
    finally:
        pdf.close()


def _pdf_error(path: Path, exc: BaseException, password: str | None = None) -> DocumentError:
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    kind = type(cause).__name__
    if isinstance(cause, RecursionError) or isinstance(exc, RecursionError):
        return DocumentError(
            f"{path.name}: the PDF's structure is too deep to read (its page tree or objects "
            "nest thousands of levels): a damaged or hostile file; ask the sender to re-export it"
        )
    if "Password" in kind or "Encrypt" in kind or "password" in str(cause).lower():
        if password:
            return DocumentError(
                f"{path.name} is an encrypted PDF and the password given does not open it: "
                "check the password (extract(path, password=...))"
            )
        return DocumentError(
            f"{path.name} is an encrypted PDF that needs a password: pass it as "
            "extract(path, password=...) or ask the sender for an unprotected copy"
        )
    detail = str(cause) or kind
    return DocumentError(
        f"{path.name} is a corrupt PDF ({kind}: {detail}): ask the sender to re-export it"
    )


def page_words(pdf: pdfplumber.PDF, path: Path) -> list[list[Word]]:
    """Words of every page's text layer; a page without a usable text layer gets []."""
    pages: list[list[Word]] = []
    for number, page in enumerate(pdf.pages, start=1):
        try:
            parse_objects(page)
            raw = page.extract_words(keep_blank_chars=False, use_text_flow=False)
        except Exception as exc:
            raise _pdf_error(path, exc) from exc
        words = [
            Word(
                w["text"],
                float(w["x0"]),
                float(w["top"]),
                float(w["x1"]),
                float(w["bottom"]),
                number,
                TEXT_CONFIDENCE,
            )
            for w in raw
            if w["text"].strip()
        ]
        pages.append(words if usable(words) else [])
    return pages


def parse_objects(page: pdfplumber.page.Page) -> None:
    """Fill ``page.objects`` (what ``page.chars``, ``extract_words`` and ``find_tables``
    read) as pdfplumber would, in about half its time.

    pdfplumber turns every character into a dict of all its ~20 attributes, resolving each
    (colours, graphic state, font) on the way: for a text page that is most of the reading.
    Characters here get only what word extraction and the table finder use; every other
    object (rulings, images) still goes through pdfplumber's own ``process_object``.
    """
    if hasattr(page, "_objects"):
        return
    height, doctop = page.height, page.initial_doctop
    mb_x0, mb_top = page.mediabox[:2]
    objects: dict[str, list[dict]] = {"char": []}
    chars = objects["char"]
    pending = list(reversed(page.layout._objs))
    while pending:
        obj = pending.pop()
        if isinstance(obj, LTContainer):  # a figure: its children, in order
            pending.extend(reversed(obj._objs))
        elif isinstance(obj, LTChar):
            top, bottom = height - obj.y1 + mb_top, height - obj.y0 + mb_top
            chars.append(
                {
                    "object_type": "char",
                    "page_number": page.page_number,
                    "text": obj.get_text(),
                    "fontname": obj.fontname,
                    "size": obj.size,
                    "upright": obj.upright,
                    "x0": obj.x0 + mb_x0,
                    "x1": obj.x1 + mb_x0,
                    "y0": obj.y0,
                    "y1": obj.y1,
                    "top": top,
                    "bottom": bottom,
                    "doctop": doctop + top,
                    "width": obj.width,
                    "height": obj.height,
                }
            )
        else:
            found = page.process_object(obj)
            objects.setdefault(found["object_type"], []).append(found)
    page._objects = objects


def page_tables(pdf: pdfplumber.PDF, layers: list[list[Word]]) -> list[Table]:
    """The ruled tables pdfplumber finds on the pages with a text layer (``layers``, as
    page_words gave them), each cell's text its words' ('' for an empty cell).

    The table finder's default "lines" strategy looks at the rulings page_words has already
    parsed: about 0.3 ms a page. The cells are filled from the page's words rather than by
    pdfplumber's Table.extract, which costs twice that again for a three-cell table.
    """
    tables: list[Table] = []
    for number, (page, words) in enumerate(zip(pdf.pages, layers, strict=True), start=1):
        if not words:
            continue  # a scan: no text layer to fill the cells
        try:
            found = [(t.bbox, [row.cells for row in t.rows]) for t in page.find_tables()]
        except Exception:  # a table the finder chokes on costs that table, never the document
            continue
        for bbox, cells in found:
            inside = _within(words, bbox)
            rows = [
                [_cell_text(_within(inside, cell)) if cell else "" for cell in row] for row in cells
            ]
            if any(text for row in rows for text in row):
                box = tuple(round(float(v), 2) for v in bbox)
                tables.append(Table(number, box, rows, "pdfplumber"))
    return tables


def _within(words: list[Word], box: BBox) -> list[Word]:
    """The words whose centre is in ``box`` (as pdfplumber puts a character in a cell)."""
    x0, top, x1, bottom = box
    return [w for w in words if x0 <= w.xc < x1 and top <= (w.top + w.bottom) / 2 < bottom]


def _cell_text(words: list[Word]) -> str:
    """A cell's words, left to right, its lines joined by newlines."""
    return "\n".join(line.text for line in group_lines(words))


def usable(words: list[Word]) -> bool:
    """Whether a text layer carries real text (not nothing, nor unmapped glyphs '(cid:12)')."""
    text = "".join(w.text for w in words)
    if text.count("(cid:") * 6 > len(text) / 2:
        return False
    return sum(ch.isalnum() for ch in text) >= MIN_TEXT_CHARS


def page_sizes(pdf: pdfplumber.PDF) -> list[tuple[float, float]]:
    """Width and height of every page in points."""
    return [(float(p.width), float(p.height)) for p in pdf.pages]


def check_images(path: Path, page: int, password: str | None = None) -> None:
    """Refuse page ``page`` if an image embedded in it is larger than MAX_PIXELS: rendering
    the page would decode it whole. The sizes come from the images' dictionaries; nothing is
    decoded."""
    try:
        document = pypdfium2.PdfDocument(str(path), password=password)
    except pypdfium2.PdfiumError as exc:
        raise DocumentError(f"{path.name} cannot be rendered for OCR ({exc})") from exc
    try:
        images = document[page - 1].get_objects(filter=(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE,))
        for image in images:
            width, height = image.get_px_size()
            if width * height > MAX_PIXELS:
                raise DocumentError(
                    f"{path.name}: page {page} holds a {width} x {height} pixel image, over the "
                    f"{MAX_PIXELS // 1_000_000} megapixel limit: a decompression bomb or a far "
                    "too fine scan; re-scan it at 300 dpi"
                )
    finally:
        document.close()


def render(path: Path, page: int, dpi: float, password: str | None = None) -> Image.Image:
    """Page ``page`` (1-based) of the PDF at ``path`` as a grayscale image at ``dpi``."""
    try:
        document = pypdfium2.PdfDocument(str(path), password=password)
    except pypdfium2.PdfiumError as exc:
        raise DocumentError(f"{path.name} cannot be rendered for OCR ({exc})") from exc
    try:
        bitmap = document[page - 1].render(scale=dpi / 72, grayscale=True)
        return bitmap.to_pil().convert("L")
    finally:
        document.close()
