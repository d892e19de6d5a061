"""The validation station: a ``needs_review`` item's document, its fields drawn on its pages,
the reasons it is in review, the reviewer's corrections, the cross-checks run again, and the
decision (approve: back to the queue with the reviewed values; reject: cancelled).
"""

from __future__ import annotations

import functools
import io
import re
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from .. import documents, review
from ..documents.parse import CURRENCY_CODES
from ..documents.validation import REQUIRED
from ..errors import DeskhandError
from ..queue import NEEDS_REVIEW, QueueError, files
from . import items as q
from .auth import current_user, require

bp = Blueprint("station", __name__)
RENDER_SCALE = 1.5  # page images at 108 dpi: sharp enough to read, small enough to send
MAX_IMAGE_WIDTH = 1400
# PDFium (under pypdfium2 and the document reader) is not thread-safe: one page at a time.
_PDFIUM = threading.Lock()
_COPIES = threading.Lock()  # a page and its images, asked for at once, copy a document once


def _console():
    return current_app.extensions["deskhand_console"]


def _item(item_id: int):
    found = _console().store.get(item_id)
    if found is None:
        abort(404, f"no item {item_id}")
    return found


def _document_path(item) -> Path:
    """The item's document on this host: a copy of the content the queue database holds
    (the source's path may be on another machine), else the path it was queued with (one
    machine, ``store_files = false``)."""
    with _COPIES:
        local = files.local_copy(_console().store, item, _console().files)
    payload = _payload(local)
    if payload.get("input_error") != _payload(item).get("input_error"):
        abort(404, payload["input_error"])  # its content was pruned or is damaged
    name = payload.get("file") or (item.files[0] if item.files else None)
    if not name:
        abort(404, "this item has no document: it did not come from a file")
    path = Path(name)
    path = path if path.is_absolute() else _console().root / path
    if not path.is_file():
        abort(404, f"the item's document {path.name} is no longer there")
    return path


def _payload(item) -> dict:
    return item.payload if isinstance(item.payload, dict) else {}


def _read(item) -> tuple[Any, str]:
    """The item's document, read as its kind; ``(None, why)`` when it cannot be read."""
    payload = _payload(item)
    kind = payload.get("kind") if payload.get("kind") in documents.SCHEMAS else "invoice"
    templates = _console().root / "templates"
    path = _document_path(item)
    try:
        with _PDFIUM:
            found = documents.extract(
                path, kind, templates_dir=templates if templates.is_dir() else None
            )
    except DeskhandError as exc:
        return None, str(exc)
    return found, ""


def problems_of(document) -> list[str]:
    """What documents.validate finds wrong, one phrase each ([] when it can be keyed)."""
    try:
        documents.validate(document)
    except DeskhandError as exc:
        text = str(exc)
        prefix = f"{document.file.name}: "
        return (text[len(prefix) :] if text.startswith(prefix) else text).split("; ")
    return []


def reason_kind(text: str) -> str:
    """missing / unsure / sums / read-back / other: what kind of reason a phrase gives."""
    low = text.lower()
    if "does not match" in low or "keyed" in low and "saved" in low:
        return "read-back"
    if "missing" in low:
        return "missing"
    if "confidence" in low or "unsure" in low:
        return "unsure"
    if "sum" in low or "!=" in low or " x " in low:
        return "sums"
    return "other"


LINE_FIELDS = ("description", "quantity", "unit_price", "amount")


def _mentions(name: str, phrase: str) -> bool:
    """Whether a check's phrase names the field (a line's as "line 2 amount")."""
    parts = name.split(".")
    words = f"line {parts[1]} {parts[2]}" if len(parts) == 3 else name
    return re.search(rf"\b{re.escape(words)}\b", phrase) is not None


def _flagged(names: list[str], phrases: list[str]) -> set[str]:
    return {n for n in names for p in phrases if _mentions(n, p)}


def _text(name: str, field) -> str:
    return review.as_text(field.value, quantity=name.endswith("quantity")) if field else ""


def _originals(document) -> dict[str, str]:
    """Every correctable field's value as text, by its payload name."""
    found = {name: _text(name, f) for name, f in document.fields.items()}
    for n, line in enumerate(document.lines, start=1):
        for name in LINE_FIELDS:
            found[review.line_key(n, name)] = _text(name, line.get(name))
    return found


def _fields(document, phrases: list[str], posted: dict[str, str] | None):
    """The header's rows and each line item's rows, for the form."""
    names = list(document.fields)
    names += [n for n in REQUIRED.get(document.kind, ()) if n not in names]
    keys = names + [
        review.line_key(n, f) for n in range(1, len(document.lines) + 1) for f in LINE_FIELDS
    ]
    flagged = _flagged(keys, phrases)

    def row(key: str, field) -> dict:
        current = _text(key, field)
        return {
            "name": key,
            "id": "f_" + key.replace(".", "-"),
            "field": field,
            "type": review.field_type(document.kind, key),
            "choices": review.choices(document.kind, key)
            or (sorted(CURRENCY_CODES) if key == "currency" else []),
            "shown": posted.get(key, current) if posted else current,
            "flagged": key in flagged,
        }

    header = [row(name, document.fields.get(name)) for name in names]
    lines = [
        [row(review.line_key(n, f), line.get(f)) for f in LINE_FIELDS]
        for n, line in enumerate(document.lines, start=1)
    ]
    return header, lines


@functools.lru_cache(maxsize=64)
def _page_png(path: str, mtime: float, page: int) -> tuple[bytes, float, float]:
    """The page as PNG bytes and its size in points (the fields' coordinate space)."""
    from PIL import Image

    out = io.BytesIO()
    if Path(path).suffix.lower() == ".pdf":
        import pypdfium2

        pdf = pypdfium2.PdfDocument(path)
        try:
            if not 1 <= page <= len(pdf):
                raise IndexError(page)
            width, height = pdf[page - 1].get_size()
            pdf[page - 1].render(scale=RENDER_SCALE).to_pil().save(out, "PNG")
        finally:
            pdf.close()
        return out.getvalue(), width, height
    with Image.open(path) as image:
        image.seek(page - 1)  # EOFError past the last frame
        dpi = image.info.get("dpi") or (0, 0)
        dpi = float(dpi[0]) if 50 <= float(dpi[0] or 0) <= 1200 else 300.0
        width, height = image.width * 72 / dpi, image.height * 72 / dpi
        frame = image.convert("RGB")
    if frame.width > MAX_IMAGE_WIDTH:
        frame = frame.resize((MAX_IMAGE_WIDTH, round(frame.height * MAX_IMAGE_WIDTH / frame.width)))
    frame.save(out, "PNG")
    return out.getvalue(), width, height


def _page(path: Path, page: int) -> tuple[bytes, float, float]:
    try:
        with _PDFIUM:
            return _page_png(str(path), path.stat().st_mtime, page)
    except (IndexError, EOFError):
        abort(404, f"the document has no page {page}")


@bp.route("/items/<int:item_id>/page/<int:page>.png")
@require("viewer")
def page_image(item_id: int, page: int) -> ResponseReturnValue:
    png, _, _ = _page(_document_path(_item(item_id)), page)
    return current_app.response_class(png, mimetype="image/png")


@bp.route("/items/<int:item_id>/review", methods=["GET", "POST"])
@require("viewer")
def station(item_id: int) -> ResponseReturnValue:
    item = _item(item_id)
    if item.status != NEEDS_REVIEW and request.method == "GET":
        flash(f"item {item_id} is {item.status.replace('_', ' ')}, not in review", "warning")
        return redirect(url_for("views.item", item_id=item_id))
    if request.method == "POST":
        if not _may_decide():
            abort(403, "deciding on items in review needs the reviewer role")
        if request.form.get("action") == "reject":
            return _reject(item)
    path = _document_path(item)
    document, unreadable = _read(item)
    if document is None:
        if request.method == "POST":
            abort(409, "the document cannot be read, so there is nothing to approve: reject it")
        return _render(item, path, None, ([], []), [], {}, False, unreadable)
    review.corrected(document, _payload(item).get(review.REVIEWED) or {})  # an earlier review
    original = _originals(document)
    first_problems = problems_of(document)
    # The fields named by why the item came here, or by a check that fails now, are marked.
    recorded = _error_reasons(item, path.name)
    posted: dict[str, str] | None = None
    errors: dict[str, str] = {}
    problems = first_problems
    if request.method == "POST":
        action = request.form.get("action", "check")
        header, _ = _fields(document, first_problems, None)
        names = list(original) + [r["name"] for r in header if r["name"] not in original]
        # A field the form does not send keeps its value (it is not emptied).
        posted = {n: request.form.get(f"f_{n}", original.get(n, "")) for n in names}
        reviewed = _reviewed(document, posted, original, recorded + first_problems, errors)
        if not errors:
            review.corrected(document, reviewed)
            problems = problems_of(document)
            if action == "approve" and not problems:
                try:
                    q.approve(_console().engine, item.id, reviewed, current_user()["name"])
                except QueueError as exc:
                    abort(409, str(exc))
                changed = ", ".join(sorted(reviewed)) or "no field"
                flash(f"approved: item {item.id} is back in the queue (reviewed: {changed})", "ok")
                return redirect(url_for("views.queue", status=NEEDS_REVIEW))
            if action == "approve":
                errors["_"] = "cannot approve while the checks fail: correct the fields below"
    fields = _fields(document, recorded + problems, posted)
    return _render(item, path, document, fields, problems, errors, posted is not None, "")


def _render(
    item, path, document, fields, problems, errors, checked, unreadable
) -> ResponseReturnValue:
    """The station's page (``document`` None: it could not be read, only rejecting is left)."""
    pages = []
    for number in range(1, (document.pages if document else 0) + 1):
        _, width, height = _page(path, number)
        pages.append({"number": number, "width": width, "height": height})
    found = _error_reasons(item, path.name) or (problems_of(document) if document else [])
    return render_template(
        "review.html",
        item=item,
        label=q.label(item.reference, item.payload),
        document=document,
        unreadable=unreadable,
        pages=pages,
        fields=fields[0],
        line_rows=fields[1],
        reasons=[{"text": text, "kind": reason_kind(text)} for text in found],
        problems=problems,
        checked=checked,
        errors=errors,
        history=_console().store.history(item.id),
        may_decide=_may_decide() and item.status == NEEDS_REVIEW,
    )


def _may_decide() -> bool:
    from .auth import can

    return can("reviewer")


def _error_reasons(item, file_name: str) -> list[str]:
    """The reasons the item was sent to review, from its error message."""
    text = item.error_message or ""
    prefix = f"{file_name}: "
    text = text[len(prefix) :] if text.startswith(prefix) else text
    if text.startswith("record ") and ": " in text:  # a read-back mismatch names its record
        head, rest = text.split(": ", 1)
        return [f"{head}: {part}" for part in rest.split("; ")]
    return [p for p in text.split("; ") if p]


def _reviewed(document, posted, original, phrases, errors) -> dict[str, dict]:
    """The corrections as the payload keeps them: every changed field, and every flagged
    field the reviewer confirmed as it was."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    by = current_user()["name"]
    unsure = [p for p in phrases if reason_kind(p) == "unsure"]
    flagged = _flagged(list(posted), unsure)  # confirmed as read: sure now
    reviewed = {}
    for name, text in posted.items():
        try:
            value = review.typed(document.kind, name, text)
        except ValueError as exc:
            errors[name] = str(exc)
            continue
        shown = review.as_text(value, quantity=name.endswith("quantity"))
        old = original.get(name, "")
        if shown != old or name in flagged:
            reviewed[name] = {"value": shown, "by": by, "at": now, "old": old}
    return reviewed


def _reject(item) -> ResponseReturnValue:
    reason = request.form.get("reason", "").strip()[:500]
    if not reason:
        flash("say why the item is rejected", "warning")
        return redirect(url_for("station.station", item_id=item.id))
    try:
        q.reject(_console().engine, item.id, reason, current_user()["name"])
    except QueueError as exc:
        abort(409, str(exc))
    flash(f"rejected: item {item.id} is cancelled", "ok")
    return redirect(url_for("views.queue", status=NEEDS_REVIEW))
