"""The console reads an item's document from the queue database (the content its source
stored), not from the path it was queued with: on the console's host that path may not
exist (issue 19). Flask's test client, a real SQLite queue, a real invoice PDF."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from sqlalchemy import update

from deskhand.bot import WorkItem
from deskhand.config import Settings
from deskhand.console import create_app
from deskhand.console.auth import add_user
from deskhand.queue.files import queue_items
from deskhand.queue.schema import item_files

SAMPLE = Path(__file__).resolve().parents[1] / "demo" / "documents" / "inv-01-acme.pdf"


@pytest.fixture
def app(tmp_path):
    application = create_app(f"sqlite:///{tmp_path / 'queue.db'}", tmp_path / "logs", tmp_path)
    add_user(application.extensions["deskhand_console"].engine, "rita", "reviewer", "long enough")
    yield application
    application.extensions["deskhand_console"].engine.dispose()


def log_in(client) -> None:
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    data = {"name": "rita", "password": "long enough", "csrf_token": token}
    assert client.post("/login", data=data).status_code == 302


def in_review(app, folder: Path, settings: Settings) -> int:
    """The sample invoice queued from ``folder`` (on "another host"), sent to review."""
    folder.mkdir()
    path = folder / "acme.pdf"
    shutil.copy(SAMPLE, path)
    store = app.extensions["deskhand_console"].store
    work = WorkItem("acme-1", {"file": str(path), "name": "acme.pdf"})
    (item,), _ = queue_items(store, "invoices", [work], settings, by="source-host")
    store.claim("invoices", "runner-host:1")
    store.to_review(item.id, "runner-host:1", "BusinessError", "acme.pdf: total confidence low")
    return item.id


def test_the_review_page_reads_the_document_the_queue_holds(app, tmp_path, private_cache):
    item_id = in_review(app, tmp_path / "source-host", Settings())
    shutil.rmtree(tmp_path / "source-host")  # the path the item was queued with is gone
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item_id}/review")
    assert page.status_code == 200, page.text
    assert re.search(r'name="f_invoice_number"[^>]*value="000482"', page.text)
    assert re.search(r'name="f_total"[^>]*value="1580.94"', page.text)
    image = client.get(f"/items/{item_id}/page/1.png")
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    # The copy is the console's own, outside the project and owner-only.
    folder = app.extensions["deskhand_console"].files
    [copy] = folder.rglob("acme.pdf")
    assert copy.read_bytes() == SAMPLE.read_bytes() and tmp_path not in copy.parents
    assert folder.stat().st_mode & 0o077 == 0

    # Its content pruned: the page says so instead of reading a path that is not there.
    with app.extensions["deskhand_console"].store._write() as conn:
        conn.execute(update(item_files).values(sha256=None))
    gone = client.get(f"/items/{item_id}/review")
    assert gone.status_code == 404
    assert "acme.pdf is no longer in the queue database" in gone.text


def test_an_item_queued_with_a_local_path_is_read_where_it_lies(app, tmp_path, private_cache):
    item_id = in_review(app, tmp_path / "shared", Settings(store_files=False))
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item_id}/review")
    assert page.status_code == 200 and 'value="000482"' in page.text
    shutil.rmtree(tmp_path / "shared")
    gone = client.get(f"/items/{item_id}/review")
    assert gone.status_code == 404 and "acme.pdf is no longer there" in gone.text
