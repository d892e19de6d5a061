"""A file's read pages on disk: words, page sizes, ruled tables and, for OCR pages, the image
the words were read from (PNG) with the regions re-read so far, as JSON (never pickle: the
cache folder is data, not code). Written atomically, 0600 in a 0700 folder; a missing or
damaged file is None (the file is read again)."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .. import private
from .model import Table, Word


def save(path: Path, pages: Any) -> None:
    """Write ``pages`` (files.Pages) to ``path``; a disk that refuses costs speed only."""
    data = {
        "words": [_word(w) for w in pages.words],
        "sizes": [list(size) for size in pages.sizes],
        "ocr_pages": list(pages.ocr_pages),
        "tables": [t.to_dict() for t in pages.tables],
        "readers": {str(n): reader.state() for n, reader in pages.readers.items()},
    }
    try:
        private.make_dirs(path.parent)  # the cache folder and pages/ in it: owner-only
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")  # created 0600
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        os.replace(tmp, path)
    except OSError:
        pass


def load(path: Path, restore: Callable[..., Any]) -> Any:
    """The pages written to ``path``, built by ``restore(words, sizes, ocr_pages, readers,
    tables)`` (``readers``: each OCR page's saved state); None if there is none or it cannot
    be read. The caller builds them: this module sits below the readers that use it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return restore(
            [_unword(w) for w in data["words"]],
            [tuple(size) for size in data["sizes"]],
            list(data["ocr_pages"]),
            {int(n): state for n, state in data["readers"].items()},
            [Table(t["page"], tuple(t["bbox"]), t["rows"], t["source"]) for t in data["tables"]],
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _word(w: Word) -> list:
    return [w.text, w.x0, w.top, w.x1, w.bottom, w.page, w.conf, w.ocr]


def _unword(data: list) -> Word:
    return Word(*data)


def encode(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def decode(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def words(data: list) -> list[Word]:
    """Words written by ``_word``."""
    return [_unword(w) for w in data]


def dump_words(found: list[Word]) -> list:
    """``found`` as JSON-ready lists (``words`` reads them back)."""
    return [_word(w) for w in found]
