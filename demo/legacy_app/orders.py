"""Orders module of the legacy app: the product catalogue with stock, order entry with line
items added row by row and a product lookup popup, the confirmation page with the order
number, the order view and the order search. 2005 style, the same fault mode."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from demo.legacy_app import accounts_db, orders_db
from demo.legacy_app.modules_common import conn, maybe_lost, page

bp = Blueprint("orders", __name__)
MAX_LINES = 20


@bp.get("/products")
def catalogue():
    q = request.args.get("q", "").strip()
    return page("orders_products.html", q=q, products=orders_db.products(conn(), q))


@bp.get("/products/lookup")
def product_lookup():
    q = request.args.get("q", "").strip()
    line = request.args.get("line", "1")
    found = orders_db.products(conn(), q) if q else []
    return render_template("orders_lookup.html", q=q, line=line, products=found)


@bp.get("/orders/search")
def search():
    q = request.args.get("q", "").strip()
    return page("orders_search.html", q=q, orders=orders_db.search_orders(conn(), q) if q else [])


@bp.route("/orders/new", methods=["GET", "POST"])
def new_order():
    customers = accounts_db.customers(conn())
    form = {k: request.form.get(k, "").strip() for k in ("customer", "customer_ref", "ship_to")}
    lines = []
    for n in range(1, MAX_LINES + 1):
        if f"sku_{n}" in request.form:
            sku = request.form.get(f"sku_{n}", "").strip()
            qty = request.form.get(f"quantity_{n}", "").strip()
            if sku or qty:
                lines.append({"sku": sku, "quantity": qty})
    errors: list[str] = []
    if request.method == "POST":
        customer = next((c for c in customers if c["code"] == form["customer"]), None)
        if customer is None:
            errors.append("Choose a customer.")
        if not form["customer_ref"]:
            errors.append("Customer order reference is required.")
        if not form["ship_to"]:
            errors.append("Ship-to address is required.")
        if not lines:
            errors.append("Enter at least one line.")
        catalogue = {p["sku"]: p for p in orders_db.products(conn())}
        chosen = []
        for n, line in enumerate(lines, 1):
            product = catalogue.get(line["sku"])
            if product is None:
                errors.append(f"Line {n}: unknown product '{line['sku']}'.")
                continue
            if not line["quantity"].isdigit() or int(line["quantity"]) < 1:
                errors.append(f"Line {n}: quantity must be a whole number of at least 1.")
                continue
            if int(line["quantity"]) > product["stock"]:
                errors.append(f"Line {n}: only {product['stock']} of {product['sku']} in stock.")
                continue
            chosen.append((product, int(line["quantity"])))
        if customer is not None and form["customer_ref"]:
            same = [
                o
                for o in orders_db.search_orders(conn(), form["customer_ref"])
                if o["customer_code"] == customer["code"]
                and o["customer_ref"] == form["customer_ref"]
            ]
            if same:
                errors.append(
                    f"Order {same[0]['order_no']} already has reference {form['customer_ref']}."
                )
        if not errors:
            try:
                order_no = orders_db.insert_order(
                    conn(),
                    customer["id"],
                    form["customer_ref"],
                    form["ship_to"],
                    chosen,
                    session["user"],
                )
            except ValueError as exc:
                errors.append(str(exc))
            else:
                lost = maybe_lost()
                return lost or redirect(url_for("orders.confirmation", order_no=order_no), code=303)
    return page(
        "orders_form.html",
        customers=customers,
        form=form,
        lines=lines or [{"sku": "", "quantity": ""}],
        errors=errors,
        max_lines=MAX_LINES,
    )


@bp.get("/orders/<order_no>/confirmation")
def confirmation(order_no: str):
    order, _ = orders_db.get_order(conn(), order_no)
    if order is None:
        abort(404)
    return render_template("orders_confirmation.html", order=order)


@bp.get("/orders/<order_no>")
def view(order_no: str):
    order, lines = orders_db.get_order(conn(), order_no)
    if order is None:
        abort(404)
    return render_template("orders_view.html", order=order, lines=lines)
