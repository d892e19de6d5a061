"""Export a queue's items: CSV (one row per item, JSON cells) or JSON (items with history).

Both are masked with the current scope's secrets (the database holds masked values already:
see ``schema.Masked``). CSV cells that a spreadsheet would run as a formula, those starting
with ``= + - @``, a tab or a carriage return, are prefixed with ``'`` (the OWASP rule for
CSV injection): references and error messages come from documents and pages, so a cell
``=HYPERLINK(...)`` is shown as text, never run.
"""

from __future__ import annotations

import csv
import json
from typing import TextIO

from ..masking import mask
from .models import ITEM_FIELDS, HistoryEntry, Item

_JSON_FIELDS = {"payload", "files", "output", "checkpoint"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_export(
    items: list[Item], entries: dict[int, list[HistoryEntry]], fmt: str, out: TextIO
) -> None:
    if fmt == "json":
        data = [
            item.to_dict() | {"history": [e.to_dict() for e in entries.get(item.id, [])]}
            for item in items
        ]
        json.dump(mask(data), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR in a cell is quoted
    writer.writerow(ITEM_FIELDS)
    for item in items:
        writer.writerow(_cell(name, value) for name, value in item.to_dict().items())


def neutralise(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: ``'`` before a formula start."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)  # a number is never a formula
    if name in _JSON_FIELDS:
        value = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return neutralise(mask(str(value)))
