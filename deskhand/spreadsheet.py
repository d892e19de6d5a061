"""Rows of a spreadsheet (CSV or XLSX) as dictionaries of text, header row first.

Bots read their --input rows with ``ctx.rows(columns)`` (:func:`read_rows`); the web
recorder reads --data with it to match what was typed to the columns. Every value is text,
as a person would key it: a number cell ``12.5`` is ``"12.5"``, a whole number ``3.0`` is
``"3"``, a date cell is ``YYYY-MM-DD`` (keep dates as text in the sheet when the application
wants another format). A text cell is kept exactly, leading blanks and tabs included (a
cell ``"\t=1+1"`` must not become the formula ``=1+1``). An XLSX formula whose value was
never computed (the file was written by a program, not saved by Excel or LibreOffice) is
an error naming the cell, never an empty value.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from deskhand.errors import ConfigError
from deskhand.inputs import escape

SUFFIXES = (".csv", ".xlsx")


def read_rows(path: Path | str, columns: list[str] | tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Every non-empty row of the CSV or XLSX file at ``path``, keyed by the header row.

    ``columns``: the columns the caller needs; a ConfigError names any the file lacks.
    """
    return read_table(path, columns)[1]


def read_table(
    path: Path | str, columns: list[str] | tuple[str, ...] = ()
) -> tuple[list[str], list[dict[str, str]]]:
    """The header row and the rows of a CSV or XLSX file (see :func:`read_rows`)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
        if len(found) != 1:
            raise ConfigError(f"{path} is a folder: pass one .csv or .xlsx file as --input")
        if problem := escape(found[0], path):  # a link out of the folder is not read
            raise ConfigError(problem)
        path = found[0]
    if not path.is_file():
        raise ConfigError(f"spreadsheet {path} not found: check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header, body = _read_csv(path)
    elif suffix == ".xlsx":
        header, body = _read_xlsx(path)
    else:
        raise ConfigError(f"{path.name}: expected a .csv or .xlsx file")
    missing = [c for c in columns if c not in header]
    if missing:
        raise ConfigError(
            f"{path.name} has no column {', '.join(repr(c) for c in missing)} "
            f"(its columns: {', '.join(header) or 'none'})"
        )
    rows = []
    for values in body:
        cells = [_text(v) for v in values]
        if any(c.strip() for c in cells):
            cells += [""] * (len(header) - len(cells))
            rows.append({name: cells[i] for i, name in enumerate(header) if name})
    return [name for name in header if name], rows


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    text = path.read_bytes().decode("utf-8-sig")  # no newline translation: CR stays
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:4096], ",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text, newline=""), dialect))  # CR/LF in cells kept
    if not lines:
        return [], []
    return [h.strip() for h in lines[0]], lines[1:]


def _uncomputed(path: Path, values_book) -> None:
    """A ConfigError naming the first formula cell that has no saved value."""
    from openpyxl import load_workbook

    formulas = load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = formulas.worksheets[0]
        rows = zip(values_book.worksheets[0].iter_rows(), sheet.iter_rows(), strict=False)
        for computed, written in rows:
            for value, cell in zip(computed, written, strict=False):
                if getattr(cell, "data_type", None) == "f" and value.value is None:
                    formula = str(getattr(cell.value, "text", cell.value))[:60]
                    raise ConfigError(
                        f"{path.name}: cell {sheet.title}!{cell.coordinate} holds a formula "
                        f"({formula!r}) with no saved value: open and save the file in Excel "
                        "or LibreOffice so that it is computed, or type the value instead"
                    )
    finally:
        formulas.close()


def _read_xlsx(path: Path) -> tuple[list[str], list[list[object]]]:
    try:
        from openpyxl import load_workbook
    except ImportError:
        raise ConfigError("reading .xlsx needs openpyxl: pip install openpyxl") from None
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ConfigError(f"{path.name} is not a readable .xlsx file: {exc}") from None
    try:
        lines = [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
        if any(v is None for row in lines for v in row):  # an empty cell, or uncomputed?
            _uncomputed(path, book)
    finally:
        book.close()
    if not lines:
        return [], []
    return [_text(h).strip() for h in lines[0]], lines[1:]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.time() == datetime.min.time():
        return value.date().isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)  # as the cell has it: leading whitespace is part of the value


YES = ("yes", "y", "true", "1", "x", "ja", "oui", "on", "checked")
NO = ("no", "n", "false", "0", "", "nein", "non", "off", "unchecked")


def yes(cell: str) -> bool:
    """A yes/no cell as a bool ('Yes', 'x', 'true', '1' -> True; 'No', '', '0' -> False);
    a ConfigError for anything else, so a typo never ticks a box by mistake."""
    text = str(cell).strip().lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise ConfigError(f"{cell!r} is not a yes/no value: write yes or no (or x / empty)")
