"""SQLite storage of the customer-accounts module: customers, their invoices, payment
allocations and adjustments (credit notes). Seeded from demo.accounts_data."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

from demo.accounts_data import AR_INVOICES, CUSTOMERS

SCHEMA = """
CREATE TABLE IF NOT EXISTS customers (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    address TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ar_invoices (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    number TEXT NOT NULL UNIQUE,
    issued TEXT NOT NULL,
    due TEXT NOT NULL,
    amount TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS allocations (
    id INTEGER PRIMARY KEY,
    alloc_no TEXT UNIQUE,
    invoice_id INTEGER NOT NULL REFERENCES ar_invoices(id),
    bank_ref TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    amount TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY,
    adj_no TEXT UNIQUE,
    invoice_id INTEGER NOT NULL REFERENCES ar_invoices(id),
    kind TEXT NOT NULL,
    amount TEXT NOT NULL,
    reason TEXT NOT NULL,
    bank_ref TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
"""

ADJUSTMENT_KINDS = {
    "rounding": "Rounding difference",
    "bank_fee": "Bank charges",
    "credit_note": "Credit note",
    "write_off": "Write-off",
}


def init(conn: sqlite3.Connection) -> None:
    """Create the tables and seed customers and invoices once."""
    conn.executescript(SCHEMA)
    if conn.execute("SELECT COUNT(*) FROM customers").fetchone()[0]:
        return
    conn.executemany(
        "INSERT INTO customers (id, code, name, email, address) VALUES (?, ?, ?, ?, ?)",
        [(i, c.code, c.name, c.email, c.address) for i, c in enumerate(CUSTOMERS, 1)],
    )
    ids = {c.code: i for i, c in enumerate(CUSTOMERS, 1)}
    conn.executemany(
        "INSERT INTO ar_invoices (customer_id, number, issued, due, amount) VALUES (?, ?, ?, ?, ?)",
        [
            (ids[v.customer], v.number, v.issued.isoformat(), v.due.isoformat(), f"{v.amount:.2f}")
            for v in AR_INVOICES
        ],
    )


def customers(conn: sqlite3.Connection, q: str = "") -> list[dict]:
    """Customers whose name or code contains q, each with its balance."""
    rows = conn.execute(
        "SELECT * FROM customers WHERE ? = '' OR instr(lower(name), lower(?)) > 0"
        " OR instr(lower(code), lower(?)) > 0 ORDER BY code",
        (q, q, q),
    ).fetchall()
    return [{**dict(r), "balance": sum(i["open"] for i in invoices(conn, r["id"]))} for r in rows]


def customer(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM customers WHERE code = ?", (code,)).fetchone()


def invoices(conn: sqlite3.Connection, customer_id: int) -> list[dict]:
    """The customer's invoices with what was paid, adjusted and is still open."""
    result = []
    for row in conn.execute(
        "SELECT * FROM ar_invoices WHERE customer_id = ? ORDER BY issued, number", (customer_id,)
    ):
        paid = _sum(conn, "allocations", row["id"])
        adjusted = _sum(conn, "adjustments", row["id"])
        amount = Decimal(row["amount"])
        result.append(
            {**dict(row), "paid": paid, "adjusted": adjusted, "open": amount - paid - adjusted}
        )
    return result


def _sum(conn: sqlite3.Connection, table: str, invoice_id: int) -> Decimal:
    rows = conn.execute(f"SELECT amount FROM {table} WHERE invoice_id = ?", (invoice_id,))
    return sum((Decimal(r[0]) for r in rows), Decimal("0.00"))


def search_invoices(conn: sqlite3.Connection, q: str) -> list[sqlite3.Row]:
    """Invoices of any customer whose number contains q."""
    return conn.execute(
        "SELECT i.*, c.code AS customer_code, c.name AS customer_name FROM ar_invoices i"
        " JOIN customers c ON c.id = i.customer_id WHERE instr(lower(i.number), lower(?)) > 0"
        " ORDER BY i.number LIMIT 100",
        (q,),
    ).fetchall()


def allocations(conn: sqlite3.Connection, customer_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT a.*, i.number AS invoice_number FROM allocations a JOIN ar_invoices i"
        " ON i.id = a.invoice_id WHERE i.customer_id = ? ORDER BY a.id",
        (customer_id,),
    ).fetchall()


def adjustments(conn: sqlite3.Connection, customer_id: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT a.*, i.number AS invoice_number FROM adjustments a JOIN ar_invoices i"
        " ON i.id = a.invoice_id WHERE i.customer_id = ? ORDER BY a.id",
        (customer_id,),
    ).fetchall()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def insert_allocation(conn, invoice_id: int, bank_ref: str, paid_on: str, amount, user) -> str:
    """Record a payment allocation; its number (AL-000001)."""
    with conn:
        cur = conn.execute(
            "INSERT INTO allocations (invoice_id, bank_ref, paid_on, amount, created_at,"
            " created_by) VALUES (?, ?, ?, ?, ?, ?)",
            (invoice_id, bank_ref, paid_on, f"{amount:.2f}", _now(), user),
        )
        number = f"AL-{cur.lastrowid:06d}"
        conn.execute("UPDATE allocations SET alloc_no = ? WHERE id = ?", (number, cur.lastrowid))
    return number


def insert_adjustment(conn, invoice_id: int, kind: str, amount, reason, bank_ref, user) -> str:
    """Record an adjustment (a credit to the invoice); its number (CN-000001)."""
    with conn:
        cur = conn.execute(
            "INSERT INTO adjustments (invoice_id, kind, amount, reason, bank_ref, created_at,"
            " created_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (invoice_id, kind, f"{amount:.2f}", reason, bank_ref, _now(), user),
        )
        number = f"CN-{cur.lastrowid:06d}"
        conn.execute("UPDATE adjustments SET adj_no = ? WHERE id = ?", (number, cur.lastrowid))
    return number


def statement(conn: sqlite3.Connection, customer_id: int) -> list[dict]:
    """Every entry of the account by date with the running balance."""
    entries = []
    for inv in conn.execute("SELECT * FROM ar_invoices WHERE customer_id = ?", (customer_id,)):
        entries.append((inv["issued"], 0, "Invoice", inv["number"], Decimal(inv["amount"])))
    for a in allocations(conn, customer_id):
        entries.append(
            (
                a["paid_on"],
                1,
                "Payment " + a["bank_ref"],
                a["invoice_number"],
                -Decimal(a["amount"]),
            )
        )
    for a in adjustments(conn, customer_id):
        label = ADJUSTMENT_KINDS.get(a["kind"], a["kind"])
        day = a["created_at"][:10]
        entries.append((day, 2, label, a["invoice_number"], -Decimal(a["amount"])))
    balance = Decimal("0.00")
    rows = []
    for day, _, kind, reference, amount in sorted(entries, key=lambda e: (e[0], e[1], e[3])):
        balance += amount
        rows.append(
            {
                "date": day,
                "kind": kind,
                "reference": reference,
                "amount": amount,
                "balance": balance,
            }
        )
    return rows
