"""The console's own tables, in the queue's database: people, log-in attempts, its key.

They sit beside the queue's tables (same engine, same URL) so that consoles on several
machines sharing one PostgreSQL share their users and their session key too.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    exc,
    insert,
    select,
)

from ..queue.schema import UTCDateTime

ROLES = ("viewer", "reviewer", "operator", "admin")  # each may do what the ones before may

metadata = MetaData()

users = Table(
    "deskhand_console_users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(80), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),  # werkzeug.security (scrypt)
    Column("role", String(20), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
)

logins = Table(
    "deskhand_console_logins",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("name", String(80), nullable=False),
    Column("address", String(64), nullable=False),
    Column("ok", Boolean, nullable=False),
)
Index("ix_deskhand_console_logins_name", logins.c.name, logins.c.at)
Index("ix_deskhand_console_logins_address", logins.c.address, logins.c.at)

keys = Table(
    "deskhand_console_keys",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def create_tables(engine: Engine) -> None:
    """Create the console's tables if they are missing (the queue's exist already)."""
    try:
        metadata.create_all(engine)
    except (exc.IntegrityError, exc.ProgrammingError):
        metadata.create_all(engine)  # another process created them at the same moment


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A read transaction (SQLite: deferred, so readers never wait for the write lock)."""
    with engine.connect() as conn:
        conn.execution_options(sqlite_begin="DEFERRED")
        with conn.begin():
            yield conn


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction, on disk when it returns (SQLite: BEGIN IMMEDIATE, FULL sync)."""
    with engine.connect() as conn:
        conn.execution_options(durable=True)
        with conn.begin():
            yield conn


def session_key(engine: Engine) -> str:
    """The key that signs session cookies: made once, then shared by every console."""
    with reading(engine) as conn:
        found = conn.execute(select(keys.c.value).where(keys.c.name == "session")).scalar()
    if found:
        return found
    try:
        with writing(engine) as conn:
            conn.execute(insert(keys).values(name="session", value=secrets.token_hex(32)))
    except exc.IntegrityError:
        pass  # another console made it first
    with reading(engine) as conn:
        return conn.execute(select(keys.c.value).where(keys.c.name == "session")).scalar_one()
