"""Key invoices from documents into the legacy accounts-payable intranet, then check them.

For each document in --input: read and validate it, open the app (logged in once a run, see
bots/_legacy_app.py), make sure the invoice is not already in the system, fill the invoice
form (vendor through the lookup popup, every field, every line item), accept the save
confirmation, then read the saved record back and compare it with what was meant to be keyed.
Credentials come from the vault secret ``legacy_ap``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bots._legacy_app import log_in, open_app  # noqa: F401 - log_in: for bench/keying.py
from deskhand import ApplicationError, Bot, BusinessError, documents
from deskhand.review import apply as apply_review

bot = Bot(
    "invoice_entry",
    queue="invoices",
    selectors="legacy_ap",
    max_attempts=3,
    requires=("input", "target"),
    reads="invoice",  # the first invoice is read while the browser starts
)

DOCUMENT_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}


@bot.source
def incoming(ctx):
    """One item per document in the input folder (or the one file given)."""
    folder = ctx.input
    paths = [folder] if folder.is_file() else sorted(p for p in folder.iterdir() if p.is_file())
    skipped = [p.name for p in paths if p.suffix.lower() not in DOCUMENT_SUFFIXES]
    if skipped:
        ctx.info("not documents, skipped: " + ", ".join(skipped))
    for path in paths:
        if path.suffix.lower() in DOCUMENT_SUFFIXES:
            yield ctx.item(reference=documents.fingerprint(path), file=str(path), name=path.name)


@bot.process
def key_invoice(item, ctx):
    entry = read_entry(item, ctx)
    ctx.key(entry["vendor"], entry["invoice_number"])  # two scans of one invoice: keyed once
    app = open_app(ctx)
    if done := already_entered(app, ctx, entry):
        return done
    with ctx.step("open invoice form"):
        app["nav_new_invoice"].click()
    with ctx.step("choose vendor", vendor=entry["vendor"]):
        choose_vendor(app, entry["vendor"])
    with ctx.step("fill invoice form", invoice=entry["invoice_number"]):
        fill_header(app, entry)
    with ctx.step("fill line items", lines=len(entry["lines"])):
        fill_lines(app, entry["lines"])
    with ctx.step(
        "save", point_of_no_return=True, vendor=entry["vendor"], invoice=entry["invoice_number"]
    ) as step:
        record = save(app, entry["invoice_number"])
        step.set(record=record)
    with ctx.step("read back", record=record):
        verify(app, ctx, entry, record)
    return ctx.done(record=record)


@bot.reconcile
def saved_before(item, ctx, checkpoint):
    """An earlier attempt stopped during Save: the invoice is in the system or it is not."""
    entry = read_entry(item, ctx)
    return already_entered(open_app(ctx), ctx, entry)


def read_entry(item, ctx) -> dict:
    """The document, read and validated, as the values to key."""
    with ctx.step("read document", file=item["name"]):
        invoice = documents.extract(item.file, kind="invoice")
        apply_review(invoice, item, ctx)  # a reviewer's corrections from the console win
        ctx.values("extracted", {k: f.value for k, f in invoice.fields.items()})
    with ctx.step("validate"):
        documents.validate(invoice)
        entry = entry_for(invoice, note=f"Keyed by deskhand from {item['name']}")
        ctx.values("keyed", flat(entry))
    return entry


def already_entered(app, ctx, entry: dict) -> dict | None:
    """The output for an invoice the system already has (checked field by field), or None."""
    with ctx.step("check not already entered", invoice=entry["invoice_number"]):
        existing = find_invoice(app, entry["vendor"], entry["invoice_number"])
    if not existing:
        return None
    with ctx.step("read back existing record", record=existing):
        verify(app, ctx, entry, existing)
    return ctx.done(record=existing, already_entered=True)


def verify(app, ctx, entry: dict, record: str) -> None:
    saved = read_record(app, record)
    ctx.values("read_back", flat(saved))
    compare(entry, saved, record)


# -- what to key ---------------------------------------------------------------------------
def us_date(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def money(value: Decimal | None) -> str:
    return f"{(value or Decimal(0)):.2f}"


def quantity(value: Decimal) -> str:
    return f"{value.normalize():f}"


def entry_for(invoice, note: str) -> dict:
    """The values to key, as strings in the legacy app's own formats."""
    if not invoice.terms:
        raise BusinessError("terms missing: the document states no payment terms")
    return {
        "vendor": invoice.issuer,
        "invoice_number": invoice.invoice_number,
        "invoice_date": us_date(invoice.invoice_date),
        "due_date": us_date(invoice.due_date),
        "currency": invoice.currency,
        "amount": money(invoice.total),
        "tax": money(invoice.tax),
        "po_number": invoice.po_number or "",
        "terms": invoice.terms,
        "recurring": "Yes" if invoice.recurring else "No",
        "notes": note,
        "lines": [
            {
                "description": line["description"].value,
                "quantity": quantity(line["quantity"].value),
                "unit_price": money(line["unit_price"].value),
                "amount": money(line["amount"].value),
            }
            for line in invoice.lines
        ],
    }


def flat(entry: dict) -> dict:
    """One row per field for the report, line items as 'line N'."""
    rows = {k: v for k, v in entry.items() if k != "lines"}
    for n, line in enumerate(entry["lines"], 1):
        rows[f"line {n}"] = " | ".join(line.values())
    return rows


# -- the legacy app ------------------------------------------------------------------------
def answered(response, page_ok: bool, what: str) -> None:
    """An error page (HTTP 4xx/5xx, the app's error template, a log-in page after the session
    expired) is a system failure, never an answer such as "not found": ApplicationError."""
    status = response.status if response is not None else None
    if status is not None and status >= 400 or not page_ok:
        shown = f"HTTP {status}" if status else "no answer"
        raise ApplicationError(f"{what} did not load ({shown}): no answer taken from it")


def find_invoice(app, vendor: str, invoice_number: str) -> str | None:
    """The record number of this vendor's invoice, if the system already has it. Only a
    results page that loaded says "not there": an error page raises ApplicationError."""
    # The frame may already show a search (the last item's): wait for the new page to load,
    # not for a URL that already matches, or the query is typed into the page being left.
    with app.expect_navigation(frame="content"):
        app["nav_search"].click()
    app["search_query"].fill(invoice_number)
    with app.expect_navigation(frame="content") as nav:
        app["search_button"].click()
    empty = app["search_empty"].exists()  # "No invoices found"
    page_ok = empty or app["results"].exists()
    answered(nav.value, page_ok, f"the search for invoice {invoice_number}")
    if empty:
        return None
    row = app.find_row("results", invoice_number=invoice_number, vendor=vendor)
    return row["record_no"] if row else None


def choose_vendor(app, vendor: str) -> None:
    with app.expect_popup() as popup:
        app["vendor_lookup"].click()
    lookup = popup.value
    lookup["vendor_search_query"].fill(vendor)
    with lookup.expect_navigation() as nav:
        lookup["vendor_search_button"].click()
    # Only the lookup page itself (its search form again) can say "not in the list".
    try:
        page_ok = lookup["vendor_search_query"].exists()
        answered(nav.value, page_ok, f"the vendor lookup for '{vendor}'")
    except ApplicationError:
        lookup.close()
        raise
    matches = [row for row in lookup.rows("vendor_rows") if row.cells.get("name") == vendor]
    if len(matches) != 1:
        lookup.close()
        raise BusinessError(f"vendor '{vendor}' is not in the legacy app's vendor list")
    with lookup.expect_close():
        matches[0].click("select")
    shown = app["vendor_name_display"].text()
    if shown != vendor:
        raise BusinessError(f"the vendor lookup chose '{shown}', not '{vendor}'")


def fill_header(app, entry: dict) -> None:
    for name in ("invoice_number", "invoice_date", "due_date", "amount", "tax", "po_number"):
        app[name].fill(entry[name])
    app["currency"].select(value=entry["currency"])
    app.element("terms", code=entry["terms"]).check()
    app["recurring"].check(entry["recurring"] == "Yes")
    app["notes"].fill(entry["notes"])


def fill_lines(app, lines: list[dict]) -> None:
    for n, line in enumerate(lines, 1):
        if n > 1:
            app["add_line"].click()
        for name in ("description", "quantity", "unit_price", "amount"):
            app.element(f"line_{name}", n=n).fill(line[name])


def save(app, invoice_number: str) -> str:
    """Accept the confirmation, submit, and return the new record number."""
    with app.expect_navigation(frame="content"):
        with app.accept_dialog(expect=f"Save invoice {invoice_number}"):
            app["save_button"].click()
    if app["record_number"].exists():
        return app["record_number"].text()
    if app["form_errors"].exists():
        problems = [line.strip() for line in app["form_errors"].text().splitlines()]
        raise BusinessError(
            "the legacy app refused the invoice: " + " ".join(filter(None, problems))
        )
    # An error page: the save may or may not have happened.
    title = app["page_heading"].text() if app["page_heading"].exists() else ""
    raise ApplicationError(f"no confirmation after Save ({title or 'blank page'})")


def read_record(app, record: str) -> dict:
    """The saved record as the app shows it, in the same shape as what was keyed."""
    app.frame("content").goto(app.base_url.rstrip("/") + f"/invoices/{record}")
    values = {
        name: app[f"view_{name}"].text()
        for name in (
            "invoice_number",
            "invoice_date",
            "due_date",
            "currency",
            "amount",
            "tax",
            "po_number",
            "terms",
            "recurring",
            "notes",
        )
    }
    values = {"vendor": app["view_vendor"].text(), **values}
    values["lines"] = [
        {name: row[name] for name in ("description", "quantity", "unit_price", "amount")}
        for row in app.rows("view_lines")
    ]
    return values


def compare(entry: dict, saved: dict, record: str) -> None:
    """A read-back mismatch is never accepted: the record goes to review."""
    wrong = [
        f"{field} keyed '{value}' but saved '{saved.get(field)}'"
        for field, value in flat(entry).items()
        if flat(saved).get(field) != value
    ]
    if len(saved["lines"]) != len(entry["lines"]):
        wrong.append(f"{len(entry['lines'])} lines keyed but {len(saved['lines'])} saved")
    if wrong:
        raise BusinessError(f"record {record} does not match what was keyed: " + "; ".join(wrong))
