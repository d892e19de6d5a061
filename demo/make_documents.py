"""Make the sample invoices in demo/documents/ and their ground truth.

    python demo/make_documents.py [--out demo/documents]
    python -m demo.make_documents [--out demo/documents]

Every invoice is issued by one of the first five vendors in ``demo.data.VENDORS``, drawn in
one of four layouts (A classic, B centred with a boxed grid, C receipt, D letterhead with an
"Amount due" box) and saved as a digital PDF, or printed and "scanned": rendered at 200 dpi,
grayscale, blurred, rotated, speckled and saved as an image-only PDF, a PNG or a JPG. The
output is deterministic: fixed data, fixed dates, seeded noise, reportlab's invariant mode.
``ground_truth.json`` says what a reader should find in each file.
"""

from __future__ import annotations

import argparse
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pypdfium2
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

try:
    from demo.data import TERMS, VENDORS
except ModuleNotFoundError:  # run as a script: python demo/make_documents.py
    from data import TERMS, VENDORS  # type: ignore[no-redef]

OUT = Path(__file__).resolve().parent / "documents"
SCAN_DPI = 200
CENT = Decimal("0.01")
TERM_DAYS = {"NET15": 15, "NET30": 30, "NET60": 60, "DUE_ON_RECEIPT": 0}
BUYER = ("Brightwater Retail Ltd", "40 Canal Street, Manchester M1 3WD")


@dataclass(frozen=True)
class Spec:
    """One sample invoice: what it says and how it looks."""

    file: str
    vendor: str  # vendor code
    number: str
    issued: date
    terms: str
    layout: str
    form: str  # digital | scanned_pdf | png | jpg
    lines: tuple[tuple[str, str, str], ...]  # description, quantity, unit price
    tax: str | None = None  # rate in percent
    po: str | None = None
    recurring: bool = False
    show_due: bool = True
    angle: float = 0.0  # scan rotation in degrees


# fmt: off
SPECS = [
    Spec("inv-01-acme.pdf", "ACME", "000482", date(2026, 3, 5), "NET30", "A", "digital",
         (("A4 copy paper, 80gsm (box of 5 reams)", "12", "24.50"),
          ("Toner cartridge HP 26A", "3", "89.90"),
          ("Ergonomic office chair", "2", "345.00"),
          ("Desk organiser set", "5", "12.75")),
         tax="20", po="PO-20417"),
    Spec("inv-02-nordwind.pdf", "NORD", "RE-2026-0117", date(2026, 3, 2), "NET15", "D",
         "digital",
         (("Seefracht Hamburg - Rotterdam", "1", "1850.00"),
          ("Palettenlagerung (Woche)", "14", "6.40"),
          ("Zollabfertigung", "1", "145.00")),
         tax="19"),
    Spec("inv-03-bluepeak.pdf", "BLUE", "BP-10233", date(2026, 2, 27), "NET15", "B", "digital",
         (("Pro plan subscription (monthly)", "25", "49.00"),
          ("Priority support add-on", "1", "300.00"),
          ("Additional storage 500 GB", "3", "15.00")),
         recurring=True),
    Spec("inv-04-cascade.pdf", "CASC", "000731", date(2026, 3, 9), "DUE_ON_RECEIPT", "C",
         "digital",
         (("Office cleaning hrs", "7.5", "45.00"),
          ("Window washing", "1", "180.00"),
          ("Carpet shampoo", "2", "65.00")),
         recurring=True, show_due=False),
    Spec("inv-05-nordwind-scan.pdf", "NORD", "RE-2026-0142", date(2026, 3, 11), "NET30", "A",
         "scanned_pdf",
         (("Luftfracht Hamburg - Oslo", "1", "2340.00"),
          ("Express-Zuschlag", "1", "120.00"),
          ("Verpackungsmaterial", "8", "4.75"),
          ("Lagerung (Tage)", "3.5", "22.00")),
         tax="19", po="PO-20433", angle=0.8),
    Spec("inv-06-lumiere-scan.pdf", "LUMI", "F-2026-031", date(2026, 3, 4), "NET30", "B",
         "scanned_pdf",
         (("Buffet lunch (per guest)", "40", "18.50"),
          ("Coffee break service", "2", "95.00"),
          ("Staff service (hours)", "6.5", "32.00")),
         tax="20", po="PO-20441", angle=-1.2),
    Spec("inv-07-acme-scan.pdf", "ACME", "000517", date(2026, 3, 12), "NET60", "D",
         "scanned_pdf",
         (("Whiteboard markers (pack of 12)", "10", "8.95"),
          ("Filing cabinet, 4 drawer", "1", "219.00"),
          ("Printer paper A3 (ream)", "6", "11.40")),
         tax="20", po="PO-20502", angle=1.4),
    Spec("inv-08-bluepeak.png", "BLUE", "BP-10251", date(2026, 3, 6), "NET30", "A", "png",
         (("Onboarding workshop (hours)", "12.5", "150.00"),
          ("API usage overage", "1", "412.80")),
         tax="8.5", angle=-0.6),
    Spec("inv-09-cascade.png", "CASC", "000744", date(2026, 3, 16), "NET15", "B", "png",
         (("Monthly office cleaning", "1", "1200.00"),
          ("Deep clean, kitchen area", "4.5", "52.00"),
          ("Supplies surcharge", "1", "38.50")),
         po="PO-20458", recurring=True, angle=1.0),
    Spec("inv-10-lumiere.jpg", "LUMI", "F-2026-044", date(2026, 3, 18), "DUE_ON_RECEIPT", "C",
         "jpg",
         (("Canapes assortment", "60", "2.40"),
          ("Cheese platter", "3", "38.00"),
          ("Delivery", "1", "25.00")),
         tax="10", show_due=False, angle=-0.9),
    Spec("inv-11-lumiere.pdf", "LUMI", "F-2026-038", date(2026, 3, 10), "NET15", "D",
         "digital",
         (("Gala dinner menu (per guest)", "85", "64.00"),
          ("Wine pairing (per guest)", "85", "22.50"),
          ("Venue decoration", "1", "650.00"),
          ("Service staff (hours)", "24", "35.00"),
          ("Cloakroom service", "1", "120.00")),
         tax="20"),
    Spec("inv-12-nordwind.pdf", "NORD", "RE-2026-0098", date(2026, 2, 20), "NET60", "B",
         "digital",
         (("Containertransport 40ft", "2", "1475.00"),
          ("Umschlag Terminal", "2", "85.00")),
         show_due=False),
]

# Words each vendor's invoices use: Nordwind writes German, Lumiere mixes in French.
# Per layout A, B, C, D where a tuple.
WORDS = {
    "en": dict(title="INVOICE",
               number=("Invoice No.", "Invoice #", "Invoice No:", "Invoice number"),
               date=("Invoice Date", "Date", "Date:", "Invoice date"),
               due=("Due Date", "Due", "Due:", "Due date"), po="PO Number", bill="Bill to",
               subtotal="Subtotal", total=("Total", "Total due", "TOTAL", "Total"),
               box="Amount due",
               table=(("Description", "Qty", "Unit price", "Amount"),
                      ("Description", "Qty", "Rate", "Amount"),
                      ("Item", "Qty", "Price", "Amount"),
                      ("Description", "Quantity", "Unit price", "Amount"))),
    "de": dict(title="RECHNUNG",
               number=("Rechnungsnr.", "Rechnungsnummer", "Rechnungsnr:", "Rechnungsnummer"),
               date=("Rechnungsdatum", "Datum", "Datum:", "Rechnungsdatum"),
               due=("Fällig am", "Fällig", "Fällig:", "Fällig am"), po="Bestellnummer",
               bill="Rechnung an", subtotal="Zwischensumme",
               total=("Gesamtbetrag",) * 4, box="Zahlbetrag",
               table=(("Beschreibung", "Menge", "Einzelpreis", "Betrag"),) * 4),
    "fr": dict(title="FACTURE",
               number=("Facture n°", "Facture n°", "Facture n°:", "Facture n°"),
               date=("Invoice Date", "Date", "Date:", "Invoice date"),
               due=("Due Date", "Due", "Due:", "Due date"), po="PO Number", bill="Client",
               subtotal="Total HT", total=("Total TTC",) * 4, box="Amount due",
               table=(("Description", "Qty", "Unit price", "Amount"),) * 4),
}
# fmt: on
TAX_WORD = {"en": "VAT", "de": "MwSt", "fr": "TVA"}


def lang(vendor_code: str) -> str:
    return {"NORD": "de", "LUMI": "fr"}.get(vendor_code, "en")


class Invoice:
    """A spec with its vendor, its sums and its vendor's way of printing numbers and dates."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.vendor = next(v for v in VENDORS if v.code == spec.vendor)
        self.lang = lang(spec.vendor)
        self.words = WORDS[self.lang]
        self.layout_index = "ABCD".index(spec.layout)
        self.rows = []
        for description, qty, price in spec.lines:
            amount = (Decimal(qty) * Decimal(price)).quantize(CENT, ROUND_HALF_UP)
            self.rows.append((description, Decimal(qty), Decimal(price), amount))
        self.subtotal = sum((r[3] for r in self.rows), Decimal("0.00"))
        rate = Decimal(spec.tax) if spec.tax else Decimal(0)
        self.tax = (self.subtotal * rate / 100).quantize(CENT, ROUND_HALF_UP)
        self.total = self.subtotal + self.tax
        self.due = spec.issued + timedelta(days=TERM_DAYS[spec.terms]) if spec.show_due else None

    def w(self, key: str) -> str:
        value = self.words[key]
        return value[self.layout_index] if isinstance(value, tuple) else value

    def header(self) -> tuple[str, str, str, str]:
        return self.words["table"][self.layout_index]

    def tax_label(self) -> str:
        if self.vendor.currency == "USD":
            return f"Sales tax {self.spec.tax}%"
        return f"{TAX_WORD[self.lang]} {self.spec.tax}%"

    def money(self, amount: Decimal, symbol: bool = True) -> str:
        text = f"{amount:,.2f}"
        if self.vendor.code == "NORD":
            text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
            return f"{text} €" if symbol else text
        if self.vendor.code == "LUMI":
            return f"EUR {text}" if symbol else text
        sign = {"GBP": "£", "USD": "$"}[self.vendor.currency]
        return f"{sign}{text}" if symbol else text

    def qty(self, qty: Decimal) -> str:
        text = str(qty)
        return text.replace(".", ",") if self.lang == "de" else text

    def date(self, day: date) -> str:
        if self.vendor.code == "NORD":
            return day.strftime("%d.%m.%Y")
        if self.spec.layout == "A":
            return day.isoformat()
        if self.spec.layout == "B":
            return f"{day.strftime('%B')} {day.day}, {day.year}"
        if self.spec.layout == "C":
            return day.strftime("%d %b %Y")
        return f"{day.day} {day.strftime('%B %Y')}"

    def details(self) -> list[tuple[str, str]]:
        """The label/value pairs of the invoice's header block."""
        pairs = [
            (self.w("number"), self.spec.number),
            (self.w("date"), self.date(self.spec.issued)),
        ]
        if self.due:
            pairs.append((self.w("due"), self.date(self.due)))
        if self.spec.po:
            pairs.append((self.words["po"], self.spec.po))
        return pairs

    def notes(self) -> list[str]:
        notes = [f"Payment terms: {TERMS[self.spec.terms]}"]
        if self.spec.recurring:
            notes.append("This is a recurring invoice.")
        return notes

    def totals(self) -> list[tuple[str, str]]:
        rows = [(self.words["subtotal"], self.money(self.subtotal))]
        if self.spec.tax:
            rows.append((self.tax_label(), self.money(self.tax)))
        rows.append((self.w("total"), self.money(self.total)))
        return rows

    def email(self) -> str:
        return f"accounts@{self.vendor.name.split()[0].lower()}.example"

    def truth(self) -> dict:
        def canon(q: Decimal) -> str:
            text = format(q, "f")
            return text.rstrip("0").rstrip(".") if "." in text else text

        return {
            "vendor": self.vendor.name,
            "vendor_code": self.vendor.code,
            "invoice_number": self.spec.number,
            "invoice_date": self.spec.issued.isoformat(),
            "due_date": self.due.isoformat() if self.due else None,
            "currency": self.vendor.currency,
            "po_number": self.spec.po,
            "terms": self.spec.terms,
            "recurring": self.spec.recurring,
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "total": str(self.total),
            "lines": [
                {"description": d, "quantity": canon(q), "unit_price": str(p), "amount": str(a)}
                for d, q, p, a in self.rows
            ],
            "layout": self.spec.layout,
            "form": self.spec.form,
        }


# -- layouts ----------------------------------------------------------------------------------
# Each draws one page on a reportlab canvas; ``top`` counts down from the top edge.


class Page:
    def __init__(self, c: canvas.Canvas, size: tuple[float, float]):
        self.c, self.W, self.H = c, size[0], size[1]

    def text(self, x, top, s, font="Helvetica", size=10, align="left"):
        self.c.setFont(font, size)
        draw = {
            "left": self.c.drawString,
            "right": self.c.drawRightString,
            "centre": self.c.drawCentredString,
        }[align]
        draw(x, self.H - top, s)

    def hline(self, x0, x1, top, width=0.5, gray=0.55):
        self.c.setStrokeGray(gray)
        self.c.setLineWidth(width)
        self.c.line(x0, self.H - top, x1, self.H - top)

    def box(self, x, top, w, h, width=0.8, fill=None):
        self.c.setLineWidth(width)
        self.c.setStrokeGray(0.3)
        if fill is not None:
            self.c.setFillGray(fill)
        self.c.rect(x, self.H - top - h, w, h, stroke=1, fill=1 if fill is not None else 0)
        self.c.setFillGray(0)


def page_size(inv: Invoice) -> tuple[float, float]:
    if inv.spec.layout == "C":
        return (100 * mm, 160 * mm)
    return LETTER if inv.vendor.currency == "USD" else A4


def layout_a(p: Page, inv: Invoice) -> None:
    """Classic: name top-left, title and label/value block top-right, ruled table."""
    m, W = 50, p.W
    p.text(m, 70, inv.vendor.name, "Helvetica-Bold", 18)
    p.text(m, 88, inv.vendor.address, size=9)
    p.text(m, 100, inv.email(), size=9)
    if inv.lang == "en" and inv.vendor.currency == "GBP":
        p.text(m, 112, "VAT Reg. No. GB 284 7731 09", size=9)
    elif inv.lang == "de":
        p.text(m, 112, "USt-IdNr. DE 812 345 678", size=9)
    p.text(W - m, 72, inv.w("title"), "Helvetica-Bold", 22, "right")
    for i, (label, value) in enumerate(inv.details()):
        p.text(W - m - 200, 112 + 15 * i, label, size=9.5)
        p.text(W - m - 95, 112 + 15 * i, value, "Helvetica-Bold", 9.5)
    p.text(m, 185, inv.w("bill"), "Helvetica-Bold", 9.5)
    p.text(m, 199, BUYER[0], size=10)
    p.text(m, 212, BUYER[1], size=10)
    top = 260
    p.box(m, top - 14, W - 2 * m, 20, width=0.5, fill=0.88)
    cols = (m + 6, W - m - 210, W - m - 105, W - m - 6)
    head = inv.header()
    p.text(cols[0], top, head[0], "Helvetica-Bold", 9.5)
    for x, label in zip(cols[1:], head[1:], strict=True):
        p.text(x, top, label, "Helvetica-Bold", 9.5, "right")
    for description, qty, price, amount in inv.rows:
        top += 22
        p.text(cols[0], top, description, size=10)
        p.text(cols[1], top, inv.qty(qty), size=10, align="right")
        p.text(cols[2], top, inv.money(price, symbol=False), size=10, align="right")
        p.text(cols[3], top, inv.money(amount, symbol=False), size=10, align="right")
        p.hline(m, W - m, top + 8)
    top += 36
    for i, (label, value) in enumerate(inv.totals()):
        last = i == len(inv.totals()) - 1
        font = "Helvetica-Bold" if last else "Helvetica"
        if last:
            p.hline(W - m - 210, W - m, top - 12, width=1, gray=0.2)
        p.text(W - m - 210, top, label, font, 10.5)
        p.text(W - m - 6, top, value, font, 10.5, "right")
        top += 18
    top += 30
    for note in inv.notes():
        p.text(m, top, note, size=10)
        top += 15
    p.text(m, p.H - 40, f"{inv.vendor.name} - {inv.vendor.address} - {inv.email()}", size=7.5)


def layout_b(p: Page, inv: Invoice) -> None:
    """Centred header, details in a boxed grid (values under labels), table without rules."""
    m, W = 54, p.W
    p.text(W / 2, 62, inv.vendor.name, "Times-Bold", 20, "centre")
    p.text(W / 2, 79, inv.vendor.address, "Times-Roman", 10, "centre")
    p.text(W / 2, 92, inv.email(), "Times-Roman", 9.5, "centre")
    p.text(W / 2, 126, inv.w("title"), "Times-Bold", 14, "centre")
    details = inv.details()
    cell = (W - 2 * m) / len(details)
    for i, (label, value) in enumerate(details):
        x = m + i * cell
        p.box(x, 140, cell, 46, width=0.8)
        p.text(x + 8, 156, label, "Times-Bold", 10)
        p.text(x + 8, 176, value, "Times-Roman", 11.5)
    p.text(m, 218, inv.w("bill"), "Times-Bold", 10)
    p.text(m, 232, BUYER[0], "Times-Roman", 11)
    p.text(m, 246, BUYER[1], "Times-Roman", 11)
    top = 292
    cols = (m, W - m - 200, W - m - 100, W - m)
    head = inv.header()
    p.text(cols[0], top, head[0], "Times-Bold", 11)
    for x, label in zip(cols[1:], head[1:], strict=True):
        p.text(x, top, label, "Times-Bold", 11, "right")
    for description, qty, price, amount in inv.rows:
        top += 20
        p.text(cols[0], top, description, "Times-Roman", 11)
        p.text(cols[1], top, inv.qty(qty), "Times-Roman", 11, "right")
        p.text(cols[2], top, inv.money(price, symbol=False), "Times-Roman", 11, "right")
        p.text(cols[3], top, inv.money(amount, symbol=False), "Times-Roman", 11, "right")
    top += 40
    for i, (label, value) in enumerate(inv.totals()):
        font = "Times-Bold" if i == len(inv.totals()) - 1 else "Times-Roman"
        p.text(W - m - 200, top, label, font, 11.5)
        p.text(W - m, top, value, font, 11.5, "right")
        top += 19
    top += 30
    for note in inv.notes():
        p.text(W / 2, top, note, "Times-Italic", 11, "centre")
        top += 16


def layout_c(p: Page, inv: Invoice) -> None:
    """Receipt: one narrow column in a typewriter font."""
    m, W = 16, p.W
    body, size = "Courier", 8.5
    dashes = "-" * 48
    p.text(W / 2, 34, inv.vendor.name, "Courier-Bold", 12, "centre")
    p.text(W / 2, 48, inv.vendor.address, body, size, "centre")
    p.text(W / 2, 59, inv.email(), body, size, "centre")
    p.text(W / 2, 80, inv.w("title"), "Courier-Bold", 11, "centre")
    top = 96
    p.text(W / 2, top, dashes, body, size, "centre")
    for label, value in inv.details():
        top += 13
        p.text(m, top, f"{label.rstrip(':')}: {value}", body, size)
    top += 13
    p.text(W / 2, top, dashes, body, size, "centre")
    cols = (m, W - m - 118, W - m - 58, W - m)
    head = inv.header()
    top += 14
    p.text(cols[0], top, head[0], "Courier-Bold", size)
    for x, label in zip(cols[1:], head[1:], strict=True):
        p.text(x, top, label, "Courier-Bold", size, "right")
    for description, qty, price, amount in inv.rows:
        top += 13
        p.text(cols[0], top, description, body, size)
        p.text(cols[1], top, inv.qty(qty), body, size, "right")
        p.text(cols[2], top, inv.money(price, symbol=False), body, size, "right")
        p.text(cols[3], top, inv.money(amount, symbol=False), body, size, "right")
    top += 13
    p.text(W / 2, top, dashes, body, size, "centre")
    for i, (label, value) in enumerate(inv.totals()):
        top += 14
        last = i == len(inv.totals()) - 1
        font = "Courier-Bold" if last else body
        p.text(m, top, label.upper() if last else label, font, 10 if last else size)
        p.text(W - m, top, value, font, 10 if last else size, "right")
    top += 13
    p.text(W / 2, top, dashes, body, size, "centre")
    for note in inv.notes():
        top += 14
        p.text(m, top, note, body, size)
    p.text(W / 2, top + 28, "Thank you for your business", body, size, "centre")


def layout_d(p: Page, inv: Invoice) -> None:
    """Letterhead left, details right, an "Amount due" box, a table ruled under its header."""
    m, W = 48, p.W
    p.c.setFillGray(0.25)
    p.c.rect(m, p.H - 122, 5, 72, stroke=0, fill=1)
    p.c.setFillGray(0)
    p.text(m + 14, 66, inv.vendor.name, "Helvetica-Bold", 16)
    p.text(m + 14, 84, inv.vendor.address, size=9)
    p.text(m + 14, 97, inv.email(), size=9)
    phone = {"en": "+44 20 7946 0000", "de": "+49 40 1234 567", "fr": "+33 4 72 00 00 00"}
    p.text(m + 14, 110, f"Tel. {phone[inv.lang]}", size=9)
    right = W - m
    p.text(right, 60, inv.w("title"), "Helvetica-Bold", 14, "right")
    for i, (label, value) in enumerate(inv.details()):
        p.text(right - 210, 84 + 14 * i, label, size=9)
        p.text(right, 84 + 14 * i, value, size=9, align="right")
    p.box(right - 210, 160, 210, 50, width=1)
    p.text(right - 200, 176, inv.words["box"], size=9)
    p.text(right - 200, 198, inv.money(inv.total), "Helvetica-Bold", 16)
    p.text(m, 172, inv.w("bill"), "Helvetica-Bold", 9)
    p.text(m, 186, BUYER[0], size=10)
    p.text(m, 199, BUYER[1], size=10)
    top = 256
    cols = (m, right - 230, right - 110, right)
    head = inv.header()
    p.text(cols[0], top, head[0], "Helvetica-Bold", 9.5)
    for x, label in zip(cols[1:], head[1:], strict=True):
        p.text(x, top, label, "Helvetica-Bold", 9.5, "right")
    p.hline(m, right, top + 6, width=1, gray=0.2)
    for description, qty, price, amount in inv.rows:
        top += 19
        p.text(cols[0], top, description, size=10)
        p.text(cols[1], top, inv.qty(qty), size=10, align="right")
        p.text(cols[2], top, inv.money(price, symbol=False), size=10, align="right")
        p.text(cols[3], top, inv.money(amount, symbol=False), size=10, align="right")
    p.hline(m, right, top + 8)
    top += 30
    for i, (label, value) in enumerate(inv.totals()):
        font = "Helvetica-Bold" if i == len(inv.totals()) - 1 else "Helvetica"
        p.text(right - 210, top, label, font, 10)
        p.text(right, top, value, font, 10, "right")
        top += 17
    top += 26
    for note in inv.notes():
        p.text(m, top, note, size=9.5)
        top += 14


LAYOUTS = {"A": layout_a, "B": layout_b, "C": layout_c, "D": layout_d}


def render_pdf(inv: Invoice) -> bytes:
    buf = io.BytesIO()
    size = page_size(inv)
    c = canvas.Canvas(buf, pagesize=size, invariant=1, pageCompression=1)
    c.setTitle(f"Invoice {inv.spec.number}")
    c.setAuthor(inv.vendor.name)
    c.setCreator("deskhand demo/make_documents.py")
    LAYOUTS[inv.spec.layout](Page(c, size), inv)
    c.showPage()
    c.save()
    return buf.getvalue()


def scan(pdf: bytes, angle: float, seed: int) -> Image.Image:
    """Print and scan a page: 200 dpi grayscale, soft, tilted, with speckles and grain."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=SCAN_DPI / 72).to_pil().convert("L")
    finally:
        document.close()
    image = image.filter(ImageFilter.GaussianBlur(0.5))
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32) * 0.94 + 6  # a slightly grey paper
    pixels += rng.normal(0, 3.0, pixels.shape)
    speckles = rng.random(pixels.shape) < 0.0004
    pixels[speckles] = rng.uniform(0, 110, int(speckles.sum()))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def save(inv: Invoice, out: Path, seed: int) -> None:
    pdf = render_pdf(inv)
    path = out / inv.spec.file
    if inv.spec.form == "digital":
        path.write_bytes(pdf)
        return
    image = scan(pdf, inv.spec.angle, seed)
    if inv.spec.form == "png":
        # Posterise so the PNG stays small: scanners' "grayscale, text" mode does the same.
        image = image.point(lambda v: min(255, (v // 32) * 32 + 16) if v < 232 else 255)
        image.save(path, "PNG", dpi=(SCAN_DPI, SCAN_DPI), optimize=True)
    elif inv.spec.form == "jpg":
        image.save(path, "JPEG", dpi=(SCAN_DPI, SCAN_DPI), quality=70)
    else:
        image.save(
            path,
            "PDF",
            resolution=SCAN_DPI,
            quality=70,
            title=f"scan {inv.spec.number}",
            creationDate=None,
            modDate=None,
        )


def make(out: Path = OUT) -> dict[str, dict]:
    """Write every sample invoice and ground_truth.json into ``out``; return the truth."""
    out.mkdir(parents=True, exist_ok=True)
    truth = {}
    for seed, spec in enumerate(SPECS, start=1):
        inv = Invoice(spec)
        save(inv, out, seed)
        truth[spec.file] = inv.truth()
    (out / "ground_truth.json").write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=OUT, help="output folder (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    truth = make(args.out)
    for name in truth:
        size = (args.out / name).stat().st_size
        print(f"{name:28} {truth[name]['form']:12} layout {truth[name]['layout']}  {size:>8} bytes")
    print(f"{len(truth)} invoices and ground_truth.json in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
