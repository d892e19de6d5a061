"""Key invoices from documents into the legacy desktop AP program, then check them.

The desktop twin of invoice_entry: for each document in --input, read and validate it, make
sure the program does not already have it (Find), fill the invoice window (vendor from the
dropdown, every field, the line items), check the confirmation's wording, save, then read the
saved record window back by OCR and compare it with what was meant to be keyed.

It works on the screen in $DISPLAY, or on its own Xvfb when there is none. It uses the
program's window when it is open already; otherwise it starts the bundled demo program
(demo/desktop_app) on <logs_dir>/desktop-app.db and closes it when the run ends.
"""

from __future__ import annotations

import re
import sys

from bots.invoice_entry import compare, flat, incoming, read_entry
from deskhand import ApplicationError, Bot, BusinessError
from deskhand.desktop import open_desktop

bot = Bot("desktop_invoice_entry", queue="desktop_invoices", max_attempts=3, requires=("input",))
bot.source(incoming)  # one item per document, as for the web app

TITLE = "Invoice Entry - AP Desk"
RECORD = re.compile(r"^Invoice (AP-\d+)$")
DIALOGS = ("Confirm save", "Cannot save", "Not found", RECORD)
TERMS = {
    "NET15": "Net 15",
    "NET30": "Net 30",
    "NET60": "Net 60",
    "DUE_ON_RECEIPT": "Due on receipt",
}
FIELDS = {  # the form's labels, as the program shows them
    "invoice_number": "Invoice no.:",
    "invoice_date": "Invoice date:",
    "due_date": "Due date:",
    "currency": "Currency:",
    "amount": "Amount:",
    "tax": "Tax:",
    "po_number": "PO number:",
    "notes": "Notes:",
}
RECORD_LABELS = {"vendor": "Vendor", "terms": "Terms", "recurring": "Recurring"} | {
    name: label.rstrip(":") for name, label in FIELDS.items()
}


@bot.process
def key_invoice(item, ctx):
    entry = read_entry(item, ctx)  # read and validate the document, as invoice_entry does
    ctx.key(entry["vendor"], entry["invoice_number"])  # two scans of one invoice: keyed once
    desk, app = open_program(ctx)
    if done := already_entered(desk, app, ctx, entry):
        return done
    with ctx.step("choose vendor", vendor=entry["vendor"]):
        choose_vendor(desk, app, entry["vendor"])
    with ctx.step("fill invoice window", invoice=entry["invoice_number"]):
        fill_header(app, entry)
    with ctx.step("fill line items", lines=len(entry["lines"])):
        fill_lines(desk, app, entry["lines"])
    with ctx.step(
        "save", point_of_no_return=True, vendor=entry["vendor"], invoice=entry["invoice_number"]
    ) as step:
        window = save(desk, entry)
        record = RECORD.match(window.title).group(1)
        step.set(record=record)
    with ctx.step("read back", record=record):
        verify(desk, window, ctx, entry, record)
    return ctx.done(record=record)


@bot.reconcile
def saved_before(item, ctx, checkpoint):
    """An earlier attempt stopped during Save: the invoice is in the program or it is not."""
    entry = read_entry(item, ctx)
    desk, app = open_program(ctx)
    return already_entered(desk, app, ctx, entry)


def already_entered(desk, app, ctx, entry: dict) -> dict | None:
    """The output for an invoice the program already has (checked field by field), or None."""
    with ctx.step("check not already entered", invoice=entry["invoice_number"]):
        window = find_invoice(desk, app, entry)
    if window is None:
        return None
    record = RECORD.match(window.title).group(1)
    with ctx.step("read back existing record", record=record):
        verify(desk, window, ctx, entry, record)
    return ctx.done(record=record, already_entered=True)


def verify(desk, window, ctx, entry: dict, record: str) -> None:
    """Read the record window, close it, and compare: a mismatch goes to review."""
    saved = read_record(window)
    ctx.values("read_back", flat(saved))
    close(desk, window)
    compare(entry, saved, record)


# -- the program ---------------------------------------------------------------------------
def open_program(ctx):
    """The desktop and the program's main window (started if need be), no dialog open."""
    desk = open_desktop(ctx, images="desktop_ap")
    with ctx.step("open the AP program"):
        return desk, main_window(desk, ctx)


def main_window(desk, ctx):
    app = desk.find_window(TITLE)
    if app is None:
        db = ctx.settings.resolve(ctx.settings.logs_dir) / "desktop-app.db"
        db.parent.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "demo.desktop_app", "--db", str(db)]
        app = desk.start(command, window=TITLE, name="desktop_app", cwd=ctx.settings.root)
    for title in DIALOGS:  # left over from an attempt that failed half-way
        while (stray := desk.find_window(title)) is not None:
            ctx.warning(f"closing a window left open: {stray.title}")
            close(desk, stray)
    desk.press("esc")  # and a dropdown list left open
    return app


def close(desk, window) -> None:
    """Close a dialog or record window with Escape (the program binds it to Cancel/Close)."""
    window.focus()
    desk.press("esc")
    window.wait_closed()


def find_invoice(desk, app, entry: dict):
    """The record window of this vendor's invoice when the program has it, else None."""
    app.text("Find by number:").right_of(40).fill(entry["invoice_number"])
    desk.press("enter")
    answer = desk.window(re.compile(r"^(Not found|Invoice AP-\d+)$"))
    if answer.title != "Not found":
        vendor = _after(answer.read_text(), "Vendor")
        if not vendor:  # unreadable is not "someone else's": never taken as "not entered"
            close(desk, answer)
            raise ApplicationError(f"could not read the vendor of {answer.title}: try again")
        if vendor == entry["vendor"]:
            return answer
        desk.ctx.info(f"invoice {entry['invoice_number']} on file is {vendor}'s, not this one")
    close(desk, answer)
    return None


def choose_vendor(desk, app, vendor: str) -> None:
    label = app.text("Vendor:")
    label.right_of(40, name="vendor dropdown").click()
    listing = label.offset(0, 8, origin="right", width=420, height=260, name="vendor list")
    choice = desk.text(vendor, region=listing)
    choice.click()
    choice.wait_gone()  # the list closes: the next click goes to the form, not to the list


def fill_header(app, entry: dict) -> None:
    for name, label in FIELDS.items():
        if entry[name]:
            app.text(label).right_of(40, name=name).fill(entry[name])
    app.text(TERMS[entry["terms"]]).click()
    if entry["recurring"] == "Yes":
        app.text("Recurring").click()


def fill_lines(desk, app, lines: list[dict]) -> None:
    """Click the first description cell, then Tab through the rows, cell by cell."""
    app.text("Description").below(12, name="line 1 description").click()
    for line in lines:
        for name in ("description", "quantity", "unit_price", "amount"):
            desk.type(line[name])
            desk.press("tab")


def save(desk, entry: dict):
    """Save, after checking that the confirmation names this invoice; the record window."""
    desk.image("save_button").click()
    dialog = desk.window("Confirm save")
    question = dialog.read_text()
    expected = f"Save invoice {entry['invoice_number']} for {entry['vendor']}"
    if _words(expected) not in _words(question):
        close(desk, dialog)  # Escape is No: nothing saved
        raise ApplicationError(f"the confirmation asks '{question}', not '{expected}?'")
    dialog.text("Yes").click()
    outcome = desk.window(re.compile(r"^(Cannot save|Invoice AP-\d+)$"))
    if outcome.title == "Cannot save":
        reasons = outcome.read_text().replace("\n", " ")
        close(desk, outcome)
        raise BusinessError(f"the program refused the invoice: {reasons}")
    return outcome


def read_record(window) -> dict:
    """The record window's values (OCR), in the shape of what was keyed."""
    text = window.read_text()
    values = {name: _after(text, label) for name, label in RECORD_LABELS.items()}
    table = text.partition("Description Qty Unit price Amount")[2]
    values["lines"] = [
        dict(zip(("description", "quantity", "unit_price", "amount"), row.groups()))
        for row in re.finditer(r"^(.+) ([\d.,]+) ([\d.,]+) ([\d.,]+)$", table, re.MULTILINE)
    ]
    return values


def _after(text: str, label: str) -> str:
    """The rest of the line that starts with ``label`` (dots and colons optional)."""
    words = [re.escape(w.strip(".:")) for w in label.split()]
    pattern = r"^" + r"[.:]*\s+".join(words) + r"[.:]*(?:[ \t]+(.*))?$"
    match = re.search(pattern, text, re.MULTILINE)
    return (match.group(1) or "").strip() if match else ""


def _words(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()
