"""Results cached by content: in memory for this process, on disk for the others.

A read document (its fields, line items, tables and words) is kept under the sha256 of the
file's bytes, the kind it was read as and the version of this package's code, in
``<project root>/.deskhand/cache/documents/`` (git-ignored): a work item retried in another
process, or the same invoice sent twice under two names, is not read again. A change to the
reader's code changes the version, so stale results are never served.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from .model import Document, Field, Table, Word

MEMORY_SIZE = 256
DIRECTORY: Path | None = None  # None: <project root>/.deskhand/cache/documents
ENABLED = True  # False: neither read nor write the disk cache (the memory cache stays)

_memory: OrderedDict[str, Entry] = OrderedDict()
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
    return DIRECTORY or project_root() / ".deskhand" / "cache" / "documents"


def key(data: bytes, kind: str, password: str | None) -> str:
    """The cache key: content, kind, password (a locked file's text is not served without
    it) and the code's version."""
    digest = hashlib.sha256(data)
    digest.update(f"\0{kind}\0{password or ''}\0{code_version()}".encode())
    return digest.hexdigest()


def code_version() -> str:
    global _version
    if _version is None:
        digest = hashlib.sha256()
        for source in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(source.read_bytes())
        _version = digest.hexdigest()[:16]
    return _version


def get(cache_key: str) -> Entry | None:
    """The cached entry (a copy the caller may change), from memory or disk; None if none."""
    entry = _memory.get(cache_key)
    if entry is None and ENABLED:
        entry = _load(directory() / f"{cache_key}.json")
        if entry is not None:
            _remember(cache_key, entry)
    if entry is None:
        return None
    _memory.move_to_end(cache_key)
    return Entry(copy.deepcopy(entry.document), entry.words)


def put(cache_key: str, entry: Entry) -> None:
    _remember(cache_key, Entry(copy.deepcopy(entry.document), entry.words))
    if ENABLED:
        _save(directory() / f"{cache_key}.json", entry)


def clear(disk: bool = False) -> None:
    """Forget every result held in memory (and, with ``disk``, on disk)."""
    _memory.clear()
    if disk and directory().is_dir():
        for path in directory().glob("*.json"):
            path.unlink(missing_ok=True)


def _remember(cache_key: str, entry: Entry) -> None:
    _memory[cache_key] = entry
    while len(_memory) > MEMORY_SIZE:
        _memory.popitem(last=False)


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
        "words": [
            [w.text, w.x0, w.top, w.x1, w.bottom, w.page, w.conf, w.ocr] for w in entry.words
        ],
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
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
        words = [Word(t, x0, top, x1, b, p, c, o) for t, x0, top, x1, b, p, c, o in data["words"]]
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
