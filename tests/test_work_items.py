"""Exactly-once keying through the queue: a runner killed at random points, a failing target,
and two workers on one queue. Real Chromium, the real demo app, SQLite and PostgreSQL."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import LegacyApp, app_server

from deskhand.logs import read_events
from deskhand.queue import open_store

pytestmark = pytest.mark.slow


def assert_keyed_exactly_once(app: LegacyApp, truth: dict) -> None:
    saved = app.invoices()
    keys = Counter((r["vendor"], r["invoice_number"]) for r in saved)
    assert max(keys.values()) == 1, f"keyed twice: {[k for k, n in keys.items() if n > 1]}"
    expected = {(t["vendor"], t["invoice_number"]): t for t in truth.values()}
    assert set(keys) == set(expected)
    for row in saved:
        t = expected[(row["vendor"], row["invoice_number"])]
        assert (row["amount"], row["tax"], row["invoice_date"]) == (
            t["total"],
            t["tax"],
            t["invoice_date"],
        )
        assert row["lines"] == t["lines"]


def runner(args: list[str], env: dict, project, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    """run_bot.py ARGS started from the folder ``project`` (the fixture); ``stdout=PIPE``
    to read the run's summary (a test that does must read it: ``communicate``)."""
    return subprocess.Popen(
        [sys.executable, "run_bot.py", *args],
        cwd=project,
        env={**os.environ, **env},
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )


KILLS = 6  # three at a random point of an item, three right after the app saved one


def holding(store, proc: subprocess.Popen) -> set[int]:
    """The items ``proc`` holds (its lease owner name is host:pid:run)."""
    return {
        item.id
        for item in store.list("invoices", "in_progress", limit=None)
        if f":{proc.pid}:" in (item.lease_owner or "")
    }


def kill_at_a_random_point(store, proc: subprocess.Popen, rng: random.Random) -> bool:
    """SIGKILL ``proc`` at a random moment of its first item (browser start, log-in, keying,
    save, read back, completion: up to 5 s after its claim), at the latest when it claims a
    second one; False if it ended first. One item done per run at most: the batch outlasts
    the kills on any machine, and no kill is spent on a run that has not claimed yet."""
    while not (first := holding(store, proc)):
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    deadline = time.monotonic() + rng.uniform(0.0, 5.0)
    while time.monotonic() < deadline and not holding(store, proc) - first:
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    proc.kill()  # SIGKILL: no clean-up, no release, mid-whatever-it-was-doing
    proc.wait()
    return True


def kill_once_the_app_has_saved(app: LegacyApp, proc: subprocess.Popen) -> bool:
    """SIGKILL ``proc`` the moment the app has committed an invoice it keyed: past its point
    of no return, before or while it reads the answer; False if it ended first."""
    before = app.query("SELECT COUNT(*) FROM invoices")[0][0]
    while app.query("SELECT COUNT(*) FROM invoices")[0][0] == before:
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    return True


# Each end-to-end scenario below runs on one queue backend: what differs between the backends
# (claims, leases, fencing, a killed writer) is proven on both by test_exactly_once.py and
# test_queue.py, and two runners on PostgreSQL by test_many_machines.py.
@pytest.mark.slow(45)
@pytest.mark.parametrize("queue_url", ["sqlite"], indirect=True)  # the default, one machine
def test_runner_killed_at_random_points_loses_nothing_and_keys_nothing_twice(
    batch, legacy_app, queue_url, tmp_path, project
):
    inbox, truth = batch(KILLS + 2)
    env = {
        "DESKHAND_DB": queue_url,
        "DESKHAND_LOGS_DIR": str(tmp_path / "logs"),
        "DESKHAND_LEASE_SECONDS": "2",  # a dead runner's item comes back quickly
        "DESKHAND_RETRY_DELAY": "0",
        # A killed attempt counts: every kill may land on the same (first) item, so allow
        # more attempts than kills.
        "DESKHAND_MAX_ATTEMPTS": str(KILLS + 2),
    }
    args = ["run", "invoice_entry", "--input", str(inbox), "--target", legacy_app.url]
    rng = random.Random(20261122)
    kills = 0
    with open_store(queue_url) as store:
        first = runner(args, env, project)  # dies as its batch appears in the queue
        while first.poll() is None and not sum(store.counts("invoices").values()):
            time.sleep(0.01)
        first.kill()
        assert first.wait() == -signal.SIGKILL, first.stderr.read()[-2000:]
        while kills < KILLS:  # every other run dies just after the app saved
            proc = runner(args, env, project)
            if kills % 2 and kill_once_the_app_has_saved(legacy_app, proc):
                kills += 1
            elif not kills % 2 and kill_at_a_random_point(store, proc, rng):
                kills += 1
            else:
                break
    assert kills == KILLS
    final = runner(args, env, project)
    if final.wait(timeout=600) != 0:
        with open_store(queue_url) as store:
            left = [(i.reference, i.status, i.attempts, i.error) for i in store.list("invoices")]
        pytest.fail(f"{[i for i in left if i[1] != 'done']} {final.stderr.read()[-2000:]}")

    assert_keyed_exactly_once(legacy_app, truth)
    with open_store(queue_url) as store:
        assert {k: n for k, n in store.counts("invoices").items() if n} == {"done": KILLS + 2}
        claims = [
            e
            for item in store.list("invoices", limit=100)
            for e in store.history(item.id)
            if e.event == "lease_expired"
        ]
    assert claims, "no item was taken back from a killed runner: the kills missed the work"


@pytest.mark.slow(20)
@pytest.mark.parametrize("queue_url", ["postgresql"], indirect=True)
def test_failing_target_every_item_done_retries_in_the_log(batch, run, tmp_path, queue_url):
    inbox, truth = batch(4)  # the seed's dice inject each kind within the first two
    faults = "error=0.03,lost=0.25,latency=0.1:0.3,expire=40,modal=0.1,seed=7"
    with app_server(tmp_path / "faulty.db", faults) as url:
        app = LegacyApp(url, tmp_path / "faulty.db")
        result = run(
            "invoice_entry",
            input=inbox,
            target=url,
            db=queue_url,
            max_attempts=8,
            timeout_ms=2500,
        )
        counts = app_faults(url)

    assert [i.status for i in result.items] == ["done"] * 4, [i.error for i in result.items]
    assert_keyed_exactly_once(app, truth)
    events = read_events(result.dir)
    retries = [e for e in events if e["event"] == "retry"]
    reconciled = [i for i in result.items if i.output.get("reconciled")]
    assert counts["modal"] > 0 and counts["error"] > 0
    assert retries, "faults were injected but nothing was retried"
    # Every lost response (saved, then HTTP 500 or an expired session) was reconciled with
    # the app, never keyed again.
    assert len(reconciled) >= counts["lost"] > 0


def app_faults(url: str) -> dict:
    import json
    import urllib.request

    with urllib.request.urlopen(url + "_faults") as response:
        return json.load(response)


@pytest.mark.slow(35)
@pytest.mark.parametrize("queue_url", ["sqlite"], indirect=True)  # PostgreSQL: many_machines
def test_two_workers_on_one_queue_never_process_an_item_twice(
    batch, legacy_app, queue_url, tmp_path, project
):
    inbox, truth = batch(10)
    env = {"DESKHAND_DB": queue_url, "DESKHAND_LOGS_DIR": str(tmp_path / "logs")}
    args = ["run", "invoice_entry", "--input", str(inbox), "--target", legacy_app.url]
    workers = [
        runner(args, env, project),
        runner(args, env, project),
    ]  # both queue the batch, both work it
    for proc in workers:
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, (out[-3000:], err[-2000:])

    assert_keyed_exactly_once(legacy_app, truth)
    with open_store(queue_url) as store:
        items = store.list("invoices", limit=100)
        assert len(items) == 10 and {i.status for i in items} == {"done"}
        owners = Counter()
        for item in items:
            history = store.history(item.id)
            events = [e.event for e in history]
            assert events.count("completed") == 1, events
            # Claimed again only after it was given back (a retry), never while held.
            for before, event in zip(events, events[1:]):
                if event == "claimed":
                    assert before in ("added", "retry_scheduled", "released"), events
            owners[next(e.runner for e in history if e.event == "completed")] += 1
    assert len(owners) == 2, f"one worker did everything: {owners}"
