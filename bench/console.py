"""Console benchmark: page times with a full queue and many runs.

Fills a fresh queue database with N items (mixed statuses, a history each) and writes R run
folders whose steps.jsonl hold those items' attempts, then asks the console (Flask's test
client, in this process: the server's own time, no network) for its pages again and again
and prints the median and p95 per page. The first request of a page is printed apart
("cold"): it reads every run's log once; later ones read only what changed.

    python bench/console.py [--items 10000] [--runs 200] [--repeat 30]
                            [--backend sqlite postgresql]

Target: p95 < 300 ms for the list and item pages (printed, never asserted).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from contextlib import ExitStack  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

from sqlalchemy import insert  # noqa: E402

from deskhand.console import create_app  # noqa: E402
from deskhand.console.auth import add_user  # noqa: E402
from deskhand.queue.schema import history, items, runners  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "demo" / "documents" / "inv-01-acme.pdf"
STATUSES = (
    ["done"] * 78 + ["failed"] * 8 + ["needs_review"] * 6 + ["new"] * 4 + ["cancelled"] * 2
    + ["in_progress"] * 2
)  # fmt: skip
RUNNERS = (
    300  # registered runs: 20 working (holding the items in progress), 40 lost, the rest stopped
)
STEPS = ("read document", "validate", "log in", "fill invoice form", "save", "read back")


def fill_queue(engine, n: int, start: datetime) -> list[str]:
    """N items in queue 'invoices' with 3 history lines each; returns their references."""
    rng = random.Random(1)
    refs = [f"{n:064x}"[-16:] + f"{i:06d}" for i in range(n)]
    with engine.begin() as conn:
        for chunk in range(0, n, 1000):
            rows = []
            for i in range(chunk, min(n, chunk + 1000)):
                status = rng.choice(STATUSES)
                created = start + timedelta(seconds=i)
                payload = {"file": str(SAMPLE), "name": f"invoice-{i:05d}.pdf"}
                failed = status in ("failed", "needs_review")
                held = status == "in_progress"
                rows.append(
                    {
                        "id": i + 1,
                        "queue": "invoices",
                        "reference": refs[i],
                        "payload": payload,
                        "files": [],
                        "priority": 0,
                        "status": status,
                        "attempts": 3 if status == "failed" else 1,
                        "output": {"record": f"R-{i}"} if status == "done" else None,
                        "error_kind": "BusinessError" if failed else None,
                        "error_message": "invoice.pdf: total 10.00 != subtotal 8.00 + tax 1.00"
                        if failed
                        else None,
                        "created_at": created,
                        "updated_at": created + timedelta(seconds=30),
                        "lease_owner": f"host-{i % 20}:100:run" if held else None,
                        "lease_expires": datetime.now(UTC) + timedelta(minutes=1) if held else None,
                    }
                )
            conn.execute(insert(items), rows)
            log = [
                {
                    "item_id": r["id"],
                    "at": r["created_at"],
                    "event": e,
                    "runner": "bench",
                    "detail": {},
                }
                for r in rows
                for e in ("added", "claimed", r["status"])
            ]
            conn.execute(insert(history), log)
    return refs


def fill_runners(engine, n: int) -> None:
    """N registered runs: 20 working (beating now, holding the items in progress), 40 lost
    (their beat stopped an hour ago), the rest stopped."""
    now = datetime.now(UTC)
    rows = []
    for i in range(n):
        working, lost = i < 20, 20 <= i < 60
        beat = now if working else now - timedelta(hours=1 + i)
        rows.append(
            {
                "id": f"host-{i % 20}:{100 if working else 1000 + i}:run",
                "host": f"host-{i % 20}",
                "pid": 100 if working else 1000 + i,
                "version": "bench",
                "bots": ["invoice_entry"],
                "started_at": beat - timedelta(minutes=5),
                "heartbeat_at": beat,
                "stopped_at": None if working or lost else beat,
                "lease_seconds": 60.0,
            }
        )
    with engine.begin() as conn:
        conn.execute(insert(runners), rows)


def write_runs(logs: Path, refs: list[str], runs: int, start: datetime) -> None:
    """R run folders of invoice_entry, each with its share of the items' attempts."""
    per_run = max(1, len(refs) // runs)
    for r in range(runs):
        log = _Log(logs, start + timedelta(minutes=10 * r), r)
        log.add("run_start", settings={"input": "in"}, queue="invoices")
        log.add("source", total=per_run, added=per_run, already_queued={})
        for ref in refs[r * per_run : (r + 1) * per_run]:
            at = {"item": ref, "attempt": 1}
            log.add("item_start", data={"file": "x.pdf", "name": "x.pdf"}, **at)
            for step in STEPS:
                log.add("step_start", step=step, data={"invoice": ref[-6:]}, **at)
                log.add("step_end", step=step, status="ok", duration_ms=120, **at)
            log.add("values", kind="keyed", data={"amount": "10.00"}, **at)
            log.add("item_end", status="done", output={"record": "R-1"}, **at)
        log.add("run_end", counts={"done": per_run}, total=per_run)
        log.write()


class _Log:
    """A run's steps.jsonl in the runner's format, written at once."""

    def __init__(self, logs: Path, began: datetime, number: int) -> None:
        self.run_id = began.strftime("%Y%m%d-%H%M%S-") + f"{number:04x}"
        self.folder = logs / "invoice_entry" / self.run_id
        self.clock = began
        self.lines: list[str] = []

    def add(self, event: str, **fields) -> None:
        self.clock += timedelta(milliseconds=150)
        record = {"ts": self.clock.isoformat(timespec="milliseconds"), "event": event}
        record |= {"run_id": self.run_id, "bot": "invoice_entry", **fields}
        self.lines.append(json.dumps(record))

    def write(self) -> None:
        self.folder.mkdir(parents=True)
        (self.folder / "steps.jsonl").write_text("\n".join(self.lines) + "\n", encoding="utf-8")


def timed(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    return elapsed


def bench(url: str, args, workdir: Path) -> None:
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    logs = workdir / "logs"
    app = create_app(url, logs, ROOT)
    engine = app.extensions["deskhand_console"].engine
    began = time.perf_counter()
    refs = fill_queue(engine, args.items, start)
    fill_runners(engine, RUNNERS)
    write_runs(logs, refs, args.runs, start)
    took = time.perf_counter() - began
    print(f"  filled: {args.items} items, {RUNNERS} runners, {args.runs} runs in {took:.1f} s")
    add_user(engine, "bench", "admin", "bench-password")
    client = app.test_client()
    form = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    client.post("/login", data={"name": "bench", "password": "bench-password", "csrf_token": token})
    rng = random.Random(2)
    review = next(i for i in range(1, args.items + 1) if _status(engine, i) == "needs_review")
    pages = {
        "runs": lambda: "/runs",
        "runs, failed filter": lambda: "/runs?status=failed",
        "queue": lambda: "/queue",
        "queue, status filter": lambda: "/queue?queue=invoices&status=failed",
        "queue, search": lambda: f"/queue?q=invoice-{rng.randrange(args.items):05d}",
        "queue, in progress": lambda: "/queue?status=in_progress",
        "runners": lambda: "/runners",
        "item": lambda: f"/items/{rng.randrange(1, args.items + 1)}",
        "validation station": lambda: f"/items/{review}/review",
    }
    print(f"  {'page':22} {'cold ms':>8} {'median ms':>10} {'p95 ms':>8}")
    for name, make in pages.items():
        cold = timed(client, make())
        times = sorted(timed(client, make()) for _ in range(args.repeat))
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        mark = "" if p95 < 300 else "  (over the 300 ms target)"
        print(f"  {name:22} {cold:8.0f} {statistics.median(times):10.1f} {p95:8.1f}{mark}")
    engine.dispose()


def _status(engine, item_id: int) -> str:
    with engine.connect() as conn:
        return conn.execute(items.select().where(items.c.id == item_id)).first().status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument(
        "--backend", nargs="+", default=["sqlite"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        for backend in args.backend:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'queue.db'}"
            else:
                from tests.pg_cluster import PostgresCluster

                cluster = stack.enter_context(PostgresCluster())
                url = cluster.create_database()
            print(f"{backend}:")
            bench(url, args, workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
