"""What the legacy app's later modules (customer accounts, orders) share with its first:
the request's database connection, the fault mode's maintenance notice and lost saves."""

from __future__ import annotations

import sqlite3

from flask import Flask, current_app, g, render_template, request

from demo.legacy_app import db


def conn() -> sqlite3.Connection:
    """The request's connection (closed by the app's teardown, which pops ``g.conn``)."""
    if "conn" not in g:
        g.conn = db.connect(current_app.config["DB_PATH"])
    return g.conn


def page(template: str, **context) -> str:
    """A page a clerk works on: now and then under the fault mode's maintenance notice."""
    injector = current_app.extensions["faults"]
    if injector.hit("modal"):
        injector.record("modal", request.method, request.path)
        context["maintenance"] = True
    return render_template(template, **context)


def maybe_lost():
    """After a save committed: the fault mode's lost answer (HTTP 500), else None."""
    injector = current_app.extensions["faults"]
    if injector.hit("lost"):
        injector.record("lost", request.method, request.path)
        return render_template("server_error.html"), 500
    return None


def init_tables(db_path: str) -> None:
    """Create the modules' tables in the database at ``db_path`` (seeded once)."""
    from demo.legacy_app import accounts_db, orders_db

    with db.connect(db_path) as connection:
        accounts_db.init(connection)
        orders_db.init(connection)
    connection.close()


def register(app: Flask) -> None:
    """Create the modules' tables (seeded once) and mount their pages."""
    from demo.legacy_app import accounts, orders

    init_tables(app.config["DB_PATH"])
    app.register_blueprint(accounts.bp)
    app.register_blueprint(orders.bp)
