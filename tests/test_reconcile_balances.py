"""Balance reconciliation end to end: the generated statement and ledger, the real legacy app
in Chromium, its database checked for allocations and adjustments, the workbook read back."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import app_server

from demo import make_accounts

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def inputs(tmp_path) -> tuple[Path, dict]:
    folder = make_accounts.make(tmp_path / "accounts")
    (folder / "reconcile.toml").write_text(f'output = "{tmp_path / "out"}"\n')
    return folder, json.loads((folder / "truth.json").read_text())


def finish_queue(
    args: list[str], env: dict, queue: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """Run the bot until its queue holds nothing new or in progress: an item a killed runner
    held comes back only when its lease has run out, and a run started before that finds
    nothing to claim. The last run's result."""
    from deskhand.queue import open_store

    for _ in range(20):
        final = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
        store = open_store(env["DESKHAND_DB"])
        try:
            counts = store.counts(queue)
        finally:
            store.close()
        if not counts.get("new") and not counts.get("in_progress"):
            return final
        time.sleep(0.5)  # let the dead runner's lease run out
    raise AssertionError(f"the queue {queue} never finished: {counts}")


def keyed(app) -> tuple[list, list]:
    allocations = app.query(
        "SELECT a.bank_ref, i.number, a.amount FROM allocations a"
        " JOIN ar_invoices i ON i.id = a.invoice_id ORDER BY a.id"
    )
    adjustments = app.query(
        "SELECT a.bank_ref, i.number, a.kind, a.amount, a.reason FROM adjustments a"
        " JOIN ar_invoices i ON i.id = a.invoice_id ORDER BY a.id"
    )
    return [tuple(r) for r in allocations], [tuple(r) for r in adjustments]


def expected(truth: dict) -> tuple[list, list]:
    allocations = sorted(
        (ref, inv, amount)
        for ref, p in truth["payments"].items()
        for inv, amount in p["allocations"]
    )
    adjustments = sorted(
        (ref, inv, kind, amount)
        for ref, p in truth["payments"].items()
        for inv, kind, amount in p["adjustments"]
    )
    return allocations, adjustments


def balances(app) -> dict[str, str]:
    rows = app.query(
        "SELECT c.code, i.amount, (SELECT COALESCE(SUM(amount), 0) FROM allocations WHERE"
        " invoice_id = i.id) + (SELECT COALESCE(SUM(amount), 0) FROM adjustments WHERE"
        " invoice_id = i.id) AS settled FROM ar_invoices i JOIN customers c ON c.id = i.customer_id"
    )
    result: dict[str, Decimal] = {}
    for code, amount, settled in rows:
        result[code] = result.get(code, Decimal(0)) + Decimal(amount) - Decimal(str(settled))
    return {code: f"{value:.2f}" for code, value in result.items()}


@pytest.mark.slow(25)
def test_statement_reconciled_as_a_clerk_would_and_rerun_changes_nothing(
    run, legacy_app, inputs, tmp_path
):
    folder, truth = inputs
    result = run("reconcile_balances", input=folder, target=legacy_app.url)

    statuses = {r.reference: r.status for r in result.items}
    for ref, p in truth["payments"].items():
        assert statuses[ref] == p["status"], (ref, p["why"], result.items)
    assert not set(truth["debits"]) & set(statuses), "a debit was treated as a payment"
    report_item = [r for r in result.items if r.reference.startswith("report-")]
    assert [r.status for r in report_item] == ["done"]

    allocations, adjustments = keyed(legacy_app)
    want_alloc, want_adj = expected(truth)
    assert sorted(allocations) == want_alloc
    assert sorted(a[:4] for a in adjustments) == want_adj
    assert all(a[4] for a in adjustments), "an adjustment without a reason"
    assert balances(legacy_app) == truth["balances"]

    book = openpyxl.load_workbook(tmp_path / "out" / "reconciliation.xlsx")
    assert book.sheetnames == [
        "Summary",
        "Invoices",
        "Matched",
        "Unmatched payments",
        "Discrepancies",
        "Unmatched invoices",
    ]
    summary = book["Summary"]
    rows = {r[0].value: r for r in summary.iter_rows(min_row=2) if r[0].value != "Total"}
    assert set(rows) == set(truth["balances"])
    n = rows["C-1004"][0].row
    assert summary[f"F{n}"].value == f"=C{n}-D{n}-E{n}"  # the balance is a formula
    assert summary[f"C{n}"].value.startswith("=SUMIFS(Invoices!E:E")
    assert f"{rows['C-1004'][6].value:.2f}" == truth["balances"]["C-1004"]
    assert summary.freeze_panes == "A2" and summary.auto_filter.ref
    unmatched = book["Unmatched payments"]
    refs = [r[0].value for r in unmatched.iter_rows(min_row=2)]
    assert sorted(refs) == sorted(k for k, p in truth["payments"].items() if p["status"] != "done")
    hostile = [r[4].value for r in unmatched.iter_rows(min_row=2) if "HYPERLINK" in str(r[4].value)]
    assert hostile and all(v.startswith("'=") for v in hostile)  # text, never a formula
    causes = {r[3].value for r in book["Discrepancies"].iter_rows(min_row=2)}
    assert {"rounding", "bank_fee", "ledger amount differs", "ledger only"} <= causes
    matched = {(r[0].value, r[5].value) for r in book["Matched"].iter_rows(min_row=2)}
    assert {(ref, inv) for ref, inv, _ in want_alloc} <= matched

    again = run("reconcile_balances", input=folder, target=legacy_app.url)
    assert again.items == []  # everything is queued and finished already
    assert keyed(legacy_app) == (allocations, adjustments)


def test_csv_and_camt_statements_read_the_same(inputs):
    from bots._matching import read_statement

    folder, truth = inputs
    camt = read_statement(folder / "statement-2026-11.xml")
    csv_rows = read_statement(folder / "statement-2026-11.csv")
    drop = ("source", "currency")
    assert [{k: v for k, v in p.items() if k not in drop} for p in camt] == [
        {k: v for k, v in p.items() if k not in drop} for p in csv_rows
    ]
    assert sorted(p["bank_ref"] for p in camt) == sorted(truth["payments"])


@pytest.mark.slow(50)
def test_killed_during_each_point_of_no_return_keys_nothing_twice(inputs, tmp_path, project):
    """SIGKILL the bot the moment the app has committed an entry (its confirmation page is
    made slow), again and again, a run's first entry or its second (a payment's second
    allocation, an adjustment after its allocation); the finished job has keyed every entry
    exactly once."""
    folder, truth = inputs
    db = tmp_path / "legacy.db"
    env = {
        "PYTHONPATH": str(ROOT),
        "DESKHAND_LOGS_DIR": str(tmp_path / "logs"),
        "DESKHAND_LEASE_SECONDS": "2",
        "DESKHAND_RETRY_DELAY": "0",
        "DESKHAND_MAX_ATTEMPTS": "20",
        "DESKHAND_DB": f"sqlite:///{tmp_path / 'queue.db'}",
        "DESKHAND_SECRET_LEGACY_AP": json.dumps({"username": "clerk", "password": "ledger-2005"}),
        "PATH": "/usr/bin:/bin",
    }
    import sqlite3

    def entries() -> int:
        with sqlite3.connect(db) as conn:
            return sum(
                conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("allocations", "adjustments")
            )

    with app_server(db, "slow=0.4") as url:
        args = [
            sys.executable,
            "run_bot.py",
            "run",
            "reconcile_balances",
            "--input",
            str(folder),
            "--target",
            url,
        ]
        kills = 0
        for n in range(4):  # every other run dies at its second new entry, not its first:
            wanted = entries() + 1 + n % 2  # between two entries of a payment, or after two
            proc = subprocess.Popen(
                args, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            while proc.poll() is None and entries() < wanted:
                time.sleep(0.05)
            if proc.poll() is not None:
                break  # finished without committing that many
            proc.send_signal(signal.SIGKILL)  # an entry committed, its answer not yet seen
            proc.wait()
            kills += 1
        assert kills >= 3
    # The rest against the app at its normal speed: only the kills needed slow answers.
    with app_server(db) as url:
        args[args.index("--target") + 1] = url
        final = finish_queue(args, env, "payments", project)
        assert final.returncode in (0, 1), final.stderr[-2000:]
    from tests.conftest import LegacyApp

    app = LegacyApp(url, db)
    allocations, adjustments = keyed(app)
    want_alloc, want_adj = expected(truth)
    assert sorted(allocations) == want_alloc
    assert sorted(a[:4] for a in adjustments) == want_adj


@pytest.mark.slow(20)
def test_entries_whose_answer_is_lost_are_found_in_the_account_not_keyed_again(
    run, inputs, tmp_path
):
    """Every allocation and adjustment commits, then the app answers HTTP 500 (lost=1): each
    retry reads the account, keys only what is missing, and the result is the clean one."""
    from tests.conftest import LegacyApp

    folder, truth = inputs
    db = tmp_path / "lost.db"
    with app_server(db, "lost=1") as url:
        result = run("reconcile_balances", input=folder, target=url)
        app = LegacyApp(url, db)
        statuses = {r.reference: r.status for r in result.items}
        assert {ref: statuses[ref] for ref in truth["payments"]} == {
            ref: p["status"] for ref, p in truth["payments"].items()
        }
        allocations, adjustments = keyed(app)
    want_alloc, want_adj = expected(truth)
    assert sorted(allocations) == want_alloc
    assert sorted(a[:4] for a in adjustments) == want_adj
    two_entries = [
        ref
        for ref, p in truth["payments"].items()
        if len(p["allocations"]) + len(p["adjustments"]) == 2
    ]
    assert all(r.attempts == 3 for r in result.items if r.reference in two_entries)


def test_settings_file_is_checked(tmp_path):
    from bots._legacy_app import job_settings
    from deskhand import ConfigError

    defaults = {"rounding_limit": "0.05", "date_window_days": 60}
    (tmp_path / "r.toml").write_text("rounding_limit = 0.02\n")
    assert job_settings(tmp_path, "r.toml", defaults)["rounding_limit"] == "0.02"
    (tmp_path / "r.toml").write_text('date_window_days = "sixty"\n')
    with pytest.raises(ConfigError, match="'date_window_days' must be int"):
        job_settings(tmp_path, "r.toml", defaults)
    (tmp_path / "r.toml").write_text("rounding_limt = 0.02\n")
    with pytest.raises(ConfigError, match="unknown key"):
        job_settings(tmp_path, "r.toml", defaults)
