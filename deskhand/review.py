"""A person's corrections, applied to a read document so that the bot keys exactly them.

The console's validation station approves a ``needs_review`` item by putting it back in the
queue with the reviewed values in its payload::

    payload["reviewed"] = {"total": {"value": "1234.50", "by": "alice",
                                     "at": "2026-03-05T10:00:00+00:00", "old": "1244.50"}}

In the bot, right after reading the document::

    invoice = documents.extract(item.file, kind="invoice")
    review.apply(invoice, item, ctx)      # each reviewed field: the person's value, sure

A reviewed field gets the person's value (typed as the kind's schema says: amounts as
Decimal, dates as date), confidence 1.0 and the rule ``reviewed by alice``; its page and
box stay where the reader found them. With ``ctx``, a step "apply review" logs each change
("1234.50 (was 1244.50), reviewed by alice"), so the run's report shows who changed what.
"""

from __future__ import annotations

import types
import typing
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from .documents.model import Document, Field
from .documents.schema import SCHEMAS, LineItem
from .errors import BusinessError

REVIEWED = "reviewed"  # the payload key the console writes


def line_key(number: int, name: str) -> str:
    """The payload key of a line item's field: ``lines.2.amount`` (lines count from 1)."""
    return f"lines.{number}.{name}"


def _split(name: str) -> tuple[int, str] | None:
    parts = name.split(".")
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


def _info(kind: str, name: str) -> Any:
    line = _split(name)
    schema = LineItem if line else SCHEMAS.get(kind)
    return schema.model_fields.get(line[1] if line else name) if schema else None


def field_type(kind: str, name: str) -> str:
    """How a field of ``kind`` is typed: ``amount``, ``quantity``, ``date``, ``bool``,
    ``choice`` (a fixed set, see :func:`choices`) or ``text``. A line item's fields are
    named ``lines.N.description|quantity|unit_price|amount``."""
    info = _info(kind, name)
    if info is None:
        return "text"
    if name.rsplit(".", 1)[-1] == "quantity":
        return "quantity"
    for candidate in _members(info.annotation):
        if candidate is Decimal:
            return "amount"
        if candidate is date:
            return "date"
        if candidate is bool:
            return "bool"
        if typing.get_origin(candidate) is typing.Literal:
            return "choice"
    return "text"


def choices(kind: str, name: str) -> list[str]:
    """The allowed values of a ``choice`` field (payment terms), else []."""
    info = _info(kind, name)
    if info is None:
        return []
    for candidate in _members(info.annotation):
        if typing.get_origin(candidate) is typing.Literal:
            return [str(v) for v in typing.get_args(candidate)]
    return []


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def typed(kind: str, name: str, text: str | None) -> Any:
    """``text`` (as stored in the payload) as the field's Python value; None for empty.
    Raises ValueError with a short reason when it is not of the field's type."""
    if text is None or str(text).strip() == "":
        return None
    text = str(text).strip()
    kind_of = field_type(kind, name)
    if kind_of == "amount":
        try:
            value = Decimal(text.replace(",", "").replace(" ", ""))
        except InvalidOperation:
            raise ValueError(f"{text!r} is not an amount: write it like 1234.50") from None
        if not value.is_finite():
            raise ValueError(f"{text!r} is not an amount: write it like 1234.50")
        return value.quantize(Decimal("0.01"))
    if kind_of == "quantity":
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError(f"{text!r} is not a quantity: write it like 7.5") from None
        if not value.is_finite() or value <= 0:
            raise ValueError(f"{text!r} is not a quantity: write it like 7.5")
        return value
    if kind_of == "date":
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date: write it as YYYY-MM-DD") from None
    if kind_of == "bool":
        if text.lower() not in ("yes", "no", "true", "false"):
            raise ValueError(f"{text!r} is not yes or no")
        return text.lower() in ("yes", "true")
    if kind_of == "choice":
        allowed = choices(kind, name)
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
    if name == "currency":
        text = text.upper()
    return text


def as_text(value: Any, quantity: bool = False) -> str:
    """A field value as the payload stores it (and the console shows it); ``quantity``:
    as many decimals as it has (7.5), not two."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        if quantity:
            return format(value.normalize(), "f")
        return f"{value:.2f}"
    return str(value)


def corrected(document: Document, reviewed: dict[str, dict]) -> Document:
    """``document`` with each reviewed field replaced (in place; also returned); line items'
    fields by ``lines.N.name``."""
    for name, change in reviewed.items():
        try:
            value = typed(document.kind, name, change.get("value"))
        except ValueError as exc:
            raise BusinessError(f"reviewed {name}: {exc}") from None
        line = _split(name)
        if line and not 1 <= line[0] <= len(document.lines):
            raise BusinessError(f"reviewed {name}: the document has {len(document.lines)} lines")
        fields = document.lines[line[0] - 1] if line else document.fields
        key = line[1] if line else name
        old = fields.get(key)
        by = change.get("by") or "a reviewer"
        fields[key] = Field(
            name=key,
            value=value,
            raw=old.raw if old else "",
            confidence=1.0,
            page=old.page if old else 1,
            bbox=old.bbox if old else None,
            rule=f"reviewed by {by}",
        )
    return document


def apply(document: Document, item: Any, ctx: Any = None) -> Document:
    """Apply the reviewed values in ``item``'s payload (a WorkItem, queue Item or dict) to
    ``document``; log them as a step "apply review" when ``ctx`` is given. A document
    without reviewed values is returned unchanged."""
    payload = getattr(item, "payload", item) or {}
    reviewed = payload.get(REVIEWED) if isinstance(payload, dict) else None
    if not reviewed:
        return document
    if ctx is None:
        return corrected(document, reviewed)
    shown = {
        name: f"{change.get('value')} (was {change.get('old') or 'empty'}), "
        f"reviewed by {change.get('by')}"
        for name, change in reviewed.items()
    }
    with ctx.step("apply review", reviewed=shown):
        ctx.values("reviewed", shown)  # the report shows it beside each corrected field
        return corrected(document, reviewed)
