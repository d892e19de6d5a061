"""Reading a document: the file checked, its pages read (or the cached result), a kind's
fields and tables found, a template applied."""

from __future__ import annotations

import hashlib
from pathlib import Path

from deskhand.errors import ConfigError, DocumentError

from . import cache, files, invoice, receipt, tables
from . import template as templates
from .cache import Entry
from .engines import engine_name
from .files import IMAGE_SUFFIXES, MAX_PAGES, MAX_PIXELS, PDF_SUFFIXES  # noqa: F401
from .model import Document

KINDS = {"invoice": invoice.extract, "receipt": receipt.extract}
_cache = cache._memory  # the in-process cache (kept for callers that look at it)


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


def extract(
    path: str | Path,
    kind: str = "invoice",
    template: str | None = None,
    *,
    password: str | None = None,
    templates_dir: str | Path | None = None,
    max_pages: int = MAX_PAGES,
    cache_results: bool = True,
    ocr_engine: str | None = None,
) -> Document:
    """Read the document at ``path`` as ``kind`` ("invoice" or "receipt").

    PDF pages with a text layer are read from it; scanned pages and image files (PNG, JPG,
    TIFF, multi-page TIFF) go through OCR. Fields are found generically; then the template
    of ``templates_dir`` (default: templates/ of the project) whose keywords the document
    has, or the one named ``template``, reads its fields over the generic ones.
    ``document.tables`` holds the ruled tables of text pages (pdfplumber's table finder)
    and the line-item tables read by column alignment under their header row.

    ``password`` opens an encrypted PDF. ``max_pages`` bounds the pages read (a longer
    document is refused before any page is parsed). Results are cached by the file's
    content, in memory and in .deskhand/cache/ of the project, so reading the same document
    again (a retried work item, in any process) costs nothing; ``cache_results=False``
    reads it afresh. ``ocr_engine`` reads scanned pages with "tesseract", "rapidocr" or
    "auto" (default: $DESKHAND_OCR_ENGINE, else auto: tesseract, RapidOCR for a page
    tesseract reads unsurely; see engines.py).

    Raises DocumentError (a BusinessError, one line) for a file that cannot be read as a
    document, ConfigError for an unknown kind or template or a broken template file.
    """
    if kind not in KINDS:
        raise ConfigError(f"unknown document kind {kind!r}: use one of {', '.join(KINDS)}")
    directory = Path(templates_dir) if templates_dir else None
    forced = templates.named(template, directory) if template else None
    if forced is not None and forced.kind != kind:
        raise ConfigError(
            f"template {forced.name!r} reads {forced.kind} documents, not {kind}: "
            f"pass --kind {forced.kind} or another template"
        )
    path = Path(path)
    data = files.read_bytes(path)
    engine = engine_name(ocr_engine)
    key = cache.key(data, f"{kind}/{engine}", password)
    entry = cache.get(key) if cache_results else None
    if entry is None:
        pages_key = cache.pages_key(data, engine, password, max_pages)
        pages = cache.get_pages(pages_key, files.Pages.restored) if cache_results else None
        known = None if pages is None else _reread_count(pages)
        if pages is None:
            pages = files.read_pages(path, data, password, max_pages, engine)
        reread = files.Rereader(pages) if pages.readers else None
        fields, lines, text, aligned = KINDS[kind](pages.words, pages.sizes, reread)
        if cache_results and _reread_count(pages) != known:  # read afresh, or re-read more
            cache.put_pages(pages_key, pages)
        found = tables.merge(pages.tables, aligned)
        document = Document(
            path, kind, len(pages.sizes), pages.ocr_pages, fields, lines, text, tables=found
        )
        entry = Entry(document, pages.words)
        if cache_results:
            cache.put(key, entry)
    document = entry.document
    document.file = path
    document.words = entry.words  # set after caching: the cache keeps words once, apart
    chosen = forced or templates.recognise(kind, document.text, directory)
    if chosen is not None:
        templates.apply(chosen, document, entry.words)
    return document


def _reread_count(pages: files.Pages) -> int:
    return sum(len(reader._again) for reader in pages.readers.values())


def clear_cache(disk: bool = False) -> None:
    """Forget every cached result (the next extract reads the file again); ``disk`` empties
    the on-disk cache too."""
    cache.clear(disk)
