"""Variants of the app's markup: ``normal`` (the contract) and ``shifted`` (a re-skin), and
``claims``: another legacy application altogether (demo.legacy_app.claims), whose ids and
classes are generated anew on every page load (:class:`GeneratedNames`).

The shifted variant renames every id and CSS class a bot could look at, as a vendor's
"UI refresh" would, while form field ``name`` attributes, label texts, button values and
link texts, and iframe names stay as they were. Templates never spell an id or class out:
they write ``id="{{ ID.invoice_number }}"`` and ``class="{{ CLS.result }}"``, and the page
scripts take their ids from the same tables. A key is the normal name with ``-`` as ``_``;
keys ending in ``_`` are prefixes completed by the template (``terms_`` + ``NET30``).
An unknown key is an error at render time, never a silent empty id.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Callable
from typing import Any

# The shifted mapping.  key: (normal, shifted)
IDS = {
    # log-in page
    "username": ("username", "txtUserName"),
    "password": ("password", "txtPassword"),
    "login_button": ("login-button", "btnLogin"),
    "errors": ("errors", "msgErrors"),  # also the invoice form's error box
    "session_expired": ("session-expired", "msgSessionExpired"),
    # main shell and menu (the iframes keep their names "nav" and "content")
    "logged_in_as": ("logged-in-as", "lblCurrentUser"),
    "nav": ("nav", "ifrMenu"),
    "content": ("content", "ifrWorkArea"),
    "nav_new_invoice": ("nav-new-invoice", "lnkNewInvoice"),
    "nav_search": ("nav-search", "lnkFindInvoices"),
    "nav_logout": ("nav-logout", "lnkSignOut"),
    # search
    "search_q": ("search-q", "txtSearchFor"),
    "search_button": ("search-button", "btnFind"),
    "results": ("results", "tblSearchResults"),
    "no_results": ("no-results", "msgNoMatches"),
    "results_next": ("results-next", "lnkNextPage"),
    "results_page": ("results-page", "lblPageNo"),
    # invoice form
    "invoice_form": ("invoice-form", "formInvoiceEntry"),
    "vendor_id": ("vendor_id", "ddlVendor"),
    "vendor_lookup": ("vendor-lookup", "btnVendorSearch"),
    "vendor_name_display": ("vendor-name-display", "lblVendorName"),
    "vendor_address": ("vendor-address", "txtVendorAddr"),
    "invoice_number": ("invoice_number", "inv-no-field"),
    "po_number": ("po_number", "po-ref-field"),
    "invoice_date": ("invoice_date", "inv-date-field"),
    "due_date": ("due_date", "due-date-field"),
    "currency": ("currency", "ccy-field"),
    "amount": ("amount", "total-field"),
    "tax": ("tax", "tax-field"),
    "terms_": ("terms_", "rdoTerms-"),
    "recurring": ("recurring", "chkRecurring"),
    "notes": ("notes", "txtRemarks"),
    "lines": ("lines", "tblLineItems"),
    "line_": ("line-", "lineRow"),
    "line_description_": ("line_description_", "lineDesc-"),
    "line_quantity_": ("line_quantity_", "lineQty-"),
    "line_unit_price_": ("line_unit_price_", "linePrice-"),
    "line_amount_": ("line_amount_", "lineAmt-"),
    "line_count": ("line_count", "hdnLineCount"),
    "add_line": ("add-line", "btnAddLine"),
    "save_button": ("save-button", "btnSaveInvoice"),
    "clear_form": ("clear-form", "btnResetForm"),
    "confirm_modal": ("confirm-modal", "dlgConfirm"),
    "confirm_message": ("confirm-message", "lblConfirmText"),
    "confirm_ok": ("confirm-ok", "btnDlgOk"),
    "confirm_cancel": ("confirm-cancel", "btnDlgCancel"),
    # saved confirmation and record view
    "record_number": ("record-number", "conf-record"),
    "view_record": ("view-record", "lnkOpenRecord"),
    "view_vendor": ("view-vendor", "rec-vendor"),
    "view_invoice_number": ("view-invoice_number", "rec-inv-no"),
    "view_invoice_date": ("view-invoice_date", "rec-inv-date"),
    "view_due_date": ("view-due_date", "rec-due-date"),
    "view_currency": ("view-currency", "rec-ccy"),
    "view_amount": ("view-amount", "rec-total"),
    "view_tax": ("view-tax", "rec-tax"),
    "view_po_number": ("view-po_number", "rec-po-ref"),
    "view_terms": ("view-terms", "rec-terms"),
    "view_recurring": ("view-recurring", "rec-recurring"),
    "view_notes": ("view-notes", "rec-remarks"),
    "view_lines": ("view-lines", "rec-line-items"),
    # vendor lookup popup
    "vendor_q": ("vendor-q", "txtVendorFilter"),
    "vendor_search": ("vendor-search", "btnVendorFind"),
    "vendor_results": ("vendor-results", "tblVendorList"),
    "no_vendors": ("no-vendors", "msgNoVendors"),
    # other pages and fault mode
    "not_found": ("not-found", "msgNotFound"),
    "server_error": ("server-error", "hdrServerError"),
    "maintenance_notice": ("maintenance-notice", "dlgMaintenance"),
    "maintenance_close": ("maintenance-close", "btnDlgDismiss"),
}

CLASSES = {
    # page furniture (the style sheet in base.html uses these too)
    "panel": ("panel", "box"),
    "panel_title": ("panel-title", "box-head"),
    "label": ("label", "fld-caption"),
    "grid": ("grid", "data-table"),
    "alt": ("alt", "zebra"),
    "hint": ("hint", "note-text"),
    "required": ("required", "mandatory"),
    "errors": ("errors", "err-box"),
    "footer": ("footer", "page-foot"),
    "modal": ("modal", "dlg-overlay"),
    # search results
    "result": ("result", "srch-row"),
    "record_no": ("record-no", "col-rec"),
    "vendor": ("vendor", "col-vendor"),
    "invoice_number": ("invoice-number", "col-inv-no"),
    "invoice_date": ("invoice-date", "col-inv-date"),
    "amount": ("amount", "col-amount"),
    "currency": ("currency", "col-ccy"),
    # line items (form rows and the record view)
    "line": ("line", "item-row"),
    "description": ("description", "col-desc"),
    "quantity": ("quantity", "col-qty"),
    "unit_price": ("unit_price", "col-price"),
    # vendor lookup popup
    "vendor_row": ("vendor-row", "vnd-row"),
    "code": ("code", "col-code"),
    "name": ("name", "col-name"),
    "address": ("address", "col-address"),
    "select_vendor": ("select-vendor", "lnk-pick-vendor"),
}

MARKUP = ("normal", "shifted")  # the accounts-payable app's two markups
APPLICATIONS = ("claims",)  # other applications the demo serves instead
VARIANTS = MARKUP + APPLICATIONS


class UnknownName(Exception):  # not a LookupError: Jinja would turn that into a blank
    """A template asked for an id or class the mapping does not have."""


class Names:
    """``ID.invoice_number`` / ``ID["invoice_number"]`` -> the variant's id (or class)."""

    def __init__(self, table: dict[str, tuple[str, str]], variant: str, what: str):
        column = MARKUP.index(variant)
        self._names = {key: pair[column] for key, pair in table.items()}
        self._what = f"{what} ({variant})"

    def __getitem__(self, key: str) -> str:
        try:
            return self._names[key]
        except KeyError:
            raise UnknownName(f"no {self._what} named '{key}'") from None

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):  # dunders and our own attributes: plain Python rules
            raise AttributeError(key)
        return self[key]

    def values(self) -> list[str]:
        return list(self._names.values())


def names(variant: str) -> tuple[Names, Names]:
    """(ID, CLS) for a variant; ValueError for an unknown one."""
    if variant not in MARKUP:
        raise ValueError(f"unknown variant '{variant}' (one of: {', '.join(VARIANTS)})")
    return Names(IDS, variant, "id"), Names(CLASSES, variant, "class")


def application(variant: str) -> Callable[..., Any] | None:
    """The factory of another application served as ``variant`` (None for the AP app)."""
    if variant == "claims":
        from demo.legacy_app.claims import create_claims_app

        return create_claims_app
    return None


class GeneratedNames:
    """Ids (or classes) invented for one page load, as some frameworks do: ``G.amount`` is
    ``f`` and seven random letters and digits (``fpbd3ick``), the same all through one
    rendering and different on the next. Make one per request."""

    ALPHABET = string.ascii_lowercase + string.digits

    def __init__(self, prefix: str = "f") -> None:
        self._prefix = prefix
        self._names: dict[str, str] = {}

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __getitem__(self, key: str) -> str:
        if key not in self._names:
            taken = set(self._names.values())
            name = ""
            while not name or name in taken:
                tail = "".join(secrets.choice(self.ALPHABET) for _ in range(6))
                name = self._prefix + secrets.choice(string.ascii_lowercase) + tail
            self._names[key] = name
        return self._names[key]
