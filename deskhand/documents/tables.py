"""A document's tables: the ruled ones pdfplumber finds on text-layer pages (pdf.page_tables),
and the line-item tables read by column alignment under a header row (on scans, and where
nothing is ruled).

A column table has the header row's recognised columns (description, quantity, unit price,
amount: those it has, left to right) and a row for each line item read under it, each word
in the band of the column it sits in, as table.read_rows places it; a description wrapped
onto a second line stays in its row's cell. The header row comes first.
"""

from __future__ import annotations

from .model import Line, Table, union
from .table import Cells, Header


def column_tables(
    headers: dict[int, Header], bodies: dict[int, list[list[tuple[Line, Cells]]]]
) -> list[Table]:
    """A table for every header row that has line items under it (``bodies``, as
    table.read_items gives them)."""
    tables = []
    for index, header in headers.items():
        body = bodies.get(index)
        if not body:
            continue
        rows = [_texts([(header.line, None)], header)]
        rows += [_texts(row, header) for row in body]
        words = [*header.line.words, *(w for row in body for line, _ in row for w in line.words)]
        tables.append(Table(header.line.page, union(words), rows, "columns"))
    return tables


def merge(ruled: list[Table], aligned: list[Table]) -> list[Table]:
    """The ruled tables, and the aligned ones that no ruled table covers (pdfplumber read
    the same table from its rulings), by page, top to bottom."""
    kept = [t for t in aligned if not any(_covers(r, t) for r in ruled)]
    return sorted([*ruled, *kept], key=lambda t: (t.page, t.bbox[1], t.bbox[0]))


def _texts(row: list[tuple[Line, Cells | None]], header: Header) -> list[str]:
    """The text in each of ``header``'s columns of a row's lines (with their table.row_cells;
    None: by band alone, as for the header row)."""
    cells: dict[str, list[str]] = {c.key: [] for c in header.columns}
    for line, split in row:
        placed: dict[int, str] = {}
        if split is not None:
            description, numbers = split
            placed = {id(w): key for key, ws in numbers.items() for w in ws}
            placed |= {id(w): "description" for w in description}
        for word in line.words:
            key = placed.get(id(word)) or header.column_at(word.xc).key
            cells[key].append(word.text)
    return [" ".join(cells[c.key]) for c in header.columns]


def _covers(ruled: Table, aligned: Table) -> bool:
    """Whether ``ruled`` holds at least half of ``aligned``'s box."""
    if ruled.page != aligned.page:
        return False
    x0, top, x1, bottom = aligned.bbox
    width = min(x1, ruled.bbox[2]) - max(x0, ruled.bbox[0])
    height = min(bottom, ruled.bbox[3]) - max(top, ruled.bbox[1])
    area = (x1 - x0) * (bottom - top)
    return width > 0 and height > 0 and width * height >= 0.5 * area
