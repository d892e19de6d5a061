"""The generic receipt reader: merchant, date, number, totals, tax, currency and items.

A receipt is read with the invoice reader's labels, table and issuer rules, then given a
receipt's field names (``date``, ``receipt_number``); a till receipt's items, which have no
header row ("Cappuccino  2 x 3.50  7.00"), are read as lines that end in an amount above the
first subtotal or total.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from . import invoice
from .invoice import Reread
from .layout import find_labels, group_lines
from .model import Field, Line, Word, union
from .parse import parse_amount, parse_quantity, split_currency

FIELDS = {  # receipt field <- the invoice reader's field
    "issuer": "issuer",
    "issuer_address": "issuer_address",
    "receipt_number": "invoice_number",
    "date": "invoice_date",
    "subtotal": "subtotal",
    "tax": "tax",
    "total": "total",
    "currency": "currency",
}
CENT = Decimal("0.01")
_QTY_PRICE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*[x×@*]\s*(.+)$", re.IGNORECASE)


def extract(
    words: list[Word], page_sizes: list[tuple[float, float]], reread: Reread | None = None
) -> tuple[dict[str, Field], list[dict[str, Field]], str]:
    """Read a receipt from the words of all its pages: (fields, line items, text)."""
    found, items, text = invoice.extract(words, page_sizes, reread)
    fields = {}
    for name, source in FIELDS.items():
        if source in found:
            field = found[source]
            field.name = name
            fields[name] = field
    if not items:
        items = till_items(group_lines(words))
    return fields, items, text


def till_items(lines: list[Line]) -> list[dict[str, Field]]:
    """Items printed as 'description [qty x price] amount', above the first summary label."""
    labels = find_labels(lines, invoice.LABELS)
    summary = [lb.line for lb in labels if lb.field in invoice.SUMMARY]
    labelled = {id(lb.line) for lb in labels}
    stop = min(((ln.page, ln.top) for ln in summary), default=None)
    items = []
    for line in lines:
        if stop is not None and (line.page, line.top) >= stop:
            break
        if id(line) in labelled or len(line.words) < 2:
            continue
        item = _item(line)
        if item:
            items.append(item)
    return items if stop is not None else []


def _item(line: Line) -> dict[str, Field] | None:
    last = line.words[-1]
    number, _ = split_currency(last.text)
    amount = parse_amount(number, strict=True)
    if amount is None and len(line.words) > 2 and split_currency(last.text)[1]:
        last = line.words[-2]  # '7.00 EUR'
        amount = parse_amount(split_currency(last.text)[0], strict=True)
    if amount is None:
        return None
    end = line.words.index(last)
    description = []
    for word in line.words[:end]:
        if any(ch.isdigit() for ch in word.text) and description:
            break
        description.append(word)
    if not description or not any(ch.isalpha() for w in description for ch in w.text):
        return None
    middle = line.words[len(description) : end]
    qty, price, qty_words = Decimal(1), amount, []
    match = _QTY_PRICE.match(" ".join(w.text for w in middle))
    if match:
        q = parse_quantity(match[1])
        p = parse_amount(split_currency(match[2])[0])
        if q and p is not None and (q * p).quantize(CENT, ROUND_HALF_UP) == amount:
            qty, price, qty_words = q, p, middle
    elif middle:
        return None  # numbers that are not 'qty x price': a date, a phone number, a code
    conf = min(w.conf for w in line.words)
    page = line.page

    def field(name, value, used, rule="till"):
        box = union(used) if used else None
        return Field(name, value, " ".join(w.text for w in used), conf, page, box, rule)

    return {
        "description": field("description", " ".join(w.text for w in description), description),
        "quantity": field("quantity", qty, qty_words, "till" if qty_words else "default"),
        "unit_price": field("unit_price", price, qty_words, "till" if qty_words else "default"),
        "amount": field("amount", amount.quantize(CENT), [last]),
    }
