"""For tests and benchmarks (test infrastructure, not part of the package): a throwaway
PostgreSQL cluster, and claim loops in worker processes.

    with PostgresCluster() as pg:              # initdb + pg_ctl start into a temp folder
        url = pg.create_database()             # postgresql+psycopg://postgres@127.0.0.1:…/…
        url = pg.empty_database()              # one database, emptied on each call (tests)
        reports = run_workers(url, "q", workers=4)

    pg = shared_cluster(folder, prefix="gw0")  # pytest-xdist: the first worker starts it,
                                               # the others attach; stop_shared() ends it

The cluster uses Debian's binaries (/usr/lib/postgresql/<version>/bin). initdb refuses to
run as root, so as root the server runs as the ``postgres`` user through ``runuser``.
"""

from __future__ import annotations

import atexit
import fcntl
import glob
import json
import multiprocessing
import os
import queue as queue_module
import shutil
import socket
import subprocess
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from deskhand.errors import ConfigError

PG_USER = "postgres"


def find_pg_bin() -> Path:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        raise ConfigError(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "apt-get install postgresql (or run `make test`, which installs it)"
        )
    newest = max(found, key=lambda p: [int(x) for x in Path(p).parts[-3].split(".")])
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresCluster:
    """A PostgreSQL server in a temporary folder on a free port of 127.0.0.1, trust auth.

    ``durable=False`` (tests) turns fsync off; benchmarks keep the defaults. ``prefix``
    names the databases this object makes (processes sharing a cluster use their own).
    """

    def __init__(self, durable: bool = False, prefix: str = "deskhand") -> None:
        self.durable = durable
        self.prefix = prefix
        self.bin = find_pg_bin()
        self.dir: Path | None = None
        self.port: int | None = None
        self.owner = True  # False: attached to a server another process stops
        self._count = 0
        self._databases: set[str] = set()
        self._admin = None

    # -- life cycle -------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        self.dir = Path(tempfile.mkdtemp(prefix="deskhand-pg-"))
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def _start(self) -> None:
        if os.geteuid() == 0:
            try:
                shutil.chown(self.dir, PG_USER, PG_USER)
            except LookupError:
                raise ConfigError(
                    f"no {PG_USER!r} user to run PostgreSQL as (initdb refuses root): "
                    "apt-get install postgresql"
                ) from None
        data = self.dir / "data"
        self._run(
            "initdb", "-D", data, "-U", PG_USER, "-A", "trust", "-E", "UTF8",
            "--locale=C", "--no-sync",
        )  # fmt: skip
        settings = f"-c listen_addresses=127.0.0.1 -k {self.dir}"
        if not self.durable:
            settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        for attempt in range(3):  # a free port can be taken between choosing and binding
            self.port = _free_port()
            try:
                self._run(
                    "pg_ctl", "-D", data, "-l", self.dir / "server.log", "-w", "-t", "30",
                    "-o", f"-p {self.port} {settings}", "start",
                )  # fmt: skip
                return
            except ConfigError:
                if attempt == 2:
                    raise

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove its folder; an attached cluster only
        closes its own connection."""
        atexit.unregister(self.stop)
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self.dir is None or not self.owner:
            return
        if (self.dir / "data" / "postmaster.pid").exists():
            try:
                self._run("pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")
            except ConfigError:
                pass  # already gone
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- databases --------------------------------------------------------------------

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its SQLAlchemy URL."""
        if name is None:
            self._count += 1
            name = f"{self.prefix}_{self._count}"
        self._sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def empty_database(self, name: str | None = None) -> str:
        """The database ``name`` (default ``<prefix>_test``), emptied (schema dropped and made
        again; much faster than CREATE DATABASE, for a fresh state per test); returns its
        SQLAlchemy URL."""
        import psycopg

        name = name or f"{self.prefix}_test"
        if name not in self._databases:
            self.create_database(name)
            self._databases.add(name)
        else:
            with psycopg.connect(**self._connect_args(name)) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.discard(name)

    def _connect_args(self, database: str) -> dict:
        return {
            "host": "127.0.0.1",
            "port": self.port,
            "user": PG_USER,
            "dbname": database,
            "autocommit": True,
        }

    def _sql(self, sql: str) -> None:
        import psycopg

        if self._admin is None:
            self._admin = psycopg.connect(**self._connect_args("postgres"))
        self._admin.execute(sql)

    def _run(self, tool: str, *args: object) -> None:
        command = [str(self.bin / tool), *map(str, args)]
        if os.geteuid() == 0:
            command = ["runuser", "-u", PG_USER, "--", *command]
        done = subprocess.run(
            command,
            cwd=self.dir,
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C"},
        )
        if done.returncode != 0:
            log = self.dir / "server.log" if self.dir else None
            tail = log.read_text().strip().splitlines()[-3:] if log and log.exists() else []
            raise ConfigError(
                f"{tool} failed ({done.returncode}): "
                + " | ".join([*done.stderr.strip().splitlines()[-3:], *tail])
            )


# -- one cluster shared by the processes of a test session -------------------------------


def shared_cluster(folder: Path, prefix: str) -> PostgresCluster:
    """The cluster of ``folder`` (a folder every process of the session knows): started by
    the first process to ask (under a file lock), attached to by the others. Nobody's exit
    stops it: the process that made ``folder`` calls :func:`stop_shared` at the end."""
    with open(folder / "cluster.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        info = folder / "cluster.json"
        if info.exists():
            saved = json.loads(info.read_text())
            cluster = PostgresCluster(prefix=prefix)
            cluster.dir, cluster.port = Path(saved["dir"]), saved["port"]
        else:
            cluster = PostgresCluster(prefix=prefix).start()
            atexit.unregister(cluster.stop)  # other processes may still use it
            info.write_text(json.dumps({"dir": str(cluster.dir), "port": cluster.port}))
        cluster.owner = False
        return cluster


def stop_shared(folder: Path) -> None:
    """Stop the cluster :func:`shared_cluster` started in ``folder``, if any."""
    info = folder / "cluster.json"
    if info.exists():
        saved = json.loads(info.read_text())
        cluster = PostgresCluster()
        cluster.dir, cluster.port = Path(saved["dir"]), saved["port"]
        cluster.stop()
        info.unlink()


# -- worker processes ------------------------------------------------------------------


@dataclass
class WorkerReport:
    """What one worker process did: the ids it completed, and when it started and ended
    (time.monotonic, comparable across processes on one machine)."""

    owner: str
    ids: list[int]
    started: float
    finished: float


def drain(
    url: str, queue: str, owner: str, barrier=None, work_seconds: float = 0.0
) -> WorkerReport:
    """Claim and complete until nothing is claimable. ``work_seconds``: time spent
    "processing" each item, outside any transaction (0: a no-op process)."""
    from deskhand.queue.store import open_store

    store = open_store(url)
    try:
        if barrier is not None:
            barrier.wait()
        started = time.monotonic()
        ids = []
        while (item := store.claim(queue, owner)) is not None:
            if work_seconds:
                time.sleep(work_seconds)
            store.complete(item.id, owner, {"by": owner})
            ids.append(item.id)
        return WorkerReport(owner, ids, started, time.monotonic())
    finally:
        store.close()


def _worker(url: str, queue: str, owner: str, barrier, results, work_seconds: float) -> None:
    try:
        results.put(drain(url, queue, owner, barrier, work_seconds))
    except BaseException:
        barrier.abort()
        results.put(f"{owner}: {traceback.format_exc()}")


def run_workers(
    url: str, queue: str, workers: int, work_seconds: float = 0.0, timeout: float = 120
) -> list[WorkerReport]:
    """Drain ``queue`` with ``workers`` spawned processes started together."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(workers)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_worker, args=(url, queue, f"worker-{n}", barrier, results, work_seconds)
        )
        for n in range(workers)
    ]
    for proc in procs:
        proc.start()
    reports: list = []
    deadline = time.monotonic() + timeout
    try:
        while len(reports) < workers:
            try:
                reports.append(results.get(timeout=0.5))
            except queue_module.Empty:
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead or time.monotonic() > deadline:
                    codes = [p.exitcode for p in procs]
                    raise RuntimeError(f"workers did not report (exit codes {codes})") from None
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
    errors = [r for r in reports if isinstance(r, str)]
    if errors:
        raise RuntimeError("a worker failed:\n" + "\n".join(errors))
    return reports
