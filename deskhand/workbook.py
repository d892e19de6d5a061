"""Report workbooks (XLSX) as a controller would accept them, written with openpyxl.

Beside :func:`deskhand.spreadsheet.read_rows` (reading), this writes::

    from deskhand.workbook import Workbook, Column

    book = Workbook()
    sheet = book.sheet("Matched", [
        Column("Invoice", width=14),
        Column("Amount", "money"),
        Column("Paid on", "date"),
    ])
    sheet.row(["INV-1", Decimal("12.50"), date(2026, 11, 3)])
    sheet.row(["Total", book.formula("=SUM(B2:B{last})"), None])
    book.save("reconciliation.xlsx")

Every sheet gets a bold header row, frozen below it, an autofilter over its rows, the
column widths and number formats given. Text that comes from inputs (documents, bank
statements, web pages) is untrusted: a value starting with ``= + - @``, a tab or a carriage
return would be run as a formula by Excel, so it is written as text with a leading
apostrophe. Only values wrapped by :meth:`Workbook.formula` are written as formulas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook as _OpenpyxlWorkbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

FORMATS = {
    "text": "@",
    "money": "#,##0.00;[Red]-#,##0.00",
    "number": "#,##0.##",
    "integer": "0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
}
DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="336699")
TOTAL_FONT = Font(bold=True)
LINK_FONT = Font(color="0563C1", underline="single")


def neutralise(value: str) -> str:
    """Text that a spreadsheet would not run as a formula (a leading apostrophe if needed)."""
    return "'" + value if value.startswith(DANGEROUS_START) else value


@dataclass(frozen=True)
class Formula:
    """A formula the bot wrote itself; ``{row}``, ``{first}`` and ``{last}`` are filled in
    with the current row and the sheet's first and last data rows when the book is saved."""

    text: str


@dataclass(frozen=True)
class Link:
    """A cell that opens ``target`` (a relative file path or a URL) when clicked."""

    text: str
    target: str


@dataclass(frozen=True)
class Column:
    """A column: its header, its kind (a key of FORMATS) and its width in characters."""

    header: str
    kind: str = "text"
    width: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in FORMATS:
            raise ValueError(f"column {self.header!r}: kind must be one of {', '.join(FORMATS)}")


class Sheet:
    """One report sheet: a header row, data rows, and total rows under them."""

    def __init__(self, ws: Worksheet, columns: list[Column]) -> None:
        self.ws = ws
        self.columns = columns
        self._pending: list[tuple[int, int, Formula]] = []
        self._data_rows = 0
        for n, column in enumerate(columns, 1):
            cell = ws.cell(row=1, column=n, value=column.header)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(vertical="center")
            width = column.width or max(10, min(50, len(column.header) + 4))
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = "A2"

    def row(self, values: list[Any] | tuple[Any, ...], *, total: bool = False) -> int:
        """Append a row (data, or a bold total row kept out of the autofilter); its number."""
        if len(values) > len(self.columns):
            raise ValueError(f"{len(values)} values for {len(self.columns)} columns")
        number = self.ws.max_row + 1
        for n, (value, column) in enumerate(zip(values, self.columns, strict=False), 1):
            cell = self.ws.cell(row=number, column=n)
            if isinstance(value, Formula):
                self._pending.append((number, n, value))
            elif isinstance(value, Link):
                cell.value = neutralise(value.text)
                cell.hyperlink = value.target
                cell.font = LINK_FONT
            else:
                cell.value = _cell_value(value)
            cell.number_format = FORMATS[column.kind]
            if total:
                cell.font = TOTAL_FONT
        if not total:
            self._data_rows = number - 1
        return number

    def _finish(self) -> None:
        first, last = 2, max(2, self._data_rows + 1)
        for row, col, formula in self._pending:
            text = formula.text.format(row=row, first=first, last=last)
            self.ws.cell(row=row, column=col, value=text)
        width = get_column_letter(len(self.columns))
        self.ws.auto_filter.ref = f"A1:{width}{max(1, self._data_rows + 1)}"


class Workbook:
    """An XLSX report: add sheets with :meth:`sheet`, then :meth:`save`."""

    def __init__(self) -> None:
        self._book = _OpenpyxlWorkbook()
        self._book.remove(self._book.active)
        self._sheets: list[Sheet] = []

    def sheet(self, title: str, columns: list[Column]) -> Sheet:
        """A new sheet named ``title`` (at most 31 characters) with these columns."""
        if not columns:
            raise ValueError(f"sheet {title!r} needs at least one column")
        sheet = Sheet(self._book.create_sheet(title[:31]), columns)
        self._sheets.append(sheet)
        return sheet

    @staticmethod
    def formula(text: str) -> Formula:
        """A formula cell, e.g. ``Workbook.formula("=SUM(C{first}:C{last})")``."""
        if not text.startswith("="):
            raise ValueError(f"a formula starts with '=': {text!r}")
        return Formula(text)

    @staticmethod
    def link(text: str, target: str) -> Link:
        """A hyperlink cell showing ``text``."""
        return Link(text, target)

    def save(self, path: Path | str) -> Path:
        """Write the workbook (atomically: a reader never sees half a file); its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        for sheet in self._sheets:
            sheet._finish()
        partial = path.with_name(path.name + ".part")
        self._book.save(partial)
        partial.replace(path)
        return path

    def to_bytes(self) -> bytes:
        """The workbook as XLSX bytes (an e-mail attachment, say)."""
        import io

        for sheet in self._sheets:
            sheet._finish()
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()


def _cell_value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, datetime, date)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return neutralise(str(value))
