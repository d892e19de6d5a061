"""The web API bots use instead of raw Playwright, against the demo app in real Chromium:
rows with paging, waiting for AJAX, attributes / radio groups / select options, overlays,
modal confirms, frame-scoped pages, escaped placeholders, SelectorNotFound after caching,
popup evidence, and fill_form. Each call is checked in the app (or its database) and in the
run's step log."""

from __future__ import annotations

import json
import re
import socket
import sqlite3

import pytest
from conftest import ROOT

from demo.data import DEMO_PASSWORD, DEMO_USER
from demo.legacy_app import db as app_db
from demo.server import demo_app
from deskhand import ApplicationError, Bot, SelectorNotFound
from deskhand.config import load_settings
from deskhand.context import Context
from deskhand.logs import RunLog
from deskhand.runner import Run

VENDOR = "Bluepeak Software Inc."
ADDRESS = "500 Market Street, San Francisco, CA 94105"


def seed_invoices(db_path, count: int) -> list[str]:
    """``count`` invoices straight into the app's database; their invoice numbers."""
    conn = sqlite3.connect(db_path)
    numbers = []
    try:
        for n in range(count):
            number = f"WEB-{n:03d}"
            invoice = dict(
                vendor_id=3, invoice_number=number, invoice_date="2026-03-05", due_date="",
                currency="USD", amount="10.00", tax="0.00", po_number="", terms="NET30",
                recurring=0, notes="",
            )  # fmt: skip
            line = dict(description="x", quantity="1", unit_price="10.00", amount="10.00")
            app_db.insert_invoice(conn, invoice, [line], "seed")
            numbers.append(number)
    finally:
        conn.close()
    return numbers


@pytest.fixture
def session(tmp_path, browser, legacy_app):
    """(app, log): a logged page on the demo app, logged in, and the run's step log."""
    settings = load_settings(ROOT, {}, {"target": legacy_app.url, "logs_dir": tmp_path / "logs"})
    bot = Bot("web_api_test", selectors="legacy_ap")
    log = RunLog(settings.resolve(settings.logs_dir), bot.name)
    with log:
        run = Run(bot, settings, log, browser)
        ctx = Context(run)
        app = ctx.web()
        app.goto("login")
        app["username"].fill(DEMO_USER)
        app["password"].fill(DEMO_PASSWORD)
        with app.expect_navigation():
            app["login_button"].click()
        try:
            yield app, log
        finally:
            ctx.close_pages()
            run.close()


def actions(log, action: str) -> list[dict]:
    log.flush()  # the journal buffers its writes (flushed at step ends and every second)
    events = [json.loads(line) for line in (log.dir / "steps.jsonl").read_text().splitlines()]
    return [e for e in events if e.get("event") == "action" and e.get("action") == action]


def open_form(app):
    app["nav_new_invoice"].click()
    app.frame("content").wait_for_url("**/invoices/new")


def test_rows_page_through_results_until_a_row_matches(session, legacy_app):
    app, log = session
    numbers = seed_invoices(legacy_app.db, 7)
    content = app.frame("content")
    content.goto("invoices/search?q=WEB-&per=3")

    rows = app.rows("results")
    assert sorted(r["invoice_number"] for r in rows) == numbers  # 3 pages: 3 + 3 + 1
    assert app["results_page"].text() == "3"
    assert {r["vendor"] for r in rows} == {VENDOR}
    assert rows[0]["record_no"].startswith("AP-")
    assert actions(log, "rows")[-1]["data"] == {"rows": 7, "pages": 3}

    content.goto("invoices/search?q=WEB-&per=3")
    found = app.find_row("results", invoice_number="WEB-002", vendor=VENDOR)
    assert found is not None and found["invoice_number"] == "WEB-002"
    assert app["results_page"].text() == "2"  # newest first: WEB-002 is on page 2, paging stopped
    with content.expect_navigation():
        found.click("record_no")
    assert app["view_invoice_number"].text() == "WEB-002"
    assert actions(log, "click")[-1]["element"] == "results[4].record_no"

    content.goto("invoices/search?q=WEB-&per=3")
    assert app.find_row("results", invoice_number="NOPE") is None
    assert app["results_page"].text() == "3"  # every page looked at


def test_rows_of_an_empty_search_are_none(session):
    app, _ = session
    app.frame("content").goto("invoices/search?q=nothing-like-this")
    assert app["search_empty"].exists(timeout=5)
    assert app.rows("results") == []


def test_wait_for_an_ajax_filled_field_and_exists_waits(session):
    app, log = session
    open_form(app)
    assert app["vendor_address"].value() == ""
    app["vendor"].select(label=VENDOR)
    assert app.wait_for_text("vendor_address") == ADDRESS  # "not empty": the XHR answered
    assert app["vendor_address"].wait_for_text(re.compile(r"CA \d{5}")) == ADDRESS
    with pytest.raises(ApplicationError, match="did not show 'Hamburg' in time"):
        app["vendor_address"].wait_for_text("Hamburg", timeout=0.5)
    assert actions(log, "wait_for_text")

    assert not app["form_errors"].exists(timeout=0.3)
    assert app["save_button"].exists(timeout=1)
    assert actions(log, "exists")[-1]["data"] == {"timeout": 1, "found": True}


def test_attributes_radio_groups_and_select_options(session):
    app, log = session
    open_form(app)
    assert app["invoice_date"].attribute("maxlength") == "10"
    assert app["invoice_date"].attribute("no-such-attribute") is None
    assert app["terms_group"].checked_value() is None
    app.element("terms", code="NET60").check()
    assert app["terms_group"].checked_value() == "NET60"
    options = app["currency"].options()
    assert ("USD", "USD") in options and options[0].value == ""
    labels = [o.label for o in app["vendor"].options()]
    assert VENDOR in labels and labels[0] == "-- select vendor --"
    assert actions(log, "options")[-1]["element"] == "vendor"


def test_custom_modal_confirm_like_a_dialog(session):
    app, log = session
    open_form(app)
    app["invoice_number"].fill("MODAL-1")
    with pytest.raises(ApplicationError, match="unexpected confirmation"):
        with app.confirm_modal("confirm_modal", ok="confirm_ok", cancel="confirm_cancel",
                               expect="Delete the vendor"):  # fmt: skip
            app["clear_form"].click()
    assert app["invoice_number"].value() == "MODAL-1"  # cancelled: nothing cleared
    with app.confirm_modal("confirm_modal", ok="confirm_ok", expect="Clear every field") as seen:
        app["clear_form"].click()
    assert app["invoice_number"].value() == ""
    assert "Clear every field of this invoice?" in seen[0]
    assert [a["data"]["accepted"] for a in actions(log, "dialog")] == [False, True]
    with pytest.raises(ApplicationError, match="did not appear"):
        with app.confirm_modal("confirm_modal", ok="confirm_ok", timeout=0.3):
            pass


def test_overlay_is_closed_whenever_it_covers_the_page(tmp_path, browser):
    settings_db = tmp_path / "modal.db"
    with demo_app(ROOT, settings_db, faults="modal=1") as url:
        settings = load_settings(ROOT, {}, {"target": url, "logs_dir": tmp_path / "logs"})
        bot = Bot("web_api_overlay", selectors="legacy_ap")
        log = RunLog(settings.resolve(settings.logs_dir), bot.name)
        with log:
            run = Run(bot, settings, log, browser)
            ctx = Context(run)
            try:
                app = ctx.web()
                app.on_overlay("maintenance", close="maintenance_close")
                app.goto("login")
                app["username"].fill(DEMO_USER)
                app["password"].fill(DEMO_PASSWORD)
                with app.expect_navigation():
                    app["login_button"].click()
                app["nav_new_invoice"].click()  # the main shell's notice is in the way
                app.frame("content").wait_for_url("**/invoices/new")
                app["invoice_number"].fill("OVERLAY-1")  # and the form's own notice
                assert app["invoice_number"].value() == "OVERLAY-1"
                assert not app["maintenance"].exists()
                frames = [a["data"]["frame"] for a in actions(log, "overlay")]
                assert None in frames and ["content"] in frames
            finally:
                ctx.close_pages()
                run.close()


def test_overlay_watcher_is_installed_once_for_every_page_of_the_context(tmp_path, browser):
    # Installed by the first page (one binding and one init script for the context): a
    # later item's page and a retry's clean context have it without asking again.
    with demo_app(ROOT, tmp_path / "modal.db", faults="modal=1") as url:
        settings = load_settings(ROOT, {}, {"target": url, "logs_dir": tmp_path / "logs"})
        bot = Bot("web_api_overlay_context", selectors="legacy_ap")
        log = RunLog(settings.resolve(settings.logs_dir), bot.name)
        with log:
            run = Run(bot, settings, log, browser)
            ctx = Context(run)
            try:
                first = ctx.web()
                first.on_overlay("maintenance", close="maintenance_close")
                first.goto("login")
                first["username"].fill(DEMO_USER)
                first["password"].fill(DEMO_PASSWORD)
                with first.expect_navigation():
                    first["login_button"].click()
                first.save_session()
                watched = first.raw.context._deskhand_overlays
                for page in (ctx.web(), None):  # the next item's page, then a clean context
                    closed = len(actions(log, "overlay"))
                    if page is None:
                        run.session.close_context()  # what an item's retry gets
                        page = ctx.web()
                        assert page.raw.context is not first.raw.context
                        assert page.raw.context._deskhand_overlays is watched
                    page.goto("main")
                    page["nav_new_invoice"].click()  # behind the shell's notice
                    page.frame("content").wait_for_url("**/invoices/new")
                    page["invoice_number"].fill("OVERLAY-2")  # behind the form's notice
                    assert page["invoice_number"].value() == "OVERLAY-2"
                    assert not page["maintenance"].exists()
                    assert len(actions(log, "overlay")) >= closed + 2  # the shell's, the form's
                assert list(watched.overlays) == ["maintenance"]
            finally:
                ctx.close_pages()
                run.close()


def test_frame_scoped_page_is_logged_and_finds_its_elements(session):
    app, log = session
    content = app.frame("content")
    content.goto("invoices/search")
    assert content.url.endswith("/invoices/search")
    assert actions(log, "goto")[-1]["data"]["frame"] == "content"
    content["search_query"].fill("nothing-like-this")
    with app.expect_navigation(frame="content"):  # the one way to wait for a frame
        content["search_button"].click()
    assert content["search_empty"].text() == "No invoices found."
    with content.expect_navigation():  # the same wait, from the frame's page
        content.goto("invoices/new")
    assert content["save_button"].exists()


def test_placeholders_are_escaped_and_any_name_works(session, tmp_path):
    app, _ = session
    open_form(app)
    with pytest.raises(Exception, match="needs values for its selectors: n=..."):
        app["line_amount"]
    app.element("line_amount", n=1).fill("12.00")
    assert app.element("line_amount", n=1).value() == "12.00"
    # a vendor name with quotes cannot break out of the selector's quoted string
    spec = app.selectors["vendor_select"].with_values({"vendor": 'O\'Brien "&" Sons'})
    assert spec.candidates[0] == "a.select-vendor[data-name='O\\'Brien \\\"&\\\" Sons']"
    app.selectors.elements["by_name"] = app.selectors["username"].__class__(
        "by_name", "invoice_form", ("[name='{name}']",), ("content",)
    )
    assert app.element("by_name", name="invoice_number").attribute("id") == "invoice_number"
    assert not app.element("by_name", name="it's'not\"there]").exists()  # a valid selector


def test_selector_not_found_keeps_its_message_once_cached(session):
    app, log = session
    open_form(app)
    app["invoice_number"].fill("X-1")  # resolved and cached
    app.frame("content").goto("welcome")
    with pytest.raises(SelectorNotFound, match=r"element 'invoice_number' not found on .*tried"):
        app["invoice_number"].fill("X-2")


def test_a_failed_step_in_a_popup_keeps_its_evidence(session):
    app, log = session
    ctx = app.ctx
    open_form(app)
    with pytest.raises(ApplicationError):
        with ctx.step("choose vendor"):
            with app.expect_popup() as popup:
                app["vendor_lookup"].click()
            lookup = popup.value
            try:
                lookup["vendor_search_query"].fill(VENDOR)
                lookup["save_button"].click()  # not in the popup: fails there
            finally:
                lookup.close()
    end = [e for e in map(json.loads, (log.dir / "steps.jsonl").read_text().splitlines())
           if e.get("event") == "step_end"][-1]  # fmt: skip
    assert end["status"] == "failed"
    shot = log.dir / end["screenshot"]
    html = [log.dir / h for h in end["html"]]
    assert shot.is_file() and shot.stat().st_size > 0
    assert any("Vendor lookup" in h.read_text() for h in html)


CLOSE_ON_PRESS = "document.addEventListener('mousedown', () => window.close(), true)"


def test_a_click_that_closes_its_popup_is_what_expect_close_awaited(session, monkeypatch):
    """A popup whose script closes it in the click, before Playwright hears back from it,
    makes Playwright report 'Target page, context or browser has been closed' (now and then:
    a race). Inside expect_close that is the click's success, for an element and for a
    row's cell; outside it, still a failure that says so. The race is made certain here:
    every click is delivered, then reported as the page closed."""
    from playwright._impl._errors import TargetClosedError
    from playwright.sync_api import Locator

    delivered = Locator.click

    def racing_click(self, *args, **kwargs):
        delivered(self, *args, **kwargs)
        raise TargetClosedError()

    app, log = session
    open_form(app)
    for n in range(2):
        with app.expect_popup() as popup:
            app["vendor_lookup"].click()
        lookup = popup.value
        lookup["vendor_search_query"].fill(VENDOR)
        with lookup.expect_navigation():
            lookup["vendor_search_button"].click()
        row = next(r for r in lookup.rows("vendor_rows") if r.cells.get("name") == VENDOR)
        if not n:
            lookup.raw.evaluate(CLOSE_ON_PRESS)
        monkeypatch.setattr(Locator, "click", racing_click)
        with lookup.expect_close():
            if n:
                row.click("select")  # the app's own select closes the lookup
            else:
                lookup["vendor_search_button"].click()
        monkeypatch.setattr(Locator, "click", delivered)
        assert lookup.raw.is_closed()
    assert app["vendor_name_display"].text() == VENDOR  # the row's select reached the form
    assert len(actions(log, "close")) == 2
    assert len(actions(log, "closed_by_click")) == 2  # said so in the journal

    # Only a click may close its page: a read of the closed page is still a clear failure.
    with app.expect_popup() as popup:
        app["vendor_lookup"].click()
    lookup = popup.value
    lookup.raw.evaluate(CLOSE_ON_PRESS)
    monkeypatch.setattr(Locator, "click", racing_click)
    with pytest.raises(ApplicationError, match="vendor_search_query"):
        with lookup.expect_close():
            lookup["vendor_search_button"].click()
            while not lookup.raw.is_closed():
                app.raw.wait_for_timeout(20)
            lookup["vendor_search_query"].value()
    monkeypatch.setattr(Locator, "click", delivered)

    with app.expect_popup() as popup:
        app["vendor_lookup"].click()
    lookup = popup.value
    monkeypatch.setattr(Locator, "click", racing_click)
    with pytest.raises(ApplicationError, match="has been closed"):
        lookup["vendor_search_button"].click()  # not awaited: a failure


def test_every_action_is_journaled_in_its_place_masked_and_passed_to_own_sinks(session):
    """Actions are written with the step's end (not one by one): still every one, in order,
    inside its step, with its time and masking; a bot's own loguru sink gets each at once."""
    from loguru import logger

    from deskhand import masking
    from deskhand.logs import register_secret

    app, log = session
    ctx = app.ctx
    open_form(app)
    register_secret("PO-secret-77")
    with ctx.step("key"):
        app["po_number"].fill("PO-secret-77")
        app["notes"].fill("first note")
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="DEBUG", format="{message}")
    try:
        with ctx.step("more"):
            app["notes"].fill("second note")
            assert any("fill notes" in line and "second note" in line for line in seen)
    finally:
        logger.remove(sink)
    events = [json.loads(line) for line in (log.dir / "steps.jsonl").read_text().splitlines()]
    inside = [e for e in events if e["event"] in ("step_start", "action", "step_end")]
    inside = inside[[e["event"] for e in inside].index("step_start") :]
    assert [(e["event"], e.get("step"), e.get("element")) for e in inside] == [
        ("step_start", "key", None),
        ("action", "key", "po_number"),
        ("action", "key", "notes"),
        ("step_end", "key", None),
        ("step_start", "more", None),
        ("action", "more", "notes"),
        ("step_end", "more", None),
    ]
    assert [e["ts"] for e in inside] == sorted(e["ts"] for e in inside)
    assert inside[1]["data"] == {"value": masking.MASK}
    assert inside[2]["data"] == {"value": "first note"}
    for name in ("steps.jsonl", "bot.log"):
        assert "PO-secret-77" not in (log.dir / name).read_text(), name
    assert "  fill notes" in (log.dir / "bot.log").read_text()


def test_fill_form_sets_fires_events_reads_back_and_logs(session, legacy_app):
    app, log = session
    open_form(app)
    values = {
        "invoice_number": "FF-1",
        "invoice_date": "03/05/2026",
        "amount": "10.00",
        "tax": "0.00",
        "vendor": VENDOR,  # a select: by label (or value)
        "currency": "USD",
        "recurring": True,
        "notes": "batched <b>fill</b>",
    }
    read = app.fill_form(values)
    assert read["invoice_number"] == "FF-1" and read["recurring"] == "true"
    assert read["vendor"] == "3" and read["currency"] == "USD"
    assert app["vendor_name_display"].text() == VENDOR  # the page's onchange ran
    assert app.wait_for_text("vendor_address") == ADDRESS
    logged = {
        a["element"]: a["data"]["value"] for a in actions(log, "fill") if a["data"].get("batch")
    }
    assert logged["notes"] == "batched <b>fill</b>" and len(logged) == len(values)
    app.element("terms", code="NET30").check()
    line = {f: app.element(f"line_{f}", n=1) for f in ("description", "quantity", "amount")}
    read = app.fill_form({line["description"]: "x", line["quantity"]: "1", line["amount"]: "10"})
    assert read[line["amount"]] == "10"
    app.element("line_unit_price", n=1).fill("10.00")
    with app.expect_navigation(frame="content"):
        with app.accept_dialog(expect="Save invoice FF-1"):
            app["save_button"].click()
    assert app["record_number"].text().startswith("AP-")
    saved = legacy_app.invoices()
    assert [(i["invoice_number"], i["vendor"], i["recurring"], i["notes"]) for i in saved] == [
        ("FF-1", VENDOR, 1, "batched <b>fill</b>")
    ]
    with pytest.raises(ApplicationError, match="has no option"):
        app.frame("content").goto("invoices/new")
        app.fill_form({"currency": "XXX"})


def test_trace_command_serves_the_viewer_with_the_runs_trace(tmp_path, browser, legacy_app):
    import subprocess
    import sys

    from deskhand.web import close_context

    run_dir = tmp_path / "logs" / "bot" / "run-1"
    run_dir.mkdir(parents=True)
    context = browser.new_context(trace=True)
    page = context.new_page()
    page.goto(legacy_app.url + "login")
    page.fill("#username", DEMO_USER)
    close_context(context, run_dir / "trace.zip")

    command = [sys.executable, str(ROOT / "run_bot.py"), "trace", str(run_dir), "--no-browser"]
    viewer = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        first = viewer.stdout.readline()
        assert first.startswith("trace viewer: http://127.0.0.1:"), first
        context = browser.new_context()
        try:
            shown = context.new_page()
            shown.goto(first.split(": ", 1)[1].strip())
            action = shown.get_by_text('locator("#username")')
            action.first.wait_for()  # the viewer lists the trace's fill
            assert "Fill" in shown.locator("body").inner_text()
        finally:
            context.close()
    finally:
        viewer.terminate()
        viewer.wait(timeout=60)  # a guard against a hang, not a measure
    port = int(first.split("127.0.0.1:", 1)[1].split("/", 1)[0])
    with pytest.raises(ConnectionRefusedError):  # no server left behind
        socket.create_connection(("127.0.0.1", port), timeout=5).close()


def test_trace_command_says_how_to_record_one(tmp_path):
    from deskhand.cli import main

    assert main(["trace", str(tmp_path)]) == 2
