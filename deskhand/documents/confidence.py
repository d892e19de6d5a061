"""What a field's confidence means, and how it is worked out.

A field's confidence is the chance, as measured on real documents, that its value is right.
It starts from how surely its words were read (0.99 for a text layer, tesseract's word
confidence on a scan) times how the value was found (a label beside it, a layout cue, a
fallback), and is then held to what the rest of the page confirms:

- an amount is confirmed when the sums agree (subtotal + tax = total, the tax lines add up)
  or when the same figure is printed again (a till receipt's TOTAL and the card payment);
  a total the page contradicts (a subtotal and tax that add up to something else) is not;
- a date is confirmed by a label, and on a scan also by being printed again or read surely;
  an all-number date whose day and month could be swapped ('03/05/2026') with no other
  date on the page that settles the order is not;
- a party's name is confirmed by its cues (legal form, sender line, registration number,
  own web address, a label), each one a thing the seller prints about itself;
- a value read by OCR is held below the threshold unless something confirms it: tesseract's
  confidence says how clean the glyphs looked, not whether a 3 was an 8.

A field that nothing confirms is capped at UNCONFIRMED, under validation's threshold, so it
goes to review rather than being keyed. The threshold (validation.MIN_CONFIDENCE) is the
lowest value at which, on the development corpus of real invoices and receipts, at most 1 %
of fields are wrong (bench/real_documents.py prints the table).
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from decimal import Decimal

from . import dates
from .labels import exact_label
from .model import Field, Line, Word
from .parse import parse_amount, split_currency

UNCONFIRMED = 0.5  # under validation.MIN_CONFIDENCE: the field goes to review
CONFIRMED_OCR = 0.9  # an OCR value that the page confirms needs this word confidence
_AMBIGUOUS = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b")


def calibrate(
    fields: dict[str, Field],
    lines: list[Line],
    words: list[Word],
    summary_lines: list[Line],
    reread: set[str],
    items: list[dict[str, Field]],
) -> None:
    """Hold each field's confidence to what the page confirms (see the module's doc).
    ``summary_lines``: the lines with a total-like, payment or change label, where a total
    printed again confirms it; ``reread``: the fields a second OCR reading confirmed;
    ``items``: the line items, whose amounts may add up to the subtotal or total."""
    ocr_pages = {w.page for w in words if w.ocr}
    amounts = _printed_amounts(summary_lines)
    settled = dates.order_known("\n".join(line.text for line in lines))
    lines_sum = _lines_sum(items)
    for name in sorted(fields, key=lambda n: n != "total"):  # the total first: tax uses it
        field = fields[name]
        ocr = field.page in ocr_pages
        if name in ("subtotal", "total") and lines_sum is not None and field.value == lines_sum:
            continue  # the line items add up to it
        # a second reading that agrees has already raised the field's confidence (table.confirm)
        sure = not ocr or field.confidence >= CONFIRMED_OCR
        sure = sure or (name in reread and exact_label(field.rule, name) and _is_id(name))
        cap = _cap(name, field, fields, ocr, sure, amounts, settled)
        if cap is not None and field.confidence > cap:
            fields[name] = dataclasses.replace(field, confidence=round(cap, 3))


def _cap(
    name: str,
    field: Field,
    fields: dict[str, Field],
    ocr: bool,
    sure: bool,
    amounts: Counter,
    settled: bool,
) -> float | None:
    """The most ``field`` may claim, None for no limit. ``sure``: read from a text layer, or
    by OCR and confirmed (read again alike, or read with CONFIRMED_OCR)."""
    rule = field.rule
    if name in ("subtotal", "tax", "total"):
        if rule == "layout:rounded":
            return UNCONFIRMED  # rounded for cash: which of the two is the total varies
        if rule.startswith("sum:") or _adds_up(fields):
            return None
        # Unchecked, an amount is trusted only from a text layer and when printed again on
        # another total or payment line; OCR digits need the sums to agree.
        if _contradicted(fields):
            return UNCONFIRMED
        if name == "tax" and _rate_fits(field.value, fields):
            return None  # a VAT rate's share of the total or the net: 'VAT included 1.23'
        if name == "tax" and sure and _share_of_total(field, fields):
            return None  # labelled exactly, a plausible part of a confirmed total
        if ocr:
            return UNCONFIRMED  # OCR digits need the sums (or the items) to agree
        if name == "total":  # printed again on another total or payment line
            return None if amounts[_key(field.value)] >= 2 else UNCONFIRMED
        return UNCONFIRMED
    if name in ("invoice_date", "due_date", "date"):
        if not settled and _ambiguous(field.raw):
            return UNCONFIRMED
        if rule.startswith("regex:") and (ocr or rule != "regex:date"):
            return UNCONFIRMED  # unlabelled: on a scan, or one date among others
        if rule == "regex:date":
            return 0.9
        return None if sure else UNCONFIRMED
    if name in ("invoice_number", "po_number", "receipt_number"):
        # on a scan, a second reading that agrees confirms a number whose label was read
        # exactly (a misread label says the line was read poorly)
        return None if sure else UNCONFIRMED
    if name == "currency" and rule.startswith("country:"):
        return UNCONFIRMED  # not printed: inferred from the country the page names
    return None  # the parties are held to their cues where they are found (seller.py)


_RATES = (5, 6, 7, 8, 9, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27)


def _rate_fits(tax, fields: dict[str, Field]) -> bool:
    """The tax is a usual VAT/GST rate's share of the (confirmed) total or of the net."""
    total = fields.get("total")
    sub = fields.get("subtotal")
    if tax is None or tax <= 0 or total is None or total.confidence <= UNCONFIRMED:
        return False
    for rate in _RATES:
        if abs(total.value * rate / (100 + rate) - tax) <= Decimal("0.011"):
            return True
        if sub is not None and abs(sub.value * rate / 100 - tax) <= Decimal("0.011"):
            return True
    return False


def _share_of_total(tax: Field, fields: dict[str, Field]) -> bool:
    """A tax labelled exactly ('VAT', 'MwSt') that is under 30 % of a confirmed total: mixed
    rates ('VAT included 1.05' of 16.36) add up to no single rate."""
    total = fields.get("total")
    if total is None or total.confidence <= UNCONFIRMED or not exact_label(tax.rule, "tax"):
        return False
    return 0 < tax.value < total.value * Decimal("0.3")


def _is_id(name: str) -> bool:
    return name in ("invoice_number", "po_number", "receipt_number")


def _lines_sum(items: list[dict[str, Field]]):
    amounts = [item["amount"].value for item in items if "amount" in item]
    if len(amounts) < 2 or any(a is None for a in amounts):
        return None  # one item 'adding up' to the total is often the total line itself
    return sum(amounts)


def _adds_up(fields: dict[str, Field]) -> bool:
    have = {n: fields[n].value for n in ("subtotal", "tax", "total") if n in fields}
    if len(have) < 3:
        return False  # subtotal = total with no tax printed confirms nothing
    sub, total = fields["subtotal"], fields["total"]
    if sub.bbox and total.bbox and sub.page == total.page and abs(sub.bbox[1] - total.bbox[1]) < 2:
        return False  # net, tax and gross on one line: a row of the tax rates' table
    return have["subtotal"] + have["tax"] == have["total"]


def _contradicted(fields: dict[str, Field]) -> bool:
    """Subtotal, tax and total are all read and do not add up: one of them is wrong."""
    have = {n: fields[n].value for n in ("subtotal", "tax", "total") if n in fields}
    return len(have) == 3 and have["subtotal"] + have["tax"] != have["total"]


def _key(value) -> str:
    return f"{abs(value):.2f}" if value is not None else ""


def _printed_amounts(lines: list[Line]) -> Counter:
    """How often each amount is printed on the document (by its absolute value)."""
    seen: Counter = Counter()
    for line in lines:
        for word in line.words:
            number = split_currency(word.text)[0]
            value = parse_amount(number, strict=True)
            if value is not None and value != 0:
                seen[_key(value)] += 1
    return seen


def _ambiguous(raw: str) -> bool:
    """'03/05/2026': an all-number date whose day and month could be swapped (dots are
    day first by convention, so '03.05.2026' is not ambiguous)."""
    match = _AMBIGUOUS.search(raw)
    if not match or "." in match[0]:
        return False
    first, second = int(match[1]), int(match[2])
    return first <= 12 and second <= 12 and first != second
