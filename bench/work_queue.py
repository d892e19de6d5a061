"""Queue benchmark: items/s of deskhand.queue for 1, 2, 4, 8 workers on PostgreSQL (and
SQLite), with a no-op bot and a bot that copies a 200 kB file from the queue.

For each backend, bot and number of worker processes: queue N items (the file bot's each
with a distinct 200 kB document, stored in the queue as a source stores it), let the
workers drain the queue together, and time from their common start to the last one's end.
Each worker is a real runner's loop: claim, (copy the item's file into a run folder and
from there to an output folder), complete. On PostgreSQL, pg_stat_statements gives the
database's own execution time per item (every statement of claim + complete, commits
included) and of the claim's two SELECT ... FOR UPDATE SKIP LOCKED alone.

    python bench/work_queue.py [--items 400] [--repeat 3] [--workers 1 2 4 8]
                               [--bots noop file] [--backend postgresql sqlite]

PostgreSQL runs in a throwaway cluster started here with its default, durable settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from deskhand.bot import WorkItem  # noqa: E402
from deskhand.config import Settings  # noqa: E402
from deskhand.queue import open_store  # noqa: E402
from deskhand.queue.files import local_copy, queue_items  # noqa: E402
from tests.pg_cluster import PostgresCluster  # noqa: E402

FILE_BYTES = 200 * 1024


def machine_load() -> str:
    """How busy the machine is besides us: figures from a shared machine swing with it."""
    text = f"load average {os.getloadavg()[0]:.1f}"
    try:  # Linux pressure stall information: share of time some task waited for a CPU
        some = Path("/proc/pressure/cpu").read_text().split()[1].split("=")[1]
        return f"{text}, CPU pressure {some}% (avg10)"
    except (OSError, IndexError):
        return text


def worker(url: str, bot: str, folder: str, owner: str, barrier, results) -> None:
    """A runner's loop until the queue is empty; reports (items done, start, end)."""
    try:
        store = open_store(url)
        work = Path(folder) / owner
        barrier.wait()
        started, done = time.monotonic(), 0
        while (item := store.claim("bench", owner)) is not None:
            if bot == "file":  # the bot reads its document and files it elsewhere
                copy = local_copy(store, item, work / "run" / "files")
                shutil.copy(copy.payload["file"], work / "out.pdf")
            store.complete(item.id, owner, {"by": owner}, token=item.lease_token)
            done += 1
        results.put((done, started, time.monotonic()))
        store.close()
    except BaseException as error:
        barrier.abort()
        results.put(f"{owner}: {error!r}")


def fill(url: str, bot: str, items: int, folder: Path) -> None:
    """Queue ``items`` items; the file bot's each with its own 200 kB document."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    work = []
    for n in range(items):
        payload = {}
        if bot == "file":
            path = inbox / f"doc-{n}.pdf"
            path.write_bytes(os.urandom(FILE_BYTES))
            payload = {"file": str(path)}
        work.append(WorkItem(f"item-{n}", payload))
    with open_store(url) as store:
        queue_items(store, "bench", work, Settings())
    shutil.rmtree(inbox)  # the workers read the documents from the queue only


def measure(url: str, bot: str, items: int, workers: int, folder: Path, reset=None) -> float:
    """Items per second for ``workers`` processes draining ``items`` fresh items;
    ``reset(url)`` runs once they are queued (the statistics count the draining only)."""
    fill(url, bot, items, folder)
    if reset is not None:
        reset(url)
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(url, bot, str(folder), f"w{n}", barrier, results))
        for n in range(workers)
    ]
    for proc in procs:
        proc.start()
    reports = [results.get(timeout=900) for _ in procs]
    for proc in procs:
        proc.join(30)
    errors = [r for r in reports if isinstance(r, str)]
    if errors:
        raise SystemExit("a worker failed: " + "; ".join(errors))
    if sum(r[0] for r in reports) != items:
        raise SystemExit(f"wrong result: {sum(r[0] for r in reports)} of {items} items done")
    return items / (max(r[2] for r in reports) - min(r[1] for r in reports))


def enable_statement_stats(pg: PostgresCluster) -> None:
    """Load pg_stat_statements into the cluster (a restart with the same options); it counts
    COMMIT too (track_utility is on by default)."""
    pg._sql("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
    pg._admin.close()
    pg._admin = None
    pg._run(
        "pg_ctl", "-D", pg.dir / "data", "-l", pg.dir / "server.log", "-w", "-t", "60", "restart"
    )


def db_time(url: str, items: int) -> tuple[float, float]:
    """The database's own execution ms per item, all statements and the claim's SELECTs."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT query, total_exec_time FROM pg_stat_statements s JOIN pg_database d "
            "ON d.oid = s.dbid WHERE d.datname = current_database()"
        ).fetchall()
    total = sum(t for q, t in rows if "pg_stat_statements" not in q)
    claim = sum(t for q, t in rows if "SKIP LOCKED" in q)
    return total / items, claim / items


def reset_stats(url: str) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--bots", nargs="+", default=["noop", "file"], choices=["noop", "file"])
    parser.add_argument(
        "--backend", nargs="+", default=["postgresql"], choices=["postgresql", "sqlite"]
    )
    args = parser.parse_args()

    medians: dict[tuple[str, str, int], float] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deskhand-bench-")))
        pg = None
        if "postgresql" in args.backend:
            pg = stack.enter_context(PostgresCluster(durable=True))
            enable_statement_stats(pg)
        print(f"claim + complete, {args.items} items, median of {args.repeat}; ", end="")
        print(f"{os.cpu_count()} CPUs; at the start: {machine_load()}")
        count = 0
        for backend in args.backend:
            for bot in args.bots:
                for workers in args.workers:
                    rates, per_item, per_claim = [], [], []
                    for _rep in range(args.repeat):
                        count += 1
                        folder = tmp / f"run-{count}"
                        if backend == "sqlite":
                            url = f"sqlite:///{folder / 'queue.db'}"
                            folder.mkdir()
                        else:
                            url = pg.create_database(f"bench_{count}")
                        reset = reset_stats if backend == "postgresql" else None
                        rates.append(measure(url, bot, args.items, workers, folder, reset))
                        if backend == "postgresql":
                            item_ms, claim_ms = db_time(url, args.items)
                            per_item.append(item_ms)
                            per_claim.append(claim_ms)
                    median = medians[backend, bot, workers] = statistics.median(rates)
                    runs = ", ".join(f"{r:.0f}" for r in rates)
                    line = f"{backend:10} {bot:4} bot, {workers} worker(s): {median:6.0f} items/s"
                    if per_item:
                        line += (
                            f"  DB time {statistics.median(per_item):.2f} ms/item, "
                            f"claim SELECTs {statistics.median(per_claim):.2f} ms"
                        )
                    print(f"{line}  ({runs})", flush=True)

    print(f"at the end: {machine_load()}\n")
    for backend, bot in {(b, t) for b, t, _ in medians}:
        counts = sorted(w for b, t, w in medians if (b, t) == (backend, bot))
        base = medians[backend, bot, counts[0]]
        curve = ", ".join(f"{w}: {medians[backend, bot, w] / base:.2f}x" for w in counts)
        print(f"{backend} {bot} bot, speed-up over {counts[0]} worker: {curve}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
