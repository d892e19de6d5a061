"""The report workbook writer, read back with openpyxl as a controller's Excel would see it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import openpyxl
import pytest

from deskhand.workbook import Column, Workbook, neutralise


def test_report_sheet_has_header_formats_widths_formulas_filter_and_frozen_header(tmp_path):
    book = Workbook()
    sheet = book.sheet(
        "Matched",
        [Column("Invoice", width=16), Column("Amount", "money"), Column("Paid on", "date")],
    )
    sheet.row(["INV-1", Decimal("1234.5"), date(2026, 11, 3)])
    sheet.row(["INV-2", Decimal("-10.25"), date(2026, 11, 4)])
    sheet.row(["Total", Workbook.formula("=SUM(B{first}:B{last})")], total=True)
    path = book.save(tmp_path / "out" / "report.xlsx")

    ws = openpyxl.load_workbook(path)["Matched"]
    assert [c.value for c in ws[1]] == ["Invoice", "Amount", "Paid on"]
    assert ws["A1"].font.bold
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"  # the total row stays out of the filter
    assert ws.column_dimensions["A"].width == 16
    assert ws["B2"].value == 1234.5 and ws["B2"].number_format.startswith("#,##0.00")
    assert ws["C2"].value.date() == date(2026, 11, 3) and ws["C2"].number_format == "yyyy-mm-dd"
    assert ws["B4"].value == "=SUM(B2:B3)"
    assert ws["A4"].font.bold


def test_text_from_inputs_is_never_a_formula(tmp_path):
    book = Workbook()
    sheet = book.sheet("Payments", [Column("Remittance", width=40), Column("Link")])
    hostile = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rx", "plain"]
    for text in hostile:
        sheet.row([text, Workbook.link(text, "files/a.pdf")])
    path = book.save(tmp_path / "r.xlsx")

    ws = openpyxl.load_workbook(path)["Payments"]
    values = [ws.cell(row=n, column=1) for n in range(2, 2 + len(hostile))]
    # XML stores a carriage return as a line feed: compare what follows the apostrophe
    assert [c.value for c in values[:-1]] == ["'" + t.replace("\r", "\n") for t in hostile[:-1]]
    assert values[-1].value == "plain"
    assert all(c.data_type == "s" for c in values)
    assert ws["B2"].hyperlink.target == "files/a.pdf" and ws["B2"].value == "'" + hostile[0]


def test_neutralise_and_bad_arguments():
    assert neutralise("=1") == "'=1" and neutralise("a=1") == "a=1"
    with pytest.raises(ValueError, match="starts with '='"):
        Workbook.formula("SUM(A1)")
    with pytest.raises(ValueError, match="kind must be one of"):
        Column("x", "currency")
    with pytest.raises(ValueError, match="2 values for 1 columns"):
        Workbook().sheet("s", [Column("a")]).row([1, 2])
