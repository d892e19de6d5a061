"""Many machines: runners on separate hosts work one PostgreSQL queue, and one host is lost.

The test builds three network namespaces joined by a bridge on a private link (10.213.0.0/24):
``db`` (PostgreSQL and the demo app), ``a`` and ``b`` (one runner each, with a host name,
a project folder and a logs folder of its own), plus a link for the test itself, the
operator's host. It queues 30 invoices from a folder no runner ever reads (deleted once
queued: the documents travel in the queue), lets both runners key, then cuts host b's link
in the middle of an item. Host a takes b's item back once its lease has run out; when b's
link comes back, b finds its lease gone and drops the item without keying; b is killed;
host a finishes. Every invoice is in the app's database once, field for field.

Skipped only where network namespaces cannot be made (not root); CI runs as root.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import ROOT, LegacyApp
from pg_cluster import find_pg_bin
from test_invoice_entry import as_keyed, saved_as

from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.logs import RunLog, read_events
from deskhand.queue import open_store
from deskhand.queue.runners import list_runners
from deskhand.runner import Run, enqueue

pytestmark = pytest.mark.slow

NET = "10.213.0"
DB_HOST, TEST_HOST = f"{NET}.1", f"{NET}.9"
HOSTS = {"a": f"{NET}.2", "b": f"{NET}.3"}
LEASE_SECONDS = 6  # short: the lost host's item comes back soon
DOCUMENTS = 30  # as the issue asks; b is cut half-way, a keys the rest


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


class Network:
    """The namespaces and their links; ``cut``/``restore`` a runner host's link."""

    def __init__(self) -> None:
        tag = f"dhm{os.getpid() % 100000}"
        self.ns = {name: f"{tag}-{name}" for name in ("db", "a", "b")}
        self.test_link = f"{tag}t"
        self.made: list[str] = []

    def build(self) -> None:
        try:
            ip("netns", "add", self.ns["db"])
        except (OSError, subprocess.CalledProcessError) as error:
            why = getattr(error, "stderr", None) or str(error)
            pytest.skip(f"network namespaces cannot be created here ({why.strip()}): run as root")
        self.made.append(self.ns["db"])
        db = self.ns["db"]
        ip("-n", db, "link", "set", "lo", "up")
        ip("-n", db, "link", "add", "br0", "type", "bridge")
        ip("-n", db, "addr", "add", f"{DB_HOST}/24", "dev", "br0")
        ip("-n", db, "link", "set", "br0", "up")
        for host, address in HOSTS.items():
            ns = self.ns[host]
            ip("netns", "add", ns)
            self.made.append(ns)
            ip("-n", db, "link", "add", f"v{host}", "type", "veth", "peer", "name", "eth0",
               "netns", ns)  # fmt: skip
            ip("-n", db, "link", "set", f"v{host}", "master", "br0", "up")
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", "eth0")
            ip("-n", ns, "link", "set", "eth0", "up")
            ip("-n", ns, "link", "set", "lo", "up")
        # The test's own host (this process): one more port on the bridge.
        ip("link", "add", self.test_link, "type", "veth", "peer", "name", "vt", "netns", db)
        ip("-n", db, "link", "set", "vt", "master", "br0", "up")
        ip("addr", "add", f"{TEST_HOST}/24", "dev", self.test_link)
        ip("link", "set", self.test_link, "up")

    def cut(self, host: str) -> None:
        ip("-n", self.ns[host], "link", "set", "eth0", "down")

    def restore(self, host: str) -> None:
        ip("-n", self.ns[host], "link", "set", "eth0", "up")

    def remove(self) -> None:
        for ns in reversed(self.made):  # the veth pairs (the test's too) go with them
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Postgres:
    """A throwaway PostgreSQL cluster serving only the db host's address on the link."""

    def __init__(self, ns: str) -> None:
        self.ns = ns
        self.bin = find_pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="deskhand-pg-netns-"))
        shutil.chown(self.dir, "postgres", "postgres")
        self.url = f"postgresql+psycopg://postgres@{DB_HOST}:5432/postgres"

    def _run(self, *args: str, ns: bool = False) -> None:
        command = ["runuser", "-u", "postgres", "--", *args]
        if ns:
            command = ["ip", "netns", "exec", self.ns, *command]
        done = subprocess.run(command, cwd=self.dir, capture_output=True, text=True,
                              env={**os.environ, "LC_ALL": "C"})  # fmt: skip
        if done.returncode:
            log = self.dir / "server.log"
            tail = log.read_text()[-500:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr[-500:]} {tail}")

    def start(self) -> None:
        data = self.dir / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {NET}.0/24 trust\n")
        options = f"-p 5432 -c listen_addresses={DB_HOST} -k {self.dir} -c fsync=off"
        self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "server.log"),
                  "-w", "-t", "30", "-o", options, "start", ns=True)  # fmt: skip

    def stop(self) -> None:
        if (self.dir / "data" / "postmaster.pid").exists():
            try:
                self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                          "immediate", "-w", "stop")  # fmt: skip
            except RuntimeError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def in_host(ns: str, name: str, command: list[str]) -> list[str]:
    """``command`` run in namespace ``ns`` under the host name ``name``."""
    hostname = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', name]
    return ["ip", "netns", "exec", ns, *hostname, *command]


def wait_until(condition, what: str, procs=(), timeout: float = 300):
    """Poll ``condition`` until it holds (its value returned); fail if a process died."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{what}: {proc.args[-1]} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.2)


def runner_project(home: Path) -> Path:
    """A host's own project folder: the project's bots, selectors, templates and demo (its
    code, as each host installs it), and its own caches, logs and working files."""
    project = home / "project"
    project.mkdir(parents=True)
    for name in ("bots", "selectors", "templates", "demo", "pyproject.toml"):
        (project / name).symlink_to(ROOT / name)
    return project


@pytest.mark.slow(75)
def test_runners_on_two_hosts_and_a_host_lost_mid_run(batch, tmp_path, ground_truth):
    net = Network()
    procs: list[subprocess.Popen] = []
    pg = None
    try:
        net.build()
        pg = Postgres(net.ns["db"])
        pg.start()
        app_db = tmp_path / "db-host" / "legacy.db"
        app_db.parent.mkdir()
        app_url = f"http://{DB_HOST}:8765/"
        with open(tmp_path / "db-host" / "app.log", "w") as out:
            procs.append(subprocess.Popen(
                ["ip", "netns", "exec", net.ns["db"], sys.executable, "-m", "demo.legacy_app",
                 "--host", DB_HOST, "--port", "8765", "--db", str(app_db)],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        wait_until(lambda: _answers(DB_HOST, 8765), "the demo app on the db host", procs)

        # The operator's host queues the invoices, then its folder is gone.
        inbox, truth = batch(DOCUMENTS)
        bot = load_bot("invoice_entry", ROOT)
        cli = {"input": inbox, "db": pg.url, "logs_dir": tmp_path / "operator" / "logs"}
        settings = load_settings(ROOT, bot.settings, cli)
        with open_store(pg.url) as store, RunLog(settings.logs_dir, bot.name) as log:
            enqueue(Run(bot, settings, log, store=store))
            assert store.counts("invoices")["new"] == DOCUMENTS
        shutil.rmtree(inbox)

        homes = {host: tmp_path / f"host-{host}" for host in HOSTS}
        runners = {}
        for host, home in homes.items():
            project = runner_project(home)
            env = {
                **os.environ,
                "PYTHONPATH": str(ROOT),
                "HOME": str(home),
                "DESKHAND_LOGS_DIR": str(home / "logs"),
                "DESKHAND_LEASE_SECONDS": str(LEASE_SECONDS),
                "DESKHAND_RETRY_DELAY": "0",
            }
            command = [sys.executable, str(ROOT / "run_bot.py"), "worker", "invoice_entry",
                       "--target", app_url, "--db", pg.url]  # fmt: skip
            with open(home / "runner.out", "w") as out:
                runners[host] = subprocess.Popen(
                    in_host(net.ns[host], f"host-{host}", command),
                    cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            procs.append(runners[host])

        with open_store(pg.url) as store:
            owners = wait_until(lambda: _owners(store), "both runners registered", procs)

            def held_by(host: str) -> list:
                return [i for i in store.list("invoices", "in_progress") if
                        i.lease_owner == owners[host]]  # fmt: skip

            def done_by(host: str) -> int:
                return sum(1 for i in store.list("invoices", "done", limit=None)
                           if any(e.event == "completed" and e.runner == owners[host]
                                  for e in store.history(i.id)))  # fmt: skip

            # Both hosts work; half-way, host b's link is cut while b holds an item.
            wait_until(lambda: done_by("a") >= 2 and done_by("b") >= 2 and
                       store.counts("invoices")["done"] >= DOCUMENTS // 2, "both hosts keying",
                       procs)  # fmt: skip
            while True:
                wait_until(lambda: held_by("b"), "host b holding an item", procs)
                net.cut("b")
                time.sleep(0.5)  # what b sent before the cut has landed
                lost = held_by("b")
                if lost:
                    break
                net.restore("b")  # b was between items: try again
            cut_at = time.time()
            lost_ids = [i.id for i in lost]

            # Host a takes b's items back once their lease has run out (meanwhile b shows as
            # lost, a as working: a holds b's item), and keys them.
            def taken_by_a(item_id: int) -> bool:
                return any(e.event == "lease_expired" and e.runner == owners["a"]
                           for e in store.history(item_id))  # fmt: skip

            wait_until(lambda: all(map(taken_by_a, lost_ids)), "host a taking b's items back",
                       [runners["a"]])  # fmt: skip

            # b shows as lost once a whole lease has passed since its last beat (its beat may
            # be later than its item's last renewal), while a, keying the rest, is working.
            def states() -> dict[str, str]:
                return {r.id: r.state() for r in list_runners(store)}

            wait_until(lambda: states()[owners["b"]] == "lost", "host b shown as lost",
                       [runners["a"]], timeout=3 * LEASE_SECONDS)  # fmt: skip
            assert states()[owners["a"]] == "working"
            wait_until(lambda: all(store.get(i).status == "done" for i in lost_ids),
                       "host a finishing host b's items", [runners["a"]])  # fmt: skip
            for item in lost:
                history = store.history(item.id)
                for entry in history:  # the lost host's item, step by step (pytest -s)
                    print(f"item {item.id}: {entry.at:%H:%M:%S.%f} {entry.event:14} "
                          f"{entry.runner} {entry.detail}")  # fmt: skip
                print(f"item {item.id}: {datetime.fromtimestamp(cut_at, UTC):%H:%M:%S.%f} link cut")
                taken = [e for e in history if e.event == "lease_expired"]
                assert taken and taken[-1].runner == owners["a"], history
                assert taken[-1].detail["previous_owner"] == owners["b"]
                expired = datetime.fromisoformat(taken[-1].detail["lease_expires"])
                assert expired <= taken[-1].at  # after the lease, not before
                assert [e.runner for e in history if e.event == "completed"] == [owners["a"]]

            # b's link comes back: b finds its lease gone and drops the item, keying nothing.
            net.restore("b")
            references = {item.reference for item in lost}
            wait_until(lambda: references <= _lease_lost(homes["b"]),
                       "host b noticing it lost its lease", [runners["b"]])  # fmt: skip
            runners["b"].send_signal(signal.SIGKILL)  # and then host b is gone for good
            runners["b"].wait(30)

            # Host a finishes everything, b's unfinished work included.
            assert runners["a"].wait(600) == 0, (homes["a"] / "runner.out").read_text()
            assert store.counts("invoices")["done"] == DOCUMENTS
            for entry in (e for i in lost_ids for e in store.history(i)):
                if entry.runner == owners["b"]:  # nothing b did after the cut was saved
                    assert entry.at.timestamp() <= cut_at, entry

        # Every invoice keyed exactly once, field for field, in the app's own database.
        saved = LegacyApp(app_url, app_db).invoices()
        assert len(saved) == DOCUMENTS
        by_number = {(r["vendor"], r["invoice_number"]): r for r in saved}
        assert len(by_number) == DOCUMENTS
        for name, invoice in truth.items():
            row = by_number[(invoice["vendor"], invoice["invoice_number"])]
            assert as_keyed(row) == saved_as(invoice, name), name
        # Each host read its own local copies, never the operator's folder.
        for home in homes.values():
            for run_dir in (home / "logs" / "invoice_entry").iterdir():
                for event in read_events(run_dir):
                    if event["event"] == "item_start":
                        path = Path(event["data"]["file"])
                        assert path.is_relative_to(run_dir / "files"), path
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        if pg is not None:
            pg.stop()
        net.remove()


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _owners(store) -> dict[str, str] | None:
    """Each host's runner id (its lease owner name), once both registered."""
    found = {r.host.removeprefix("host-"): r.id for r in list_runners(store)}
    return found if set(HOSTS) <= set(found) else None


def _lease_lost(home: Path) -> set[str]:
    """References of the items host ``home`` gave up because another runner had them."""
    found = set()
    for run_dir in (home / "logs" / "invoice_entry").glob("*"):
        try:
            events = read_events(run_dir)
        except (OSError, ValueError):  # being written
            continue
        found |= {
            e["item"] for e in events if e["event"] == "item_end" and e["status"] == "lease_lost"
        }
    return found
