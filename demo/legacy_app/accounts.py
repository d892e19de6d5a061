"""Customer accounts module of the legacy app: balances, payment allocation, adjustments
(credit notes) with a reason, the account statement and its CSV export. 2005 style: plain
forms, a confirm() before saving, US dates, the same fault mode as the invoice pages."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from flask import Blueprint, Response, abort, redirect, render_template, request, session, url_for

from demo.legacy_app import accounts_db as adb
from demo.legacy_app.forms import _date, _money
from demo.legacy_app.modules_common import conn, maybe_lost, page

bp = Blueprint("accounts", __name__, url_prefix="/accounts")


def _customer_or_404(code: str):
    found = adb.customer(conn(), code)
    if found is None:
        abort(404)
    return found


@bp.get("")
def customers():
    q = request.args.get("q", "").strip()
    return page("accounts_customers.html", q=q, customers=adb.customers(conn(), q))


@bp.get("/invoices")
def invoice_search():
    q = request.args.get("q", "").strip()
    found = adb.search_invoices(conn(), q) if q else []
    return page("accounts_invoices.html", q=q, invoices=found)


@bp.get("/<code>")
def account(code: str):
    customer = _customer_or_404(code)
    invoices = adb.invoices(conn(), customer["id"])
    return page(
        "accounts_account.html",
        customer=customer,
        invoices=invoices,
        allocations=adb.allocations(conn(), customer["id"]),
        adjustments=adb.adjustments(conn(), customer["id"]),
        balance=sum((i["open"] for i in invoices), Decimal("0.00")),
        kinds=adb.ADJUSTMENT_KINDS,
    )


@bp.route("/<code>/allocate", methods=["GET", "POST"])
def allocate(code: str):
    customer = _customer_or_404(code)
    invoices = adb.invoices(conn(), customer["id"])
    form = {
        k: request.form.get(k, "").strip() for k in ("bank_ref", "paid_on", "invoice", "amount")
    }
    errors: list[str] = []
    if request.method == "POST":
        if not form["bank_ref"]:
            errors.append("Bank reference is required.")
        paid_on = _date(form["paid_on"], "Payment date", errors, True)
        amount = _money(form["amount"], "amount", errors, True)
        invoice = next((i for i in invoices if i["number"] == form["invoice"]), None)
        if invoice is None:
            errors.append("Choose an invoice of this customer.")
        elif amount is not None and not Decimal("0") < amount <= invoice["open"]:
            errors.append(f"Amount must be more than 0 and at most the open {invoice['open']:.2f}.")
        if not errors:
            number = adb.insert_allocation(
                conn(),
                invoice["id"],
                form["bank_ref"],
                paid_on.isoformat(),
                amount,
                session["user"],
            )
            return maybe_lost() or redirect(url_for("accounts.saved", number=number), code=303)
    open_invoices = [i for i in invoices if i["open"] > 0]
    return page(
        "accounts_allocate.html",
        customer=customer,
        invoices=open_invoices,
        form=form,
        errors=errors,
    )


@bp.route("/<code>/adjust", methods=["GET", "POST"])
def adjust(code: str):
    customer = _customer_or_404(code)
    invoices = adb.invoices(conn(), customer["id"])
    fields = ("invoice", "kind", "amount", "reason", "bank_ref")
    form = {k: request.form.get(k, "").strip() for k in fields}
    errors: list[str] = []
    if request.method == "POST":
        amount = _money(form["amount"], "amount", errors, True)
        invoice = next((i for i in invoices if i["number"] == form["invoice"]), None)
        if invoice is None:
            errors.append("Choose an invoice of this customer.")
        elif amount is not None and not Decimal("0") < amount <= invoice["open"]:
            errors.append(f"Amount must be more than 0 and at most the open {invoice['open']:.2f}.")
        if form["kind"] not in adb.ADJUSTMENT_KINDS:
            errors.append("Choose the kind of adjustment.")
        if len(form["reason"]) < 5:
            errors.append("Give the reason for the adjustment (at least 5 characters).")
        if not errors:
            number = adb.insert_adjustment(
                conn(),
                invoice["id"],
                form["kind"],
                amount,
                form["reason"],
                form["bank_ref"],
                session["user"],
            )
            return maybe_lost() or redirect(url_for("accounts.saved", number=number), code=303)
    return page(
        "accounts_adjust.html",
        customer=customer,
        invoices=invoices,
        form=form,
        errors=errors,
        kinds=adb.ADJUSTMENT_KINDS,
    )


@bp.get("/saved/<number>")
def saved(number: str):
    table = "allocations" if number.startswith("AL-") else "adjustments"
    column = "alloc_no" if table == "allocations" else "adj_no"
    row = (
        conn()
        .execute(
            f"SELECT t.*, i.number AS invoice_number, c.code AS customer_code FROM {table} t"
            f" JOIN ar_invoices i ON i.id = t.invoice_id JOIN customers c ON c.id = i.customer_id"
            f" WHERE t.{column} = ?",
            (number,),
        )
        .fetchone()
    )
    if row is None:
        abort(404)
    kind = "Allocation" if table == "allocations" else "Adjustment"
    return render_template("accounts_saved.html", row=row, number=number, kind=kind)


@bp.get("/<code>/statement")
def statement(code: str):
    customer = _customer_or_404(code)
    return page(
        "accounts_statement.html", customer=customer, rows=adb.statement(conn(), customer["id"])
    )


@bp.get("/<code>/statement.csv")
def statement_csv(code: str):
    customer = _customer_or_404(code)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Date", "Entry", "Invoice", "Amount", "Balance"])
    for row in adb.statement(conn(), customer["id"]):
        cells = [row["date"], row["kind"], row["reference"], f"{row['amount']:.2f}"]
        writer.writerow([_csv_safe(c) for c in cells] + [f"{row['balance']:.2f}"])
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=statement-{code}.csv"},
    )


def _csv_safe(text: str) -> str:
    return "'" + text if text[:1] in ("=", "+", "@", "\t", "\r") else text
