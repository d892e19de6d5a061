"""A read document in the terms of the demo's ground truth (ground_truth.json and the
synthetic corpus): dates as ISO text, money as '1234.50', quantities without trailing zeros.
The tests and bench/accuracy.py compare it key by key with what the generators wrote."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def as_truth(document) -> dict[str, Any]:
    """Every field the ground truth may hold ('vendor' is the issuer, as the app calls it)."""

    def money(value):
        return None if value is None else f"{value:.2f}"

    def day(value):
        return value.isoformat() if value else None

    return {
        "vendor": document.issuer,
        "issuer": document.issuer,
        "issuer_address": document.issuer_address,
        "customer": document.customer,
        "invoice_number": document.invoice_number,
        "invoice_date": day(document.invoice_date),
        "due_date": day(document.due_date),
        "po_number": document.po_number,
        "currency": document.currency,
        "terms": document.terms,
        "recurring": document.recurring,
        "subtotal": money(document.subtotal),
        "tax": money(document.tax if document.tax is not None else Decimal(0)),
        "total": money(document.total),
        "lines": [
            {
                "description": line["description"].value,
                "quantity": format(line["quantity"].value.normalize(), "f"),
                "unit_price": money(line["unit_price"].value),
                "amount": money(line["amount"].value),
            }
            for line in document.lines
        ],
    }
