"""SQLite storage of the orders module: the product catalogue with stock, orders and their
lines. Customers are the customer-accounts module's."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

from demo.orders_data import PRODUCTS

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id INTEGER PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    price TEXT NOT NULL,
    stock INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY,
    order_no TEXT UNIQUE,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    customer_ref TEXT NOT NULL,
    ship_to TEXT NOT NULL,
    total TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS order_lines (
    id INTEGER PRIMARY KEY,
    order_id INTEGER NOT NULL REFERENCES orders(id),
    line_no INTEGER NOT NULL,
    sku TEXT NOT NULL,
    description TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price TEXT NOT NULL,
    amount TEXT NOT NULL
);
"""


def init(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    if conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 0:
        conn.executemany(
            "INSERT INTO products (sku, name, price, stock) VALUES (?, ?, ?, ?)",
            [(p.sku, p.name, f"{p.price:.2f}", p.stock) for p in PRODUCTS],
        )


def products(conn: sqlite3.Connection, q: str = "") -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM products WHERE ? = '' OR instr(lower(sku), lower(?)) > 0"
        " OR instr(lower(name), lower(?)) > 0 ORDER BY sku",
        (q, q, q),
    ).fetchall()


def search_orders(conn: sqlite3.Connection, q: str = "") -> list[sqlite3.Row]:
    """Orders whose number, customer name or customer reference contains q, newest first."""
    return conn.execute(
        "SELECT o.*, c.name AS customer_name, c.code AS customer_code FROM orders o"
        " JOIN customers c ON c.id = o.customer_id WHERE ? = ''"
        " OR instr(lower(o.order_no), lower(?)) > 0 OR instr(lower(c.name), lower(?)) > 0"
        " OR instr(lower(o.customer_ref), lower(?)) > 0 ORDER BY o.id DESC LIMIT 200",
        (q, q, q, q),
    ).fetchall()


def get_order(conn: sqlite3.Connection, order_no: str):
    order = conn.execute(
        "SELECT o.*, c.name AS customer_name, c.code AS customer_code, c.email AS customer_email"
        " FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.order_no = ?",
        (order_no,),
    ).fetchone()
    if order is None:
        return None, []
    lines = conn.execute(
        "SELECT * FROM order_lines WHERE order_id = ? ORDER BY line_no", (order["id"],)
    ).fetchall()
    return order, lines


def insert_order(conn, customer_id: int, customer_ref: str, ship_to: str, lines, user) -> str:
    """Save an order, take its quantities from stock; its number (SO-000001).
    ``lines``: (product row, quantity). Raises ValueError when stock ran out meanwhile."""
    total = sum((Decimal(p["price"]) * q for p, q in lines), Decimal("0.00"))
    with conn:
        cur = conn.execute(
            "INSERT INTO orders (customer_id, customer_ref, ship_to, total, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                customer_id,
                customer_ref,
                ship_to,
                f"{total:.2f}",
                datetime.now(UTC).isoformat(timespec="seconds"),
                user,
            ),
        )
        order_no = f"SO-{cur.lastrowid:06d}"
        conn.execute("UPDATE orders SET order_no = ? WHERE id = ?", (order_no, cur.lastrowid))
        for n, (product, quantity) in enumerate(lines, 1):
            taken = conn.execute(
                "UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ?",
                (quantity, product["id"], quantity),
            )
            if taken.rowcount != 1:
                raise ValueError(f"only {product['stock']} of {product['sku']} in stock")
            amount = Decimal(product["price"]) * quantity
            conn.execute(
                "INSERT INTO order_lines (order_id, line_no, sku, description, quantity,"
                " unit_price, amount) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    cur.lastrowid,
                    n,
                    product["sku"],
                    product["name"],
                    quantity,
                    product["price"],
                    f"{amount:.2f}",
                ),
            )
    return order_no
