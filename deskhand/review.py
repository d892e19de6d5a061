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
from .documents.schema import SCHEMAS
from .errors import BusinessError

REVIEWED = "reviewed"  # the payload key the console writes


def field_type(kind: str, name: str) -> str:
    """How a field of ``kind`` is typed: ``amount``, ``date``, ``bool``, ``choice`` (a fixed
    set, see :func:`choices`) or ``text``."""
    schema = SCHEMAS.get(kind)
    info = schema.model_fields.get(name) if schema else None
    if info is None:
        return "text"
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
    schema = SCHEMAS.get(kind)
    info = schema.model_fields.get(name) if schema else None
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


def as_text(value: Any) -> str:
    """A field value as the payload stores it (and the console shows it)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def corrected(document: Document, reviewed: dict[str, dict]) -> Document:
    """``document`` with each reviewed field replaced (in place; also returned)."""
    for name, change in reviewed.items():
        try:
            value = typed(document.kind, name, change.get("value"))
        except ValueError as exc:
            raise BusinessError(f"reviewed {name}: {exc}") from None
        old = document.fields.get(name)
        by = change.get("by") or "a reviewer"
        document.fields[name] = Field(
            name=name,
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
        return corrected(document, reviewed)
