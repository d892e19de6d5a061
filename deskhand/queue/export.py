"""Export a queue's items: CSV (one row per item, JSON cells) or JSON (items with history)."""

from __future__ import annotations

import csv
import json
from typing import TextIO

from .models import ITEM_FIELDS, HistoryEntry, Item

_JSON_FIELDS = {"payload", "files", "output", "checkpoint"}


def write_export(
    items: list[Item], entries: dict[int, list[HistoryEntry]], fmt: str, out: TextIO
) -> None:
    if fmt == "json":
        data = [
            item.to_dict() | {"history": [e.to_dict() for e in entries.get(item.id, [])]}
            for item in items
        ]
        json.dump(data, out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(ITEM_FIELDS)
    for item in items:
        writer.writerow(_cell(name, value) for name, value in item.to_dict().items())


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if name in _JSON_FIELDS:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
