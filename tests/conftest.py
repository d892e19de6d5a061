"""Shared fixtures: one Chromium per test session, a fresh legacy app (and database) per test,
and a helper that runs a bot the way the CLI does, into a temporary logs folder."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo.data import DEMO_PASSWORD, DEMO_USER
from demo.server import demo_app
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


@pytest.fixture
def legacy_app(tmp_path) -> LegacyApp:
    db = tmp_path / "legacy.db"
    with demo_app(ROOT, db) as url:
        yield LegacyApp(url, db)


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


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster for the test session (initdb/pg_ctl in a temp dir)."""
    from deskhand.queue.testing import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
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
