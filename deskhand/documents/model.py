"""What a read document is made of: words and lines on pages, the fields found in them and
its tables.

All coordinates are PDF points (1/72 inch) from the page's top-left corner, whether the page
had a text layer or went through OCR, so a field's ``bbox`` can be drawn on the page as is.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol

BBox = tuple[float, float, float, float]


@dataclass(frozen=True)
class Word:
    """A word on a page: its text, its box in points and how sure the reader is of it."""

    text: str
    x0: float
    top: float
    x1: float
    bottom: float
    page: int  # 1-based
    conf: float = 0.99  # 0..1: 0.99 for a text layer, tesseract's confidence for OCR
    ocr: bool = False

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2


class Reread(Protocol):
    """Reads a region of an OCR page again on its own: ``reread(page, box, options)`` for
    one (box in points, tesseract options such as "--psm 7"), ``reread.many([(page, box),
    ...], options)`` for several in one tesseract run."""

    def __call__(self, page: int, region: BBox, options: str) -> list[Word]: ...

    def many(self, regions: list[tuple[int, BBox]], options: str) -> list[list[Word]]: ...


@dataclass
class Line:
    """Words that share a baseline on one page, left to right (never changed once made:
    its measures are computed once)."""

    words: list[Word]

    @property
    def page(self) -> int:
        return self.words[0].page

    @cached_property
    def top(self) -> float:
        return min(w.top for w in self.words)

    @cached_property
    def bottom(self) -> float:
        return max(w.bottom for w in self.words)

    @cached_property
    def height(self) -> float:
        heights = sorted(w.height for w in self.words)
        return heights[len(heights) // 2]

    @cached_property
    def text(self) -> str:
        return " ".join(w.text for w in self.words)


def union(words: list[Word]) -> BBox | None:
    """The box around ``words`` (None for no words)."""
    if not words:
        return None
    return (
        round(min(w.x0 for w in words), 2),
        round(min(w.top for w in words), 2),
        round(max(w.x1 for w in words), 2),
        round(max(w.bottom for w in words), 2),
    )


@dataclass
class Field:
    """One value read from a document, with where it was found and how."""

    name: str
    value: Any
    raw: str  # the text as printed
    confidence: float  # 0..1
    page: int  # 1-based
    bbox: BBox | None  # x0, top, x1, bottom in points
    rule: str  # how it was found: "label:Invoice No.", "table", "regex:total", "default"

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": _jsonable(self.value),
            "raw": self.raw,
            "confidence": round(self.confidence, 3),
            "page": self.page,
            "bbox": list(self.bbox) if self.bbox else None,
            "rule": self.rule,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class Table:
    """A table on one page: its cells' text row by row (the header row first when it has
    one), its box, and how it was found: "pdfplumber" (ruled, read from the text layer) or
    "columns" (line items aligned under a header row, on scans and unruled pages)."""

    page: int  # 1-based
    bbox: BBox  # x0, top, x1, bottom in points
    rows: list[list[str]]
    source: Literal["pdfplumber", "columns"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "bbox": list(self.bbox),
            "rows": [list(row) for row in self.rows],
            "source": self.source,
        }


@dataclass
class Document:
    """A read document: its fields (``doc.total``, ``doc.value("total")``), line items and
    tables."""

    file: Path
    kind: str
    pages: int
    ocr_pages: list[int]
    fields: dict[str, Field] = field(default_factory=dict)
    lines: list[dict[str, Field]] = field(default_factory=list)
    text: str = ""
    template: str | None = None  # the templates/NAME.yaml that read some fields, if any
    tables: list[Table] = field(default_factory=list)  # by page, top to bottom
    # Every word of every page with its box and confidence (text layer or OCR): not in
    # to_dict(); group_lines(document.words) gives the lines.
    words: list[Word] = field(default_factory=list, repr=False, compare=False)

    def value(self, name: str) -> Any:
        """The value of field ``name``, or None if the document does not have it."""
        found = self.fields.get(name)
        return found.value if found else None

    def __getattr__(self, name: str) -> Any:
        # Only called for names that are not attributes: field values, None when absent.
        if name.startswith("_") or name in _OWN_NAMES:
            raise AttributeError(name)
        fields = self.__dict__.get("fields") or {}
        found = fields.get(name)
        return found.value if found else None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: dates as 'YYYY-MM-DD', amounts as numbers."""
        return {
            "file": str(self.file),
            "kind": self.kind,
            "template": self.template,
            "pages": self.pages,
            "ocr_pages": list(self.ocr_pages),
            "fields": {name: f.to_dict() for name, f in self.fields.items()},
            "lines": [{name: f.to_dict() for name, f in line.items()} for line in self.lines],
            "tables": [t.to_dict() for t in self.tables],
            "errors": [],
        }


_OWN_NAMES = frozenset(f.name for f in dataclasses.fields(Document))
