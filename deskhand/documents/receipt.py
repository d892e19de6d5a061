"""The generic receipt reader: merchant, date, number, totals, tax, currency and items.

A receipt is read with the invoice reader's labels, table and issuer rules, then given a
receipt's field names (``date``, ``receipt_number``); a till receipt's items, which have no
header row ("Cappuccino  2 x 3.50  7.00"), are read as lines that end in an amount above the
first subtotal or total. The amount is the line's last number; the description keeps its
own digits ("Milk 2L  1.49", "2 x Coffee 250g  3.98").
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from . import invoice
from .invoice import Reread
from .layout import find_labels, group_lines
from .model import Field, Line, Table, Word, union
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
_QTY_PRICE = re.compile(r"^(\d+(?:[.,]\d+)?)\s*[x×@*]\s*(\S+)$", re.IGNORECASE)
_LEADING_QTY = re.compile(r"^([1-9]\d{0,2})\s*[x×*]$", re.IGNORECASE)


def extract(
    words: list[Word], page_sizes: list[tuple[float, float]], reread: Reread | None = None
) -> tuple[dict[str, Field], list[dict[str, Field]], str, list[Table]]:
    """Read a receipt from the words of all its pages: (fields, line items, text, the
    line-item tables under a header row; a till receipt's items have none)."""
    found, items, text, aligned = invoice.extract(words, page_sizes, reread, till_items)
    fields = {}
    for name, source in FIELDS.items():
        if source in found:
            field = found[source]
            field.name = name
            fields[name] = field
    if not items:
        items = till_items(group_lines(words))
    return fields, items, text, aligned


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
    found = _last_amount(line)
    if found is None:
        return None
    amount, last = found
    counted = _counted(line.words[: line.words.index(last)], amount)
    if counted is None:
        return None
    description, qty, qty_words, price, price_words = counted
    if not any(ch.isalpha() for w in description for ch in w.text):
        return None
    conf = min(w.conf for w in line.words)
    page = line.page

    def field(name, value, used, rule="till"):
        box = union(used) if used else None
        return Field(name, value, " ".join(w.text for w in used), conf, page, box, rule)

    return {
        "description": field("description", " ".join(w.text for w in description), description),
        "quantity": field("quantity", qty, qty_words, "till" if qty_words else "default"),
        "unit_price": field("unit_price", price, price_words, "till" if price_words else "default"),
        "amount": field("amount", amount.quantize(CENT), [last]),
    }


def _last_amount(line: Line) -> tuple[Decimal, Word] | None:
    """The amount the line ends with ('7.00', '£7.00', '7.00 EUR') and its word."""
    last = line.words[-1]
    amount = parse_amount(split_currency(last.text)[0], strict=True)
    if amount is None and len(line.words) > 2 and split_currency(last.text)[1]:
        last = line.words[-2]  # '7.00 EUR'
        amount = parse_amount(split_currency(last.text)[0], strict=True)
    return (amount, last) if amount is not None else None


def _counted(words: list[Word], amount: Decimal) -> tuple:
    """The words before the amount as (description, quantity and its words, unit price and
    its words): 'Cappuccino 2 x 3.50', '2 x Coffee 250g' (the price worked out), or a
    description alone ('Milk 2L', its digits kept)."""
    for n in (3, 2, 1):  # '2 x 3.50', '2x 3.50' or '2 x3.50', '2x3.50' at the end
        tail = words[-n:] if len(words) >= n else []
        match = _QTY_PRICE.match(" ".join(w.text for w in tail)) if tail else None
        if not match:
            continue
        qty = parse_quantity(match[1])
        price = parse_amount(split_currency(match[2])[0], strict=True)
        if not qty or price is None:
            continue  # '4x40': a size in the description, not a price
        # Taken as printed even when quantity x price is not the amount: validation names
        # the line, rather than a quantity of 1 being keyed without a word.
        return words[:-n], qty, tail, price, tail
    for n in (1, 2):  # '2x Coffee 250g', '2 x Coffee 250g'
        match = _LEADING_QTY.match(" ".join(w.text for w in words[:n]))
        if match and len(words) > n:
            qty = Decimal(match[1])
            price = (amount / qty).quantize(CENT, ROUND_HALF_UP)
            return words[n:], qty, words[:n], price, []
    return words, Decimal(1), [], amount, []
