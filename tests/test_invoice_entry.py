"""The main job end to end: real documents, real Chromium, the real legacy app's database."""

from __future__ import annotations

import shutil

import pytest
from conftest import DOCUMENTS

from deskhand.logs import read_events

pytestmark = pytest.mark.slow


def saved_as(truth: dict, file_name: str) -> dict:
    """How the legacy app's database should hold a ground-truth invoice."""
    return {
        "vendor": truth["vendor"],
        "invoice_number": truth["invoice_number"],
        "invoice_date": truth["invoice_date"],
        "due_date": truth["due_date"] or "",
        "currency": truth["currency"],
        "amount": truth["total"],
        "tax": truth["tax"],
        "po_number": truth["po_number"] or "",
        "terms": truth["terms"],
        "recurring": int(truth["recurring"]),
        "notes": f"Keyed by deskhand from {file_name}",
        "lines": truth["lines"],
    }


def as_keyed(row: dict) -> dict:
    fields = (
        "vendor",
        "invoice_number",
        "invoice_date",
        "due_date",
        "currency",
        "amount",
        "tax",
        "po_number",
        "terms",
        "recurring",
        "notes",
        "lines",
    )
    return {k: (row[k] if row[k] is not None else "") for k in fields}


@pytest.mark.slow(40)
def test_main_job_keys_every_sample_once_and_never_twice(
    run, legacy_app, ground_truth, browser, tmp_path
):
    result = run("invoice_entry", input=DOCUMENTS, target=legacy_app.url)

    assert [(i.status, i.error) for i in result.items] == [("done", None)] * len(ground_truth)
    saved = legacy_app.invoices()
    assert len(saved) == len(ground_truth)
    by_number = {(r["vendor"], r["invoice_number"]): r for r in saved}
    for name, truth in ground_truth.items():
        row = by_number[(truth["vendor"], truth["invoice_number"])]
        assert as_keyed(row) == saved_as(truth, name), name
    records = sorted(i.output["record"] for i in result.items)
    assert records == sorted(r["record_no"] for r in saved)

    # The same documents again: the queue already has them done, so nothing happens.
    again = run("invoice_entry", input=DOCUMENTS, target=legacy_app.url)
    assert again.items == []
    source = next(e for e in read_events(again.dir) if e["event"] == "source")
    assert source["added"] == 0 and source["already_queued"] == {"done": len(ground_truth)}

    # Even with the queue lost, the bot finds each invoice in the app and keys nothing.
    lost = run(
        "invoice_entry",
        input=DOCUMENTS,
        target=legacy_app.url,
        db=f"sqlite:///{tmp_path / 'new-queue.db'}",
    )
    assert all(i.status == "done" and i.output["already_entered"] for i in lost.items)
    assert sorted(i.output["record"] for i in lost.items) == records
    assert len(legacy_app.invoices()) == len(ground_truth)  # nothing keyed twice

    # The report opens in a browser without errors and shows every item, all matching.
    context = browser.new_context()
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(result.report.as_uri())
    rows = page.locator("#items tr.item-row")
    assert rows.count() == len(ground_truth)
    assert page.locator("#items tr.item-row[data-status=done]").count() == len(ground_truth)
    for name in ground_truth:
        assert page.locator("#items").get_by_text(name).count() == 1
    assert page.locator("table.values").count() == len(ground_truth)
    assert page.locator("table.values tr.mismatch").count() == 0
    assert problems == []
    context.close()


def test_bad_files_fail_only_their_own_item(run, legacy_app, tmp_path, ground_truth):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = [n for n, t in ground_truth.items() if t["form"] == "digital"][:2]
    for name in good:
        shutil.copy(DOCUMENTS / name, inbox / name)
    (inbox / "a-corrupt.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog" + b"\x00" * 64)
    (inbox / "b-empty.pdf").write_bytes(b"")
    (inbox / "c-notes.pdf").write_text("hello world, this is not a PDF\n")
    (inbox / "readme.txt").write_text("not a document: skipped, and said so in the log")

    result = run("invoice_entry", input=inbox, target=legacy_app.url)

    names = [p.name for p in sorted(inbox.iterdir()) if p.suffix == ".pdf"]  # source order
    assert len(result.items) == len(names)
    outcome = dict(zip(names, (i.status for i in result.items)))
    assert outcome == {
        "a-corrupt.pdf": "needs_review",
        "b-empty.pdf": "needs_review",
        "c-notes.pdf": "needs_review",
        **{n: "done" for n in good},
    }
    errors = {n: i.error["message"] for n, i in zip(names, result.items) if i.error}
    assert "empty" in errors["b-empty.pdf"].lower()
    assert "not a pdf" in errors["c-notes.pdf"].lower()
    assert "a-corrupt.pdf" in errors["a-corrupt.pdf"]
    assert all(len(m.splitlines()) == 1 for m in errors.values())
    assert {r["invoice_number"] for r in legacy_app.invoices()} == {
        ground_truth[n]["invoice_number"] for n in good
    }
    log = (result.dir / "bot.log").read_text()
    assert "not documents, skipped: readme.txt" in log


@pytest.fixture
def legacy_page(legacy_app, browser, tmp_path):
    """A logged-in page on the legacy app, made the way a run makes it, and the bot module."""
    from conftest import ROOT

    from deskhand import vault
    from deskhand.bot import WorkItem, load_bot
    from deskhand.config import load_settings
    from deskhand.context import Context
    from deskhand.logs import RunLog
    from deskhand.runner import Run

    bot = load_bot("invoice_entry", ROOT)
    settings = load_settings(ROOT, bot.settings, {"target": legacy_app.url, "timeout_ms": 5000})
    with RunLog(tmp_path / "logs", bot.name) as log:
        run = Run(bot, settings, log, browser)
        ctx = Context(run, WorkItem("probe"))
        page = ctx.web()
        module = __import__("sys").modules["deskhand_bots.invoice_entry"]
        module.log_in(page, vault.get("legacy_ap"))
        yield page, module
        run.close()


def error_page(route) -> None:
    route.fulfill(status=500, content_type="text/html", body="<h1>Internal Server Error</h1>")


def test_an_error_page_is_never_read_as_not_entered(legacy_page):
    from deskhand import ApplicationError

    page, bot = legacy_page
    # A page that loaded says "not there": the answer the pre-check relies on.
    assert bot.find_invoice(page, "Nordwind Logistik GmbH", "NO-SUCH-1") is None
    page.raw.route("**/invoices/search?*", error_page)
    with pytest.raises(ApplicationError, match=r"search for invoice NO-SUCH-1 .*HTTP 500"):
        bot.find_invoice(page, "Nordwind Logistik GmbH", "NO-SUCH-1")


def test_an_error_page_in_the_vendor_lookup_is_not_a_missing_vendor(legacy_page):
    from deskhand import ApplicationError, BusinessError

    page, bot = legacy_page
    page["nav_new_invoice"].click()
    with pytest.raises(BusinessError, match="not in the legacy app's vendor list"):
        bot.choose_vendor(page, "No Such Vendor Ltd")  # the lookup loaded: really missing
    page.raw.context.route("**/vendors/lookup?*", error_page)  # the popup is its own page
    with pytest.raises(ApplicationError, match=r"vendor lookup for 'No Such Vendor Ltd'.*500"):
        bot.choose_vendor(page, "No Such Vendor Ltd")
