"""File incoming documents: classify, check authenticity, name, make searchable, archive, index.

--input is the inbox folder (PDF, PNG, JPG), optionally with file_documents.toml (archive,
name, folders). For each document: read its text (OCR into a searchable PDF when it has no
text layer), find its kind (invoice, receipt, order, letter), issuer, number and date; check
it: an exact copy of a filed document is reported as a duplicate and not filed again; the
same issuer and number (or the same text) as a filed document, an invoice that does not add
up, or a PDF whose amounts an incremental update changed go to review. Then copy it to
``{archive}/{folders}/{name}.pdf``, verify the copy by hash, record it in the archive's
index, and only then remove it from the inbox. index.xlsx lists every document with a link.
"""

from __future__ import annotations

import json
from pathlib import Path

from bots import _filing as filing
from bots._legacy_app import job_settings
from deskhand import Bot, BusinessError, ConfigError, documents
from deskhand.workbook import Column, Workbook

bot = Bot("file_documents", queue="filing", max_attempts=3)

SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}
DEFAULTS = {
    "archive": "",
    "name": "{date}_{issuer}_{kind}_{number}",
    "folders": "{kind}/{year}",
    "lang": "eng",
}


def settings(ctx) -> dict:
    conf = job_settings(ctx.input, "file_documents.toml", DEFAULTS)
    conf["archive"] = Path(conf["archive"] or ctx.run_dir.parent / "archive")
    return conf


@bot.source
def inbox(ctx):
    """One item per document file (reference: its hash and name)."""
    for path in sorted(p for p in ctx.input.iterdir() if p.is_file()):
        if path.suffix.lower() in SUFFIXES:
            digest = documents.fingerprint(path)
            yield ctx.item(
                reference=f"{digest[:16]}/{path.name}",
                file=str(path),  # read from the copy the runner gets (queue.files)
                inbox_file=str(path),  # the original, removed from the inbox once filed
                name=path.name,
                sha256=digest,
            )


@bot.process
def file_document(item, ctx):
    conf = settings(ctx)
    index = Index(conf["archive"])
    source = Path(item.file)
    with ctx.step("check not filed already", sha256=item["sha256"][:16]):
        known = index.by_source(item["sha256"])
        if known and known["status"] == "filed":
            return finish(
                ctx,
                index,
                item,
                {
                    **known,
                    "status": "duplicate",
                    "source": item["name"],
                    "duplicate_of": known["archived"],
                },
            )
    if not source.is_file():
        raise BusinessError(f"{item['name']} is no longer in the inbox and not in the archive")
    data = source.read_bytes()
    with ctx.step("read document", file=item["name"]):
        doc = read(data, source, conf)
        ctx.values("extracted", {k: str(v) for k, v in doc.items() if k not in ("pdf", "text")})
    try:
        with ctx.step("check authenticity", kind=doc["kind"]):
            check(doc, data, index, source)
    except BusinessError as problem:
        index.add(
            {
                "source": item["name"],
                "source_sha256": item["sha256"],
                "status": "review",
                "cause": str(problem),
                **public(doc),
            }
        )
        index.write_workbook()
        raise
    name = filing.render(conf["name"], public(doc) | {"year": year(doc)}) + ".pdf"
    folder = filing.render(conf["folders"], public(doc) | {"year": year(doc)})
    target = conf["archive"] / folder / name
    with ctx.step(
        "file document", point_of_no_return=True, to=str(target.relative_to(conf["archive"]))
    ):
        target = free_name(target, filing.sha256(doc["pdf"]))
        archived_sha = filing.write_verified(target, doc["pdf"])
        record = {
            "source": item["name"],
            "source_sha256": item["sha256"],
            "status": "filed",
            "archived": str(target.relative_to(conf["archive"])),
            "archived_sha256": archived_sha,
            "searchable": doc["ocr"],
            "note": doc.get("metadata_changes", ""),
            "text_key": filing.text_key(doc["text"]),
            **public(doc),
        }
        index.add(record)
        _leave_inbox(item)  # copied and verified above: now it may leave the inbox
    return finish(ctx, index, item, record)


@bot.reconcile
def filed_before(item, ctx, checkpoint):
    """Stopped while filing: done if the index holds the document (and its archived copy
    verifies); then the inbox copy may go."""
    index = Index(settings(ctx)["archive"])
    known = index.by_source(item["sha256"])
    if not known or known["status"] != "filed":
        return None
    archived = index.root / known["archived"]
    if not archived.is_file() or filing.sha256(archived.read_bytes()) != known["archived_sha256"]:
        return None
    _leave_inbox(item)
    return finish(ctx, index, item, known)


def _leave_inbox(item) -> None:
    """Remove the document from the inbox it was queued from (the run works on a copy of it
    when the queue carries files: filing runs on the machine that holds the inbox)."""
    Path(item.get("inbox_file") or item.file).unlink(missing_ok=True)


def finish(ctx, index, item, record: dict) -> dict:
    if record["status"] == "duplicate":
        index.add(record)
    with ctx.step("write index"):
        index.write_workbook()
    return ctx.done(**{k: record.get(k) for k in ("status", "kind", "archived", "duplicate_of")})


def public(doc: dict) -> dict:
    return {k: str(doc[k] or "") for k in ("kind", "issuer", "number", "date")}


def year(doc: dict) -> str:
    return str(doc["date"].year) if doc["date"] else "undated"


def read(data: bytes, source: Path, conf: dict) -> dict:
    suffix = source.suffix.lower()
    ocr = suffix != ".pdf" or not filing.has_text_layer(data)
    pdf = filing.searchable(data, suffix, conf["lang"]) if ocr else data
    text = filing.pdf_text(pdf)
    kind = filing.kind_of(text)
    values = filing.fields(text, kind)
    if kind in ("invoice", "receipt"):
        try:
            read_doc = documents.extract(source, kind=kind)
        except Exception as exc:  # a document deskhand cannot model still gets filed
            read_doc = None
            values["model_error"] = str(exc).splitlines()[0]
        if read_doc is not None:
            values["model"] = read_doc
            values["issuer"] = getattr(read_doc, "issuer", None) or values["issuer"]
            number = getattr(read_doc, "invoice_number", None) or getattr(
                read_doc, "receipt_number", None
            )
            values["number"] = number or values["number"]
            values["date"] = (
                getattr(read_doc, "invoice_date", None)
                or getattr(read_doc, "date", None)
                or values["date"]
            )
    if not values["number"]:
        values["number"] = filing.sha256(data)[:8]
    return {"kind": kind, "ocr": ocr, "pdf": pdf, "text": text, **values}


def check(doc: dict, data: bytes, index: Index, source: Path) -> None:
    removed, added = filing.changed_amounts(data)
    metadata = filing.metadata_changes(data) if source.suffix.lower() == ".pdf" else []
    if removed or added:
        raise BusinessError(
            f"changed after creation: an incremental update replaced {', '.join(sorted(removed))} "
            f"with {', '.join(sorted(added))} ({'; '.join(metadata) or 'metadata unchanged'}): "
            "ask the issuer for the original"
        )
    doc["metadata_changes"] = "; ".join(metadata)
    twin = index.same_document(
        doc["kind"], doc["issuer"], doc["number"], filing.text_key(doc["text"])
    )
    if twin:
        raise BusinessError(
            f"near duplicate of {twin['archived']} "
            f"({doc['issuer']} {doc['kind']} {doc['number']}): "
            "compare the two and file or discard this one by hand"
        )
    if doc.get("model") is not None and doc["kind"] == "invoice":
        documents.validate(doc["model"])  # the sums must add up


def free_name(target: Path, sha: str) -> Path:
    """``target``, or ``name-2.pdf`` ... when another document already has that name."""
    candidate, n = target, 1
    while candidate.exists() and filing.sha256(candidate.read_bytes()) != sha:
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


class Index:
    """The archive's record of every document handled (index.jsonl) and its workbook."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / "index.jsonl"

    def entries(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    def add(self, record: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record, default=str) + "\n")

    def by_source(self, sha: str) -> dict | None:
        found = [
            e for e in self.entries() if e.get("source_sha256") == sha and e["status"] == "filed"
        ]
        return found[0] if found else None

    def same_document(self, kind: str, issuer: str, number: str, text_key: str) -> dict | None:
        for entry in self.entries():
            if entry["status"] != "filed":
                continue
            same_id = (entry["kind"], entry["issuer"], entry["number"]) == (kind, issuer, number)
            if same_id or entry.get("text_key") == text_key:
                return entry
        return None

    def write_workbook(self) -> Path:
        if not self.root.is_dir():
            raise ConfigError(f"archive {self.root} is missing")
        book = Workbook()
        sheet = book.sheet(
            "Index",
            [
                Column("Document", width=48),
                Column("Kind", width=10),
                Column("Issuer", width=30),
                Column("Number", width=16),
                Column("Date", width=12),
                Column("Status", width=12),
                Column("Searchable", width=11),
                Column("Original file", width=28),
                Column("Note", width=60),
            ],
        )
        latest: dict[str, dict] = {}
        for entry in self.entries():
            latest[entry["source"] + entry.get("source_sha256", "")] = entry
        for e in sorted(
            latest.values(), key=lambda e: (e["status"], e.get("archived") or e["source"])
        ):
            target = e.get("archived") or e.get("duplicate_of")
            cell = Workbook.link(target, target) if target else ""
            note = (
                e.get("cause")
                or e.get("note")
                or (f"duplicate of {e['duplicate_of']}" if e.get("duplicate_of") else "")
            )
            sheet.row(
                [
                    cell,
                    e.get("kind"),
                    e.get("issuer"),
                    e.get("number"),
                    e.get("date"),
                    e["status"],
                    "yes" if e.get("searchable") else "",
                    e["source"],
                    note,
                ]
            )
        return book.save(self.root / "index.xlsx")
