"""The two tables, the UTC timestamp type, and the engine set-up for SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    exc,
    inspect,
)
from sqlalchemy.engine import make_url

from .. import private
from ..errors import ConfigError
from ..masking import mask

# How long a writer waits for SQLite's write lock before giving up (milliseconds).
SQLITE_BUSY_TIMEOUT_MS = 30_000
IDLE_IN_TRANSACTION = "-c idle_in_transaction_session_timeout=20000"  # PostgreSQL, ms


class UTCDateTime(TypeDecorator):
    """An aware UTC datetime in Python, a plain UTC timestamp in the database.

    Both backends store the same naive UTC value, so SQLite's text timestamps compare in
    order and PostgreSQL needs no time-zone setting.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Masked(TypeDecorator):
    """JSON or text with the current run's secrets masked (every encoding) on the way in:
    errors, outputs, checkpoints and history never hold a password (deskhand.masking)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return mask(value)


class MaskedText(Masked):
    impl = Text
    cache_ok = True


metadata = MetaData()

items = Table(
    "deskhand_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("queue", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("files", JSON, nullable=False),
    Column("priority", Integer, nullable=False, default=0),
    Column("not_before", UTCDateTime),
    Column("deadline", UTCDateTime),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_owner", Text),
    Column("lease_expires", UTCDateTime),
    Column("output", Masked),
    Column("error_kind", Text),
    Column("error_message", MaskedText),
    Column("checkpoint", Masked),
    Column("lease_token", Integer, default=0),  # +1 on every claim: fences a stale runner
    Column("business_key", Text),  # what the item keys (issuer + number), unique per queue
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("queue", "reference", name="uq_deskhand_items_queue_reference"),
)
# The claim query walks this index in order: best priority first, then oldest.
Index(
    "ix_deskhand_items_claim",
    items.c.queue,
    items.c.status,
    items.c.priority.desc(),
    items.c.id,
)

# Two items of one queue never key the same business key (NULLs do not collide).
BUSINESS_KEY = Index(
    "uq_deskhand_items_business_key", items.c.queue, items.c.business_key, unique=True
)

history = Table(
    "deskhand_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, ForeignKey("deskhand_items.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("event", String(40), nullable=False),
    Column("runner", Text),
    Column("detail", Masked, nullable=False),
)
Index("ix_deskhand_history_item", history.c.item_id, history.c.id)

# Many machines (deskhand.queue.files, deskhand.queue.runners): the documents items carry,
# stored once by content (BLOB / bytea), which item holds which, and the runners at work.
files = Table(
    "deskhand_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
item_files = Table(
    "deskhand_item_files",
    metadata,
    Column("item_id", Integer, ForeignKey("deskhand_items.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # -1: payload["file"]; n: payload["files"][n]
    Column("name", Text, nullable=False),  # the original file name
    Column("source", Text, nullable=False),  # where the source read it, on its host
    Column("sha256", String(64)),  # NULL once pruned
    Column("size", Integer, nullable=False),
)
Index("ix_deskhand_item_files_sha256", item_files.c.sha256)
runners = Table(
    "deskhand_runners",
    metadata,
    Column("id", Text, primary_key=True),  # the lease owner: host:pid:run-id
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("version", Text, nullable=False),
    Column("bots", JSON, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime),
    Column("lease_seconds", Float, nullable=False),
)


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***`` (also when it does not parse)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", str(url))


def resolve_url(url: str | None, root: Path | None) -> str:
    """``url``, else ``$DESKHAND_DB``, else the SQLite file ``<root>/.deskhand/queue.db``."""
    url = url or os.environ.get("DESKHAND_DB") or None
    if url:
        return url
    folder = Path(root if root is not None else Path.cwd()) / ".deskhand"
    return f"sqlite:///{folder / 'queue.db'}"


def create_queue_engine(url: str) -> Engine:
    """An engine for ``url`` with its tables created; ConfigError when it cannot be used."""
    shown = mask_url(url)
    try:
        parsed = make_url(url)
    except exc.ArgumentError:
        raise ConfigError(
            f"invalid queue database URL {shown!r}: use sqlite:///path/queue.db "
            "or postgresql+psycopg://user:password@host/dbname"
        ) from None
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = _sqlite_engine(parsed)
        else:
            # A runner cut off mid-transaction (its host lost) must not keep its rows locked
            # past the lease: the server ends a transaction left idle that long (deskhand's
            # own transactions last milliseconds).
            extra = {} if "options" in parsed.query else {"options": IDLE_IN_TRANSACTION}
            engine = create_engine(parsed, pool_size=2, max_overflow=4, connect_args=extra)
    except (exc.NoSuchModuleError, ImportError) as error:
        raise ConfigError(
            f"queue database URL {shown!r} names an unknown driver ({error}): "
            "use sqlite:/// or postgresql+psycopg://"
        ) from None
    try:
        _create_tables(engine)
    except exc.DBAPIError as error:
        engine.dispose()
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise ConfigError(
            f"cannot open the queue database {shown}: {reason}: "
            "start the database or fix DESKHAND_DB"
        ) from None
    return engine


def _create_tables(engine: Engine) -> None:
    try:
        metadata.create_all(engine)
    except (exc.IntegrityError, exc.ProgrammingError):
        # Another process created them at the same moment (PostgreSQL has no lock on
        # CREATE TABLE IF NOT EXISTS): they exist now; check again.
        metadata.create_all(engine)
    _add_new_columns(engine)


def _add_new_columns(engine: Engine) -> None:
    """A queue made by an older deskhand gets the columns added since (fencing token,
    business key) and their index; its items keep everything they had."""
    have = {c["name"] for c in inspect(engine).get_columns("deskhand_items")}
    missing = [c for c in ("lease_token", "business_key") if c not in have]
    if not missing:
        return
    types = {"lease_token": "INTEGER DEFAULT 0", "business_key": "TEXT"}
    try:
        with engine.begin() as conn:
            for name in missing:
                conn.exec_driver_sql(f"ALTER TABLE deskhand_items ADD COLUMN {name} {types[name]}")
    except (exc.OperationalError, exc.ProgrammingError):
        pass  # another process added them first
    BUSINESS_KEY.create(engine, checkfirst=True)


def _sqlite_engine(parsed) -> Engine:
    database = parsed.database
    if database and database != ":memory:" and not database.startswith("file:"):
        path = Path(database).expanduser()
        private.make_dirs(path.parent)
        private.create(path)  # owner-only; SQLite gives -wal and -shm the same mode
    engine = create_engine(parsed)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, record) -> None:
        # SQLAlchemy's documented pysqlite recipe: stop the driver from issuing its own
        # (deferred) BEGIN, so the "begin" hook below decides how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # NORMAL (in WAL mode): a commit survives a crash of the process (kill -9) and the
        # file is never corrupted, but a power cut may undo the latest commits. Transactions
        # that must survive even that ask for FULL (see _on_begin); since the WAL is synced
        # as a whole, that also makes every commit before them durable.
        cursor.execute("PRAGMA synchronous = NORMAL")
        record.info["synchronous"] = "NORMAL"
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): two claimers never both
        # read the same candidate, and a lock conflict waits (busy_timeout) rather than
        # failing on upgrade. Readers pass execution_options(sqlite_begin="DEFERRED").
        options = conn.get_execution_options()
        # The point-of-no-return records and manual changes (durable=True) are on disk
        # before their commit returns (FULL); the rest use NORMAL.
        sync = "FULL" if options.get("durable") else "NORMAL"
        info = conn.connection.info
        if info.get("synchronous") != sync:
            conn.exec_driver_sql(f"PRAGMA synchronous = {sync}")
            info["synchronous"] = sync
        conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'IMMEDIATE')}")

    return engine
