"""The runner alone keeps "nothing keyed twice, nothing lost": a bot with no check of its own
keys invoices into a real target (a SQLite ledger that counts records), and faults are
injected at every boundary of its point of no return, on SQLite and PostgreSQL queues.

In-process runs for exceptions; real processes for signals (SIGTERM, SIGKILL, SIGSTOP) and
for two workers racing on the same invoice. Leases are short where a test waits for one to
run out; nothing asserts a duration.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.logs import read_events
from deskhand.queue import open_store
from deskhand.runner import run_bot

BOT = '''
"""Test bot: key each invoice into a SQLite ledger, no check of its own (as recorded)."""
import os, signal, sqlite3, time
from pathlib import Path

from deskhand import ApplicationError, Bot

bot = Bot("{name}", queue="ledger", max_attempts=3, requires=("input",))


def ledger():
    conn = sqlite3.connect(os.environ["LEDGER_DB"], timeout=30)
    conn.execute("CREATE TABLE IF NOT EXISTS records "
                 "(id INTEGER PRIMARY KEY, vendor TEXT, invoice TEXT, item TEXT)")
    return conn


def fault(ctx, name):
    """The fault the test asked for happens on an item's first attempt only."""
    return ctx.attempt == 1 and os.environ.get("LEDGER_FAULT") == name


def pause():
    time.sleep(float(os.environ.get("LEDGER_PAUSE", "0")))


@bot.source
def invoices(ctx):
    for spec in __import__("json").loads(ctx.input.read_text()):
        yield ctx.item(**spec)


@bot.process
def key_invoice(item, ctx):
    with ctx.step("read", file=item["name"]):
        pause()
        if fault(ctx, "before_intent"):
            raise ApplicationError("the target timed out before the save")
        if fault(ctx, "sigterm_before"):
            os.kill(os.getpid(), signal.SIGTERM)
        if fault(ctx, "stolen"):  # another runner takes the item over (its clock runs ahead),
            from datetime import UTC, datetime, timedelta  # then dies at once
            from deskhand.queue import open_store
            with open_store(ctx.settings.db) as store:
                ahead = datetime.now(UTC) + timedelta(seconds=1)
                store.claim("ledger", "thief", lease_seconds=0.5, now=ahead)
            while not ctx.beat.lost:  # this runner's heartbeat notices
                time.sleep(0.02)
    ctx.key(item["vendor"], item["invoice"])
    with ctx.step("save", point_of_no_return=True, invoice=item["invoice"]) as step:
        if fault(ctx, "freeze"):  # the test freezes this runner (SIGSTOP) here
            Path(os.environ["LEDGER_MARK"]).touch()
            while not Path(os.environ["LEDGER_GO"]).exists():
                time.sleep(0.02)
        ctx.action("insert", "ledger")  # a driver's action: the lease is checked first
        with ledger() as conn:
            cursor = conn.execute("INSERT INTO records (vendor, invoice, item) VALUES (?, ?, ?)",
                                  (item["vendor"], item["invoice"], item.reference))
        record = f"L-{{cursor.lastrowid}}"
        if fault(ctx, "sigterm_in"):
            os.kill(os.getpid(), signal.SIGTERM)
        pause()
        if fault(ctx, "in_ponr"):
            raise ApplicationError("no confirmation after Save")
        step.set(record=record)
    if fault(ctx, "after_outcome"):
        raise ApplicationError("the session expired after the save")
    with ctx.step("read back", record=record):
        if fault(ctx, "sigterm_after"):
            os.kill(os.getpid(), signal.SIGTERM)
        pause()
        if fault(ctx, "read_back"):
            raise ApplicationError("the record page timed out")
    return ctx.done(record=record)
'''

RECONCILE = """

@bot.reconcile
def already_keyed(item, ctx, checkpoint):
    with ledger() as conn:
        row = conn.execute("SELECT id FROM records WHERE vendor = ? AND invoice = ?",
                           (item["vendor"], item["invoice"])).fetchone()
    return None if row is None else ctx.done(record=f"L-{row[0]}")
"""


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project with two ledger bots (with and without a reconcile), a ledger, invoices."""
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "ledger.py").write_text(BOT.format(name="ledger") + RECONCILE)
    (root / "bots" / "ledger_plain.py").write_text(BOT.format(name="ledger_plain"))
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.db"))
    monkeypatch.delenv("LEDGER_FAULT", raising=False)
    return root


def invoices(root: Path, *specs: tuple[str, str, str]) -> Path:
    """The input: one invoice per (reference, vendor, number)."""
    path = root / "invoices.json"
    items = [{"reference": r, "vendor": v, "invoice": n, "name": f"{r}.pdf"} for r, v, n in specs]
    path.write_text(json.dumps(items))
    return path


def records(tmp_path: Path) -> list[tuple[str, str]]:
    """What the ledger holds; nothing while a bot has made its file but not its table yet."""
    db = tmp_path / "ledger.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT vendor, invoice FROM records ORDER BY id").fetchall()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def run_in_process(root: Path, name: str, tmp_path: Path, url: str, **cli):
    bot = load_bot(name, root)
    cli = {"logs_dir": tmp_path / "logs", "retry_delay": 0, "db": url, **cli}
    cli.setdefault("input", root / "invoices.json")
    return run_bot(bot, load_settings(root, bot.settings, cli))


def runner(root: Path, url: str, tmp_path: Path, *args: str, **env: str) -> subprocess.Popen:
    """run_bot.py in the project, as a user starts it."""
    env = {
        **os.environ,
        "DESKHAND_DB": url,
        "DESKHAND_LOGS_DIR": str(tmp_path / "logs"),
        "DESKHAND_RETRY_DELAY": "0",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run_bot.py"), *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until(condition, what: str, proc: subprocess.Popen | None = None) -> None:
    for _ in range(3000):
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"the runner ended before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.02)
    pytest.fail(f"gave up waiting for {what}")


def report_of(output: str) -> Path:
    return Path(output.split("report: ", 1)[1].split()[0])


def history(url: str, reference: str) -> list[str]:
    with open_store(url) as store:
        item = store.find("ledger", reference)
        return [e.event for e in store.history(item.id)]


# -- exceptions at each boundary, in process ------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "reconciled", "events"),
    [
        ("before_intent", "done", False, ["retry_scheduled", "claimed", "key", "intent"]),
        ("in_ponr", "done", True, ["intent", "retry_scheduled", "claimed", "completed"]),
        ("after_outcome", "done", True, ["intent", "outcome", "retry_scheduled", "claimed"]),
        ("read_back", "done", True, ["intent", "outcome", "retry_scheduled", "claimed"]),
    ],
)
def test_a_fault_at_each_boundary_keys_exactly_one_record(
    project, tmp_path, queue_url, monkeypatch, fault, status, reconciled, events
):
    invoices(project, ("a", "Nordwind Logistik GmbH", "RE-2026-0117"))
    monkeypatch.setenv("LEDGER_FAULT", fault)
    result = run_in_process(project, "ledger", tmp_path, queue_url)

    assert records(tmp_path) == [("Nordwind Logistik GmbH", "RE-2026-0117")]
    [item] = result.items
    assert (item.status, item.attempts) == (status, 2)
    assert item.output["record"] == "L-1"
    assert bool(item.output.get("reconciled")) is reconciled
    said = history(queue_url, "a")
    assert said[-1] == "completed" and said.count("completed") == 1
    assert " ".join(events) in " ".join(said)
    # A second attempt after the point of no return never records another intent.
    assert said.count("intent") == 1


@pytest.mark.parametrize("fault", ["after_outcome", "read_back"])
def test_without_a_reconcile_a_failure_after_the_save_goes_to_review_with_its_record(
    project, tmp_path, queue_url, monkeypatch, fault
):
    invoices(project, ("a", "Nordwind Logistik GmbH", "RE-2026-0117"))
    monkeypatch.setenv("LEDGER_FAULT", fault)
    result = run_in_process(project, "ledger_plain", tmp_path, queue_url)

    assert len(records(tmp_path)) == 1
    [item] = result.items
    assert (item.status, item.attempts) == ("needs_review", 1)  # not retried, not keyed again
    assert item.output["record"] == "L-1"
    assert "'save' created record L-1" in item.error["message"]
    assert "do not key it again" in item.error["message"]
    with open_store(queue_url) as store:
        saved = store.find("ledger", "a")
    assert saved.status == "needs_review" and saved.output["record"] == "L-1"
    end = [e for e in read_events(result.dir) if e["event"] == "item_end"][-1]
    assert end["output"]["record"] == "L-1"  # the report shows the record too
    assert "L-1" in result.report.read_text()


def test_a_lease_the_heartbeat_lost_stops_the_item_before_it_keys(
    project, tmp_path, queue_url, monkeypatch
):
    invoices(project, ("a", "V", "1"))
    monkeypatch.setenv("LEDGER_FAULT", "stolen")
    result = run_in_process(project, "ledger", tmp_path, queue_url, lease_seconds=0.3)

    [taken_over] = result.items  # the run waited for the thief's lease, then took over
    assert (taken_over.status, taken_over.attempts) == ("done", 3)
    lost, done = taken_over.tries  # this run's attempts (the thief's was attempt 2)
    assert lost.status == "lease_lost" and "another runner took it" in lost.end.error.message
    assert records(tmp_path) == [("V", "1")]
    # One item, done in the end: the run model counts items, not claims (report and summary).
    assert result.counts == {"done": 1, "needs_review": 0, "failed": 0}
    said = history(queue_url, "a")
    # The stale runner declared no key and recorded no intent: its writes were fenced off.
    assert said == ["added", "claimed", "lease_expired", "claimed", "lease_expired", "claimed",
                    "key", "intent", "outcome", "completed"]  # fmt: skip


def test_without_a_reconcile_a_save_that_may_have_happened_goes_to_review(
    project, tmp_path, queue_url, monkeypatch
):
    invoices(project, ("a", "Nordwind Logistik GmbH", "RE-2026-0117"))
    monkeypatch.setenv("LEDGER_FAULT", "in_ponr")
    result = run_in_process(project, "ledger_plain", tmp_path, queue_url)

    assert len(records(tmp_path)) == 1
    [item] = result.items
    assert (item.status, item.attempts) == ("needs_review", 2)
    assert "no @bot.reconcile: check the target by hand" in item.error["message"]


def test_an_outcome_in_the_checkpoint_completes_the_item_without_keying(
    project, tmp_path, queue_url
):
    """The runner died after the outcome was recorded (before completing): the next claim
    completes from the checkpoint, and an earlier attempt's record is never overwritten."""
    invoices(project, ("a", "Nordwind Logistik GmbH", "RE-2026-0117"))
    with open_store(queue_url) as store:
        item, _ = store.add("ledger", "a", {"vendor": "V", "invoice": "1", "name": "a.pdf"})
        claimed = store.claim("ledger", "dead-runner", lease_seconds=0.001)
        store.record_intent(item.id, "dead-runner", "save", {"invoice": "1"})
        store.record_outcome(item.id, "dead-runner", {"invoice": "1", "record": "L-77"})
        assert claimed.lease_token == 1
    result = run_in_process(project, "ledger_plain", tmp_path, queue_url)

    assert records(tmp_path) == []  # nothing keyed again
    [done] = result.items
    assert done.status == "done" and done.output == {
        "invoice": "1",
        "record": "L-77",
        "from_checkpoint": True,
    }
    with open_store(queue_url) as store:
        saved = store.find("ledger", "a")
    assert saved.checkpoint["entries"][0]["outcome"]["record"] == "L-77"
    assert saved.lease_token == 2


def test_a_rerun_says_what_the_queue_holds_already_and_failed_items_retry_in_one_command(
    project, tmp_path, queue_url, monkeypatch
):
    invoices(project, ("a", "V", "1"), ("b", "V", "2"))
    monkeypatch.setenv("LEDGER_FAULT", "before_intent")
    first = run_in_process(project, "ledger", tmp_path, queue_url, max_attempts=1)
    assert [i.status for i in first.items] == ["failed", "failed"]
    monkeypatch.delenv("LEDGER_FAULT")
    invoices(project, ("a", "V", "1"), ("b", "V", "2"), ("c", "V", "3"))
    proc = runner(project, queue_url, tmp_path, "run", "ledger", "--input", "invoices.json")
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 0, err
    assert "ledger: 1 items: 1 done, 0 needs review, 0 failed" in out
    assert "ledger: already in the queue: 2 failed earlier (queue retry --status failed)" in out
    retry = runner(project, queue_url, tmp_path, "queue", "retry", "--status", "failed",
                   "--bot", "ledger", "--db", queue_url)  # fmt: skip
    out, err = retry.communicate(timeout=120)
    assert retry.returncode == 0 and "2 failed items in queue ledger queued again" in out, err
    proc = runner(project, queue_url, tmp_path, "run", "ledger", "--input", "invoices.json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "ledger: 2 items: 2 done" in out and "1 already done" in out
    assert sorted(records(tmp_path)) == [("V", "1"), ("V", "2"), ("V", "3")]


# -- signals, in real processes -----------------------------------------------------


@pytest.mark.parametrize("fault", ["sigterm_in", "sigterm_after"])
def test_sigterm_during_or_after_the_save_completes_the_item(project, tmp_path, queue_url, fault):
    invoices(project, ("a", "V", "1"), ("b", "V", "2"))
    proc = runner(project, queue_url, tmp_path, "run", "ledger", "--input", "invoices.json",
                  LEDGER_FAULT=fault)  # fmt: skip
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 143, err  # stopped by a signal: documented, not 0
    assert records(tmp_path) == [("V", "1")]  # the stop came after the save: completed
    with open_store(queue_url) as store:
        assert store.find("ledger", "a").status == "done"
        assert store.find("ledger", "a").output["record"] == "L-1"
        assert (store.find("ledger", "b").status, store.find("ledger", "b").attempts) == (
            "new",
            0,
        )
    assert "[1/" in out and "done" in out and "stopped by a signal" in out


def test_sigterm_before_the_save_releases_the_item_and_says_so(project, tmp_path, queue_url):
    invoices(project, ("a", "V", "1"))
    proc = runner(project, queue_url, tmp_path, "run", "ledger", "--input", "invoices.json",
                  LEDGER_FAULT="sigterm_before")  # fmt: skip
    out, err = proc.communicate(timeout=120)

    assert proc.returncode == 143, err
    assert "ledger: 1 items: 0 done, 0 needs review, 0 failed, 1 released" in out
    assert records(tmp_path) == []
    assert history(queue_url, "a") == ["added", "claimed", "released"]
    assert "<th>released</th>" in report_of(out).read_text()
    again = runner(project, queue_url, tmp_path, "worker", "ledger")
    assert again.wait(timeout=120) == 0, again.stderr.read()
    assert records(tmp_path) == [("V", "1")]


def test_sigkill_at_random_points_keys_every_invoice_exactly_once(project, tmp_path, queue_url):
    specs = [(f"inv-{n}", "Nordwind Logistik GmbH", f"RE-{n}") for n in range(5)]
    invoices(project, *specs)
    env = {"LEDGER_PAUSE": "0.05", "DESKHAND_LEASE_SECONDS": "1", "DESKHAND_MAX_ATTEMPTS": "20"}
    args = ("run", "ledger", "--input", "invoices.json")
    rng = random.Random(12)
    kills = 0
    for _ in range(3):  # each runner is killed at a random point once it has keyed something
        before = len(records(tmp_path))
        proc = runner(project, queue_url, tmp_path, *args, **env)
        keyed = lambda p=proc, n=before: p.poll() is not None or len(records(tmp_path)) > n  # noqa: E731
        wait_until(keyed, "the runner to key something")
        time.sleep(rng.uniform(0, 0.3))
        if proc.poll() is not None:
            break
        proc.kill()  # SIGKILL: no clean-up, no release, mid-whatever-it-was-doing
        proc.wait()
        kills += 1
    final = runner(project, queue_url, tmp_path, *args, **env)
    out, err = final.communicate(timeout=300)

    assert final.returncode == 0, err
    assert sorted(records(tmp_path)) == sorted((v, n) for _, v, n in specs)
    with open_store(queue_url) as store:
        assert {k: n for k, n in store.counts("ledger").items() if n} == {"done": 5}
    assert kills >= 1, "every run ended before its kill: the test killed nothing"


def test_a_frozen_runner_whose_lease_expired_does_not_key_again(project, tmp_path, queue_url):
    invoices(project, ("a", "V", "1"))
    mark, go = tmp_path / "in-save", tmp_path / "go"
    env = {"DESKHAND_LEASE_SECONDS": "1", "LEDGER_MARK": str(mark), "LEDGER_GO": str(go)}
    first = runner(project, queue_url, tmp_path, "run", "ledger", "--input", "invoices.json",
                   LEDGER_FAULT="freeze", **env)  # fmt: skip
    try:
        wait_until(mark.exists, "the first runner to record its intent", first)
        first.send_signal(signal.SIGSTOP)  # frozen inside 'save'; its lease runs out
        second = runner(project, queue_url, tmp_path, "worker", "ledger", **env)
        out2, err2 = second.communicate(timeout=120)
        assert second.returncode == 0, err2
        assert records(tmp_path) == [("V", "1")]
    finally:
        go.touch()
        first.send_signal(signal.SIGCONT)
    out1, err1 = first.communicate(timeout=120)

    assert records(tmp_path) == [("V", "1")]  # the first runner resumed and did not key
    # Its item is done by the second runner: not this run's failure (the runner's hand-over).
    assert first.returncode == 0, err1
    assert "lease_lost" in out1 and "lease lost" in out1  # its own status, not "failed"
    assert "0 failed" in out1 and "1 item handed over" in out1
    assert "<th>lease lost</th>" in report_of(out1).read_text()
    with open_store(queue_url) as store:
        item = store.find("ledger", "a")
        said = [e.event for e in store.history(item.id)]
    assert item.status == "done" and item.lease_token == 2
    assert said.count("intent") == 2 and said.count("completed") == 1
    assert "lease_expired" in said


def test_the_same_invoice_as_two_files_on_two_workers_is_keyed_once(project, tmp_path, queue_url):
    # Two scans of one invoice: different bytes, so different references, one business key.
    specs = [("scan-1", "Nordwind Logistik GmbH", "RE-2026-0117"),
             ("scan-2", "Nordwind  Logistik GmbH", "re-2026-0117")]  # fmt: skip
    with open_store(queue_url) as store:
        for ref, vendor, number in specs:
            store.add("ledger", ref, {"vendor": vendor, "invoice": number, "name": ref})
    env = {"LEDGER_PAUSE": "0.3"}
    workers = [runner(project, queue_url, tmp_path, "worker", "ledger", **env) for _ in range(2)]
    for proc in workers:
        proc.wait(timeout=120)

    assert len(records(tmp_path)) == 1
    with open_store(queue_url) as store:
        items = {ref: store.find("ledger", ref) for ref, _, _ in specs}
    statuses = sorted(i.status for i in items.values())
    assert statuses == ["done", "needs_review"], [i.error_message for i in items.values()]
    [dup] = [i for i in items.values() if i.status == "needs_review"]
    [kept] = [i for i in items.values() if i.status == "done"]
    assert f"duplicate: item {kept.id} ({kept.reference})" in dup.error_message
    assert "record L-1" in dup.error_message
    with open_store(queue_url) as store:
        assert not any(e.event == "intent" for e in store.history(dup.id))


# -- several points of no return: the reconcile confirms what exists, the process resumes ----

TWO_STEPS = '''
"""Test bot: an order saved in the ledger, then a notice sent (a second point of no return)."""
import os, sqlite3

from deskhand import RESUME, ApplicationError, Bot

bot = Bot("orders", queue="ledger", max_attempts=3, requires=("input",))


def ledger():
    conn = sqlite3.connect(os.environ["LEDGER_DB"], timeout=30)
    conn.execute("CREATE TABLE IF NOT EXISTS records "
                 "(id INTEGER PRIMARY KEY, vendor TEXT, invoice TEXT, item TEXT)")
    return conn


def find(kind, item):
    with ledger() as conn:
        row = conn.execute("SELECT id FROM records WHERE vendor = ? AND invoice = ?",
                           (kind, item["invoice"])).fetchone()
    return None if row is None else f"L-{row[0]}"


def insert(kind, item):
    with ledger() as conn:
        cursor = conn.execute("INSERT INTO records (vendor, invoice, item) VALUES (?, ?, ?)",
                              (kind, item["invoice"], item.reference))
    return f"L-{cursor.lastrowid}"


@bot.source
def orders(ctx):
    for spec in __import__("json").loads(ctx.input.read_text()):
        yield ctx.item(**spec)


@bot.process
def key_order(item, ctx):
    ctx.key(item["vendor"], item["invoice"])
    with ctx.step("save order", point_of_no_return=True) as step:
        order = find("order", item) or insert("order", item)  # looks before it keys
        step.set(record=order)
    with ctx.step("send notice", point_of_no_return=True) as step:
        if ctx.attempt == 1:
            raise ApplicationError("the mail server is down")
        step.set(notice=find("notice", item) or insert("notice", item))
    return ctx.done(record=order)


@bot.reconcile
def found(item, ctx, checkpoint):
    order, notice = find("order", item), find("notice", item)
    if order and notice:
        return ctx.done(record=order)
    return RESUME if order else None
'''


def test_a_bot_with_two_points_of_no_return_resumes_after_the_second_fails(
    project, tmp_path, queue_url
):
    (project / "bots" / "orders.py").write_text(TWO_STEPS)
    invoices(project, ("o-1", "Acme", "ORD-1"))
    result = run_in_process(project, "orders", tmp_path, queue_url)
    assert [(i.status, i.attempts) for i in result.items] == [("done", 2)]
    # one order and one notice: the order saved on attempt 1 was not keyed again
    assert records(tmp_path) == [("order", "ORD-1"), ("notice", "ORD-1")]
    events = history(queue_url, "o-1")
    assert events.count("outcome") == 3 and events[-1] == "completed"  # order, order, notice
