"""Receipts (kind="receipt"): merchant, date, number, total, tax, currency and till items,
checked against the receipt schema."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pypdfium2
import pytest
from PIL import Image
from pydantic import ValidationError
from reportlab.pdfgen import canvas

from deskhand import documents
from deskhand.documents import schema, validation
from deskhand.errors import BusinessError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
TEST_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "templates"
NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"
ITEMS = [
    ("Cappuccino", "2 x 3,50", "7,00"),
    ("Croissant", "", "1,80"),
    ("Apfelschorle", "", "2,50"),
]


pytestmark = pytest.mark.usefixtures("private_cache")


def _till_receipt(path: Path) -> Path:
    width, height = 230, 420
    c = canvas.Canvas(str(path), pagesize=(width, height))

    def line(top, left, right="", size=9, font="Courier"):
        c.setFont(font, size)
        c.drawString(14, height - top, left)
        if right:
            c.drawRightString(width - 14, height - top, right)

    line(30, "Corner Cafe Mitte", size=12, font="Courier-Bold")
    line(44, "Torstrasse 12, 10115 Berlin")
    line(68, "Beleg-Nr. 000318")
    line(80, "Datum: 05.03.2026 14:32")
    top = 106
    for name, qty, amount in ITEMS:
        c.setFont("Courier", 9)
        c.drawString(14, height - top, name)
        if qty:
            c.drawString(110, height - top, qty)
        c.drawRightString(width - 14, height - top, amount)
        top += 13
    line(top + 14, "SUMME EUR", "11,30", size=11, font="Courier-Bold")
    line(top + 30, "MwSt 19%", "1,80")
    line(top + 54, "Vielen Dank fur Ihren Besuch")
    c.showPage()
    c.save()
    return path


def _check(document):
    assert document.kind == "receipt"
    assert document.issuer == "Corner Cafe Mitte"
    assert document.issuer_address == "Torstrasse 12, 10115 Berlin"
    assert document.receipt_number == "000318"
    assert document.date == date(2026, 3, 5)
    assert document.total == Decimal("11.30") and document.tax == Decimal("1.80")
    assert document.currency == "EUR"
    items = [
        (line["description"].value, line["quantity"].value, line["amount"].value)
        for line in document.lines
    ]
    assert items == [
        ("Cappuccino", Decimal(2), Decimal("7.00")),
        ("Croissant", Decimal(1), Decimal("1.80")),
        ("Apfelschorle", Decimal(1), Decimal("2.50")),
    ]
    assert document.lines[0]["unit_price"].value == Decimal("3.50")
    assert "invoice_number" not in document.fields and "due_date" not in document.fields
    documents.validate(document)
    model = documents.to_model(document)
    assert isinstance(model, schema.Receipt) and model.total == Decimal("11.30")


def test_digital_till_receipt(tmp_path):
    document = documents.extract(
        _till_receipt(tmp_path / "r.pdf"), kind="receipt", templates_dir=NO_TEMPLATES
    )
    _check(document)
    dumped = document.to_dict()
    assert dumped["kind"] == "receipt" and dumped["fields"]["date"]["value"] == "2026-03-05"
    assert dumped["lines"][0]["amount"]["rule"] == "till"


@pytest.mark.slow
def test_scanned_till_receipt(tmp_path):
    pdf = pypdfium2.PdfDocument(_till_receipt(tmp_path / "r.pdf"))
    image = pdf[0].render(scale=300 / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    image = image.rotate(-1.5, resample=Image.Resampling.BICUBIC, fillcolor=255)
    rng = np.random.default_rng(7)
    pixels = (
        np.asarray(image, dtype=np.float32) * 0.93
        + 8
        + rng.normal(0, 4, (image.height, image.width))
    )
    scan = tmp_path / "r.png"
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(scan, dpi=(300, 300))
    document = documents.extract(scan, kind="receipt", templates_dir=NO_TEMPLATES)
    assert document.ocr_pages == [1]
    assert document.issuer == "Corner Cafe Mitte" and document.receipt_number == "000318"
    assert document.date == date(2026, 3, 5) and document.currency == "EUR"
    assert document.total == Decimal("11.30") and document.tax == Decimal("1.80")
    expected = [
        ("Cappuccino", Decimal(2), Decimal("7.00")),
        ("Croissant", Decimal(1), Decimal("1.80")),
        ("Apfelschorle", Decimal(1), Decimal("2.50")),
    ]
    assert [line["amount"].value for line in document.lines] == [e[2] for e in expected]
    # The small "2 x 3,50" print under the noise may be lost by OCR (plain tesseract reads
    # "2-x"); a line read wrongly must then be unsure (review), never confidently wrong.
    for line, want in zip(document.lines, expected, strict=True):
        got = (line["description"].value, line["quantity"].value, line["amount"].value)
        if got != want:
            assert line["description"].confidence < validation.MIN_CONFIDENCE, got


def test_receipt_template_by_kind(tmp_path):
    pdf = _till_receipt(tmp_path / "r.pdf")
    receipt = documents.extract(pdf, kind="receipt", templates_dir=TEST_TEMPLATES)
    assert receipt.template == "corner-cafe"
    assert receipt.fields["currency"].rule == "template:corner-cafe:value"
    invoice = documents.extract(pdf, kind="invoice", templates_dir=TEST_TEMPLATES)
    assert invoice.template is None  # a receipt template is not used for invoices


def test_an_invoice_layout_read_as_a_receipt():
    document = documents.extract(
        SAMPLES / "inv-04-cascade.pdf", kind="receipt", templates_dir=NO_TEMPLATES
    )
    assert document.issuer == "Cascade Janitorial Services"
    assert document.receipt_number == "000731" and document.date == date(2026, 3, 9)
    assert document.total == Decimal("647.50") and len(document.lines) == 3
    documents.validate(document)


def test_receipt_schema_names_what_is_wrong(tmp_path):
    document = documents.extract(
        _till_receipt(tmp_path / "r.pdf"), kind="receipt", templates_dir=NO_TEMPLATES
    )
    document.fields["currency"].value = "EURO"
    del document.fields["date"]
    with pytest.raises(BusinessError) as caught:
        documents.validate(document)
    message = str(caught.value)
    assert (
        "date missing" in message and "currency: Value error, 'EURO' is not an ISO 4217" in message
    )
    with pytest.raises(ValidationError):
        documents.to_model(document)


def test_every_kind_has_a_schema():
    assert set(documents.SCHEMAS) == {"invoice", "receipt"}
    required = {
        k: {n for n, f in m.model_fields.items() if f.is_required()}
        for k, m in documents.SCHEMAS.items()
    }
    assert required["invoice"] == {
        "issuer",
        "invoice_number",
        "invoice_date",
        "currency",
        "total",
        "lines",
    }
    assert required["receipt"] == {"issuer", "date", "currency", "total"}


def _shop_receipt(path: Path, rows: list[tuple[str, str, str]], total: str, vat: str) -> Path:
    """A supermarket till receipt: each row is (left text, middle text, amount at the right)."""
    width, height = 230, 420
    c = canvas.Canvas(str(path), pagesize=(width, height))

    def line(top, left, middle="", right="", size=9, font="Courier"):
        c.setFont(font, size)
        c.drawString(14, height - top, left)
        if middle:
            c.drawString(120, height - top, middle)
        if right:
            c.drawRightString(width - 14, height - top, right)

    line(30, "Kestrel Foodstores Ltd", size=12, font="Courier-Bold")
    line(44, "8 Mill Lane, York YO1 7HH")
    line(58, "Store 0412  Till 3  Op 17")  # digits, but no amount: not an item
    line(72, "Receipt No. 88213")
    line(84, "Date: 12/03/2026 10:42")
    top = 110
    for left, middle, amount in rows:
        line(top, left, middle, amount)
        top += 13
    line(top + 14, "TOTAL", right=total, size=11, font="Courier-Bold")
    line(top + 30, "VAT included", right=vat)
    line(top + 54, "Thank you for shopping with us")
    c.showPage()
    c.save()
    return path


def test_till_items_whose_descriptions_have_digits(tmp_path):
    rows = [
        ("Milk 2L", "", "1.49"),
        ("AA Batteries 4pk", "", "5.99"),
        ("2 x Coffee 250g", "", "3.98"),
        ("Bread 500g", "2 x 1.25", "2.50"),
        ("Wall plugs 6x30", "", "£1.20"),  # '6x30' is a size, not 6 at 30.00
        ("Apples", "3 @ 0.40", "1.20"),
    ]
    pdf = _shop_receipt(tmp_path / "shop.pdf", rows, total="£16.36", vat="£1.05")
    document = documents.extract(pdf, kind="receipt", templates_dir=NO_TEMPLATES)
    items = [
        tuple(line[k].value for k in ("description", "quantity", "unit_price", "amount"))
        for line in document.lines
    ]
    assert items == [
        ("Milk 2L", Decimal(1), Decimal("1.49"), Decimal("1.49")),
        ("AA Batteries 4pk", Decimal(1), Decimal("5.99"), Decimal("5.99")),
        ("Coffee 250g", Decimal(2), Decimal("1.99"), Decimal("3.98")),
        ("Bread 500g", Decimal(2), Decimal("1.25"), Decimal("2.50")),
        ("Wall plugs 6x30", Decimal(1), Decimal("1.20"), Decimal("1.20")),
        ("Apples", Decimal(3), Decimal("0.40"), Decimal("1.20")),
    ]
    coffee, bread = document.lines[2], document.lines[3]
    assert coffee["quantity"].raw == "2 x" and coffee["quantity"].rule == "till"
    assert coffee["unit_price"].rule == "default"  # worked out from the amount
    assert bread["unit_price"].raw == "2 x 1.25" and bread["amount"].raw == "2.50"
    milk = document.lines[0]
    assert milk["description"].raw == "Milk 2L" and milk["description"].bbox[0] < 20
    assert document.total == Decimal("16.36") and document.currency == "GBP"
    documents.validate(document)  # every line adds up, and they sum to the total


def test_a_till_line_whose_quantity_and_price_do_not_make_its_amount(tmp_path):
    rows = [("Cappuccino", "2 x 3.50", "7.80"), ("Croissant 80g", "", "1.80")]
    pdf = _shop_receipt(tmp_path / "shop.pdf", rows, total="£9.60", vat="£1.60")
    document = documents.extract(pdf, kind="receipt", templates_dir=NO_TEMPLATES)
    items = [
        tuple(line[k].value for k in ("description", "quantity", "unit_price", "amount"))
        for line in document.lines
    ]
    assert items == [  # as printed: not a quantity of 1 at 7.80
        ("Cappuccino", Decimal(2), Decimal("3.50"), Decimal("7.80")),
        ("Croissant 80g", Decimal(1), Decimal("1.80"), Decimal("1.80")),
    ]
    with pytest.raises(BusinessError, match=r"line 1 amount 7.80 != quantity 2 x unit_price 3.50"):
        documents.validate(document)  # so a person looks at it before it is keyed
