"""The legacy accounts-payable intranet app: Flask pages that look and behave like 2005."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

from flask import Flask, abort, g, jsonify, redirect, render_template, request, session, url_for

from demo.data import CURRENCIES, TERMS
from demo.legacy_app import db
from demo.legacy_app.faults import Faults, FaultSpec, parse_faults
from demo.legacy_app.forms import MAX_LINES, InvoiceForm, us_date
from demo.legacy_app.variants import application, names

PUBLIC_ENDPOINTS = {"login", "static", "fault_counts", "login_count"}
# Never delayed, failed or counted: assets, the counts, and unrouted paths (a browser's own
# /favicon.ico must not use up a session's requests).
NO_FAULTS = {"static", "fault_counts", "login_count", None}
MODAL_PAGES = {"main.html", "search.html", "invoice_form.html"}


def create_app(
    db_path: str,
    faults: str | FaultSpec | None = None,
    variant: str = "normal",
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Flask:
    """The app over the SQLite database at db_path (created and seeded if new).

    faults: a fault SPEC (see demo.legacy_app.faults), None for a well-behaved app.
    variant: "normal" (the ids and classes bots are written against), "shifted" or "claims".
    sleep: what latency and slow pages wait with (tests pass a recorder).
    """
    if (other := application(variant)) is not None:  # "claims": another app altogether
        return other(db_path)
    spec = faults if isinstance(faults, FaultSpec) else parse_faults(faults)
    id_names, class_names = names(variant)
    injector = Faults(spec, sleep)
    app = Flask(__name__)
    app.extensions["faults"] = injector
    app.config.update(
        SECRET_KEY=db.init_db(db_path),
        DB_PATH=db_path,
        SESSION_COOKIE_NAME="APSESSIONID",
        SESSION_COOKIE_SAMESITE="Lax",
    )
    app.jinja_env.filters["us_date"] = us_date
    from demo.legacy_app.modules_common import register  # customer accounts, orders

    register(app)

    def conn() -> sqlite3.Connection:
        if "conn" not in g:
            g.conn = db.connect(app.config["DB_PATH"])
        return g.conn

    @app.teardown_appcontext
    def close_db(_exc):
        connection = g.pop("conn", None)
        if connection is not None:
            connection.close()

    def fault(kind: str) -> None:
        injector.record(kind, request.method, request.path)

    def server_error():
        return render_template("server_error.html"), 500

    @app.before_request
    def gate():
        """Injected latency and errors first (before anything is done), then the log-in."""
        faulty = request.endpoint not in NO_FAULTS
        if faulty and injector.hit("latency"):
            fault("latency")
            injector.sleep(spec.latency[1])
        if faulty and not (request.endpoint == "login" and request.method == "GET"):
            if injector.hit("error"):
                fault("error")
                return server_error()
        if request.endpoint in PUBLIC_ENDPOINTS:
            return None
        if "user" not in session:
            return redirect(url_for("login"))
        if faulty and spec.expire and not injector.use_session(session.get("sid")):
            fault("expire")
            session.clear()
            session["expired"] = True
            return redirect(url_for("login"))
        return None

    @app.after_request
    def slow_pages(response):
        if (
            spec.slow
            and request.endpoint not in NO_FAULTS
            and response.mimetype == "text/html"
            and not 300 <= response.status_code < 400
        ):
            fault("slow")
            injector.sleep(spec.slow)
        return response

    def render(template: str, **context) -> str:
        """Render a page; the pages a clerk works on may get the maintenance notice."""
        if template in MODAL_PAGES and injector.hit("modal"):
            fault("modal")
            context["maintenance"] = True
        return render_template(template, **context)

    @app.context_processor
    def globals_():
        return {
            "user": session.get("user"),
            "TERMS": TERMS,
            "CURRENCIES": CURRENCIES,
            "ID": id_names,
            "CLS": class_names,
        }

    @app.errorhandler(404)
    def not_found(_exc):
        return render_template("not_found.html"), 404

    @app.errorhandler(500)
    def internal_error(_exc):
        return server_error()

    @app.get("/_faults")
    def fault_counts():
        """Injected faults so far, per kind: for tests, outside the log-in and the faults."""
        return jsonify(injector.counts())

    app.config["LOGINS"] = 0  # successful log-ins since the app (or its database) started

    @app.get("/_logins")
    def login_count():
        """How many log-ins succeeded since the app started serving its database: for tests
        and benchmarks."""
        return jsonify(logins=app.config["LOGINS"])

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
                injector.end_session(session.get("sid"))
                session.clear()
                session["user"] = username
                app.config["LOGINS"] += 1
                if spec.expire:
                    session["sid"] = injector.start_session()
                return redirect(url_for("main"))
            error = "Invalid user name or password."
        return render_template(
            "login.html", error=error, username=username, expired=session.get("expired")
        )

    @app.get("/logout")
    def logout():
        injector.end_session(session.get("sid"))
        session.clear()
        return redirect(url_for("login"))

    @app.get("/main")
    def main():
        return render("main.html")

    @app.get("/nav")
    def nav():
        return render_template("nav.html")

    @app.get("/welcome")
    def welcome():
        return render_template("welcome.html")

    @app.get("/invoices/search")
    def search():
        q = request.args.get("q", "").strip()
        results = db.search_invoices(conn(), q)
        # ?per=N&page=P pages the results, N per page (default: all on one page)
        per = request.args.get("per", type=int) or len(results) or 1
        page = max(request.args.get("page", 1, type=int), 1)
        shown = results[(page - 1) * per : page * per]
        more = page * per < len(results)
        return render("search.html", q=q, results=shown, page=page, per=per, more=more)

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
                    if injector.hit("lost"):  # committed, but the answer never arrives
                        fault("lost")
                        return server_error()
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
        return render(
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

    @app.get("/vendors/<int:vendor_id>/address")
    def vendor_address(vendor_id: int):
        """The vendor's address as JSON, for the form's AJAX field (answered after a pause)."""
        time.sleep(0.3)
        found = [v for v in db.vendors(conn()) if v["id"] == vendor_id]
        if not found:
            abort(404)
        return jsonify({"address": found[0]["address"]})

    @app.get("/vendors/lookup")
    def vendor_lookup():
        q = request.args.get("q", "").strip()
        return render_template("vendor_lookup.html", q=q, vendors=db.vendors(conn(), q))

    return app


def use_database(app: Flask, db_path: str) -> None:
    """Serve the database at db_path from now on (created and seeded if new) under its own
    session key: a fresh database for each test from one long-lived app."""
    from demo.legacy_app.modules_common import init_tables

    app.config.update(SECRET_KEY=db.init_db(db_path), DB_PATH=db_path, LOGINS=0)
    init_tables(db_path)


def serve(
    port: int,
    db_path: str,
    host: str = "127.0.0.1",
    faults: str | None = None,
    variant: str = "normal",
) -> None:
    """Run the app until interrupted: threaded, no reloader, no debugger."""
    app = create_app(db_path, faults, variant)
    extras = (f", faults {faults}" if faults else "") + (
        f", variant {variant}" if variant != "normal" else ""
    )
    print(f"legacy app on http://{host}:{port} (db {db_path}{extras})", flush=True)
    app.run(host=host, port=port, threaded=True, debug=False, use_reloader=False)
