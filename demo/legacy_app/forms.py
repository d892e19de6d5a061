"""The invoice form: what was submitted, and the checks a 2005 AP clerk's app would run on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from demo.data import CURRENCIES, TERMS

MAX_LINES = 20
LINE_FIELDS = ("description", "quantity", "unit_price", "amount")
HEADER_FIELDS = (
    "vendor_id", "invoice_number", "invoice_date", "due_date", "currency",
    "amount", "tax", "po_number", "terms", "notes",
)  # fmt: skip
CENT = Decimal("0.01")
_NUMBER = re.compile(r"^(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?$")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


@dataclass
class InvoiceForm:
    """The submitted values, as typed, so that a rejected form comes back exactly as it was."""

    values: dict = field(default_factory=lambda: dict.fromkeys(HEADER_FIELDS, ""))
    recurring: bool = False
    lines: list[dict] = field(default_factory=lambda: [dict.fromkeys(LINE_FIELDS, "")])

    @classmethod
    def from_request(cls, form) -> InvoiceForm:
        values = {name: form.get(name, "") for name in HEADER_FIELDS}
        try:
            count = int(form.get("line_count", "1"))
        except ValueError:
            count = 1
        # Trust the rows actually posted over the hidden counter, should the two disagree.
        for n in range(1, MAX_LINES + 1):
            if any(f"line_{f}_{n}" in form for f in LINE_FIELDS):
                count = max(count, n)
        count = min(max(count, 1), MAX_LINES)
        lines = [
            {f: form.get(f"line_{f}_{n}", "") for f in LINE_FIELDS} for n in range(1, count + 1)
        ]
        return cls(values=values, recurring=form.get("recurring") == "1", lines=lines)

    def validate(self, vendor_ids: set[int]) -> tuple[dict | None, list[dict], list[str]]:
        """Return (invoice row, line rows, []) or (None, [], error messages)."""
        v = {k: s.strip() for k, s in self.values.items()}
        errors: list[str] = []

        vendor_id = None
        if not v["vendor_id"]:
            errors.append("Vendor is required.")
        elif not v["vendor_id"].isdigit() or int(v["vendor_id"]) not in vendor_ids:
            errors.append("Vendor is not in the vendor list.")
        else:
            vendor_id = int(v["vendor_id"])
        if not v["invoice_number"]:
            errors.append("Invoice number is required.")
        invoice_date = _date(v["invoice_date"], "Invoice date", errors, required=True)
        due_date = _date(v["due_date"], "Due date", errors, required=False)
        if invoice_date and due_date and due_date < invoice_date:
            errors.append("Due date is before the invoice date.")
        if not v["currency"]:
            errors.append("Currency is required.")
        elif v["currency"] not in CURRENCIES:
            errors.append("Currency must be one of " + ", ".join(CURRENCIES) + ".")
        amount = _money(v["amount"], "Amount", errors, required=True)
        tax = _money(v["tax"], "Tax", errors, required=False)
        if not v["terms"]:
            errors.append("Terms are required.")
        elif v["terms"] not in TERMS:
            errors.append("Terms must be one of " + ", ".join(TERMS) + ".")

        lines, lines_ok = self._validate_lines(errors)
        if amount is not None and tax is not None and lines_ok and lines:
            total = sum((ln["_amount"] for ln in lines), Decimal("0"))
            if abs(total + tax - amount) >= Decimal("0.005"):
                errors.append(
                    f"Line items ({total:.2f}) plus tax ({tax:.2f}) "
                    f"do not match the amount ({amount:.2f})."
                )
        if errors:
            return None, [], errors

        invoice = {
            "vendor_id": vendor_id,
            "invoice_number": v["invoice_number"],
            "invoice_date": invoice_date.isoformat(),
            "due_date": due_date.isoformat() if due_date else "",
            "currency": v["currency"],
            "amount": f"{amount:.2f}",
            "tax": f"{tax:.2f}",
            "po_number": v["po_number"],
            "terms": v["terms"],
            "recurring": int(self.recurring),
            "notes": self.values["notes"].replace("\r\n", "\n").strip(),
        }
        for ln in lines:
            del ln["_amount"]
        return invoice, lines, []

    def _validate_lines(self, errors: list[str]) -> tuple[list[dict], bool]:
        lines: list[dict] = []
        ok = True
        for n, raw in enumerate(self.lines, 1):
            line = {k: s.strip() for k, s in raw.items()}
            if not any(line.values()):
                continue
            before = len(errors)
            if not line["description"]:
                errors.append(f"Line {n}: description is required.")
            qty = _number(line["quantity"], f"Line {n}: quantity", errors, required=True)
            price = _money(line["unit_price"], f"Line {n}: unit price", errors, required=True)
            amount = _money(line["amount"], f"Line {n}: amount", errors, required=True)
            if qty is not None and price is not None and amount is not None:
                expected = (qty * price).quantize(CENT, ROUND_HALF_UP)
                if abs(expected - amount) > CENT:
                    errors.append(
                        f"Line {n}: amount ({amount:.2f}) is not quantity x unit price "
                        f"({expected:.2f})."
                    )
            if len(errors) > before:
                ok = False
                continue
            lines.append(
                {
                    "description": line["description"],
                    "quantity": format(qty.normalize(), "f"),
                    "unit_price": f"{price:.2f}",
                    "amount": f"{amount:.2f}",
                    "_amount": amount,
                }
            )
        if ok and not lines:
            errors.append("At least one line item with a description is required.")
        return lines, ok


def _number(text: str, label: str, errors: list[str], required: bool) -> Decimal | None:
    """Parse '1234.5' or '1,234.50'; on failure add a message naming the field."""
    if not text:
        if required:
            errors.append(f"{_cap(label)} is required.")
            return None
        return Decimal("0")
    if not _NUMBER.match(text) or text == ".":
        errors.append(f"{_cap(label)} must be a number.")
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        errors.append(f"{_cap(label)} must be a number.")
        return None


def _money(text: str, label: str, errors: list[str], required: bool) -> Decimal | None:
    """A number with at most two decimal places, quantized to cents."""
    value = _number(text, label, errors, required)
    if value is None:
        return None
    if value != value.quantize(CENT):
        errors.append(f"{_cap(label)} must have at most 2 decimal places.")
        return None
    return value.quantize(CENT)


def _date(text: str, label: str, errors: list[str], required: bool) -> date | None:
    """Parse MM/DD/YYYY; on failure add a message naming the field."""
    if not text:
        if required:
            errors.append(f"{label} is required.")
        return None
    match = _DATE.match(text)
    try:
        if not match:
            raise ValueError(text)
        month, day, year = (int(g) for g in match.groups())
        return datetime(year, month, day).date()
    except ValueError:
        errors.append(f"{label} must be MM/DD/YYYY.")
        return None


def _cap(label: str) -> str:
    return label[0].upper() + label[1:]


def us_date(iso: str) -> str:
    """'2024-03-05' -> '03/05/2024'; '' stays ''."""
    return date.fromisoformat(iso).strftime("%m/%d/%Y") if iso else ""
