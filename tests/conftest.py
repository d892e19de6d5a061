"""Shared fixtures: one Chromium and one legacy app per test process (a fresh database for
each test), one PostgreSQL cluster per session (shared by the xdist workers), and a helper
that runs a bot the way the CLI does, into a temporary logs folder. Nothing is written into
the checkout: documents are cached in the session's temporary folder."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.data import DEMO_PASSWORD, DEMO_USER
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.runner import run_bot
from deskhand.vault import env_name
from deskhand.web import Browser

ROOT = Path(__file__).resolve().parents[1]
ASSETS = Path(__file__).resolve().parent / "assets"
DOCUMENTS = ROOT / "demo" / "documents"


@pytest.fixture(scope="session")
def ground_truth() -> dict:
    return json.loads((DOCUMENTS / "ground_truth.json").read_text())


@pytest.fixture(scope="session")
def browser():
    b = Browser(headless=True).start()
    yield b
    b.close()


@dataclass
class LegacyApp:
    url: str
    db: Path

    def query(self, sql: str, *args) -> list[sqlite3.Row]:
        with sqlite3.connect(self.db) as conn:
            conn.row_factory = sqlite3.Row
            return conn.execute(sql, args).fetchall()

    def invoices(self) -> list[dict]:
        """Every saved invoice with its vendor name and lines, as the database holds them."""
        rows = self.query(
            "SELECT i.*, v.name AS vendor FROM invoices i JOIN vendors v ON v.id = i.vendor_id"
        )
        result = []
        for row in rows:
            invoice = dict(row)
            invoice["lines"] = [
                dict(line)
                for line in self.query(
                    "SELECT description, quantity, unit_price, amount FROM invoice_lines "
                    "WHERE invoice_id = ? ORDER BY line_no",
                    row["id"],
                )
            ]
            result.append(invoice)
        return result


@pytest.fixture(scope="session")
def legacy_server(tmp_path_factory):
    """The legacy app served from this process (a thread) for the whole session: tests
    switch it to a fresh database instead of starting a server each."""
    from werkzeug.serving import make_server

    from demo.legacy_app.app import create_app

    app = create_app(str(tmp_path_factory.mktemp("legacy-app") / "first.db"))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="legacy-app", daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    thread.join(10)


@contextmanager
def app_server(db: Path, faults: str | None = None) -> Iterator[str]:
    """The legacy app over the SQLite file ``db`` (``faults``: a fault SPEC, see
    demo.legacy_app.faults) served from a thread of this process for the block, no
    interpreter to start; its URL. Tests that stop the bot's process use it too: only the
    bot dies."""
    from werkzeug.serving import make_server

    from demo.legacy_app.app import create_app

    db.parent.mkdir(parents=True, exist_ok=True)
    server = make_server("127.0.0.1", 0, create_app(str(db), faults), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="app-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def legacy_app(legacy_server, tmp_path) -> LegacyApp:
    """The legacy app on a fresh database (tmp_path/legacy.db), the session's server."""
    from demo.legacy_app.app import use_database

    app, url = legacy_server
    db = tmp_path / "legacy.db"
    use_database(app, str(db))
    return LegacyApp(url, db)


@pytest.fixture(autouse=True)
def demo_secret(monkeypatch):
    value = json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD})
    monkeypatch.setenv(env_name("legacy_ap"), value)


@pytest.fixture
def run(tmp_path, browser):
    """run(bot_name, root=ROOT, **settings) -> RunResult, into tmp_path/logs, no back-off."""

    def _run(name: str, root: Path = ROOT, **cli):
        bot = load_bot(name, root)
        cli.setdefault("logs_dir", tmp_path / "logs")
        cli.setdefault("retry_delay", 0)
        cli.setdefault("db", f"sqlite:///{tmp_path / 'queue.db'}")
        settings = load_settings(root, bot.settings, cli)
        return run_bot(bot, settings, browser=browser)

    return _run


@pytest.fixture(scope="session", autouse=True)
def documents_cache_outside_the_checkout(tmp_path_factory, request):
    """Read documents are cached in this session's temporary folder, never the project's
    .deskhand/: results are keyed by content and code version and written atomically, so
    the tests and xdist workers of one session share them (a scan is read by OCR once); a
    test about the cache itself takes ``private_cache``."""
    from deskhand.documents import cache

    base = tmp_path_factory.getbasetemp()
    if hasattr(request.config, "workerinput"):  # xdist: <session>/popen-gwN
        base = base.parent
    before = cache.DIRECTORY
    cache.DIRECTORY = base / "documents-cache"
    cache.DIRECTORY.mkdir(mode=0o700, exist_ok=True)
    yield cache.DIRECTORY
    cache.DIRECTORY = before


@pytest.fixture
def project(tmp_path, documents_cache_outside_the_checkout) -> Path:
    """A project folder for a deskhand process run from it (its working folder): the
    checkout's code, bots, selectors, templates and demo, linked; its own logs/ and
    .deskhand/ (queue, caches), with the session's documents cache, so nothing is written
    into the checkout and a document read once in the session is not read again."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("bots", "selectors", "templates", "demo", "deskhand", "pyproject.toml",
                 "run_bot.py"):  # fmt: skip
        (folder / name).symlink_to(ROOT / name)
    (folder / ".deskhand" / "cache").mkdir(parents=True)
    (folder / ".deskhand" / "cache" / "documents").symlink_to(documents_cache_outside_the_checkout)
    return folder


@pytest.fixture(scope="session", autouse=True)
def quiet_console():
    """Runs log to their own folders; the console copy would only bury pytest's report."""
    from loguru import logger

    logger.remove()


@pytest.fixture
def batch(tmp_path):
    """batch(n) -> (folder, truth): n distinct digital invoices made from the samples' specs."""
    import dataclasses

    from demo import make_documents as md

    def _batch(n: int):
        folder = tmp_path / "inbox"
        folder.mkdir(exist_ok=True)
        digital = [s for s in md.SPECS if s.form == "digital"]
        truth = {}
        for i in range(n):
            spec = digital[i % len(digital)]
            spec = dataclasses.replace(
                spec, file=f"batch-{i:02d}.pdf", number=f"{spec.number}{i:02d}"
            )
            invoice = md.Invoice(spec)
            (folder / spec.file).write_bytes(md.render_pdf(invoice))
            truth[spec.file] = invoice.truth()
        return folder, truth

    return _batch


# -- PostgreSQL: one cluster for the session, whatever the number of xdist workers ---------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's controller: tell every worker the folder where the shared cluster lives."""
    node.workerinput["pg_shared"] = _shared_folder(node.config)


def _shared_folder(config) -> str:
    if not hasattr(config, "_deskhand_pg_shared"):
        config._deskhand_pg_shared = tempfile.mkdtemp(prefix="deskhand-pg-shared-")
    return config._deskhand_pg_shared


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    """The longest tests first, so that under xdist (``--dist loadgroup``, pyproject.toml)
    no long test starts last and leaves one worker alone at the end: ``slow(SECONDS)``
    gives a rough length, a bare ``slow`` counts as 10 s. The tests of a module sharing a
    module-scoped fixture stay together and are marked xdist_group, so that the fixture is
    made once. (pytest-xdist 3.8 under pytest 9 does not apply that mark yet: it still sets
    Item._nodeid, which pytest 9 no longer reads; such a module may be split, its fixture
    made on both workers.)"""
    units: dict[str, list] = {}  # a module's tests sharing its fixture, or one test
    for item in items:
        unit = item.nodeid
        info = getattr(item, "_fixtureinfo", None)
        for name in info.names_closure if info else ():
            defs = info.name2fixturedefs.get(name)
            if defs and defs[-1].scope == "module":
                unit = item.module.__name__
                item.add_marker(pytest.mark.xdist_group(unit))
                break
        units.setdefault(unit, []).append(item)

    def seconds(item) -> float:
        mark = item.get_closest_marker("slow")
        return 0.0 if mark is None else float(mark.args[0] if mark.args else 10)

    ordered = sorted(units.values(), key=lambda unit: -max(map(seconds, unit)))  # stable
    items[:] = [item for unit in ordered for item in unit]


def pytest_configure(config):
    """Hypothesis keeps its examples and the constants it collects in a temporary folder of
    this process, not in .hypothesis/ of the checkout."""
    from hypothesis.configuration import set_hypothesis_home_dir

    config._deskhand_hypothesis = tempfile.mkdtemp(prefix="deskhand-hypothesis-")
    set_hypothesis_home_dir(config._deskhand_hypothesis)


def pytest_unconfigure(config):
    """Remove the temporary folders; the process that made the shared folder stops the
    cluster the workers started."""
    shutil.rmtree(config._deskhand_hypothesis, ignore_errors=True)
    folder = getattr(config, "_deskhand_pg_shared", None)
    if folder:
        from pg_cluster import stop_shared

        stop_shared(Path(folder))
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster(request):
    """The session's throwaway PostgreSQL cluster (tests/pg_cluster.py): under xdist the
    first worker to need it starts it and the others attach; each worker has databases of
    its own."""
    from pg_cluster import PostgresCluster, shared_cluster

    from deskhand.errors import ConfigError

    worker = getattr(request.config, "workerinput", {})
    try:
        if "pg_shared" in worker:
            cluster = shared_cluster(Path(worker["pg_shared"]), prefix=worker["workerid"])
        else:
            cluster = PostgresCluster().start()
    except ConfigError as exc:  # not installed: a failure that says what to do, not a skip
        pytest.fail(f"cannot start PostgreSQL for the tests: {exc}", pytrace=False)
    yield cluster
    cluster.stop()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """Documents read in this test are cached in its own folder, not the project's."""
    from deskhand.documents import cache

    monkeypatch.setattr(cache, "DIRECTORY", tmp_path / "cache")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_url(request, tmp_path):
    """A fresh, empty queue database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.empty_database()
