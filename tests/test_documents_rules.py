"""The generic reader's rules for documents no one here made, each on a document built here
(reportlab): the seller not the buyer, the customer's block, invoice numbers, dates, totals
against cash and change, currency cues, and calibrated confidence sending unsure fields to
review."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from deskhand import documents
from deskhand.documents import dates
from deskhand.documents.parse import parse_date, split_currency
from deskhand.errors import BusinessError

ROOT = Path(__file__).resolve().parent.parent
NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"

pytestmark = pytest.mark.usefixtures("private_cache")


def _pdf(path: Path, rows: list[tuple[float, float, str, float]], size=A4) -> Path:
    """A one-page PDF: each row is (x, top, text, font size)."""
    c = canvas.Canvas(str(path), pagesize=size)
    for x, top, text, points in rows:
        c.setFont("Helvetica-Bold" if points > 12 else "Helvetica", points)
        c.drawString(x, size[1] - top - points * 0.8, text)
    c.showPage()
    c.save()
    return path


def _read(path: Path, kind: str = "invoice"):
    return documents.extract(path, kind=kind, templates_dir=NO_TEMPLATES, cache_results=False)


ITEMS = [
    (50, 300, "Description", 10),
    (330, 300, "Qty", 10),
    (400, 300, "Price", 10),
    (490, 300, "Amount", 10),
    (50, 318, "Consulting, March", 10),
    (330, 318, "4", 10),
    (400, 318, "250,00", 10),
    (490, 318, "1.000,00", 10),
]


def _letter(tmp_path: Path, sender: str, addressee: list[str], extra=()) -> Path:
    """A German letter invoice: the sender line over the envelope window, the addressee under
    it (a salutation first), the seller's own details on the right and in the footer."""
    rows = [
        (50, 120, sender, 7),
        (50, 135, "Herr", 10),
        *[(50, 150 + 14 * i, line, 10) for i, line in enumerate(addressee)],
        (380, 60, "Kranwerk Hafenbau GmbH", 14),
        (380, 80, "Am Kai 7, 20457 Hamburg", 9),
        (380, 92, "info@kranwerk-hafenbau.de", 9),
        (380, 104, "USt-IdNr. DE123456789", 9),
        (380, 200, "Rechnungsnummer: RE-2026/0417", 10),
        (380, 214, "Datum: 14. März 2026", 10),
        (380, 228, "Ihre Bestellnummer: B-7781", 10),
        (50, 260, "Rechnung RE-2026/0417", 14),
        *ITEMS,
        (380, 360, "Nettobetrag", 10),
        (490, 360, "1.000,00 €", 10),
        (380, 374, "MwSt. 19 %", 10),
        (490, 374, "190,00 €", 10),
        (380, 388, "Rechnungsbetrag", 10),
        (490, 388, "1.190,00 €", 10),
        (380, 402, "Bereits bezahlt", 10),
        (490, 402, "500,00 €", 10),
        (380, 416, "Offener Betrag", 10),
        (490, 416, "690,00 €", 10),
        (50, 780, "Kranwerk Hafenbau GmbH · Am Kai 7 · 20457 Hamburg · HRB 12345", 7),
        *extra,
    ]
    return _pdf(tmp_path / "letter.pdf", rows)


def test_the_seller_is_the_sender_not_the_addressee(tmp_path):
    pdf = _letter(
        tmp_path,
        "Kranwerk Hafenbau GmbH · Am Kai 7 · 20457 Hamburg",
        ["Möwe Reederei AG", "Deichstraße 12", "21073 Hamburg"],
    )
    document = _read(pdf)
    assert document.issuer == "Kranwerk Hafenbau GmbH"
    assert document.customer == "Möwe Reederei AG"  # under the sender line, after 'Herr'
    assert "sender line" in document.fields["issuer"].rule
    assert document.fields["issuer"].confidence >= documents.validation.MIN_CONFIDENCE


def test_the_numbers_dates_and_totals_of_a_german_letter(tmp_path):
    document = _read(
        _letter(
            tmp_path,
            "Kranwerk Hafenbau GmbH · Am Kai 7 · 20457 Hamburg",
            ["Möwe Reederei AG", "Deichstraße 12", "21073 Hamburg"],
        )
    )
    assert document.invoice_number == "RE-2026/0417"
    assert document.invoice_date == date(2026, 3, 14)  # 'März' spelled out
    assert document.po_number == "B-7781"  # 'Ihre Bestellnummer': the buyer's order
    assert document.subtotal == Decimal("1000.00")
    assert document.tax == Decimal("190.00")
    # 'Offener Betrag' after a payment is not the invoice's total
    assert document.total == Decimal("1190.00")
    assert document.currency == "EUR"


@pytest.mark.parametrize(
    "label",
    ["Bill to:", "Attn:", "Sold to:", "Guest:", "Rechnungsempfänger:", "Adresse de facturation :"],
)
def test_a_customer_block_is_never_the_issuer(tmp_path, label):
    # The customer's name is set bigger than the seller's: layout alone would pick it.
    pdf = _pdf(
        tmp_path / "c.pdf",
        [
            (50, 40, label, 10),
            (50, 56, "Brightwater Retail Ltd", 16),
            (50, 80, "40 Canal Street, Manchester M1 3WD", 10),
            (350, 40, "Harbour Paper Ltd", 11),
            (350, 54, "5 Quayside, Bristol BS1 4RN", 9),
            (350, 66, "www.harbourpaper.example", 9),
            (350, 120, "Invoice No. HP-0091", 10),
            (350, 134, "Invoice Date 2026-03-05", 10),
            (350, 400, "Total", 10),
            (480, 400, "£120.00", 10),
        ],
    )
    document = _read(pdf)
    assert document.customer == "Brightwater Retail Ltd"
    assert document.issuer == "Harbour Paper Ltd"


@pytest.mark.parametrize(
    "printed, number",
    [
        ("Invoice # INV-2026-0042", "INV-2026-0042"),
        ("Facture n° FA-2026/118", "FA-2026/118"),
        ("Factuur nummer 2026.0093", "2026.0093"),
        ("Rechnung Nr. 42", "42"),
        ("Bill No: CS1801/26717", "CS1801/26717"),
        ("Receipt No. 0031-77", "0031-77"),
        ("Faktura VAT nr FV/12/2026", "FV/12/2026"),
        ("Rechnung R0005532", "R0005532"),  # a title followed by the number
    ],
)
def test_invoice_numbers_in_their_common_forms(tmp_path, printed, number):
    pdf = _pdf(
        tmp_path / "n.pdf",
        [
            (50, 40, "Harbour Paper Ltd", 14),
            (50, 100, printed, 10),
            (50, 130, "N° de facture associée : F0000001", 10),  # a related invoice: a trap
            (350, 400, "Total", 10),
            (480, 400, "£120.00", 10),
        ],
    )
    assert _read(pdf).invoice_number == number


@pytest.mark.parametrize(
    "text, day_first, expected",
    [
        ("Date : 19-05-2018 12:46:58", True, date(2018, 5, 19)),
        ("12/28/2017 10:17:32 PM", True, date(2017, 12, 28)),  # impossible day first
        ("12 MAR 2018 18:19", True, date(2018, 3, 12)),
        ("2 mars 2022", True, date(2022, 3, 2)),
        ("11. Juli 2014", True, date(2014, 7, 11)),
        ("3 maart 2024", True, date(2024, 3, 3)),
        ("15 de marzo de 2023", True, date(2023, 3, 15)),
        ("3 stycznia 2024", True, date(2024, 1, 3)),
        ("12 Mei 2018", True, date(2018, 5, 12)),
        ("26.10.22", False, date(2022, 10, 26)),
        ("3800-12-04", True, None),  # a misread year is no date
    ],
)
def test_dates_in_their_printed_forms(text, day_first, expected):
    value = text.split(" : ", 1)[-1]
    assert parse_date(value, day_first) == expected


def test_the_order_of_all_number_dates_comes_from_the_page():
    assert dates.day_first("Date 03/05/2026  Due 28/05/2026") is True  # 28 cannot be a month
    assert dates.day_first("Date 03/05/2026  Due 05/28/2026") is False
    assert dates.day_first("Date 03/05/2026  Total RM 12.00") is True  # a country cue
    assert dates.day_first("Date 03/05/2026  Total $12.00 Sales tax") is False


def _till(tmp_path: Path, lines: list[tuple[str, str]], name="t.pdf") -> Path:
    rows = [(14, 20, "Kedai Runcit Maju Sdn Bhd", 11), (14, 36, "(123456-K)", 8)]
    rows += [(14, 50, "No. 5, Jalan Besar, 45600 Batang", 8)]
    top = 80
    for left, right in lines:
        rows.append((14, top, left, 8))
        if right:
            rows.append((150, top, right, 8))
        top += 12
    return _pdf(tmp_path / name, rows, size=(220, 400))


def test_a_receipts_total_is_not_cash_change_or_rounding(tmp_path):
    pdf = _till(
        tmp_path,
        [
            ("Date : 19-05-2018 12:46:58", ""),
            ("Nasi Lemak", "7.50"),
            ("Teh Tarik", "2.20"),
            ("Total Qty", "2"),
            ("Total Sales (Excluding GST)", "9.15"),
            ("Total GST", "0.55"),
            ("Total (RM)", "9.70"),
            ("Rounding", "0.00"),
            ("Cash", "50.00"),
            ("Change", "40.30"),
        ],
    )
    document = _read(pdf, "receipt")
    assert document.total == Decimal("9.70")
    assert document.subtotal == Decimal("9.15")  # 'Total ... (Excluding GST)' is the net
    assert document.tax == Decimal("0.55")  # 'Total GST' is the tax
    assert document.date == date(2018, 5, 19)  # a time after the date
    assert document.issuer == "Kedai Runcit Maju Sdn Bhd"
    assert document.currency == "MYR"  # 'RM'


def test_a_tax_summary_row_is_not_the_total(tmp_path):
    pdf = _till(
        tmp_path,
        [
            ("Sub-Total (Ex)", "52.00"),
            ("Total Tax", "3.12"),
            ("Total", "55.12"),
            ("GST Summary  Amount  Tax", ""),
            ("Total : 52.00", "3.12"),
        ],
    )
    assert _read(pdf, "receipt").total == Decimal("55.12")


@pytest.mark.parametrize(
    "printed, code",
    [("Total RM 12.00", "MYR"), ("Total RM12.00", "MYR"), ("Total 12,00 Euro", "EUR")],
)
def test_currency_from_signs_and_words(tmp_path, printed, code):
    label, amount = printed.split(" ", 1)
    pdf = _pdf(
        tmp_path / "cur.pdf",
        [(50, 40, "Harbour Paper Ltd", 14), (50, 200, label, 10), (200, 200, amount, 10)],
    )
    assert _read(pdf).currency == code


def test_currency_signs_codes_and_the_country_when_none_is_printed(tmp_path):
    assert split_currency("12,00 zł") == ("12,00", "PLN")
    assert split_currency("RM9.70") == ("9.70", "MYR")
    pdf = _pdf(
        tmp_path / "country.pdf",
        [
            (50, 40, "Kedai Runcit Maju Sdn Bhd", 14),
            (50, 60, "45600 Batang Berjuntai, Malaysia", 9),
            (50, 200, "Total", 10),
            (200, 200, "12.00", 10),
        ],
    )
    currency = _read(pdf).fields["currency"]
    assert currency.value == "MYR" and currency.rule == "country:MYR"
    assert currency.confidence < documents.validation.MIN_CONFIDENCE  # never printed: review


def test_an_unconfirmed_field_goes_to_review_naming_it(tmp_path):
    """The seller's name has no cue but its position and the total nothing that confirms it
    (no subtotal and tax that add up, not printed again): both are held under the threshold
    and validation names them."""
    pdf = _pdf(
        tmp_path / "u.pdf",
        [
            (50, 40, "Northern Lights", 10),
            (350, 100, "Invoice No. NL-77", 10),
            (350, 114, "Invoice Date 2026-03-05", 10),
            *ITEMS,
            (350, 400, "Total", 10),
            (480, 400, "€1.000,00", 10),
        ],
    )
    document = _read(pdf)
    assert document.total == Decimal("1000.00")
    assert document.fields["issuer"].confidence < documents.validation.MIN_CONFIDENCE
    with pytest.raises(BusinessError, match=r"issuer confidence .* under"):
        documents.validate(document)


def test_confirmed_fields_pass_validation(tmp_path):
    pdf = _letter(
        tmp_path,
        "Kranwerk Hafenbau GmbH · Am Kai 7 · 20457 Hamburg",
        ["Möwe Reederei AG", "Deichstraße 12", "21073 Hamburg"],
    )
    document = _read(pdf)
    for name in ("issuer", "invoice_number", "invoice_date", "subtotal", "tax", "total"):
        assert document.fields[name].confidence >= documents.validation.MIN_CONFIDENCE, name
    documents.validate(document)
