"""The legacy accounts-payable intranet app: Flask pages that look and behave like 2005."""

from __future__ import annotations

import sqlite3

from flask import Flask, abort, g, redirect, render_template, request, session, url_for

from demo.data import CURRENCIES, TERMS
from demo.legacy_app import db
from demo.legacy_app.forms import MAX_LINES, InvoiceForm, us_date

PUBLIC_ENDPOINTS = {"login", "static"}


def create_app(db_path: str) -> Flask:
    """The app over the SQLite database at db_path (created and seeded if new)."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=db.init_db(db_path),
        DB_PATH=db_path,
        SESSION_COOKIE_NAME="APSESSIONID",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.jinja_env.filters["us_date"] = us_date

    def conn() -> sqlite3.Connection:
        if "conn" not in g:
            g.conn = db.connect(app.config["DB_PATH"])
        return g.conn

    @app.teardown_appcontext
    def close_db(_exc):
        connection = g.pop("conn", None)
        if connection is not None:
            connection.close()

    @app.before_request
    def require_login():
        if request.endpoint not in PUBLIC_ENDPOINTS and "user" not in session:
            return redirect(url_for("login"))

    @app.context_processor
    def globals_():
        return {"user": session.get("user"), "TERMS": TERMS, "CURRENCIES": CURRENCIES}

    @app.errorhandler(404)
    def not_found(_exc):
        return render_template("not_found.html"), 404

    @app.get("/")
    def index():
        return redirect(url_for("main"))

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = None
        username = ""
        if request.method == "POST":
            username = request.form.get("username", "").strip()
            password = request.form.get("password", "")
            if db.check_user(conn(), username, password):
                session.clear()
                session["user"] = username
                return redirect(url_for("main"))
            error = "Invalid user name or password."
        return render_template("login.html", error=error, username=username)

    @app.get("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.get("/main")
    def main():
        return render_template("main.html")

    @app.get("/nav")
    def nav():
        return render_template("nav.html")

    @app.get("/welcome")
    def welcome():
        return render_template("welcome.html")

    @app.get("/invoices/search")
    def search():
        q = request.args.get("q", "").strip()
        return render_template("search.html", q=q, results=db.search_invoices(conn(), q))

    @app.route("/invoices/new", methods=["GET", "POST"])
    def new_invoice():
        vendors = db.vendors(conn())
        if request.method == "GET":
            return render_form(InvoiceForm(), vendors, [])
        form = InvoiceForm.from_request(request.form)
        invoice, lines, errors = form.validate({v["id"] for v in vendors})
        if not errors:
            duplicate = db.find_duplicate(conn(), invoice["vendor_id"], invoice["invoice_number"])
            if duplicate is None:
                try:
                    record_no = db.insert_invoice(conn(), invoice, lines, session["user"])
                    return redirect(url_for("saved", record_no=record_no), code=303)
                except sqlite3.IntegrityError:  # saved by a concurrent request just now
                    duplicate = db.find_duplicate(
                        conn(), invoice["vendor_id"], invoice["invoice_number"]
                    )
            errors = [
                f"Invoice {invoice['invoice_number']} already exists for this vendor "
                f"(record {duplicate})."
            ]
        return render_form(form, vendors, errors)

    def render_form(form: InvoiceForm, vendors: list, errors: list[str]) -> str:
        chosen = form.values["vendor_id"]
        vendor_name = next((v["name"] for v in vendors if str(v["id"]) == chosen), "")
        return render_template(
            "invoice_form.html",
            form=form,
            vendors=vendors,
            vendor_name=vendor_name,
            errors=errors,
            max_lines=MAX_LINES,
        )

    @app.get("/invoices/<record_no>/saved")
    def saved(record_no: str):
        invoice, _ = db.get_invoice(conn(), record_no)
        if invoice is None:
            abort(404)
        return render_template("saved.html", invoice=invoice)

    @app.get("/invoices/<record_no>")
    def view(record_no: str):
        invoice, lines = db.get_invoice(conn(), record_no)
        if invoice is None:
            abort(404)
        return render_template("view.html", invoice=invoice, lines=lines)

    @app.get("/vendors/lookup")
    def vendor_lookup():
        q = request.args.get("q", "").strip()
        return render_template("vendor_lookup.html", q=q, vendors=db.vendors(conn(), q))

    return app


def serve(port: int, db_path: str, host: str = "127.0.0.1") -> None:
    """Run the app until interrupted: threaded, no reloader, no debugger."""
    app = create_app(db_path)
    print(f"legacy app on http://{host}:{port} (db {db_path})", flush=True)
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
