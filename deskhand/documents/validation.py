"""Checks a read document must pass before anyone keys it: present, sure, typed, adding up.

The kind's pydantic schema (schema.py) says which fields it must have and of which type;
the checks here add the confidence thresholds and the sums and dates that must agree.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from deskhand.errors import BusinessError

from . import schema
from .model import Document

REQUIRED = {
    "invoice": ("issuer", "invoice_number", "invoice_date", "currency", "total"),
    "receipt": ("issuer", "date", "currency", "total"),
}
MIN_CONFIDENCE = 0.6
CENT = Decimal("0.01")


def validate(document: Document, min_confidence: float = MIN_CONFIDENCE) -> None:
    """Raise BusinessError (one line naming the fields) unless ``document`` can be keyed.

    For an invoice: the required fields are present and read with at least ``min_confidence``;
    it has line items, each quantity x unit price = amount; the line amounts add up to the
    subtotal; total = subtotal + tax; the due date is not before the invoice date.
    """
    problems = []
    fields = document.fields
    for name in REQUIRED.get(document.kind, ()):
        field = fields.get(name)
        if field is None or field.value in (None, ""):
            problems.append(f"{name} missing")
        elif field.confidence < min_confidence:
            problems.append(
                f"{name} confidence {field.confidence:.2f} is under {min_confidence:.2f}"
            )
    if document.kind == "invoice":
        problems += _invoice(document, min_confidence)
    elif document.kind == "receipt":
        problems += _receipt(document, min_confidence)
    named = {p.split(":")[0].split(" ")[0] for p in problems}
    problems += [p for p in schema.problems(document) if p.split(":")[0].split(" ")[0] not in named]
    if problems:
        raise BusinessError(f"{document.file.name}: " + "; ".join(problems))


def _invoice(document: Document, min_confidence: float) -> list[str]:
    problems = []
    if not document.lines:
        problems.append("lines missing: no line items found")
    problems += _sums(document, min_confidence)
    issued, due = document.value("invoice_date"), document.value("due_date")
    if issued and due and due < issued:
        problems.append(f"due_date {due} is before invoice_date {issued}")
    for name in ("subtotal", "tax", "due_date", "po_number", "terms"):
        field = document.fields.get(name)
        if field is not None and field.confidence < min_confidence:
            problems.append(
                f"{name} confidence {field.confidence:.2f} is under {min_confidence:.2f}"
            )
    return problems


def _receipt(document: Document, min_confidence: float) -> list[str]:
    problems = _sums(document, min_confidence, tax_included=True)
    for name in ("subtotal", "tax"):
        field = document.fields.get(name)
        if field is not None and field.confidence < min_confidence:
            problems.append(
                f"{name} confidence {field.confidence:.2f} is under {min_confidence:.2f}"
            )
    return problems


def _sums(document: Document, min_confidence: float, tax_included: bool = False) -> list[str]:
    """Each line's quantity x price = amount; lines add up to the subtotal; subtotal + tax =
    total. ``tax_included`` (receipts): line prices may include the tax, so the lines may
    add up to the total instead."""
    problems = []
    value = document.value
    for number, line in enumerate(document.lines, start=1):
        for name in ("description", "quantity", "unit_price", "amount"):
            field = line.get(name)
            if field is None or field.value in (None, ""):
                problems.append(f"line {number} {name} missing")
            elif name != "description" and field.confidence < min_confidence:
                problems.append(
                    f"line {number} {name} confidence {field.confidence:.2f} is "
                    f"under {min_confidence:.2f}"
                )
        try:
            qty, price, amount = (line[k].value for k in ("quantity", "unit_price", "amount"))
            expected = (qty * price).quantize(CENT, ROUND_HALF_UP)
        except (KeyError, TypeError, ArithmeticError):
            continue
        if abs(expected - amount) > CENT:
            problems.append(
                f"line {number} amount {amount} != quantity {qty} x unit_price {price} ({expected})"
            )
    tax = value("tax") if value("tax") is not None else Decimal("0.00")
    subtotal, total = value("subtotal"), value("total")
    amounts = [line["amount"].value for line in document.lines if "amount" in line]
    if amounts and all(isinstance(a, Decimal) for a in amounts):
        lines_sum = sum(amounts, Decimal("0.00"))
        if tax_included and total is not None and lines_sum == total:
            pass
        elif subtotal is not None and lines_sum != subtotal:
            problems.append(f"line amounts sum to {lines_sum} but subtotal is {subtotal}")
        elif subtotal is None and total is not None and lines_sum + tax != total:
            problems.append(
                f"line amounts sum to {lines_sum} but total {total} - tax {tax} is {total - tax}"
            )
    if subtotal is not None and total is not None and subtotal + tax != total:
        problems.append(f"total {total} != subtotal {subtotal} + tax {tax}")
    return problems
