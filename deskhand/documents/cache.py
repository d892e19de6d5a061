"""Results cached by content: in memory and on disk, for the run (or caller) that owns them.

A read document (its fields, line items, tables and words) is kept under the sha256 of the
file's bytes, the kind and OCR engine it was read with and the version of this package's
code, in ``<project root>/.deskhand/cache/documents/`` (git-ignored; folders 0700, files
0600): a work item retried in another process, or the same invoice sent twice under two
names, is not read again. A change to the reader's code changes the version, so stale
results are never served.

The pages' words (and the OCR page images, for re-reading a region) are kept apart, in
``pages/``, keyed by the file, the engine and the version of the OCR code and settings only
(ocr_version): a change to the field rules re-runs the rules on the pages read before, not
the OCR (pagecache.py).

The cache belongs to whoever reads: ``with cache.scope(folder):`` gives the block (a run, a
worker's item, a test) a cache of its own, memory and folder, that nothing outside it sees
or fills; outside any scope, the process's default cache is used (the project's folder, or
``DIRECTORY``). Scopes follow the context (contextvars), so threads and asyncio tasks
started outside a scope do not share one by accident.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import pagecache
from .model import Document, Field, Table, Word

MEMORY_SIZE = 256
DIRECTORY: Path | None = None  # None: <project root>/.deskhand/cache/documents
ENABLED = True  # False: neither read nor write the disk cache (the memory cache stays)

_version: str | None = None


@dataclass
class Entry:
    """What reading a file gave: the document (before any template) and its words."""

    document: Document
    words: list[Word]


def project_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` (the cwd) that has templates/ or bots/."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "templates").is_dir() or (folder / "bots").is_dir():
            return folder
    return here


def directory() -> Path:
    """The folder of the cache in use."""
    return current().directory()


def key(data: bytes, kind: str, password: str | None) -> str:
    """The cache key: content, kind, password (a locked file's text is not served without
    it) and the code's version."""
    digest = hashlib.sha256(data)
    digest.update(f"\0{kind}\0{password or ''}\0{code_version()}".encode())
    return digest.hexdigest()


def code_version() -> str:
    """The version of the reader's code (every module: the rules read what OCR gave)."""
    global _version
    if _version is None:
        digest = hashlib.sha256()
        for source in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(source.read_bytes())
        _version = digest.hexdigest()[:16]
    return _version


# The modules whose code makes a page's words; a change to any other (the field rules) keeps
# the pages read, and re-runs only the rules on them.
OCR_MODULES = (
    "files.py",
    "pdf.py",
    "ocr.py",
    "engines.py",
    "tessapi.py",
    "prepare.py",
    "limits.py",
)
_ocr_version: str | None = None


def ocr_version() -> str:
    """The version of the code and settings that read a page's words: OCR_MODULES, the OCR
    language and tesseract's own version."""
    global _ocr_version
    if _ocr_version is None:
        from . import engines

        digest = hashlib.sha256()
        for name in OCR_MODULES:
            source = Path(__file__).parent / name
            digest.update(source.read_bytes() if source.exists() else b"")
        try:
            tesseract = str(engines.pytesseract.get_tesseract_version())
        except Exception:  # noqa: BLE001 - no tesseract: the engines say so when used
            tesseract = ""
        digest.update(f"\0{engines.LANGUAGE}\0{tesseract}".encode())
        _ocr_version = digest.hexdigest()[:16]
    return _ocr_version


def pages_key(data: bytes, engine: str, password: str | None, max_pages: int) -> str:
    """The key of a file's read pages: content, engine, password, page limit and the OCR
    code's version (not the rules')."""
    digest = hashlib.sha256(data)
    digest.update(f"\0{engine}\0{password or ''}\0{max_pages}\0{ocr_version()}".encode())
    return digest.hexdigest()


class DocumentCache:
    """Read documents by key: the last MEMORY_SIZE in memory, all on disk in ``folder``
    (None: the module's DIRECTORY, else the project's .deskhand/cache/documents); ``disk``
    False keeps them in memory only."""

    def __init__(self, folder: Path | None = None, *, disk: bool | None = None) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._disk = disk  # None: follow the module's ENABLED (the process default)
        self.memory: OrderedDict[str, Entry] = OrderedDict()

    @property
    def disk(self) -> bool:
        return ENABLED if self._disk is None else self._disk

    def directory(self) -> Path:
        return self.folder or DIRECTORY or project_root() / ".deskhand" / "cache" / "documents"

    def get(self, cache_key: str) -> Entry | None:
        """The cached entry (a copy the caller may change), from memory or disk; None."""
        entry = self.memory.get(cache_key)
        if entry is None and self.disk:
            entry = _load(self.directory() / f"{cache_key}.json")
            if entry is not None:
                self._remember(cache_key, entry)
        if entry is None:
            return None
        self.memory.move_to_end(cache_key)
        return Entry(copy.deepcopy(entry.document), entry.words)

    def put(self, cache_key: str, entry: Entry) -> None:
        self._remember(cache_key, Entry(copy.deepcopy(entry.document), entry.words))
        if self.disk:
            _save(self.directory() / f"{cache_key}.json", entry)

    def get_pages(self, pages_key: str, restore: Callable[..., Any]):
        """The pages read from a file before (files.Pages, OCR page images with them), from
        disk, built by ``restore`` (see pagecache.load); None when there are none or the disk
        cache is off."""
        if not self.disk:
            return None
        return pagecache.load(self.directory() / "pages" / f"{pages_key}.json", restore)

    def put_pages(self, pages_key: str, pages) -> None:
        if self.disk:
            pagecache.save(self.directory() / "pages" / f"{pages_key}.json", pages)

    def clear(self, disk: bool = False) -> None:
        """Forget every result held in memory (and, with ``disk``, on disk)."""
        self.memory.clear()
        folder = self.directory()
        if disk and folder.is_dir():
            for path in [*folder.glob("*.json"), *folder.glob("pages/*.json")]:
                path.unlink(missing_ok=True)

    def _remember(self, cache_key: str, entry: Entry) -> None:
        self.memory[cache_key] = entry
        while len(self.memory) > MEMORY_SIZE:
            self.memory.popitem(last=False)


_process = DocumentCache()  # outside any scope
_memory = _process.memory  # (kept for callers that look at it)
_scoped: contextvars.ContextVar[DocumentCache | None] = contextvars.ContextVar(
    "deskhand_documents_cache", default=None
)


def current() -> DocumentCache:
    """The cache of the innermost ``scope`` around the caller, else the process's."""
    return _scoped.get() or _process


@contextlib.contextmanager
def scope(folder: str | Path | None = None, *, disk: bool = True) -> Iterator[DocumentCache]:
    """A cache of its own for the with-block: fresh memory, results on disk in ``folder``
    (None: the default folder; ``disk=False``: memory only). A run, a worker's item or a
    test reads through it and shares nothing with the rest of the process."""
    own = DocumentCache(Path(folder) if folder is not None else None, disk=disk)
    token = _scoped.set(own)
    try:
        yield own
    finally:
        _scoped.reset(token)


def get(cache_key: str) -> Entry | None:
    """The cached entry of the cache in use (a copy the caller may change); None if none."""
    return current().get(cache_key)


def put(cache_key: str, entry: Entry) -> None:
    current().put(cache_key, entry)


def get_pages(key_of_pages: str, restore: Callable[..., Any]):
    """The pages the cache in use holds for ``key_of_pages`` (see pages_key), else None."""
    return current().get_pages(key_of_pages, restore)


def put_pages(key_of_pages: str, pages) -> None:
    current().put_pages(key_of_pages, pages)


def clear(disk: bool = False) -> None:
    """Forget every result the cache in use holds in memory (and, with ``disk``, on disk)."""
    current().clear(disk)


def _save(path: Path, entry: Entry) -> None:
    doc = entry.document
    data = {
        "kind": doc.kind,
        "pages": doc.pages,
        "ocr_pages": doc.ocr_pages,
        "text": doc.text,
        "fields": {name: _field(f) for name, f in doc.fields.items()},
        "lines": [{name: _field(f) for name, f in line.items()} for line in doc.lines],
        "tables": [t.to_dict() for t in doc.tables],
        "words": pagecache.dump_words(entry.words),
    }
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, path)  # atomic: a reader never sees half a file
    except OSError:
        pass  # a read-only or full disk costs speed, never a result


def _load(path: Path) -> Entry | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        document = Document(
            Path(),
            data["kind"],
            data["pages"],
            data["ocr_pages"],
            {name: _unfield(name, f) for name, f in data["fields"].items()},
            [{name: _unfield(name, f) for name, f in line.items()} for line in data["lines"]],
            data["text"],
            tables=[
                Table(t["page"], tuple(t["bbox"]), t["rows"], t["source"]) for t in data["tables"]
            ],
        )
        words = pagecache.words(data["words"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: read the file again
    return Entry(document, words)


def _field(f: Field) -> dict[str, Any]:
    value = f.value
    if isinstance(value, Decimal):
        value = {"decimal": str(value)}
    elif isinstance(value, date):
        value = {"date": value.isoformat()}
    bbox = list(f.bbox) if f.bbox else None
    return {"v": value, "raw": f.raw, "c": f.confidence, "p": f.page, "b": bbox, "r": f.rule}


def _unfield(name: str, data: dict[str, Any]) -> Field:
    value = data["v"]
    if isinstance(value, dict):
        value = (
            Decimal(value["decimal"]) if "decimal" in value else date.fromisoformat(value["date"])
        )
    bbox = tuple(data["b"]) if data["b"] else None
    return Field(name, value, data["raw"], data["c"], data["p"], bbox, data["r"])
