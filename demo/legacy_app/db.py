"""SQLite storage for the legacy AP app: schema, seed data and the few queries the pages need."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import UTC, datetime

from demo.data import DEMO_PASSWORD, DEMO_USER, VENDORS

SCHEMA = """
CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS vendors (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    currency TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS invoices (
    id INTEGER PRIMARY KEY,
    record_no TEXT UNIQUE,
    vendor_id INTEGER NOT NULL REFERENCES vendors(id),
    invoice_number TEXT NOT NULL,
    invoice_date TEXT NOT NULL,
    due_date TEXT NOT NULL DEFAULT '',
    currency TEXT NOT NULL,
    amount TEXT NOT NULL,
    tax TEXT NOT NULL DEFAULT '0.00',
    po_number TEXT NOT NULL DEFAULT '',
    terms TEXT NOT NULL,
    recurring INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (vendor_id, invoice_number)
);
CREATE TABLE IF NOT EXISTS invoice_lines (
    id INTEGER PRIMARY KEY,
    invoice_id INTEGER NOT NULL REFERENCES invoices(id),
    line_no INTEGER NOT NULL,
    description TEXT NOT NULL,
    quantity TEXT NOT NULL,
    unit_price TEXT NOT NULL,
    amount TEXT NOT NULL,
    UNIQUE (invoice_id, line_no)
);
"""

INVOICE_COLUMNS = (
    "vendor_id, invoice_number, invoice_date, due_date, currency, amount, tax, po_number, "
    "terms, recurring, notes"
)


def connect(db_path: str) -> sqlite3.Connection:
    """Open the database with rows addressable by column name."""
    conn = sqlite3.connect(db_path, timeout=30)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def init_db(db_path: str) -> str:
    """Create the schema and seed a new database; return its session secret key.

    Safe to call on an existing database: nothing is seeded twice.
    """
    with connect(db_path) as conn:
        conn.executescript(SCHEMA)
        conn.execute(
            "INSERT OR IGNORE INTO users (username, password) VALUES (?, ?)",
            (DEMO_USER, DEMO_PASSWORD),
        )
        if conn.execute("SELECT COUNT(*) FROM vendors").fetchone()[0] == 0:
            conn.executemany(
                "INSERT INTO vendors (id, code, name, address, currency) VALUES (?, ?, ?, ?, ?)",
                [(i, v.code, v.name, v.address, v.currency) for i, v in enumerate(VENDORS, 1)],
            )
        conn.execute(
            "INSERT OR IGNORE INTO settings (key, value) VALUES ('secret_key', ?)",
            (secrets.token_hex(32),),
        )
        key = conn.execute("SELECT value FROM settings WHERE key = 'secret_key'").fetchone()[0]
    conn.close()
    return key


def check_user(conn: sqlite3.Connection, username: str, password: str) -> bool:
    row = conn.execute("SELECT password FROM users WHERE username = ?", (username,)).fetchone()
    # bytes: compare_digest refuses str with non-ASCII characters (a 500 on "Pä55")
    return row is not None and secrets.compare_digest(
        row["password"].encode("utf-8"), password.encode("utf-8")
    )


def vendors(conn: sqlite3.Connection, q: str = "") -> list[sqlite3.Row]:
    """All vendors, or those whose name or code contains q (case-insensitive)."""
    return conn.execute(
        "SELECT * FROM vendors WHERE ? = '' OR instr(lower(name), lower(?)) > 0"
        " OR instr(lower(code), lower(?)) > 0 ORDER BY id",
        (q, q, q),
    ).fetchall()


def search_invoices(conn: sqlite3.Connection, q: str = "", limit: int = 200) -> list[sqlite3.Row]:
    """Invoices whose number or vendor name contains q (case-insensitive), newest first."""
    return conn.execute(
        "SELECT i.*, v.name AS vendor_name FROM invoices i JOIN vendors v ON v.id = i.vendor_id"
        " WHERE ? = '' OR instr(lower(i.invoice_number), lower(?)) > 0"
        " OR instr(lower(v.name), lower(?)) > 0 ORDER BY i.id DESC LIMIT ?",
        (q, q, q, limit),
    ).fetchall()


def get_invoice(conn: sqlite3.Connection, record_no: str):
    """The invoice with its vendor name and lines, or (None, [])."""
    invoice = conn.execute(
        "SELECT i.*, v.name AS vendor_name FROM invoices i JOIN vendors v ON v.id = i.vendor_id"
        " WHERE i.record_no = ?",
        (record_no,),
    ).fetchone()
    if invoice is None:
        return None, []
    lines = conn.execute(
        "SELECT * FROM invoice_lines WHERE invoice_id = ? ORDER BY line_no", (invoice["id"],)
    ).fetchall()
    return invoice, lines


def find_duplicate(conn: sqlite3.Connection, vendor_id: int, invoice_number: str) -> str | None:
    """The record number of an invoice with this vendor and number, if any."""
    row = conn.execute(
        "SELECT record_no FROM invoices WHERE vendor_id = ? AND invoice_number = ?",
        (vendor_id, invoice_number),
    ).fetchone()
    return row["record_no"] if row else None


def insert_invoice(conn: sqlite3.Connection, invoice: dict, lines: list[dict], user: str) -> str:
    """Insert an invoice and its lines in one transaction; return the new record number.

    Raises sqlite3.IntegrityError if the vendor already has an invoice with this number.
    """
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    with conn:
        cur = conn.execute(
            f"INSERT INTO invoices ({INVOICE_COLUMNS}, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [invoice[c.strip()] for c in INVOICE_COLUMNS.split(",")] + [created_at, user],
        )
        invoice_id = cur.lastrowid
        record_no = f"AP-{invoice_id:06d}"
        conn.execute("UPDATE invoices SET record_no = ? WHERE id = ?", (record_no, invoice_id))
        conn.executemany(
            "INSERT INTO invoice_lines (invoice_id, line_no, description, quantity, unit_price,"
            " amount) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (invoice_id, n, ln["description"], ln["quantity"], ln["unit_price"], ln["amount"])
                for n, ln in enumerate(lines, 1)
            ],
        )
    return record_no
