"""The console's command, people, log-in rules and run list, without a browser (Flask's test
client, or the real command in a subprocess), and deskhand.review on a real document."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import urllib.request
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from demo.server import free_port
from deskhand import documents, review
from deskhand.bot import WorkItem
from deskhand.cli import build_parser
from deskhand.commands.console import run as run_console
from deskhand.console import create_app
from deskhand.console.auth import MAX_FAILURES_PER_NAME, add_user
from deskhand.console.tables import users
from deskhand.errors import ConfigError
from deskhand.logs import RunLog

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ROOT / "demo" / "documents"


@pytest.fixture
def app(tmp_path):
    application = create_app(f"sqlite:///{tmp_path / 'queue.db'}", tmp_path / "logs", ROOT)
    add_user(application.extensions["deskhand_console"].engine, "ada", "admin", "long enough")
    yield application
    application.extensions["deskhand_console"].engine.dispose()


def token(response) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', response.text).group(1)


def log_in(client, name="ada", password="long enough", next_url=""):
    form = client.get("/login")
    return client.post(
        "/login" + next_url, data={"name": name, "password": password, "csrf_token": token(form)}
    )


def test_user_add_keeps_only_a_hash_and_reads_the_password_from_stdin(tmp_path, monkeypatch):
    db = f"sqlite:///{tmp_path / 'queue.db'}"
    args = build_parser().parse_args(
        ["console", "--db", db, "user", "add", "rita", "--role", "reviewer", "--password-stdin"]
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-enough\n"))
    out = io.StringIO()
    assert run_console(args, ROOT, out) == 0
    assert out.getvalue() == "rita can log in as reviewer\n"
    application = create_app(db, tmp_path / "logs", ROOT)
    with application.extensions["deskhand_console"].engine.connect() as conn:
        (row,) = conn.execute(select(users)).all()
    assert row.role == "reviewer" and "s3cret-enough" not in row.password_hash
    assert row.password_hash.startswith("scrypt:")
    assert log_in(application.test_client(), "rita", "s3cret-enough").status_code == 302
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    with pytest.raises(ConfigError, match="shorter than 8 characters"):
        run_console(args, ROOT, out)
    with pytest.raises(SystemExit):  # the password is never an option
        build_parser().parse_args(
            ["console", "user", "add", "x", "--role", "admin", "--password", "hunter22"]
        )


def test_serve_binds_to_loopback_and_says_how_to_expose_it(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "run_bot.py", "console", "--port", str(port)]
    command += ["--db", f"sqlite:///{tmp_path / 'queue.db'}", "--logs", str(tmp_path)]
    proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith(f"console on http://127.0.0.1:{port}/")
        assert "this machine only" in lines[1] and "--host 0.0.0.0" in lines[1]
        assert "console user add NAME --role admin" in lines[2]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as response:
            assert response.status == 200
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    finally:
        proc.terminate()
        proc.wait(10)


def test_failed_log_ins_lock_the_name_for_a_while(app):
    client = app.test_client()
    for _ in range(MAX_FAILURES_PER_NAME):
        assert log_in(client, password="wrong password").status_code == 401
    locked = log_in(client)  # the right password, too late
    assert locked.status_code == 429 and "too many failed log-ins" in locked.text
    assert client.get("/runs").status_code == 302


def test_session_cookie_and_redirects_are_safe(app):
    client = app.test_client()
    assert client.get("/queue").headers["Location"] == "/login?next=/queue"
    response = log_in(client, next_url="?next=//evil.example/x")
    assert response.headers["Location"] == "/runs"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert log_in(app.test_client(), next_url="?next=/queue").headers["Location"] == "/queue"


def test_runs_appear_without_a_restart_with_counts_and_trigger(app, tmp_path):
    client = app.test_client()
    log_in(client)
    assert "No runs yet" in client.get("/runs").text
    with RunLog(tmp_path / "logs", "invoice_entry", "20260301-090000-abcd") as log:
        log.event("run_start", settings={}, queue="invoices")
        log.event("source", total=2, added=2, already_queued={})
        for ref, status in (("a", "done"), ("b", "failed")):
            log.event("item_start", item=ref, attempt=1, data={"file": f"{ref}.pdf"})
            log.event("item_end", item=ref, attempt=1, status=status)
        log.event("run_end", counts={"done": 1, "failed": 1}, total=2)
    page = client.get("/runs").text
    assert "20260301-090000-abcd" in page and "on demand" in page
    assert "1 done" in page and "1 failed" in page
    assert "20260301-090000-abcd" not in client.get("/runs?status=needs_review").text
    assert "20260301-090000-abcd" in client.get("/runs?bot=invoice_entry&status=failed").text
    report = client.get("/runs/invoice_entry/20260301-090000-abcd/report.html")
    assert report.status_code == 200 and "sandbox" in report.headers["Content-Security-Policy"]
    assert client.get("/runs/invoice_entry/..%2F..%2Fetc/report.html").status_code == 404
    queued, _ = app.extensions["deskhand_console"].store.add("invoices", "a", {"file": "a.pdf"})
    one = client.get("/runs/invoice_entry/20260301-090000-abcd").text
    assert f'<a href="/items/{queued.id}">a.pdf</a>' in one  # in the queue: linked
    assert re.search(r"<td>b.pdf\s*</td>", one)  # not in this queue: named only


def test_review_puts_the_reviewed_values_into_the_document(private_cache):
    document = documents.extract(DOCUMENTS / "inv-01-acme.pdf")
    box = document.fields["total"].bbox
    item = WorkItem(
        "ref",
        {
            "reviewed": {
                "total": {"value": "1234.50", "by": "rita", "old": "1580.94"},
                "due_date": {"value": "2026-04-30", "by": "rita", "old": "2026-04-04"},
            }
        },
    )
    review.apply(document, item)
    total = document.fields["total"]
    assert total.value == Decimal("1234.50") and total.confidence == 1.0
    assert total.rule == "reviewed by rita" and total.bbox == box
    assert document.due_date == date(2026, 4, 30)
    assert review.apply(document, WorkItem("r", {})) is document  # nothing reviewed
    with pytest.raises(ValueError, match="not an amount"):
        review.typed("invoice", "total", "12,3x")
    assert review.field_type("invoice", "invoice_date") == "date"
    assert review.choices("invoice", "terms") == ["NET15", "NET30", "NET60", "DUE_ON_RECEIPT"]


def test_an_unreadable_document_can_only_be_rejected_with_a_reason(app, tmp_path):
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    store = app.extensions["deskhand_console"].store
    item, _ = store.add("invoices", "e-1", {"file": str(empty), "name": "empty.pdf"})
    store.claim("invoices", "test")
    store.to_review(item.id, "test", "DocumentError", "empty.pdf: the file is empty")
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item.id}/review")
    assert page.status_code == 200 and "The document cannot be read" in page.text
    assert 'id="approve"' not in page.text and "the file is empty" in page.text
    form = {"csrf_token": token(page), "action": "approve"}
    assert client.post(f"/items/{item.id}/review", data=form).status_code == 409
    form["action"] = "reject"
    assert client.post(f"/items/{item.id}/review", data=form).status_code == 302  # no reason
    assert store.get(item.id).status == "needs_review"
    form["reason"] = "blank scan: asked the vendor for the invoice again"
    assert client.post(f"/items/{item.id}/review", data=form).status_code == 302
    assert store.get(item.id).status == "cancelled"
    last = store.history(item.id)[-1]
    assert (last.event, last.runner) == ("rejected", "ada")
    assert last.detail["reason"] == "blank scan: asked the vendor for the invoice again"


def test_the_readme_shows_the_console_as_the_browser_test_saw_it():
    readme = (ROOT / "README.md").read_text()
    assert "## The console" in readme and "(docs/console-review.png)" in readme
    assert (ROOT / "docs" / "console-review.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (ROOT / "docs" / "console" / "acme-total-wrong.pdf").is_file()  # the demo's example


def test_item_page_links_each_attempts_evidence_and_never_renders_saved_html(app, tmp_path):
    store = app.extensions["deskhand_console"].store
    item, _ = store.add("invoices", "ref-7", {"file": "a.pdf", "name": "a.pdf"})
    with RunLog(tmp_path / "logs", "invoice_entry", "20260302-100000-0001") as log:
        log.event("run_start", settings={}, queue="invoices")
        at = {"item": "ref-7", "attempt": 1}
        log.event("item_start", data={"file": "a.pdf"}, **at)
        log.event("step_start", step="save", **at)
        (log.screenshots / "ref-7-a1-1-save.png").write_bytes(b"\x89PNG\r\n\x1a\nfake")
        page_html = log.screenshots / "ref-7-a1-1-save.html"
        page_html.write_text("<script>alert(1)</script>")
        error = {"kind": "ApplicationError", "message": "no confirmation after Save"}
        shot, html = "screenshots/ref-7-a1-1-save.png", "screenshots/ref-7-a1-1-save.html"
        log.event(
            "step_end",
            step="save",
            status="failed",
            error=error,
            screenshot=shot,
            html=[html],
            **at,
        )
        log.event("item_end", status="failed", error=error, **at)
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item.id}").text
    base = "/runs/invoice_entry/20260302-100000-0001/files/screenshots"
    assert f'src="{base}/ref-7-a1-1-save.png"' in page and "no confirmation after Save" in page
    assert f'href="{base}/ref-7-a1-1-save.html"' in page
    shot_response = client.get(f"{base}/ref-7-a1-1-save.png")
    assert shot_response.mimetype == "image/png"
    saved = client.get(f"{base}/ref-7-a1-1-save.html")
    assert saved.mimetype == "text/plain" and "attachment" in saved.headers["Content-Disposition"]
    assert client.get(f"{base}/../../../../queue.db").status_code == 404


def test_a_bulk_action_acts_only_on_the_count_confirmed(app):
    store = app.extensions["deskhand_console"].store
    added, _ = store.add_many("invoices", [{"reference": f"b{n}"} for n in range(3)])
    for _ in added:
        store.claim("invoices", "test")
    for item in added[:2]:
        store.fail(item.id, "test", "ApplicationError", "down", max_attempts=1)
    store.complete(added[2].id, "test", {"record": "R-1"})
    client = app.test_client()
    log_in(client)
    form = {"csrf_token": token(client.get("/queue")), "action": "retry"}
    form["ids"] = [str(i.id) for i in added]
    first = client.post("/queue/bulk", data=form)
    assert "Retry 2 items" in first.text  # the done item is not retried
    store.retry(added[0].id, by="someone else")  # meanwhile
    again = client.post("/queue/bulk", data={**form, "confirm": "2"})
    assert again.status_code == 200 and "The items changed since you looked" in again.text
    assert "Retry 1 item" in again.text
    assert store.get(added[1].id).status == "failed"  # nothing done without a new yes
    done = client.post("/queue/bulk", data={**form, "confirm": "1"})
    assert done.status_code == 302
    assert [store.get(i.id).status for i in added] == ["new", "new", "done"]


def test_a_line_item_is_corrected_typed_and_checked_again(app, tmp_path, private_cache):
    import dataclasses

    from demo import make_documents as md

    spec = next(s for s in md.SPECS if s.file == "inv-01-acme.pdf")
    invoice = md.Invoice(dataclasses.replace(spec, file="line.pdf", number="LN-1"))
    description, qty, price, amount = invoice.rows[1]
    invoice.rows[1] = (description, qty, price, amount + Decimal("10.00"))  # misprinted
    path = tmp_path / "line.pdf"
    path.write_bytes(md.render_pdf(invoice))
    store = app.extensions["deskhand_console"].store
    item, _ = store.add("invoices", "ln-1", {"file": str(path), "name": "line.pdf"})
    store.claim("invoices", "test")
    store.to_review(item.id, "test", "BusinessError", "line.pdf: line 2 amount wrong")
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item.id}/review")
    assert f"line 2 amount {amount + 10} != quantity 3 x unit_price 89.90" in page.text
    assert 'data-field="lines.2.amount"' in page.text
    form = {"csrf_token": token(page), "action": "check", "f_lines.2.amount": "26x.70"}
    assert "is not an amount" in client.post(f"/items/{item.id}/review", data=form).text
    form["f_lines.2.amount"] = str(amount)
    checked = client.post(f"/items/{item.id}/review", data=form).text
    assert "All checks pass with your corrections" in checked
    form["action"] = "approve"
    assert client.post(f"/items/{item.id}/review", data=form).status_code == 302
    reviewed = store.get(item.id).payload["reviewed"]
    assert set(reviewed) == {"lines.2.amount"} and reviewed["lines.2.amount"]["value"] == "269.70"
    document = review.apply(documents.extract(path), store.get(item.id))
    assert document.lines[1]["amount"].value == amount
    assert document.lines[1]["amount"].rule == "reviewed by ada"
    documents.validate(document)  # keyable now
    store.claim("invoices", "test")  # back in review for another reason: the earlier review shows
    store.to_review(item.id, "test", "BusinessError", "line.pdf: tax confidence 0.50 is under 0.60")
    again = client.get(f"/items/{item.id}/review").text
    assert re.search(r'name="f_lines.2.amount"[^>]*value="269.70"', again)
    assert "reviewed by ada" in again


def test_roles_add_up_and_admins_manage_people_on_the_web(app):
    admin = app.test_client()
    log_in(admin)
    form = {"csrf_token": token(admin.get("/users")), "name": "rita", "role": "reviewer"}
    form["password"] = "rita-password"
    assert admin.post("/users", data=form).status_code == 302
    assert "rita" in admin.get("/users").text
    rita = app.test_client()
    assert log_in(rita, "rita", "rita-password").status_code == 302
    assert rita.get("/users").status_code == 403
    bulk = {"csrf_token": token(rita.get("/queue")), "action": "retry", "scope": "filter"}
    refused = rita.post("/queue/bulk", data=bulk)
    assert refused.status_code == 403 and "operator" in refused.text
    admin.post("/users", data={"csrf_token": form["csrf_token"], "name": "rita", "remove": "1"})
    assert rita.get("/queue").status_code == 302  # removed: logged out at once
    assert log_in(app.test_client(), "rita", "rita-password").status_code == 401


def test_approving_an_unsure_field_as_read_makes_it_sure(app, private_cache):
    store = app.extensions["deskhand_console"].store
    path = DOCUMENTS / "inv-01-acme.pdf"
    item, _ = store.add("invoices", "u-1", {"file": str(path), "name": path.name})
    store.claim("invoices", "test")
    store.to_review(
        item.id, "test", "BusinessError", f"{path.name}: total confidence 0.41 is under 0.60"
    )
    client = app.test_client()
    log_in(client)
    page = client.get(f"/items/{item.id}/review").text
    assert '<tr id="field-total" class="field flagged"' in page
    assert '<tr id="field-tax" class="field"' in page
    form = {"csrf_token": token(client.get("/queue")), "action": "approve"}
    assert client.post(f"/items/{item.id}/review", data=form).status_code == 302
    reviewed = store.get(item.id).payload["reviewed"]
    assert list(reviewed) == ["total"]
    assert reviewed["total"]["value"] == reviewed["total"]["old"] == "1580.94"
    entry = store.history(item.id)[-1]
    assert entry.event == "approved" and entry.detail["changes"] == {
        "total": {"old": "1580.94", "new": "1580.94"}
    }


def test_a_database_that_stops_answering_is_a_page_that_says_so(app, tmp_path):
    client = app.test_client()
    log_in(client)
    state = app.extensions["deskhand_console"]
    state.store.close()  # closes the engine's connections too
    for path in tmp_path.glob("queue.db*"):
        path.unlink()
    (tmp_path / "queue.db").mkdir()  # SQLite cannot open it any more
    response = client.get("/queue")
    assert response.status_code == 503
    assert "does not answer: check that it is running" in response.text
