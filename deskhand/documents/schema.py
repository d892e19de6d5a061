"""The shape of each document kind, as pydantic models: names, types and what is required.

``SCHEMAS[kind]`` validates the values of a read document (``to_model(document)``); the
cross-checks (sums, dates) and confidence thresholds live in validation.py.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .model import Document
from .parse import CURRENCY_CODES

Money = Decimal
Terms = Literal["NET15", "NET30", "NET60", "DUE_ON_RECEIPT"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class LineItem(_Strict):
    """One line item: what, how many, at what price, for how much."""

    description: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0)
    unit_price: Money
    amount: Money


def _currency(value: str | None) -> str | None:
    if value is not None and value not in CURRENCY_CODES:
        raise ValueError(f"{value!r} is not an ISO 4217 code deskhand knows")
    return value


class Invoice(_Strict):
    """An invoice: who issued it to whom, its number and dates, its sums and its lines."""

    issuer: str = Field(min_length=1)
    issuer_address: str | None = None
    customer: str | None = None
    invoice_number: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9\-/_.]*$")
    invoice_date: date
    due_date: date | None = None
    po_number: str | None = None
    currency: str
    subtotal: Money | None = None
    tax: Money | None = None
    total: Money
    terms: Terms | None = None
    recurring: bool = False
    lines: list[LineItem] = Field(min_length=1)

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        return _currency(value)


class Receipt(_Strict):
    """A receipt: the merchant, when, how much (tax included), and the items if printed."""

    issuer: str = Field(min_length=1)
    issuer_address: str | None = None
    receipt_number: str | None = None
    date: date
    currency: str
    subtotal: Money | None = None
    tax: Money | None = None
    total: Money
    lines: list[LineItem] = []

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        return _currency(value)


SCHEMAS: dict[str, type[BaseModel]] = {"invoice": Invoice, "receipt": Receipt}


def values(document: Document) -> dict[str, Any]:
    """The document's values as the kind's schema names them (unknown fields left out)."""
    schema = SCHEMAS[document.kind]
    data = {
        name: field.value
        for name, field in document.fields.items()
        if name in schema.model_fields and field.value is not None
    }
    data["lines"] = [
        {name: field.value for name, field in line.items() if field.value is not None}
        for line in document.lines
    ]
    return data


def to_model(document: Document) -> BaseModel:
    """The document as its kind's pydantic model; ValidationError if it does not fit."""
    return SCHEMAS[document.kind].model_validate(values(document))


def problems(document: Document) -> list[str]:
    """What does not fit the kind's schema, one short phrase per field ('total missing')."""
    try:
        to_model(document)
    except ValidationError as exc:
        found = []
        for error in exc.errors():
            where = " ".join(str(p) if not isinstance(p, int) else str(p + 1) for p in error["loc"])
            if where.startswith("lines "):
                where = "line " + where[len("lines ") :]
            if error["type"] == "missing":
                found.append(f"{where} missing")
            else:
                found.append(f"{where}: {error['msg']}")
        return found
    return []
