"""Make a varied synthetic corpus of invoices with ground truth, for bench/accuracy.py.

    python demo/make_corpus.py --out /tmp/corpus --count 60 [--seed 1]

Each document is drawn from a seed: one of ten layouts, a font family (Helvetica, Times,
Courier), a language (English, German, French) with its labels, date format and number
format (1,234.56 / 1.234,56 / 1 234,56 / 1'234.56), a currency shown as a sign or a code,
three to six line items, a tax rate or none, a PO number or none. Half are digital PDFs;
half are printed and scanned: 200 or 300 dpi, rotated up to 3 degrees either way, blurred,
grainy and speckled, saved as an image PDF, a PNG or a JPG. ``truth.json`` holds what a
reader should find. The same seed always makes the same corpus.
"""

from __future__ import annotations

import argparse
import io
import json
import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pypdfium2
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.pdfgen import canvas

CENT = Decimal("0.01")
FONTS = {
    "helvetica": ("Helvetica", "Helvetica-Bold"),
    "times": ("Times-Roman", "Times-Bold"),
    "courier": ("Courier", "Courier-Bold"),
}
LAYOUTS = {  # header, details, table, totals, font
    "L01": ("left", "right-block", "ruled", "right", "helvetica"),
    "L02": ("centre", "grid", "plain", "right", "times"),
    "L03": ("bar", "right-block", "boxed", "box", "helvetica"),
    "L04": ("left", "left-block", "plain", "right", "times"),
    "L05": ("right", "left-block", "ruled", "right", "helvetica"),
    "L06": ("centre", "right-block", "boxed", "right", "courier"),
    "L07": ("left", "grid", "ruled", "box", "helvetica"),
    "L08": ("bar", "left-block", "plain", "right", "courier"),
    "L09": ("right", "grid", "boxed", "right", "times"),
    "L10": ("centre", "left-block", "ruled", "box", "helvetica"),
}
LANG = {
    "en": dict(
        title="INVOICE",
        number=["Invoice No.", "Invoice #", "Invoice number", "Invoice No:"],
        date=["Invoice Date", "Date", "Date of issue", "Issue date"],
        due=["Due Date", "Payment due", "Due by"],
        po=["PO Number", "Purchase order", "PO No."],
        bill=["Bill to", "Invoice to", "Customer"],
        table=[
            ("Description", "Qty", "Unit price", "Amount"),
            ("Item", "Quantity", "Rate", "Total"),
        ],
        subtotal=["Subtotal", "Net total"],
        tax=["VAT", "Sales tax", "Tax"],
        total=["Total", "Total due", "Amount due", "Balance due"],
    ),
    "de": dict(
        title="RECHNUNG",
        number=["Rechnungsnummer", "Rechnungsnr.", "Rechnung Nr."],
        date=["Rechnungsdatum", "Datum"],
        due=["Fällig am", "Zahlbar bis", "Fälligkeitsdatum"],
        po=["Bestellnummer", "Bestellnr."],
        bill=["Rechnung an", "Kunde"],
        table=[
            ("Beschreibung", "Menge", "Einzelpreis", "Betrag"),
            ("Artikel", "Anzahl", "Preis", "Gesamt"),
        ],
        subtotal=["Zwischensumme", "Nettobetrag"],
        tax=["MwSt", "USt"],
        total=["Gesamtbetrag", "Rechnungsbetrag", "Zahlbetrag"],
    ),
    "fr": dict(
        title="FACTURE",
        number=["Facture n°", "N° de facture", "Numéro de facture"],
        date=["Date de facture", "Date"],
        due=["Échéance", "Date d'échéance"],
        po=["Bon de commande", "Commande n°"],
        bill=["Client", "Facturé à"],
        table=[
            ("Désignation", "Qté", "Prix unitaire", "Montant"),
            ("Description", "Quantité", "Prix unit.", "Montant"),
        ],
        subtotal=["Total HT", "Sous-total"],
        tax=["TVA"],
        total=["Total TTC", "Net à payer", "Montant TTC"],
    ),
}
MONTHS = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
}
DATES = {
    "en": [
        "{iso}",
        "{d:02d}/{m:02d}/{y}",
        "{month} {d}, {y}",
        "{d} {mon} {y}",
        "{d:02d}-{mon}-{y}",
    ],
    "de": ["{d:02d}.{m:02d}.{y}", "{d}. {month} {y}", "{iso}"],
    "fr": ["{d:02d}/{m:02d}/{y}", "{d} {month} {y}", "{iso}"],
}
NUMBERS = {"en": [",."], "de": [".,", "'."], "fr": [" ,", ".,"]}  # thousands, decimal
ISSUERS = [
    ("Kestrel Engineering Ltd", "7 Mill Lane, Derby DE1 3AA"),
    ("Vantage Print GmbH", "Industriestrasse 21, 70565 Stuttgart"),
    ("Orchard Analytics Inc.", "1200 Pearl Street, Boulder, CO 80302"),
    ("Atelier Roussel SARL", "18 Rue Victor Hugo, 33000 Bordeaux"),
    ("Fjord Maritime AB", "Strandvagen 44, 114 56 Stockholm"),
    ("Granite Legal LLP", "3 Castle Street, Edinburgh EH2 3AH"),
    ("Helios Solar BV", "Keizersgracht 101, 1015 CJ Amsterdam"),
    ("Quartz Media Services", "410 King Street West, Toronto, ON M5V 1K4"),
]
CUSTOMERS = [
    "Brightwater Retail Ltd",
    "Meridian Health Group",
    "Tessellate Studio",
    "Oakridge Foods",
]
ITEMS = [
    "Consulting services",
    "Annual licence renewal",
    "Printer toner (black)",
    "Site inspection",
    "Freight charges",
    "Installation labour",
    "Replacement filter set",
    "Training workshop",
    "Cloud hosting (monthly)",
    "Spare parts kit",
    "Translation of manual",
    "Catering for event",
]
CURRENCIES = {"en": ["GBP", "USD"], "de": ["EUR", "CHF"], "fr": ["EUR"]}
SIGNS = {"GBP": "£", "USD": "$", "EUR": "€"}


class Doc:
    """One synthetic invoice: its content (from the seed) and how it prints."""

    def __init__(self, seed: int):
        r = random.Random(seed)
        self.seed, self.r = seed, r
        self.layout = f"L{(seed - 1) // 2 % 10 + 1:02d}"  # each layout digital and scanned
        self.header, self.details, self.table, self.totals_style, font = LAYOUTS[self.layout]
        self.font, self.bold = FONTS[font]
        self.lang = r.choice(["en", "en", "de", "fr"])
        self.words = {
            k: (r.choice(v) if isinstance(v, list) else v) for k, v in LANG[self.lang].items()
        }
        self.date_format = r.choice(DATES[self.lang])
        self.thousands, self.decimal = r.choice(NUMBERS[self.lang])
        self.currency = r.choice(CURRENCIES[self.lang])
        if self.currency == "USD":  # Americans write the month first
            self.date_format = self.date_format.replace("{d:02d}/{m:02d}", "{m:02d}/{d:02d}")
        self.sign_style = r.choice(["sign", "code"]) if self.currency in SIGNS else "code"
        self.issuer, self.address = r.choice(ISSUERS)
        self.customer = r.choice(CUSTOMERS)
        prefix = r.choice(["INV-", "", "RE-", "F-", "2026/"])
        self.number = f"{prefix}{r.randint(1, 99999):0{r.choice([5, 6])}d}"
        self.issued = date(2026, 1, 1) + timedelta(days=r.randint(0, 300))
        self.due = (
            self.issued + timedelta(days=r.choice([14, 30, 60])) if r.random() < 0.8 else None
        )
        self.po = f"PO-{r.randint(10000, 99999)}" if r.random() < 0.5 else None
        self.rate = r.choice([None, Decimal("20"), Decimal("19"), Decimal("7"), Decimal("8.5")])
        self.rows = []
        for description in r.sample(ITEMS, r.randint(3, 6)):
            qty = Decimal(r.choice(["1", "2", "3", "5", "10", "12", "2.5", "0.5"]))
            price = (Decimal(r.randint(150, 250000)) / 100).quantize(CENT)
            self.rows.append((description, qty, price, (qty * price).quantize(CENT, ROUND_HALF_UP)))
        self.subtotal = sum((row[3] for row in self.rows), Decimal("0.00"))
        self.tax = (
            (self.subtotal * self.rate / 100).quantize(CENT, ROUND_HALF_UP)
            if self.rate
            else Decimal("0.00")
        )
        self.total = self.subtotal + self.tax
        self.form = (
            r.choice(["digital", "digital", "scanned_pdf", "png", "jpg"]) if seed % 2 else "digital"
        )
        if seed % 2 and self.form == "digital":
            self.form = "scanned_pdf"
        self.dpi = r.choice([200, 300])
        self.angle = round(r.uniform(-3, 3), 2)
        self.size = LETTER if self.currency == "USD" else A4

    def date(self, day: date) -> str:
        month = MONTHS[self.lang].split()[day.month - 1]
        mon = MONTHS["en"].split()[day.month - 1][:3]
        return self.date_format.format(
            iso=day.isoformat(), d=day.day, m=day.month, y=day.year, month=month, mon=mon
        )

    def money(self, amount: Decimal, sign: bool = False) -> str:
        text = f"{amount:,.2f}".replace(",", "T").replace(".", "D")
        text = text.replace("T", self.thousands).replace("D", self.decimal)
        if not sign:
            return text
        if self.sign_style == "sign":
            return (
                f"{SIGNS[self.currency]}{text}"
                if self.lang == "en"
                else f"{text} {SIGNS[self.currency]}"
            )
        return f"{self.currency} {text}" if self.lang == "en" else f"{text} {self.currency}"

    def qty(self, qty: Decimal) -> str:
        text = format(qty.normalize(), "f")
        return text.replace(".", self.decimal)

    def file(self) -> str:
        suffix = {"digital": "pdf", "scanned_pdf": "pdf", "png": "png", "jpg": "jpg"}[self.form]
        return f"c{self.seed:04d}-{self.layout}-{self.lang}-{self.form}.{suffix}"

    def truth(self) -> dict:
        return {
            "issuer": self.issuer,
            "issuer_address": self.address,
            "customer": self.customer,
            "invoice_number": self.number,
            "invoice_date": self.issued.isoformat(),
            "due_date": self.due.isoformat() if self.due else None,
            "po_number": self.po,
            "currency": self.currency,
            "subtotal": str(self.subtotal),
            "tax": str(self.tax),
            "total": str(self.total),
            "lines": [
                {
                    "description": d,
                    "quantity": format(q.normalize(), "f"),
                    "unit_price": str(p),
                    "amount": str(a),
                }
                for d, q, p, a in self.rows
            ],
            "layout": self.layout,
            "lang": self.lang,
            "form": self.form,
            "dpi": self.dpi if self.form != "digital" else None,
            "angle": self.angle if self.form != "digital" else None,
        }

    # -- drawing -------------------------------------------------------------------------

    def render(self) -> bytes:
        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=self.size, invariant=1, pageCompression=1)
        self.c, (self.W, self.H) = c, self.size
        self._draw()
        c.showPage()
        c.save()
        return buf.getvalue()

    def text(self, x, top, s, size=10, bold=False, align="left"):
        self.c.setFont(self.bold if bold else self.font, size)
        draw = {
            "left": self.c.drawString,
            "right": self.c.drawRightString,
            "centre": self.c.drawCentredString,
        }
        draw[align](x, self.H - top, s)

    def _draw(self) -> None:
        m, W = 50, self.W
        name_x, align = {
            "left": (m, "left"),
            "bar": (m + 14, "left"),
            "centre": (W / 2, "centre"),
            "right": (W - m, "right"),
        }[self.header]
        if self.header == "bar":
            self.c.setFillGray(0.3)
            self.c.rect(m, self.H - 110, 5, 60, stroke=0, fill=1)
            self.c.setFillGray(0)
        self.text(name_x, 66, self.issuer, 17, True, align)
        self.text(name_x, 83, self.address, 9, False, align)
        self.text(name_x, 96, f"billing@{self.issuer.split()[0].lower()}.example", 9, False, align)
        title_x, title_align = (W - m, "right") if self.header in ("left", "bar") else (m, "left")
        self.text(
            title_x,
            130 if self.header != "left" else 66,
            self.words["title"],
            15,
            True,
            title_align,
        )
        pairs = [(self.words["number"], self.number), (self.words["date"], self.date(self.issued))]
        if self.due:
            pairs.append((self.words["due"], self.date(self.due)))
        if self.po:
            pairs.append((self.words["po"], self.po))
        top = 150
        if self.details == "right-block":
            for i, (label, value) in enumerate(pairs):
                self.text(
                    W - m - 230, 112 + 15 * i if self.header == "left" else top + 15 * i, label, 9.5
                )
                self.text(
                    W - m,
                    112 + 15 * i if self.header == "left" else top + 15 * i,
                    value,
                    9.5,
                    True,
                    "right",
                )
        elif self.details == "left-block":
            for i, (label, value) in enumerate(pairs):
                self.text(m, top + 15 * i, f"{label}:", 9.5, True)
                self.text(m + 130, top + 15 * i, value, 9.5)
        else:
            cell = (W - 2 * m) / len(pairs)
            for i, (label, value) in enumerate(pairs):
                self.c.setLineWidth(0.7)
                self.c.rect(m + i * cell, self.H - top - 40, cell, 44, stroke=1, fill=0)
                self.text(m + i * cell + 6, top + 10, label, 9.5, True)
                self.text(m + i * cell + 6, top + 30, value, 10)
        bill_x = m if self.details != "left-block" else W / 2 + 20
        top = 230
        self.text(bill_x, top, self.words["bill"], 9.5, True)
        self.text(bill_x, top + 14, self.customer, 10)
        self.text(bill_x, top + 27, "40 Canal Street, Manchester M1 3WD", 9)
        top = 300
        cols = (m + 4, W - m - 220, W - m - 110, W - m - 4)
        if self.table == "boxed":
            self.c.setFillGray(0.88)
            self.c.rect(m, self.H - top - 6, W - 2 * m, 20, stroke=0, fill=1)
            self.c.setFillGray(0)
        head = self.words["table"]
        self.text(cols[0], top, head[0], 9.5, True)
        for x, label in zip(cols[1:], head[1:], strict=True):
            self.text(x, top, label, 9.5, True, "right")
        for description, qty, price, amount in self.rows:
            top += 21
            self.text(cols[0], top, description, 10)
            self.text(cols[1], top, self.qty(qty), 10, False, "right")
            self.text(cols[2], top, self.money(price), 10, False, "right")
            self.text(cols[3], top, self.money(amount), 10, False, "right")
            if self.table == "ruled":
                self.c.setLineWidth(0.4)
                self.c.setStrokeGray(0.6)
                self.c.line(m, self.H - top - 7, W - m, self.H - top - 7)
                self.c.setStrokeGray(0)
        top += 40
        rows = [(self.words["subtotal"], self.money(self.subtotal, True))]
        if self.rate:
            rows.append(
                (f"{self.words['tax']} {self.rate.normalize()}%", self.money(self.tax, True))
            )
        rows.append((self.words["total"], self.money(self.total, True)))
        if self.totals_style == "box":
            self.c.setLineWidth(0.8)
            self.c.rect(
                W - m - 240,
                self.H - top - 19 * len(rows) + 8,
                240,
                19 * len(rows) + 6,
                stroke=1,
                fill=0,
            )
        for i, (label, value) in enumerate(rows):
            last = i == len(rows) - 1
            self.text(W - m - 230, top, label, 10.5, last)
            self.text(W - m - 6, top, value, 10.5, last, "right")
            top += 19


def scan(pdf: bytes, dpi: int, angle: float, seed: int) -> Image.Image:
    """Print and scan: grayscale at ``dpi``, soft, tilted, grainy, speckled."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    image = image.filter(ImageFilter.GaussianBlur(0.4 * dpi / 200))
    image = image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    rng = np.random.default_rng(seed)
    pixels = np.asarray(image, dtype=np.float32) * 0.93 + 8
    pixels += rng.normal(0, 4.0, pixels.shape)
    speckles = rng.random(pixels.shape) < 0.0003
    pixels[speckles] = rng.uniform(0, 110, int(speckles.sum()))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def make_one(seed: int, out: Path) -> tuple[str, dict]:
    """Write document ``seed`` into ``out``; return its file name and ground truth."""
    doc = Doc(seed)
    pdf = doc.render()
    path = out / doc.file()
    if doc.form == "digital":
        path.write_bytes(pdf)
    else:
        image = scan(pdf, doc.dpi, doc.angle, seed)
        if doc.form == "png":
            image.save(path, "PNG", dpi=(doc.dpi, doc.dpi))
        elif doc.form == "jpg":
            image.save(path, "JPEG", dpi=(doc.dpi, doc.dpi), quality=75)
        else:
            image.save(path, "PDF", resolution=doc.dpi, quality=75)
    return path.name, doc.truth()


def make(out: Path, count: int, first: int = 1) -> dict[str, dict]:
    """Write ``count`` documents (seeds first..) and truth.json into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    truth = dict(make_one(seed, out) for seed in range(first, first + count))
    (out / "truth.json").write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n")
    return truth


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--first", type=int, default=1, help="first seed")
    args = parser.parse_args(argv)
    truth = make(args.out, args.count, args.first)
    print(f"{len(truth)} documents and truth.json in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
