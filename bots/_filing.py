"""What the filing bot knows about a document: its text (OCR for scans, as a searchable PDF),
its kind, its issuer, number and date, and whether the PDF was changed after it was made."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date, datetime
from pathlib import Path

import pdfplumber

KEYWORDS = {  # the kind whose word comes first in the text wins
    "invoice": ("invoice", "rechnung", "facture", "factura"),
    "receipt": ("receipt", "quittung", "kassenbon", "reçu"),
    "order": ("purchase order", "bestellung", "bon de commande"),
}
NUMBER_LABELS = (
    "receipt no",
    "order reference",
    "invoice no",
    "invoice number",
    "reference",
    "number",
    "no",
)
ISSUER_LABELS = ("customer", "from")
DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%B %d, %Y", "%d %B %Y", "%d.%m.%Y", "%m/%d/%Y")
AMOUNT = re.compile(r"\d{1,3}(?:[,.\s]\d{3})*[.,]\d{2}\b")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_text(data: bytes) -> str:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def has_text_layer(data: bytes) -> bool:
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        return any(page.chars for page in pdf.pages)


def searchable(data: bytes, suffix: str, lang: str = "eng") -> bytes:
    """The document as a PDF with a text layer: tesseract's PDF output of each page
    (300 dpi), joined with pdfium. Images become one-page PDFs."""
    import pypdfium2
    import pytesseract
    from PIL import Image

    if suffix == ".pdf":
        source = pypdfium2.PdfDocument(data)
        images = [page.render(scale=300 / 72).to_pil() for page in source]
    else:
        images = [Image.open(io.BytesIO(data))]
    joined = pypdfium2.PdfDocument.new()
    for image in images:
        page_pdf = pytesseract.image_to_pdf_or_hocr(
            image.convert("RGB"), extension="pdf", lang=lang
        )
        joined.import_pages(pypdfium2.PdfDocument(page_pdf))
    out = io.BytesIO()
    joined.save(out)
    return out.getvalue()


def kind_of(text: str) -> str:
    """invoice, receipt or order by the first of their words in the text; else letter."""
    lowered = text.casefold()
    first = {}
    for kind, words in KEYWORDS.items():
        hits = [lowered.find(w) for w in words if w in lowered]
        if hits:
            first[kind] = min(hits)
    return min(first, key=first.get) if first else "letter"


def labelled(text: str, labels: tuple[str, ...]) -> str:
    """The value after the first of ``labels`` ('Label: value', 'Label # value')."""
    for label in labels:
        pattern = rf"(?im)^\s*{re.escape(label)}\.?\s*[:#]\s*(.+)$"
        found = re.search(pattern, text)
        if found:
            return found.group(1).strip()
    return ""


def first_date(text: str) -> date | None:
    candidates = re.findall(
        r"\d{4}-\d{2}-\d{2}|\d{1,2} [A-Z][a-z]{2,8} \d{4}|[A-Z][a-z]{2,8} \d{1,2}, \d{4}"
        r"|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}/\d{1,2}/\d{4}",
        text,
    )
    for candidate in candidates:
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(candidate, fmt).date()
            except ValueError:
                continue
    return None


def fields(text: str, kind: str) -> dict:
    """Issuer, number and date read from labelled text (kinds deskhand has no model for)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    issuer = labelled(text, ISSUER_LABELS)
    if issuer and re.match(r"^[A-Z]-?\d+\s", issuer):  # 'C-1002 Kestrel ...': drop the code
        issuer = issuer.split(None, 1)[1]
    if not issuer:
        issuer = next((ln for ln in lines if kind_of(ln) == "letter"), "")
    number = labelled(text, NUMBER_LABELS).split()[0] if labelled(text, NUMBER_LABELS) else ""
    return {"issuer": issuer, "number": number, "date": first_date(text)}


def text_key(text: str) -> str:
    """The text with layout and spacing removed: equal for the same words in the same order."""
    return sha256(re.sub(r"\s+", " ", text).strip().casefold().encode())


def revisions(data: bytes) -> list[bytes]:
    """Every saved revision of a PDF: the file cut after each %%EOF (incremental updates
    append to a file, so each earlier state is still inside it)."""
    ends = [m.end() for m in re.finditer(rb"%%EOF[ \t]*\r?\n?", data)]
    return [data[:end] for end in ends] or [data]


def changed_amounts(data: bytes) -> tuple[set[str], set[str]]:
    """Amounts the first revision showed that the last does not, and the reverse."""
    states = revisions(data)
    if len(states) < 2:
        return set(), set()
    try:
        first, last = pdf_text(states[0]), pdf_text(data)
    except Exception:  # an unreadable first revision: nothing to compare
        return set(), set()
    before, after = set(AMOUNT.findall(first)), set(AMOUNT.findall(last))
    return before - after, after - before


def metadata_changes(data: bytes) -> list[str]:
    """What the document information (producer, dates, author) says happened after the
    first save: changes between the first and the last revision, and a modification date
    later than the creation date."""
    states = revisions(data)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            last = pdf.metadata or {}
        with pdfplumber.open(io.BytesIO(states[0])) as pdf:
            first = pdf.metadata or {}
    except Exception:
        return []
    changes = [
        f"{key} '{first.get(key, '')}' became '{last.get(key, '')}'"
        for key in ("Producer", "Creator", "Author", "ModDate")
        if len(states) > 1 and str(first.get(key, "")) != str(last.get(key, ""))
    ]
    created, modified = str(last.get("CreationDate", "")), str(last.get("ModDate", ""))
    if not changes and created and modified[2:16] > created[2:16]:
        changes.append(f"modified {modified[2:10]} after creation {created[2:10]}")
    return changes


def slug(text: str, limit: int = 40) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:limit].strip("-") or "unknown"


def render(pattern: str, values: dict) -> str:
    """A file or folder name from ``pattern`` ({date} {year} {issuer} {kind} {number})."""
    try:
        return pattern.format(**{k: slug(str(v)) for k, v in values.items()})
    except (KeyError, IndexError, ValueError) as exc:
        from deskhand import ConfigError

        raise ConfigError(
            f"naming pattern '{pattern}' is invalid ({exc}): use "
            "{date} {year} {issuer} {kind} {number}"
        ) from None


def write_verified(path: Path, data: bytes) -> str:
    """Write ``data`` to ``path`` through a temporary file, read it back and compare the
    hash before it takes its name; the hash."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with partial.open("wb") as out:
        out.write(data)
        out.flush()
        import os

        os.fsync(out.fileno())
    written = sha256(partial.read_bytes())
    if written != sha256(data):
        partial.unlink()
        from deskhand import ApplicationError

        raise ApplicationError(f"the copy of {path.name} does not match its source: not filed")
    partial.replace(path)
    return written
