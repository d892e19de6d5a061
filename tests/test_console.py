"""The operations console in real Chromium, on SQLite and PostgreSQL: a reviewer corrects an
unsure invoice and the bot keys the corrected total into the demo app; a viewer cannot
approve; a form without its CSRF token is refused; markup from a document stays text; a
bulk retry of a filter requeues exactly the items it counted."""

from __future__ import annotations

import dataclasses
import os
import re
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from playwright.sync_api import expect
from werkzeug.serving import make_server

from deskhand import documents
from deskhand.console import create_app
from deskhand.console.auth import add_user
from deskhand.queue import open_store

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery"
PEOPLE = {"rita": "reviewer", "vic": "viewer", "otto": "operator"}


@dataclass
class Console:
    url: str
    db: str
    logs: Path

    def store(self):
        return open_store(self.db)


@pytest.fixture
def console(queue_url, tmp_path):
    """The console on a free port, in this process, on the test's queue database."""
    logs = tmp_path / "logs"
    app = create_app(queue_url, logs, ROOT)
    state = app.extensions["deskhand_console"]
    for name, role in PEOPLE.items():
        add_user(state.engine, name, role, PASSWORD)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Console(f"http://127.0.0.1:{server.server_port}", queue_url, logs)
    server.shutdown()
    server.server_close()
    state.engine.dispose()


@pytest.fixture
def log_in(browser, console):
    contexts = []

    def _log_in(name: str):
        context = browser.new_context(timeout_ms=15_000)
        contexts.append(context)
        page = context.new_page()
        page.goto(console.url + "/login")
        page.fill("input[name=name]", name)
        page.fill("input[name=password]", PASSWORD)
        page.click("form.login button[type=submit]")
        page.wait_for_url("**/runs")
        return page

    yield _log_in
    for context in contexts:
        context.close()


def invoice_pdf(folder: Path, name: str, number: str, total_off: str = "0", **changes) -> Path:
    """A digital invoice made from the first sample's spec; its printed total is off by
    ``total_off`` (so its sums do not add up: the reader is right, the document is not)."""
    from demo import make_documents as md

    spec = next(s for s in md.SPECS if s.file == "inv-01-acme.pdf")
    spec = dataclasses.replace(spec, file=name, number=number, **changes)
    invoice = md.Invoice(spec)
    invoice.total += Decimal(total_off)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(md.render_pdf(invoice))
    return path


def csrf_token(page) -> str:
    return page.locator("input[name=csrf_token]").first.input_value()


def test_reviewer_corrects_the_total_and_the_bot_keys_it(
    console, log_in, run, legacy_app, tmp_path, private_cache
):
    inbox = tmp_path / "inbox"
    path = invoice_pdf(inbox, "acme-unsure.pdf", "UNS-0001", total_off="90.00")
    first = run("invoice_entry", input=inbox, target=legacy_app.url, db=console.db)
    assert [i.status for i in first.items] == ["needs_review"]
    with console.store() as store:
        (item,) = store.list("invoices")
    station = f"{console.url}/items/{item.id}/review"

    viewer = log_in("vic")
    viewer.goto(station)
    expect(viewer.locator("#approve")).to_have_count(0)
    refused = viewer.request.post(
        station, form={"csrf_token": csrf_token(viewer), "action": "approve", "f_total": "1.00"}
    )
    assert refused.status == 403

    page = log_in("rita")
    no_token = page.request.post(station, form={"action": "approve", "f_total": "1580.94"})
    assert no_token.status == 400 and "CSRF" in no_token.text()

    page.goto(console.url + "/queue?status=needs_review")
    page.locator("#items tr.item", has_text="acme-unsure.pdf").get_by_role(
        "link", name="review"
    ).click()
    box = page.locator("svg rect[data-field=total]")
    expect(box).to_be_visible()
    expect(box).to_have_class(re.compile(r"\bflagged\b"))
    read = documents.extract(path).fields["total"]
    assert float(box.get_attribute("x")) == pytest.approx(read.bbox[0])
    assert float(box.get_attribute("y")) == pytest.approx(read.bbox[1])
    expect(page.locator("#reasons")).to_contain_text("total 1670.94 != subtotal 1317.45 + tax")
    expect(page.locator("#f_total")).to_have_value("1670.94")
    if os.environ.get("README_SCREENSHOT"):  # refreshes the README's picture
        page.screenshot(path=str(ROOT / "docs" / "console-review.png"), full_page=True)

    page.fill("#f_total", "1580.94")
    page.click("#check")
    expect(page.locator("#checks")).to_contain_text("All checks pass with your corrections")
    expect(page.locator("#f_total")).to_have_value("1580.94")
    page.click("#approve")
    expect(page.locator(".flash.ok")).to_contain_text(f"approved: item {item.id}")
    with console.store() as store:
        approved = store.get(item.id)
    assert approved.status == "new"
    reviewed = approved.payload["reviewed"]
    # The total was corrected; the tax, unsure because the sums did not add up, was confirmed
    # as printed: both are the reviewer's decisions.
    assert set(reviewed) == {"total", "tax"}, reviewed
    assert reviewed["tax"]["value"] == reviewed["tax"]["old"] == "263.49"
    assert reviewed["total"]["value"] == "1580.94" and reviewed["total"]["by"] == "rita"
    assert reviewed["total"]["old"] == "1670.94"

    second = run("invoice_entry", input=inbox, target=legacy_app.url, db=console.db)
    assert [i.status for i in second.items] == ["done"]
    (keyed,) = legacy_app.invoices()
    assert keyed["invoice_number"] == "UNS-0001" and keyed["amount"] == "1580.94"
    report = second.report.read_text()
    assert "1580.94 (was 1670.94), reviewed by rita" in report
    # ... beside the corrected field in the item's values table, not only in the step list
    row = re.search(r"<tr[^>]*><td>total</td>.*?</tr>", report, re.S)
    assert row and '<td class="reviewed">1580.94 (was 1670.94), reviewed by rita</td>' in row[0]

    page.goto(f"{console.url}/items/{item.id}")
    approval = page.locator("#history tr[data-event=approved]")
    expect(approval).to_contain_text("rita")
    expect(approval).to_contain_text("total: 1670.94 → 1580.94")
    expect(page.locator("#output")).to_contain_text(second.items[0].output["record"])
    expect(page.locator("section.attempts")).to_have_count(2)


def test_markup_in_a_document_renders_as_text(console, log_in, tmp_path, private_cache):
    script = "<script>window.pwned = 'script'</script>"
    image = "<img src=x onerror=\"window.pwned = 'img'\">"
    lines = ((script, "1", "10.00"), (image, "2", "5.00"))
    path = invoice_pdf(tmp_path / "in", "markup.pdf", "XSS-1", total_off="1.00", lines=lines)
    with console.store() as store:
        item, _ = store.add("invoices", "xss-1", {"file": str(path), "name": f"{image}.pdf"})
        store.claim("invoices", "test")
        store.to_review(item.id, "test", "BusinessError", f"markup.pdf: {image} {script}")
    page = log_in("vic")
    alerts = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    for url in ("/queue?q=xss", f"/items/{item.id}", f"/items/{item.id}/review"):
        page.goto(console.url + url)
        expect(page.locator("main")).to_contain_text(image)
        assert page.evaluate("window.pwned") is None
        assert page.locator("main img, main script").count() == 0
    expect(page.locator("#lines")).to_contain_text(script)
    expect(page.locator("#reasons")).to_contain_text(image)
    assert alerts == []


def test_bulk_retry_of_a_filter_requeues_exactly_the_failed_items(console, log_in):
    with console.store() as store:
        added, _ = store.add_many("invoices", [{"reference": f"r{n}"} for n in range(8)])
        for _ in added[:6]:
            store.claim("invoices", "test")
        failed = [i.id for i in added[:5]]
        for item_id in failed:
            store.fail(item_id, "test", "ApplicationError", "the app was down", max_attempts=1)
        store.to_review(added[5].id, "test", "BusinessError", "total missing")
    page = log_in("otto")
    page.goto(console.url + "/queue?status=failed")
    expect(page.locator("#items tr.item")).to_have_count(5)
    page.select_option("select[name=action]", "retry")
    page.click("button[name=scope][value=filter]")
    expect(page.locator("#confirm-count")).to_contain_text("Retry 5 items")
    page.click("#confirm")
    expect(page.locator(".flash.ok")).to_contain_text("retry: 5 of 5 items")
    with console.store() as store:
        statuses = {i.id: i.status for i in store.list("invoices")}
        history = store.history(failed[0])
    assert sorted(i for i, s in statuses.items() if s == "new") == sorted(
        failed + [i.id for i in added[6:]]
    )
    assert statuses[added[5].id] == "needs_review"
    assert history[-1].event == "manual_retry" and history[-1].runner == "otto"
