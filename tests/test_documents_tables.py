"""Document.tables: ruled tables from pdfplumber's table finder on text pages, line-item tables
by column alignment on unruled pages and scans; in the JSON and through the disk cache."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pdfplumber
import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from deskhand import documents
from deskhand.documents import cache, files, pdf

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text(encoding="utf-8"))
WIDTH, HEIGHT = A4

RULED_ROWS = [
    ["Description", "Qty", "Unit price", "Amount"],
    ["A4 copy paper", "12", "24.50", "294.00"],
    ["Toner cartridge", "3", "89.90", "269.70"],
    ["Delivery", "", "", "15.00"],
]
GRID_X = [60, 300, 360, 450, 540]
GRID_TOP = 150  # points from the page's top
ROW_HEIGHT = 22


pytestmark = pytest.mark.usefixtures("private_cache")


def _heading(page: canvas.Canvas, number: str) -> None:
    page.setFont("Helvetica-Bold", 16)
    page.drawString(60, HEIGHT - 60, "Harbour Stationers Ltd")
    page.setFont("Helvetica", 10)
    page.drawString(60, HEIGHT - 90, f"Invoice No. {number}")
    page.drawString(60, HEIGHT - 105, "Invoice Date 05/03/2026")


def _ruled_pdf(path: Path) -> Path:
    """An invoice whose items sit in a grid of lines, one word or number a cell."""
    page = canvas.Canvas(str(path), pagesize=A4)
    _heading(page, "004711")
    ys = [HEIGHT - GRID_TOP - ROW_HEIGHT * i for i in range(len(RULED_ROWS) + 1)]
    page.grid(GRID_X, ys)
    for r, row in enumerate(RULED_ROWS):
        for k, text in enumerate(row):
            page.drawString(GRID_X[k] + 4, ys[r] - 15, text)
    page.drawString(360, ys[-1] - 30, "Total")
    page.drawString(450, ys[-1] - 30, "578.70")
    page.save()
    return path


def _unruled_pdf(path: Path) -> Path:
    """An invoice with aligned columns and no rulings; one description wraps."""
    page = canvas.Canvas(str(path), pagesize=A4)
    _heading(page, "004712")
    top = HEIGHT - 150

    def row(texts: list[str], y: float) -> None:
        page.drawString(60, y, texts[0])
        for right, text in zip((360, 440, 530), texts[1:], strict=True):
            page.drawRightString(right, y, text)

    row(["Description", "Qty", "Unit price", "Amount"], top)
    row(["Network switch 24 port", "2", "149.00", "298.00"], top - 20)
    page.drawString(60, top - 31, "managed, rack mount")
    row(["Patch cable 2 m", "10", "3.50", "35.00"], top - 51)
    page.drawString(380, top - 80, "Total")
    page.drawRightString(530, top - 80, "333.00")
    page.save()
    return path


def _extract(path: Path, **options) -> documents.Document:
    return documents.extract(path, templates_dir=NO_TEMPLATES, **options)


def _item_rows(document: documents.Document) -> list[list[str]]:
    """The line items as a column table's rows should hold them (numbers as printed)."""
    return [
        [item["description"].value, *(item[k].raw for k in ("quantity", "unit_price", "amount"))]
        for item in document.lines
    ]


def _as_truth(rows: list[list[str]]) -> list[dict[str, object]]:
    """A column table's body rows (description, quantity, unit price, amount) as values."""
    return [
        {
            "description": description,
            "quantity": Decimal(quantity),
            "unit_price": Decimal(price.replace(",", "")),
            "amount": Decimal(amount.replace(",", "")),
        }
        for description, quantity, price, amount in rows
    ]


def _truth(name: str) -> list[dict[str, object]]:
    return [
        {
            "description": line["description"],
            **{k: Decimal(line[k]) for k in line if k != "description"},
        }
        for line in TRUTH[name]["lines"]
    ]


def test_ruled_table_is_read_by_pdfplumber_with_its_cells(tmp_path):
    document = _extract(_ruled_pdf(tmp_path / "ruled.pdf"), cache_results=False)

    (table,) = document.tables  # the aligned reading of the same table is not added again
    assert table.source == "pdfplumber"
    assert table.page == 1
    assert table.rows == RULED_ROWS  # the empty cells are "", not None
    x0, top, x1, bottom = table.bbox
    assert (x0, top, x1, bottom) == pytest.approx(
        (GRID_X[0], GRID_TOP, GRID_X[-1], GRID_TOP + ROW_HEIGHT * len(RULED_ROWS)), abs=1
    )
    assert 0 <= x0 < x1 <= WIDTH and 0 <= top < bottom <= HEIGHT
    # the line items are read as before, beside the table
    assert [(i["description"].value, i["amount"].value) for i in document.lines] == [
        ("A4 copy paper", Decimal("294.00")),
        ("Toner cartridge", Decimal("269.70")),
    ]


def test_unruled_items_make_a_column_table_matching_the_line_items():
    document = _extract(SAMPLES / "inv-01-acme.pdf", cache_results=False)

    (table,) = document.tables
    assert table.source == "columns"
    assert table.page == 1
    assert table.rows[0] == ["Description", "Qty", "Unit price", "Amount"]
    assert _as_truth(table.rows[1:]) == _truth("inv-01-acme.pdf")
    assert table.rows[1:] == _item_rows(document)
    x0, top, x1, bottom = table.bbox
    assert 0 <= x0 < x1 <= WIDTH and 0 <= top < bottom <= HEIGHT
    for item in document.lines:  # every item's cells lie in the table's box
        ix0, itop, ix1, ibottom = item["amount"].bbox
        assert x0 <= ix0 and ix1 <= x1 and top <= itop and ibottom <= bottom


def test_a_wrapped_description_stays_in_its_row(tmp_path):
    document = _extract(_unruled_pdf(tmp_path / "unruled.pdf"), cache_results=False)

    (table,) = document.tables
    assert table.source == "columns"
    assert table.rows == [
        ["Description", "Qty", "Unit price", "Amount"],
        ["Network switch 24 port managed, rack mount", "2", "149.00", "298.00"],
        ["Patch cable 2 m", "10", "3.50", "35.00"],
    ]
    assert table.rows[1:] == _item_rows(document)


def test_ruled_box_and_unruled_items_give_two_tables_top_to_bottom():
    document = _extract(SAMPLES / "inv-03-bluepeak.pdf", cache_results=False)

    boxed, items = document.tables
    assert boxed.source == "pdfplumber"
    assert boxed.rows == [["Invoice #\nBP-10233", "Date\nFebruary 27, 2026", "Due\nMarch 14, 2026"]]
    assert items.source == "columns"
    assert boxed.bbox[3] <= items.bbox[1]
    assert _as_truth(items.rows[1:]) == _truth("inv-03-bluepeak.pdf")


def test_scan_gets_a_column_table():
    document = _extract(SAMPLES / "inv-07-acme-scan.pdf", cache_results=False)

    assert document.ocr_pages == [1]
    (table,) = document.tables
    assert table.source == "columns"
    assert table.rows[0] == ["Description", "Quantity", "Unit price", "Amount"]
    assert _as_truth(table.rows[1:]) == _truth("inv-07-acme-scan.pdf")
    x0, top, x1, bottom = table.bbox
    assert 0 <= x0 < x1 <= WIDTH and 0 <= top < bottom <= HEIGHT


def test_receipt_kind_keeps_the_tables():
    invoice = _extract(SAMPLES / "inv-01-acme.pdf", cache_results=False)
    receipt = _extract(SAMPLES / "inv-01-acme.pdf", kind="receipt", cache_results=False)

    assert receipt.tables == invoice.tables
    assert len(receipt.tables) == 1


def test_json_has_the_tables(tmp_path):
    document = _extract(_ruled_pdf(tmp_path / "ruled.pdf"), cache_results=False)

    dumped = json.loads(json.dumps(document.to_dict()))
    assert dumped["tables"] == [
        {
            "page": 1,
            "bbox": list(document.tables[0].bbox),
            "rows": RULED_ROWS,
            "source": "pdfplumber",
        }
    ]
    assert list(dumped)[-2:] == ["tables", "errors"]


@pytest.mark.parametrize("sample", ["ruled", "inv-03-bluepeak.pdf"])
def test_tables_survive_the_disk_cache(tmp_path, monkeypatch, sample):
    path = _ruled_pdf(tmp_path / "ruled.pdf") if sample == "ruled" else SAMPLES / sample
    first = _extract(path)
    assert first.tables
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1

    cache.clear()  # memory only: the second read must come from the file on disk

    def refuse(*args, **kwargs):
        raise AssertionError("read the file again instead of using the disk cache")

    monkeypatch.setattr(files, "read_pages", refuse)
    again = _extract(path)
    assert again.tables == first.tables
    assert again.to_dict()["tables"] == first.to_dict()["tables"]
    assert {t.source for t in again.tables} == {t.source for t in first.tables}


def _with_a_form(path: Path) -> Path:
    """A page whose text sits partly inside a form XObject (pdfminer: an LTFigure)."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.beginForm("letterhead")
    c.setFont("Helvetica-Bold", 14)
    c.drawString(60, HEIGHT - 60, "Harbour Supplies Ltd")
    c.rect(50, HEIGHT - 80, 300, 35)
    c.endForm()
    c.doForm("letterhead")
    ys = [HEIGHT - GRID_TOP - ROW_HEIGHT * i for i in range(len(RULED_ROWS) + 1)]
    c.grid(GRID_X, ys)
    c.setFont("Helvetica", 10)
    for r, row in enumerate(RULED_ROWS):
        for k, text in enumerate(row):
            c.drawString(GRID_X[k] + 4, ys[r] - 15, text)
    c.drawString(60, HEIGHT - 400, "Invoice No: HS-0042   Total due 578.70")
    c.showPage()
    c.save()
    return path


def test_lean_page_objects_give_pdfplumbers_words_and_tables(tmp_path):
    """pdf.parse_objects builds characters itself (the speed of digital pages): words and
    ruled tables must be exactly those of pdfplumber's own page parsing."""
    samples = [*sorted(SAMPLES.glob("*.pdf")), _with_a_form(tmp_path / "form.pdf")]
    compared = 0
    for sample in samples:
        with pdfplumber.open(sample) as theirs, pdfplumber.open(sample) as ours:
            for a, b in zip(theirs.pages, ours.pages, strict=True):
                pdf.parse_objects(b)
                expected = a.extract_words(keep_blank_chars=False, use_text_flow=False)
                assert b.extract_words(keep_blank_chars=False, use_text_flow=False) == expected
                assert [t.extract() for t in b.find_tables()] == [
                    t.extract() for t in a.find_tables()
                ]
                compared += len(expected)
    assert compared > 400  # the six digital samples and the form
    words = files.read_pages(samples[-1], samples[-1].read_bytes(), None, 5).words
    assert "Harbour" in {w.text for w in words}  # the form's text is read too
