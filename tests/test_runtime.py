"""The bot runtime: statuses, retries, the run folder, masking, the report."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ASSETS

from deskhand.logs import read_events

TOKEN = "tok-81f3-SECRET-value"


@pytest.fixture
def flaky_secret(monkeypatch):
    monkeypatch.setenv("DESKHAND_SECRET_FLAKY_API", json.dumps({"username": "svc", "token": TOKEN}))


def test_each_item_ends_with_its_own_status(run, flaky_secret):
    result = run("flaky", root=ASSETS)

    by_ref = {i.reference: i for i in result.items}
    assert list(by_ref) == ["ok", "flaky", "bad-data", "broken"]  # the duplicate queued once
    assert by_ref["ok"].status == "done" and by_ref["ok"].output == {"result": "OK", "attempt": 1}
    assert by_ref["flaky"].status == "done" and by_ref["flaky"].attempts == 2
    assert by_ref["bad-data"].status == "needs_review" and by_ref["bad-data"].attempts == 1
    assert by_ref["broken"].status == "failed" and by_ref["broken"].attempts == 3
    assert by_ref["broken"].error["kind"] == "ApplicationError"
    assert result.exit_code == 1

    events = read_events(result.dir)
    retries = [e for e in events if e["event"] == "retry"]
    assert [e["item"] for e in retries] == ["flaky", "broken", "broken"]
    step_ends = [e for e in events if e["event"] == "step_end" and e["item"] == "ok"]
    assert {e["step"] for e in step_ends} == {"use the secret", "work"}
    assert all(e["status"] == "ok" and e["duration_ms"] >= 0 for e in step_ends)
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "run_end"
    assert events[-1]["counts"] == {"done": 2, "needs_review": 1, "failed": 1}


def test_no_secret_reaches_any_file_of_the_run(run, flaky_secret):
    result = run("flaky", root=ASSETS)

    files = [p for p in result.dir.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"steps.jsonl", "bot.log", "report.html"}
    for path in files:
        assert TOKEN not in path.read_text(encoding="utf-8", errors="replace"), path
    log = (result.dir / "bot.log").read_text()
    assert "the system is down (token was ********)" in log
    assert "svc" in log  # user names stay readable for the review
    assert "********" in (result.dir / "report.html").read_text()


def test_report_escapes_everything_from_documents_and_pages(run):
    result = run("untrusted", root=ASSETS)

    html = (result.dir / "report.html").read_text()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(" in html
    assert 'class="mismatch"' in html  # the read-back differs from what was keyed


def test_report_renders_again_from_the_log_alone(run, tmp_path):
    from deskhand.report import render_report

    result = run("untrusted", root=ASSETS)
    first = result.report.read_text()
    result.report.unlink()
    assert render_report(result.dir).read_text() == first


def test_failing_web_step_saves_screenshot_and_html_and_is_retried(run, legacy_app, tmp_path):
    project = tmp_path / "project"  # the run writes a healing proposal beside its selectors
    shutil.copytree(ASSETS, project)
    result = run("web_failure", root=project, target=legacy_app.url, timeout_ms=1500)

    item = result.items[0]
    assert item.status == "failed" and item.attempts == 2
    assert item.error["kind"] == "SelectorNotFound"
    assert "missing_button" in item.error["message"] and "#not-there" in item.error["message"]
    shots = sorted((result.dir / "screenshots").glob("*.png"))
    pages = sorted((result.dir / "screenshots").glob("*.page.html"))
    assert len(shots) == 2 and len(pages) == 2  # one per attempt
    assert 'id="login-button"' in pages[0].read_text()
    events = read_events(result.dir)
    failed = [e for e in events if e["event"] == "step_end" and e["status"] == "failed"]
    assert failed[0]["step"] == "press a missing button"
    assert failed[0]["screenshot"].startswith("screenshots/")
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert any("fallback selector '#username'" in w for w in warnings)
    password_fill = [e for e in events if e.get("element") == "password"]
    assert password_fill and password_fill[0]["data"]["value"] == "********"
