"""Queue benchmark: claim + complete throughput of deskhand.queue with a no-op process.

For each backend (SQLite in a temporary folder; PostgreSQL in a throwaway cluster started
here with its default, durable settings) and each number of worker processes, queue N
items, let the workers drain the queue together, and time from their common start to the
last one's end. Prints the median items/s of the repetitions and the ratios.

    python bench/queue.py [--items 2000] [--repeat 3] [--workers 1 4]
                          [--backend sqlite postgresql]

Targets: >= 500 items/s on SQLite with one worker; PostgreSQL faster with 4 workers than 1.
SQLite has one writer at a time: with a no-op process, one worker can keep re-taking the
write lock while the others back off in SQLite's busy handler ("busiest worker" near 100%);
real bots spend seconds between claim and complete, and then share the queue evenly.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# This file is named queue.py: with its folder on sys.path it would hide the standard
# library's queue module, which multiprocessing imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
from contextlib import ExitStack  # noqa: E402

from deskhand.queue import open_store  # noqa: E402
from tests.pg_cluster import PostgresCluster, run_workers  # noqa: E402


def machine_load() -> str:
    """How busy the machine is besides us: figures from a shared machine swing with it."""
    text = f"load average {os.getloadavg()[0]:.1f}"
    try:  # Linux pressure stall information: share of time some task waited for a CPU
        some = Path("/proc/pressure/cpu").read_text().split()[1].split("=")[1]
        return f"{text}, CPU pressure {some}% (avg10)"
    except (OSError, IndexError):
        return text


def measure(url: str, items: int, workers: int) -> tuple[float, float]:
    """Items per second for ``workers`` processes draining ``items`` fresh items, and the
    share of the items the busiest worker took."""
    with open_store(url) as store:
        store.add_many("bench", [{"reference": f"item-{n}"} for n in range(items)])
    reports = run_workers(url, "bench", workers, timeout=600)
    done = sorted(i for r in reports for i in r.ids)
    if len(done) != items or len(set(done)) != items:
        raise SystemExit(f"wrong result: {len(done)} completions, {len(set(done))} distinct")
    elapsed = max(r.finished for r in reports) - min(r.started for r in reports)
    return items / elapsed, max(len(r.ids) for r in reports) / items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument(
        "--backend", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()

    medians: dict[tuple[str, int], float] = {}
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="deskhand-bench-")))
        pg = None
        if "postgresql" in args.backend:
            pg = stack.enter_context(PostgresCluster(durable=True))
        print(f"claim + complete, no-op process, {args.items} items, median of {args.repeat}")
        print(f"{os.cpu_count()} CPUs; at the start: {machine_load()}")
        for backend in args.backend:
            for workers in args.workers:
                rates, shares = [], []
                for rep in range(args.repeat):
                    if backend == "sqlite":
                        url = f"sqlite:///{tmp / f'{workers}-{rep}.db'}"
                    else:
                        url = pg.create_database(f"bench_{workers}_{rep}")
                    rate, share = measure(url, args.items, workers)
                    rates.append(rate)
                    shares.append(share)
                median = medians[backend, workers] = statistics.median(rates)
                runs = ", ".join(f"{r:.0f}" for r in rates)
                busiest = f"busiest worker took {statistics.median(shares):.0%}"
                line = f"{backend:10} {workers} worker(s): {median:5.0f} items/s"
                print(f"{line}  ({runs}; {busiest})")

    print(f"at the end: {machine_load()}\n")
    if ("sqlite", 1) in medians:
        rate = medians["sqlite", 1]
        print(f"sqlite, 1 worker: {rate:.0f} items/s = {rate / 500:.2f} x the 500 items/s target")
    for backend in args.backend:
        counts = sorted(w for b, w in medians if b == backend)
        if len(counts) > 1:
            lo, hi = counts[0], counts[-1]
            ratio = medians[backend, hi] / medians[backend, lo]
            print(f"{backend}: {hi} workers / {lo} worker = {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
