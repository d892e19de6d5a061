"""Runs, read from their folders: ``logs/<bot>/<run-id>/steps.jsonl``.

Each run's model is the journal's run model (deskhand.journal, the one reader every view
shares) as deskhand.report's ``view`` lays it out, cached by the log file's size and
modification time: a new run, or a run still writing, is read again on the next request;
the others cost a ``stat``.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from ..journal import RunModel, read_run
from ..report import view

_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")  # a bot name or a run id
_cache: dict[Path, tuple[tuple[int, int], dict[str, Any]]] = {}
_lock = threading.Lock()


def safe_name(text: str) -> bool:
    """Whether ``text`` can be a bot name or run id (no path tricks)."""
    return bool(_SAFE.match(text)) and ".." not in text


def run_dirs(logs_dir: Path) -> list[Path]:
    """Every run folder under ``logs_dir``, newest run id first (ids sort by time)."""
    found = []
    if not logs_dir.is_dir():
        return found
    for bot_dir in logs_dir.iterdir():
        if not bot_dir.is_dir() or not safe_name(bot_dir.name):
            continue
        for run_dir in bot_dir.iterdir():
            if safe_name(run_dir.name) and (run_dir / "steps.jsonl").is_file():
                found.append(run_dir)
    found.sort(key=lambda p: p.name, reverse=True)
    return found


def load(run_dir: Path) -> dict[str, Any]:
    """The run's model (deskhand.report's ``view``), with the console's own figures:
    ``trigger``, ``duration_s``, ``started`` (datetime), ``has_trace``, ``has_report``."""
    log = run_dir / "steps.jsonl"
    stat = log.stat()
    key = (stat.st_size, stat.st_mtime_ns)
    with _lock:
        cached = _cache.get(run_dir)
    if cached and cached[0] == key:
        return cached[1]
    journal = read_run(run_dir)
    model = view(journal, run_dir, embed=False)  # screenshots are served as files
    run = model["run"]
    run["trigger"] = _trigger(journal)
    run["started"] = _time(run["start"])
    ended = _time(run["end"])
    run["duration_s"] = (
        (ended - run["started"]).total_seconds() if ended and run["started"] else None
    )
    run["has_report"] = (run_dir / "report.html").is_file()
    run["has_trace"] = (run_dir / "trace.zip").is_file()
    run["dir"] = run_dir
    model["references"] = {i["reference"] for i in model["items"]}
    with _lock:
        _cache[run_dir] = (key, model)
    return model


def _trigger(journal: RunModel) -> str:
    """How the run started: the run_start's own ``trigger`` when it records one; else a run
    that read its source ran on demand (``run``, or a schedule's run), one that did not is a
    ``worker`` working the queue."""
    if journal.start is not None and journal.start.trigger:
        return str(journal.start.trigger)
    return "on demand" if journal.source is not None else "worker"


def _time(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def all_runs(logs_dir: Path, bot: str | None = None, status: str | None = None) -> list[dict]:
    """Every run's model, newest first, optionally of one bot and with an item in ``status``."""
    runs = []
    found = run_dirs(logs_dir)
    present = set(found)
    with _lock:  # forget the runs whose folders were removed
        for gone in [d for d in _cache if d.parent.parent == logs_dir and d not in present]:
            del _cache[gone]
    for run_dir in found:
        if bot and run_dir.parent.name != bot:
            continue
        try:
            model = load(run_dir)
        except OSError:
            continue  # removed while we looked
        if status and not model["counts"].get(status):
            continue
        runs.append(model)
    return runs


def find_run(logs_dir: Path, bot: str, run_id: str) -> Path | None:
    """The folder of run ``run_id`` of ``bot``, or None (also for unsafe names)."""
    if not (safe_name(bot) and safe_name(run_id)):
        return None
    run_dir = logs_dir / bot / run_id
    return run_dir if (run_dir / "steps.jsonl").is_file() else None


def item_attempts(logs_dir: Path, queue: str, reference: str) -> list[dict]:
    """Every run's record of the item ``reference`` of ``queue``: ``{"run": run, "item":
    item}``, oldest run first."""
    found = []
    for model in reversed(all_runs(logs_dir)):
        if reference in model["references"] and model["run"]["queue"] in (queue, None):
            item = next(i for i in model["items"] if i["reference"] == reference)
            found.append({"run": model["run"], "item": item})
    return found
