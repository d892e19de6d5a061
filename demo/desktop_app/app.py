"""The invoice entry window, its dialogs and the saved-record window.

Main window "Invoice Entry - AP Desk": a find bar (invoice number + Find), the header fields
(vendor dropdown, invoice number, MM/DD/YYYY dates, currency, amount, tax, PO number, terms
radio buttons, a Recurring check box, notes), six line-item rows, Save and Clear buttons and
a status bar. Save asks "Confirm save" (Yes / No); a valid invoice is stored and shown in the
record window "Invoice AP-000001" (read back from the database), and the form is cleared.
A rejected one shows "Cannot save" with the reasons. Find shows the record window, or
"Not found". Ctrl+A selects all of a text field, as in most programs.
"""

from __future__ import annotations

import tkinter as tk
import tkinter.font as tkfont
from tkinter import ttk

from demo.data import CURRENCIES, TERMS
from demo.legacy_app import db
from demo.legacy_app.forms import HEADER_FIELDS, LINE_FIELDS, InvoiceForm, us_date

TITLE = "Invoice Entry - AP Desk"
LINE_ROWS = 6
USER = "desktop"
BACKGROUND = "#d9d9d9"
FIELDS = (  # (variable, label) in the order of the form, top to bottom
    ("invoice_number", "Invoice no.:"),
    ("invoice_date", "Invoice date:"),
    ("due_date", "Due date:"),
    ("currency", "Currency:"),
    ("amount", "Amount:"),
    ("tax", "Tax:"),
    ("po_number", "PO number:"),
)


class InvoiceEntry:
    """The main window and everything it opens."""

    def __init__(self, root: tk.Tk, db_path: str, scale: float = 1.0) -> None:
        self.root = root
        self.db_path = db_path
        self.scale = scale
        db.init_db(db_path)
        with db.connect(db_path) as conn:
            self.vendors = {row["name"]: row["id"] for row in db.vendors(conn)}
        self.font = tkfont.Font(root, family="DejaVu Sans", size=-self.px(14))
        self.bold = tkfont.Font(root, family="DejaVu Sans", size=-self.px(14), weight="bold")
        root.option_add("*Font", self.font)
        root.option_add("*TCombobox*Listbox.font", self.font)
        ttk.Style(root).configure("TCombobox", padding=self.px(2))
        for widget_class in ("Entry", "TCombobox"):
            root.bind_class(widget_class, "<Control-a>", _select_all)
        root.title(TITLE)
        root.configure(background=BACKGROUND)
        self.vars = {name: tk.StringVar(root) for name in HEADER_FIELDS}
        self.recurring = tk.BooleanVar(root)
        self.lines = [{f: tk.StringVar(root) for f in LINE_FIELDS} for _ in range(LINE_ROWS)]
        self.find_var = tk.StringVar(root)
        self.status = tk.StringVar(root, "Ready.")
        self._build()

    def px(self, value: float) -> int:
        return round(value * self.scale)

    # -- layout -------------------------------------------------------------------------
    def _build(self) -> None:
        pad = self.px(6)
        top = tk.Frame(self.root, background=BACKGROUND)
        top.pack(fill="x", padx=pad * 2, pady=(pad * 2, pad))
        tk.Label(top, text="Find by number:", background=BACKGROUND).pack(side="left")
        find = tk.Entry(top, textvariable=self.find_var, width=16)
        find.pack(side="left", padx=pad)
        find.bind("<Return>", lambda _e: self.find())
        self._button(top, "Find", self.find).pack(side="left")

        form = tk.LabelFrame(self.root, text=" Invoice ", font=self.bold, background=BACKGROUND)
        form.pack(fill="x", padx=pad * 2, pady=pad)
        self._label(form, "Vendor:").grid(row=0, column=0, sticky="e", padx=pad, pady=pad)
        vendor = ttk.Combobox(
            form,
            textvariable=self.vars["vendor_id"],
            values=list(self.vendors),
            state="readonly",
            width=34,
            font=self.font,
        )
        vendor.grid(row=0, column=1, columnspan=3, sticky="w", padx=pad, pady=pad)
        for n, (name, label) in enumerate(FIELDS):
            row, column = 1 + n // 2, (n % 2) * 2
            self._label(form, label).grid(row=row, column=column, sticky="e", padx=pad, pady=pad)
            if name == "currency":
                widget = ttk.Combobox(
                    form, textvariable=self.vars[name], values=CURRENCIES, width=8, font=self.font
                )
            else:
                widget = tk.Entry(form, textvariable=self.vars[name], width=18)
            widget.grid(row=row, column=column + 1, sticky="w", padx=pad, pady=pad)

        self._label(form, "Terms:").grid(row=5, column=0, sticky="e", padx=pad, pady=pad)
        terms = tk.Frame(form, background=BACKGROUND)
        terms.grid(row=5, column=1, columnspan=3, sticky="w", padx=pad)
        for code, label in TERMS.items():
            tk.Radiobutton(
                terms,
                text=label,
                value=code,
                variable=self.vars["terms"],
                background=BACKGROUND,
                highlightthickness=0,
            ).pack(side="left", padx=(0, pad * 2))
        tk.Checkbutton(
            terms, text="Recurring", variable=self.recurring, background=BACKGROUND
        ).pack(side="left", padx=pad * 2)
        self._label(form, "Notes:").grid(row=6, column=0, sticky="e", padx=pad, pady=pad)
        notes = tk.Entry(form, textvariable=self.vars["notes"], width=56)
        notes.grid(row=6, column=1, columnspan=3, sticky="w", padx=pad, pady=pad)

        table = tk.LabelFrame(self.root, text=" Line items ", font=self.bold, background=BACKGROUND)
        table.pack(fill="x", padx=pad * 2, pady=pad)
        widths = {"description": 40, "quantity": 8, "unit_price": 11, "amount": 11}
        headers = ("Description", "Qty", "Unit price", "Line amount")
        for column, text in enumerate(headers):
            self._label(table, text).grid(row=0, column=column, sticky="w", padx=pad)
        for row, line in enumerate(self.lines, 1):
            for column, name in enumerate(LINE_FIELDS):
                entry = tk.Entry(table, textvariable=line[name], width=widths[name])
                entry.grid(row=row, column=column, sticky="w", padx=pad, pady=self.px(2))

        buttons = tk.Frame(self.root, background=BACKGROUND)
        buttons.pack(fill="x", padx=pad * 2, pady=pad)
        self._button(buttons, "Save", self.confirm_save).pack(side="left")
        self._button(buttons, "Clear", self.clear).pack(side="left", padx=pad * 2)
        tk.Label(
            self.root, textvariable=self.status, anchor="w", relief="sunken", background=BACKGROUND
        ).pack(fill="x", side="bottom")

    def _label(self, parent: tk.Widget, text: str) -> tk.Label:
        return tk.Label(parent, text=text, background=BACKGROUND)

    def _button(self, parent: tk.Widget, text: str, command) -> tk.Button:
        return tk.Button(
            parent, text=text, command=command, width=8, padx=self.px(4), pady=self.px(2)
        )

    # -- actions ------------------------------------------------------------------------
    def form(self) -> InvoiceForm:
        values = {name: var.get() for name, var in self.vars.items()}
        vendor = values["vendor_id"]
        values["vendor_id"] = str(self.vendors[vendor]) if vendor in self.vendors else ""
        lines = [{f: var.get() for f, var in line.items()} for line in self.lines]
        return InvoiceForm(values=values, recurring=self.recurring.get(), lines=lines)

    def confirm_save(self) -> None:
        number = self.vars["invoice_number"].get().strip()
        vendor = self.vars["vendor_id"].get() or "(no vendor)"
        amount = f"{self.vars['currency'].get()} {self.vars['amount'].get()}".strip()
        question = f"Save invoice {number} for {vendor}?\nAmount: {amount}"
        self.dialog("Confirm save", question, [("Yes", self.save), ("No", None)])

    def save(self) -> None:
        invoice, lines, errors = self.form().validate(set(self.vendors.values()))
        if errors:
            self.status.set("Not saved: " + errors[0])
            self.dialog("Cannot save", "\n".join(errors), [("OK", None)])
            return
        with db.connect(self.db_path) as conn:
            duplicate = db.find_duplicate(conn, invoice["vendor_id"], invoice["invoice_number"])
            if duplicate is None:
                record_no = db.insert_invoice(conn, invoice, lines, USER)
        if duplicate is not None:
            message = f"This vendor's invoice {invoice['invoice_number']} is {duplicate}."
            self.dialog("Cannot save", message, [("OK", None)])
            return
        self.status.set(f"Saved {record_no}.")
        self.clear(keep_status=True)
        self.show_record(record_no)

    def find(self) -> None:
        number = self.find_var.get().strip()
        with db.connect(self.db_path) as conn:
            row = conn.execute(
                "SELECT record_no FROM invoices WHERE invoice_number = ? ORDER BY id", (number,)
            ).fetchone()
        if row is None:
            self.dialog("Not found", f"No invoice {number} in the system.", [("OK", None)])
        else:
            self.show_record(row["record_no"])

    def clear(self, keep_status: bool = False) -> None:
        for var in self.vars.values():
            var.set("")
        for line in self.lines:
            for var in line.values():
                var.set("")
        self.recurring.set(False)
        if not keep_status:
            self.status.set("Ready.")

    # -- windows ------------------------------------------------------------------------
    def _toplevel(self, title: str, dx: int = 120, dy: int = 150) -> tk.Toplevel:
        window = tk.Toplevel(self.root, background=BACKGROUND)
        window.title(title)
        x, y = self.root.winfo_rootx(), self.root.winfo_rooty()
        window.geometry(f"+{x + self.px(dx)}+{y + self.px(dy)}")
        window.transient(self.root)
        return window

    def dialog(self, title: str, message: str, buttons: list[tuple[str, object]]) -> None:
        """A modal message with buttons; each closes it, then runs its command (if any)."""
        window = self._toplevel(title)
        pad = self.px(12)
        tk.Label(window, text=message, justify="left", background=BACKGROUND).pack(
            padx=pad * 2, pady=pad * 2
        )
        row = tk.Frame(window, background=BACKGROUND)
        row.pack(pady=(0, pad))

        def press(command) -> None:
            window.grab_release()
            window.destroy()
            if command is not None:
                command()

        for text, command in buttons:
            self._button(row, text, lambda c=command: press(c)).pack(side="left", padx=pad // 2)
        window.bind("<Escape>", lambda _e: press(None))
        window.wait_visibility()
        window.grab_set()
        window.focus_set()

    def show_record(self, record_no: str) -> None:
        """The saved invoice as the database holds it, dates as MM/DD/YYYY."""
        with db.connect(self.db_path) as conn:
            invoice, lines = db.get_invoice(conn, record_no)
        window = self._toplevel(f"Invoice {record_no}", dx=40, dy=60)
        pad = self.px(6)
        rows = [
            ("Record:", record_no),
            ("Vendor:", invoice["vendor_name"]),
            ("Invoice no.:", invoice["invoice_number"]),
            ("Invoice date:", us_date(invoice["invoice_date"])),
            ("Due date:", us_date(invoice["due_date"])),
            ("Currency:", invoice["currency"]),
            ("Amount:", invoice["amount"]),
            ("Tax:", invoice["tax"]),
            ("PO number:", invoice["po_number"]),
            ("Terms:", invoice["terms"]),
            ("Recurring:", "Yes" if invoice["recurring"] else "No"),
            ("Notes:", invoice["notes"]),
        ]
        grid = tk.Frame(window, background="white", padx=pad * 2, pady=pad * 2)
        grid.pack(fill="both", padx=pad * 2, pady=pad * 2)
        for n, (label, value) in enumerate(rows):
            tk.Label(grid, text=label, background="white", font=self.bold).grid(
                row=n, column=0, sticky="w", padx=(0, pad * 3)
            )
            tk.Label(grid, text=value, background="white").grid(row=n, column=1, sticky="w")
        table = tk.Frame(window, background="white", padx=pad * 2, pady=pad)
        table.pack(fill="both", padx=pad * 2)
        for column, text in enumerate(("Description", "Qty", "Unit price", "Amount")):
            tk.Label(table, text=text, background="white", font=self.bold).grid(
                row=0, column=column, sticky="w", padx=pad * 2
            )
        for n, line in enumerate(lines, 1):
            cells = (line["description"], line["quantity"], line["unit_price"], line["amount"])
            for column, value in enumerate(cells):
                tk.Label(table, text=str(value), background="white").grid(
                    row=n, column=column, sticky="w", padx=pad * 2
                )
        close = self._button(window, "Close", window.destroy)
        close.pack(pady=pad * 2)
        window.bind("<Escape>", lambda _e: window.destroy())


def _select_all(event: tk.Event) -> str:
    event.widget.select_range(0, "end")
    event.widget.icursor("end")
    return "break"


def main(db_path: str, scale: float = 1.0, position: tuple[int, int] = (0, 0)) -> None:
    root = tk.Tk(className="DeskhandDemo")
    InvoiceEntry(root, db_path, scale)
    root.geometry(f"+{position[0]}+{position[1]}")
    root.mainloop()
