"""The daemon: starts each due job's bot in a child process and watches it.

A run is started only when the job's slot and the bot's lock are won in the database (see
state.py). A run past its time limit is told to stop (SIGTERM: the current step finishes,
the item is released), then killed with its process group (its browser too) ``grace``
seconds later; the item it held is then failed with the reason, so it is retried with
back-off and never lost. SIGTERM/SIGINT stop the daemon the same way, and a second signal
tells the runs to stop at once. Nothing a run does, crash or hang, stops the daemon.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import schedule

from ..logs import mask
from ..status import Status
from . import state
from .jobs import Job
from .state import BUSY, STARTED, TAKEN, State

GRACE_SECONDS = 60.0  # a stopping run's time to finish its step before it is killed
LOCK_SECONDS = 60.0  # a bot's lock expires this long after its daemon's last renewal
BEAT_SECONDS = 10.0  # heartbeat (and lock renewal) period
TICK_SECONDS = 0.5  # how often the loop looks at its children
CHILD_REPORTS = {0, 1, 2, 3, 130, 143}  # exits after which the child itself said what happened


class Child:
    """A run's process, leader of its own process group (its browser is in it)."""

    def __init__(self, popen: subprocess.Popen) -> None:
        self.popen = popen
        self.pid = popen.pid

    def poll(self) -> int | None:
        code = self.popen.poll()
        if code is not None:
            self._kill_group()  # whatever the run left behind (a browser) goes with it
        return code

    def send_signal(self, sig: int) -> None:
        try:
            self.popen.send_signal(sig)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self._kill_group()

    def _kill_group(self) -> None:
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def launch_child(job: Job, root: Path, db_url: str) -> Child:
    """Start ``python -m deskhand.scheduling.child`` for the job (database by environment,
    never on the command line where ``ps`` shows it)."""
    command = [sys.executable, "-m", "deskhand.scheduling.child", str(root), job.bot]
    command += ["--settings", json.dumps(job.settings)]
    if not job.source:
        command.append("--no-source")
    env = {**os.environ, "DESKHAND_DB": db_url}
    return Child(subprocess.Popen(command, cwd=root, env=env, start_new_session=True))


@dataclass
class Running:
    job: Job
    slot: int
    proc: Any
    started: float  # Daemon.monotonic()
    stop_sent: float | None = None
    killed: bool = False
    reason: str | None = None  # why the daemon stopped it: "shutdown", "time limit ..."
    skips: int = 0  # due runs of the same bot skipped while this one ran


class Daemon:
    """Runs ``jobs`` (see jobs.py) from ``root``; the database at ``db_url`` holds the
    slots, locks and heartbeat. ``launch(job, root, db_url)`` starts a run's process."""

    def __init__(
        self,
        root: Path,
        jobs: list[Job],
        settings: Any,
        db_url: str,
        *,
        grace: float = GRACE_SECONDS,
        lock_seconds: float = LOCK_SECONDS,
        out: TextIO | None = None,
        launch: Any = launch_child,
    ) -> None:
        from ..queue import open_store

        self.root, self.jobs, self.settings, self.db_url = Path(root), jobs, settings, db_url
        self.grace, self.lock_seconds, self.launch = grace, lock_seconds, launch
        self.monotonic = time.monotonic  # time limits and grace (tests drive their own)
        self.out = out or sys.stdout
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
        self.beat_id = self.owner
        self.db = State(db_url, self.owner)
        self.store = open_store(db_url)
        self.scheduler = schedule.Scheduler()
        self.sched_jobs = {job.name: job.add_to(self.scheduler, self._fire) for job in jobs}
        self.running: dict[str, Running] = {}  # by bot
        self.exits: list[tuple[str, int]] = []  # (job name, exit code) of every ended run
        self.stopping = threading.Event()
        self.started_at = state.utcnow()
        self._next_beat = 0.0

    def close(self) -> None:
        self.store.close()
        self.db.close()

    # -- the two ways to run ----------------------------------------------------------

    def serve(self) -> int:
        """Run until SIGTERM/SIGINT; 0 after a clean stop."""
        self.say(f"daemon {self.owner} started with {len(self.jobs)} job(s)")
        with self._signals():
            self._beat()
            self.startup()
            while not self.stopping.is_set():
                self.tick()
                self.stopping.wait(self._pause())
            self._drain()
        try:
            self.db.forget(self.beat_id)
        except Exception as exc:
            self.say(f"heartbeat not removed: {_one_line(exc)}")
        self.say("daemon stopped")
        return 0

    def once(self) -> int:
        """Start every job whose latest run is due and did not happen, wait for them;
        0 when every run ended with 0 (nothing due is 0 too), else 1. Its heartbeat row
        (``host:once``) stays: it shows when cron or a timer last ran it."""
        self.beat_id = f"{socket.gethostname()}:once"
        with self._signals():
            self._beat()
            for job in self.jobs:
                self.catch_up(job)
            self._drain()
        return 0 if all(code == 0 for _, code in self.exits) else 1

    def startup(self) -> None:
        """The missed-run policy: a ``run_once`` job whose latest run did not happen (the
        daemon was down) runs now; a ``skip`` job waits for its next time."""
        for job in self.jobs:
            if job.missed == "run_once":
                self.catch_up(job)

    def tick(self) -> None:
        """One pass: look after the running children, start what is due, beat."""
        self.reap()
        self.scheduler.run_pending()
        if self.monotonic() >= self._next_beat:
            self._beat()

    # -- starting ---------------------------------------------------------------------

    def catch_up(self, job: Job) -> bool:
        """Start ``job`` if its latest scheduled run did not happen (missed-run policy and
        ``--once``); a queue trigger starts when enough items wait."""
        try:
            now = state.utcnow()
            if job.queued is not None:
                waiting = self._waiting(job)
                if waiting < job.queued:
                    return False
                return self.start(job, job.interval_slot(now), f"{waiting} items wait")
            last = self.db.jobs().get(job.name)
            if job.at:
                previous = job.previous(self.sched_jobs[job.name])
                if last is None or last.last_slot is None or last.last_slot < previous:
                    return self.start(job, previous, "missed run")
                return False
            if last is None or last.last_start is None:
                return self.start(job, job.interval_slot(now), "never run")
            if (now - last.last_start).total_seconds() >= job.period:
                return self.start(job, job.interval_slot(now), "missed run")
            return False
        except Exception as exc:
            self.say(f"{job.name}: not started: {_one_line(exc)}")
            return False

    def start(self, job: Job, slot: int, why: str) -> bool:
        """Start the run of ``slot`` when this daemon wins it; True when started."""
        if self.stopping.is_set():
            return False
        if job.bot in self.running:
            running = self.running[job.bot]
            if not running.skips:  # said once per run: a 1-minute job would say it often
                self.say(f"{job.name}: skipped, {job.bot} is still running")
            running.skips += 1
            return False
        outcome = self.db.acquire(job.name, job.bot, slot, self.lock_seconds, state.utcnow())
        if outcome == TAKEN:
            self.say(f"{job.name}: skipped, another daemon started this run")
            return False
        if outcome == BUSY:
            self.say(f"{job.name}: skipped, {job.bot} is running under another daemon")
            return False
        assert outcome == STARTED
        try:
            proc = self.launch(job, self.root, self.db_url)
        except Exception as exc:
            self.db.finish(job.name, slot, None, state.utcnow())
            self.db.release(job.bot)
            self.say(f"{job.name}: could not start: {_one_line(exc)}")
            return False
        self.running[job.bot] = Running(job, slot, proc, self.monotonic())
        self._next_beat = 0.0  # the heartbeat row shows what runs: update it this tick
        try:
            self.db.set_pid(job.bot, proc.pid)
        except Exception:
            pass  # only shown by --list
        self.say(f"{job.bot}: started (pid {proc.pid}; {why}; job '{job.name}')")
        return True

    def _fire(self, job: Job, sched_job: Any) -> None:
        """Called by ``schedule`` when a job is due: it must never raise."""
        try:
            why = "scheduled"
            if job.queued is not None:
                waiting = self._waiting(job)
                if waiting < job.queued:
                    return
                why = f"{waiting} items wait"
            self.start(job, job.slot(sched_job, state.utcnow()), why)
        except Exception as exc:  # a database hiccup: the next run will try again
            self.say(f"{job.name}: not started: {_one_line(exc)}")

    def _waiting(self, job: Job) -> int:
        return self.store.counts(job.queue).get(Status.NEW, 0)

    # -- watching ---------------------------------------------------------------------

    def reap(self) -> None:
        """Handle the children that ended; stop or kill those past their limits."""
        for bot, run in list(self.running.items()):
            code = run.proc.poll()
            if code is None:
                self._enforce(run)
                continue
            del self.running[bot]
            try:
                self._ended(run, code)
            except Exception as exc:
                self.say(f"{bot}: clean-up failed: {_one_line(exc)}")

    def _enforce(self, run: Running) -> None:
        now = self.monotonic()
        if run.stop_sent is None and now - run.started > run.job.time_limit:
            run.reason = f"time limit of {_seconds(run.job.time_limit)}"
            self.say(f"{run.job.bot}: reached its {run.reason}: told to stop")
            run.proc.send_signal(signal.SIGTERM)
            run.stop_sent = now
        elif run.stop_sent is not None and not run.killed and now - run.stop_sent > self.grace:
            self.say(f"{run.job.bot}: still running {_seconds(self.grace)} after stop: killed")
            run.proc.kill()
            run.killed = True

    def _ended(self, run: Running, code: int) -> None:
        job = run.job
        self.exits.append((job.name, code))
        self._next_beat = 0.0
        took = _seconds(self.monotonic() - run.started)
        self.say(f"{job.bot}: ended with exit code {code} after {took}")
        held = self._give_back(run, code)
        self.db.release(job.bot)
        self.db.finish(job.name, run.slot, code, state.utcnow())
        if run.reason == "shutdown":
            return
        if run.reason or code not in CHILD_REPORTS:
            what = f"stopped at its {run.reason}" if run.reason else f"died (exit code {code})"
            if run.killed:
                what += ", killed"
            if held:
                what += f"; item(s) {', '.join(held)} will be retried"
            self._alert(job, f"the run of {job.bot} {what}")

    def _give_back(self, run: Running, code: int) -> list[str]:
        """Items the dead child still held: released after a shutdown, else failed with the
        reason (an attempt counted, retried with back-off) instead of waiting for the lease."""
        prefix = f"{socket.gethostname()}:{run.proc.pid}:"
        held = [
            i
            for i in self.store.list(run.job.queue, status=Status.IN_PROGRESS, limit=None)
            if (i.lease_owner or "").startswith(prefix)
        ]
        if run.reason:
            message = f"the run was stopped ({run.reason}) while working on this item"
        else:
            message = f"the run's process died (exit code {code}) while working on this item"
        for item in held:
            if run.reason == "shutdown":
                self.store.release(item.id, item.lease_owner)
            else:
                kind = "TimeLimit" if run.reason else "RunnerDied"
                job = run.job
                self.store.fail(
                    item.id, item.lease_owner, kind, message, job.max_attempts, job.retry_delay
                )
        return [i.reference for i in held]

    def _alert(self, job: Job, text: str) -> None:
        from .. import alerts

        try:
            sent = alerts.notify(job.bot, self.settings, error=text)
            if sent:
                self.say(f"{job.bot}: alert sent to {', '.join(sent)}")
        except Exception as exc:
            self.say(f"{job.bot}: alert not sent: {_one_line(exc)}")

    def _drain(self) -> None:
        """Wait for the running children; once stopping, tell them to stop (then kill)."""
        while self.running:
            if self.stopping.is_set():
                for run in self.running.values():
                    if run.stop_sent is None:
                        run.reason = "shutdown"
                        self.say(f"{run.job.bot}: told to stop (shutdown)")
                        run.proc.send_signal(signal.SIGTERM)
                        run.stop_sent = self.monotonic()
            self.reap()
            if self.monotonic() >= self._next_beat:
                self._beat()
            time.sleep(0.1)

    def _beat(self) -> None:
        self._next_beat = self.monotonic() + BEAT_SECONDS
        now = state.utcnow()
        try:
            self.db.beat(self.beat_id, self.started_at, list(self.running), now)
            for bot in self.running:
                if not self.db.renew(bot, self.lock_seconds, now):
                    self.say(f"{bot}: lock lost (expired?): its run goes on, items are leased")
        except Exception as exc:
            self.say(f"heartbeat failed: {_one_line(exc)}")

    def _pause(self) -> float:
        idle = self.scheduler.idle_seconds
        return TICK_SECONDS if idle is None else max(0.05, min(TICK_SECONDS, idle))

    # -- signals ----------------------------------------------------------------------

    @contextmanager
    def _signals(self):
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stopping.is_set():  # a second signal: the runs stop now, items released
            for run in list(self.running.values()):
                run.proc.send_signal(signal.SIGTERM)
        self.stopping.set()

    def say(self, text: str) -> None:
        stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} schedule: {mask(text)}", file=self.out, flush=True)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _seconds(value: float) -> str:
    if value >= 120:
        return f"{value / 60:.0f} min"
    return f"{value:.3g} s"
