"""``deskhand schedule [--list] [--once]``: the daemon, its job list, and one-shot runs.

Errors are ConfigError (one line, exit 2). ``python -m deskhand.scheduling --root PATH ...``
is the same command.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TextIO

from ..errors import ConfigError
from ..scheduling import state as db
from ..scheduling.daemon import BEAT_SECONDS, GRACE_SECONDS, Daemon
from ..scheduling.jobs import SCHEDULES_FILE, Job, load_jobs
from . import project_root

HELP = "run bots on their schedules (a daemon; --once for cron)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--list`` or ``--once``, ``--db``, ``--grace``."""
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="print each job and its next run")
    what.add_argument(
        "--once", action="store_true", help="run what is due, wait for it, exit (cron, timers)"
    )
    parser.add_argument("--db", help="database URL (default: the queue's, DESKHAND_DB)")
    parser.add_argument(
        "--grace",
        type=float,
        default=GRACE_SECONDS,
        metavar="SECONDS",
        help=f"a stopping run's time to finish its step before it is killed ({GRACE_SECONDS:g})",
    )


def run(args: argparse.Namespace, root: Path | None = None, out: TextIO | None = None) -> int:
    """Execute the parsed ``schedule`` command for the project at ``root`` (default: the
    project around the working folder)."""
    root = root or project_root()
    from .. import alerts
    from ..config import load_settings
    from ..queue.schema import resolve_url

    out = out or sys.stdout
    settings = load_settings(root, None, {"db": args.db})
    jobs = load_jobs(root)
    alerts.load_config(root)  # a broken [alerts] table is found now, not at 3 a.m.
    url = resolve_url(settings.db, root)
    if args.grace < 0:
        raise ConfigError("--grace must be 0 or more seconds")
    if args.list:
        return print_jobs(jobs, url, out)
    if not jobs:
        raise ConfigError(
            f"no schedules: add [[job]] tables to {SCHEDULES_FILE} "
            "or SCHEDULES = [...] to a bot module"
        )
    daemon = Daemon(root, jobs, settings, url, grace=args.grace, out=out)
    try:
        return daemon.once() if args.once else daemon.serve()
    finally:
        daemon.close()


def print_jobs(jobs: list[Job], url: str, out: TextIO) -> int:
    """Each job with its next run and last run; then the daemons' heartbeats."""
    import schedule

    if not jobs:
        print(f"no schedules (add [[job]] tables to {SCHEDULES_FILE})", file=out)
    state = db.State(url, owner="list")
    try:
        last = state.jobs()
        width = max((len(job.name) for job in jobs), default=0)
        for job in jobs:
            made = job.add_to(schedule.Scheduler(), lambda *a: None)
            next_run = _shown(min(j.next_run for j in made), job.timezone)
            row = last.get(job.name)
            ran = "never"
            if row is not None and row.last_start is not None:
                ran = _shown(row.last_start, job.timezone)
                ran += " (running)" if row.last_end is None else f" (exit {row.last_exit})"
            print(f"{job.name:{width}}  next {next_run}  last {ran}", file=out)
            extra = f"time limit {_limit(job.time_limit)}, missed runs: {job.missed}"
            mode = "queue then work" if job.source else "work the queue"
            print(f"{'':{width}}  {mode}; {extra}", file=out)
        for row in state.daemons():
            age = (db.utcnow() - row.beat_at).total_seconds()
            if row.id.endswith(":once"):
                print(f"schedule --once on {row.id[:-5]}: last ran {age:.0f} s ago", file=out)
                continue
            alive = "alive" if age <= 3 * BEAT_SECONDS else "silent (stopped or dead?)"
            running = f", running {', '.join(row.running)}" if row.running else ""
            print(f"daemon {row.id}: {alive}, last beat {age:.0f} s ago{running}", file=out)
    finally:
        state.close()
    return 0


def _shown(moment: dt.datetime, timezone: str | None) -> str:
    """A naive local or an aware time, shown in the job's zone (else the local one)."""
    aware = moment.astimezone()
    if timezone:
        from zoneinfo import ZoneInfo

        aware = aware.astimezone(ZoneInfo(timezone))
    return aware.strftime("%Y-%m-%d %H:%M:%S %Z")


def _limit(seconds: float) -> str:
    for size, unit in ((3600, "h"), (60, "m")):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g}{unit}"
    return f"{seconds:g}s"


def main(argv: list[str] | None = None) -> int:
    """``python -m deskhand.scheduling [--root PATH] [--list] [--once] ...``"""
    from loguru import logger

    from ..config import find_root

    parser = argparse.ArgumentParser(prog="python -m deskhand.scheduling")
    parser.add_argument("--root", help="the project folder (default: found from here)")
    add_arguments(parser)
    args = parser.parse_args(argv)
    logger.remove()
    try:
        root = Path(args.root).resolve() if args.root else find_root()
        return run(args, root)
    except ConfigError as exc:
        print(f"schedule: {exc}", file=sys.stderr)
        return 2
