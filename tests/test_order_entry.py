"""Order entry end to end: generated order e-mails (.eml folder and a real dovecot IMAP box),
the legacy app in Chromium, a real SMTP server in-process; the app's database and the mails
the server received are what is checked."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import app_server

from demo import make_orders
from demo.orders_data import SHIPPER
from tests import test_mail
from tests.test_reconcile_balances import finish_queue

smtp_server = test_mail.smtp_server  # the real servers' fixtures, shared with test_mail.py
imap_server = test_mail.imap_server

ROOT = Path(__file__).resolve().parents[1]


def setup_inbox(tmp_path, smtp, extra: str = "") -> tuple[Path, dict]:
    inbox = make_orders.make(tmp_path / "orders")
    truth = json.loads((tmp_path / "orders" / "truth.json").read_text())
    (inbox / "order_entry.toml").write_text(
        f'smtp_host = "{smtp.host}"\nsmtp_port = {smtp.port}\n'
        f'outbox = "{tmp_path / "mail" / "outbox.db"}"\n{extra}'
    )
    return inbox, truth


def orders(app) -> list[tuple]:
    rows = app.query(
        "SELECT o.order_no, c.code, o.customer_ref,"
        " group_concat(l.sku || ' x ' || l.quantity, ', ')"
        " FROM orders o JOIN customers c ON c.id = o.customer_id JOIN order_lines l"
        " ON l.order_id = o.id GROUP BY o.id ORDER BY o.id"
    )
    return [tuple(r) for r in rows]


def expected_orders(truth: dict) -> list[tuple]:
    seen = {}
    for t in truth.values():
        if t["status"] == "done":
            lines = ", ".join(f"{sku} x {qty}" for sku, qty in t["lines"])
            seen[(t["customer"], t["reference"])] = lines
    return sorted((code, ref, lines) for (code, ref), lines in seen.items())


def check_mails(smtp, app) -> None:
    """One confirmation (PDF attached) to the customer and one shipping request per order."""
    emails = dict(
        app.query(
            "SELECT o.order_no, c.email FROM orders o JOIN customers c ON c.id = o.customer_id"
        )
    )
    got = smtp.messages()
    assert len(got) == 2 * len(emails)
    assert len({m["Message-ID"] for m in got}) == len(got)
    for order_no, email in emails.items():
        (confirmation,) = [
            m for m in got if m["Subject"].startswith(f"Order confirmation {order_no}")
        ]
        (shipping,) = [m for m in got if m["Subject"] == f"Shipping request {order_no}"]
        assert confirmation["To"] == email and shipping["To"] == SHIPPER
        (pdf,) = list(confirmation.iter_attachments())
        assert pdf.get_filename() == f"order-{order_no}.pdf"
        assert pdf.get_payload(decode=True).startswith(b"%PDF")
    for rcpt, _ in smtp.received:
        assert len(rcpt) == 1


@pytest.mark.slow(20)
def test_orders_from_mail_keyed_read_back_and_mailed_once(run, legacy_app, smtp_server, tmp_path):
    inbox, truth = setup_inbox(tmp_path, smtp_server)
    result = run("order_entry", input=inbox, target=legacy_app.url)

    by_file = {r.label.split(":")[0]: r for r in result.items}
    for file, t in truth.items():
        assert by_file[file].status == t["status"], (file, t["why"], by_file[file].error)
    assert "XYZ-999" in by_file["04-orchid-unknown.eml"].error["message"]
    assert "in stock" in by_file["05-silverline-stock.eml"].error["message"]
    assert "no complete order" in by_file["07-newsletter.eml"].error["message"]
    assert "not the customer's address" in by_file["08-kestrel-spoofed.eml"].error["message"]
    assert sorted(o[1:] for o in orders(legacy_app)) == expected_orders(truth)
    check_mails(smtp_server, legacy_app)
    first, second = by_file["01-harbor-pdf.eml"], by_file["06-harbor-resent.eml"]
    assert first.output["record"] == second.output["record"]  # the resent order found, not keyed
    stock = dict(legacy_app.query("SELECT sku, stock FROM products"))
    assert stock["WID-100"] == 500 - 120 and stock["LMP-020"] == 15 - 2

    before = (orders(legacy_app), len(smtp_server.received))
    again = run("order_entry", input=inbox, target=legacy_app.url)
    assert again.items == []
    assert (orders(legacy_app), len(smtp_server.received)) == before


def test_orders_read_from_an_imap_mailbox(
    run, legacy_app, smtp_server, imap_server, tmp_path, monkeypatch
):
    inbox, truth = setup_inbox(
        tmp_path,
        smtp_server,
        f'imap_host = "{imap_server.host}"\nimap_port = {imap_server.port}\nimap_ssl = false\n',
    )
    wanted = ["02-kestrel-xlsx.eml", "03-tideway-body.eml"]
    for name in wanted:
        imap_server.deliver((inbox / name).read_bytes())
        (inbox / name).unlink()  # only the mailbox has them now
    monkeypatch.setenv(
        "DESKHAND_SECRET_MAILBOX",
        json.dumps({"username": imap_server.user, "password": imap_server.password}),
    )
    settings_only = tmp_path / "imap-job"
    settings_only.mkdir()
    (settings_only / "order_entry.toml").write_text((inbox / "order_entry.toml").read_text())
    result = run("order_entry", input=settings_only, target=legacy_app.url)
    assert [r.status for r in result.items] == ["done", "done"]
    assert sorted(o[2] for o in orders(legacy_app)) == sorted(truth[n]["reference"] for n in wanted)
    check_mails(smtp_server, legacy_app)


@pytest.mark.slow(25)
@pytest.mark.parametrize("moment", ["save order", "send confirmation", "send shipping request"])
def test_killed_at_a_point_of_no_return_keys_and_sends_nothing_twice(
    moment, smtp_server, tmp_path, project
):
    """SIGKILL the bot inside one point of no return: right after the app committed the
    order (its confirmation page made slow), or while the SMTP server takes a mail."""
    inbox, truth = setup_inbox(tmp_path, smtp_server)
    for path in inbox.glob("*.eml"):
        if not path.name.startswith("01-"):
            path.unlink()
    db = tmp_path / "legacy.db"
    env = {
        "PYTHONPATH": str(ROOT),
        "PATH": "/usr/bin:/bin",
        "DESKHAND_LOGS_DIR": str(tmp_path / "logs"),
        "DESKHAND_LEASE_SECONDS": "2",
        "DESKHAND_RETRY_DELAY": "0",
        "DESKHAND_DB": f"sqlite:///{tmp_path / 'queue.db'}",
        "DESKHAND_SECRET_LEGACY_AP": json.dumps({"username": "clerk", "password": "ledger-2005"}),
    }
    faults = "slow=0.5" if moment == "save order" else None
    with app_server(db, faults) as url:
        args = [
            sys.executable,
            "run_bot.py",
            "run",
            "order_entry",
            "--input",
            str(inbox),
            "--target",
            url,
        ]
        proc = subprocess.Popen(
            args, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        subject = {"send confirmation": "Order confirmation", "send shipping request": "Shipping"}

        def kill_on_data(envelope):
            if moment in subject and subject[moment].encode() in envelope.original_content:
                proc.send_signal(signal.SIGKILL)  # before the server answers 250

        smtp_server.on_data = kill_on_data
        if moment == "save order":
            while proc.poll() is None and not _count(db, "orders"):
                time.sleep(0.02)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=300)
        assert proc.returncode == -signal.SIGKILL
        smtp_server.on_data = None
        if not faults:
            final = finish_queue(args, env, "orders", project)
    if faults:  # the rest against the app at its normal speed: only the kill needed slow pages
        with app_server(db) as url:
            args[args.index("--target") + 1] = url
            final = finish_queue(args, env, "orders", project)
    assert _count(db, "orders") == 1
    subjects = [m["Subject"] for m in smtp_server.messages()]
    assert len(subjects) == len(set(subjects)), subjects  # nothing sent twice
    if moment == "save order":  # reconciled: found the order, then sent both mails once
        assert final.returncode == 0, final.stdout[-1500:]
        assert len(subjects) == 2
    else:  # the killed mail is in doubt: a person checks, the bot never resends it
        assert final.returncode != 0
        assert "may have been sent" in final.stdout + final.stderr or _review(tmp_path)


def _count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.OperationalError:
        return 0


def _review(tmp_path: Path) -> bool:
    logs = list((tmp_path / "logs").rglob("steps.jsonl"))
    return any("may have been sent" in p.read_text() for p in logs)


def test_a_save_whose_answer_is_lost_is_reconciled_not_keyed_again(run, smtp_server, tmp_path):
    """The app commits every order and then answers HTTP 500 (fault mode lost=1): the next
    attempt finds the order, reads it back and sends each mail once."""
    from tests.conftest import LegacyApp

    inbox, truth = setup_inbox(tmp_path, smtp_server)
    for path in inbox.glob("*.eml"):
        if not path.name.startswith(("01-", "02-")):
            path.unlink()
    db = tmp_path / "lost.db"
    with app_server(db, "lost=1") as url:
        result = run("order_entry", input=inbox, target=url)
        app = LegacyApp(url, db)
        assert [r.status for r in result.items] == ["done", "done"]
        assert [r.attempts for r in result.items] == [2, 2]  # the save, then the reconcile
        assert sorted(o[1:] for o in orders(app)) == expected_orders(
            {k: v for k, v in truth.items() if k.startswith(("01-", "02-"))}
        )
        check_mails(smtp_server, app)
