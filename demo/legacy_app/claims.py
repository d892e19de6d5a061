"""The claims desk: a second legacy application the demo serves (``--variant claims``).

It is built the way recorders find hard: every id and class is generated anew on each page
load (variants.GeneratedNames), the sign-in form starts inside a ``<table>`` (the parser
leaves the ``<form>`` element empty, its fields owned but not contained), the claim is
confirmed in a modal overlay whose OK calls ``form.submit()`` (no ``confirm()``), and some
fields come with defaults a clerk rarely touches (the currency, the acknowledgement letter).
Registering a claim shows its claim number; the claim can be opened and searched for.
"""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime

from flask import Flask, abort, g, redirect, render_template, request, session, url_for

from demo.legacy_app import db
from demo.legacy_app.variants import GeneratedNames

CURRENCIES = ("EUR", "USD", "GBP", "CHF")
DEFAULT_CURRENCY = "EUR"
LOSS_TYPES = {"ACC": "Accident", "THF": "Theft", "WTR": "Water damage", "FIR": "Fire"}
FIELDS = ("policy_no", "claimant_name", "loss_type", "loss_date", "amount_claimed")
FIELDS += ("currency", "send_ack", "receipt", "description")

SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY,
    claim_no TEXT UNIQUE,
    policy_no TEXT NOT NULL,
    claimant_name TEXT NOT NULL,
    loss_type TEXT NOT NULL,
    loss_date TEXT NOT NULL,
    amount_claimed TEXT NOT NULL,
    currency TEXT NOT NULL,
    send_ack INTEGER NOT NULL,
    receipt TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
"""
_DATE = re.compile(r"^\d{2}\.\d{2}\.\d{4}$")
_AMOUNT = re.compile(r"^\d+(\.\d{2})?$")


def create_claims_app(db_path: str) -> Flask:
    """The claims desk over the SQLite database at ``db_path`` (created if new)."""
    secret = db.init_db(db_path)  # users and the session key, shared with the AP app
    with sqlite3.connect(db_path) as conn:
        conn.executescript(SCHEMA)
    conn.close()
    app = Flask(__name__)
    app.config.update(SECRET_KEY=secret, SESSION_COOKIE_NAME="CLAIMSID")

    def conn() -> sqlite3.Connection:
        if "conn" not in g:
            g.conn = db.connect(db_path)
        return g.conn

    @app.teardown_appcontext
    def close_db(_exc):
        connection = g.pop("conn", None)
        if connection is not None:
            connection.close()

    @app.context_processor
    def names():
        return {
            "ID": GeneratedNames("f"),
            "CLS": GeneratedNames("c"),
            "user": session.get("user"),
            "LOSS_TYPES": LOSS_TYPES,
            "CURRENCIES": CURRENCIES,
        }

    @app.before_request
    def gate():
        if request.endpoint not in ("login", "static") and "user" not in session:
            return redirect(url_for("login"))
        return None

    @app.route("/login", methods=["GET", "POST"])
    def login():
        error = ""
        if request.method == "POST":
            username = request.form.get("usr", "").strip()
            if db.check_user(conn(), username, request.form.get("pwd", "")):
                session.clear()
                session["user"] = username
                return redirect(url_for("home"))
            error = "Unknown user or wrong password."
        return render_template("claims/login.html", error=error)

    @app.get("/")
    def home():
        return render_template("claims/home.html")

    @app.get("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.route("/claims/new", methods=["GET", "POST"])
    def new_claim():
        values = {"currency": DEFAULT_CURRENCY, "send_ack": "1"}
        errors: list[str] = []
        if request.method == "POST":
            values = {name: request.form.get(name, "").strip() for name in FIELDS}
            upload = request.files.get("receipt")
            values["receipt"] = upload.filename if upload and upload.filename else ""
            errors = _errors(values)
            if not errors:
                claim_no = _insert(conn(), values, session["user"])
                return redirect(url_for("registered", claim_no=claim_no), code=303)
        return render_template("claims/claim_form.html", v=values, errors=errors)

    @app.get("/claims/<claim_no>/registered")
    def registered(claim_no: str):
        return render_template("claims/registered.html", claim=_claim(conn(), claim_no))

    @app.get("/claims/<claim_no>")
    def view(claim_no: str):
        return render_template("claims/view.html", claim=_claim(conn(), claim_no))

    @app.get("/claims/search")
    def search():
        q = request.args.get("q", "").strip()
        found = []
        if q:
            found = (
                conn()
                .execute(
                    "SELECT * FROM claims WHERE instr(lower(policy_no), lower(?)) > 0"
                    " OR instr(lower(claimant_name), lower(?)) > 0 ORDER BY id DESC",
                    (q, q),
                )
                .fetchall()
            )
        return render_template("claims/search.html", q=q, found=found)

    return app


def _errors(v: dict[str, str]) -> list[str]:
    errors = []
    for name, label in [("policy_no", "Policy number"), ("claimant_name", "Claimant name")]:
        if not v[name]:
            errors.append(f"{label} is required.")
    if v["loss_type"] not in LOSS_TYPES:
        errors.append("Choose the type of loss.")
    if not _DATE.match(v["loss_date"]):
        errors.append("Date of loss must be DD.MM.YYYY.")
    if not _AMOUNT.match(v["amount_claimed"]):
        errors.append("Amount claimed must be a number such as 120.50.")
    if v["currency"] not in CURRENCIES:
        errors.append("Choose a currency.")
    return errors


def _insert(conn: sqlite3.Connection, v: dict[str, str], user: str) -> str:
    created = datetime.now(UTC).isoformat(timespec="seconds")
    row = {**v, "send_ack": int(v["send_ack"] == "1")}
    with conn:
        cur = conn.execute(
            f"INSERT INTO claims ({', '.join(FIELDS)}, created_at, created_by)"
            f" VALUES ({', '.join('?' * len(FIELDS))}, ?, ?)",
            [row[name] for name in FIELDS] + [created, user],
        )
        claim_no = f"CLM-{cur.lastrowid:06d}"
        conn.execute("UPDATE claims SET claim_no = ? WHERE id = ?", (claim_no, cur.lastrowid))
    return claim_no


def _claim(conn: sqlite3.Connection, claim_no: str) -> sqlite3.Row:
    claim = conn.execute("SELECT * FROM claims WHERE claim_no = ?", (claim_no,)).fetchone()
    if claim is None:
        abort(404)
    return claim
