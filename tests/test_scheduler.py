"""The scheduler: jobs and next runs under a controlled clock (schedule's own tests patch
datetime the same way), locks on SQLite and the real PostgreSQL cluster, runs in real child
processes (a crash, a hang past the time limit), and one real daemon stopped by SIGTERM."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

import pytest
import schedule
from assets.scheduler.servers import Webhook
from conftest import ASSETS, ROOT

from deskhand.config import load_settings
from deskhand.errors import ConfigError
from deskhand.queue import open_store
from deskhand.scheduling import Daemon, load_jobs
from deskhand.scheduling import state as db
from deskhand.scheduling.state import BUSY, STARTED, TAKEN, State

BOTS = ASSETS / "scheduler" / "bots"


# -- helpers ---------------------------------------------------------------------------------


class Clock:
    """Now is ``instant`` for ``schedule`` and the scheduler (time.monotonic is untouched)."""

    def __init__(self, monkeypatch) -> None:
        clock = self

        class Frozen(dt.datetime):
            @classmethod
            def now(cls, tz=None):
                if tz is None:  # naive local time, as schedule keeps it
                    return clock.instant.astimezone().replace(tzinfo=None)
                return clock.instant.astimezone(tz)

        fake = types.SimpleNamespace(**{k: getattr(dt, k) for k in dir(dt) if k[0] != "_"})
        fake.datetime = Frozen
        monkeypatch.setattr(schedule, "datetime", fake)
        monkeypatch.setattr(db, "utcnow", lambda: clock.instant)
        self.instant = dt.datetime(2026, 3, 23, tzinfo=dt.UTC)

    def set(self, iso: str) -> None:
        self.instant = dt.datetime.fromisoformat(iso)

    def advance(self, **delta: float) -> None:
        self.instant += dt.timedelta(**delta)


class Handle:
    """A run's process as the daemon sees it; ``code`` None while it runs."""

    def __init__(self, code: int | None = 0) -> None:
        self.code, self.pid, self.signals = code, 4_000_000 + id(self) % 1000, []

    def poll(self) -> int | None:
        return self.code

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)

    def kill(self) -> None:
        self.code = -9


class Launcher:
    """Records each start; hands out ``Handle(code)`` (or raises ``fail``)."""

    def __init__(self, code: int | None = 0) -> None:
        self.code, self.started, self.handles, self.fail = code, [], [], None

    def __call__(self, job, root, url) -> Handle:
        if self.fail:
            error, self.fail = self.fail, None
            raise error
        self.started.append((job.name, job.source))
        self.handles.append(Handle(self.code))
        return self.handles[-1]


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def project(tmp_path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(BOTS, root / "bots")
    return root


def write(root: Path, text: str) -> None:
    (root / "bots" / "schedules.toml").write_text(text)


def daemon(root: Path, url: str, launch=None, out=None, **options) -> Daemon:
    """A daemon for ``root``'s jobs; ``launch``: a Launcher, else real child processes."""
    if launch is not None:
        options["launch"] = launch
    out = out or io.StringIO()
    return Daemon(root, load_jobs(root), load_settings(root), url, out=out, **options)


def shown(iso: str) -> str:
    """An instant as --list shows a job without a zone: in the local zone."""
    return dt.datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


def wait_for(condition, what: str, timeout: float = 60):
    """Poll until ``condition()`` is true (an event, not a measured time)."""
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)
    return result


# -- declaring jobs ----------------------------------------------------------------------------


def test_list_shows_each_job_and_its_next_run(project, clock, tmp_path):
    write(
        project,
        """
[[job]]
bot = "sched_worker"
every = "15 minutes"

[[job]]
bot = "sched_worker"
at = "07:30"
timezone = "Europe/Berlin"
time_limit = "20m"
missed = "run_once"

[[job]]
bot = "sched_worker"
days = "weekdays"
at = "18:00"
timezone = "America/New_York"

[[job]]
name = "broken when busy"
bot = "sched_broken"
queued = 5
every = "10 minutes"
""",
    )
    with open(project / "bots" / "sched_broken.py", "a") as fh:
        fh.write('\nSCHEDULES = [{"every": "2 hours", "time_limit": 90}]\n')
    clock.set("2026-03-28T12:00:00+00:00")  # a Saturday; Europe goes to summer time tomorrow
    from deskhand.commands.schedule import run

    out = io.StringIO()
    args = types.SimpleNamespace(list=True, once=False, db=f"sqlite:///{tmp_path}/q.db", grace=1)
    assert run(args, project, out) == 0
    lines = out.getvalue().splitlines()

    def line(name: str) -> str:
        return next(ln for ln in lines if ln.startswith(name + " "))

    assert f"next {shown('2026-03-28T12:15:00+00:00')}  last never" in line(
        "sched_worker: every 15 minutes"
    )
    daily = "sched_worker: daily at 07:30 (Europe/Berlin)"
    assert "next 2026-03-29 07:30:00 CEST" in line(daily)  # 05:30 UTC: after the change
    weekdays = "sched_worker: on weekdays at 18:00 (America/New_York)"
    assert "next 2026-03-30 18:00:00 EDT" in line(weekdays)  # Monday
    assert f"next {shown('2026-03-28T12:10:00+00:00')}" in line("broken when busy")
    assert f"next {shown('2026-03-28T14:00:00+00:00')}" in line("sched_broken: every 2 hours")
    assert lines[lines.index(line(daily)) + 1].strip() == (
        "queue then work; time limit 20m, missed runs: run_once"
    )
    assert lines[lines.index(line("broken when busy")) + 1].strip() == (
        "work the queue; time limit 1h, missed runs: skip"
    )
    assert "time limit 90s" in lines[lines.index(line("sched_broken: every 2 hours")) + 1]


@pytest.mark.parametrize(
    "job, message",
    [
        ('every = "15 minuts"', "every = '15 minuts': write \"N seconds|minutes|hours"),
        ('at = "7.30pm"', "Invalid time format for a daily job"),
        ('at = "07:30"\ntimezone = "Europe/Berln"', "unknown time zone 'Europe/Berln'"),
        ('every = "1 hour"\ntimezone = "UTC"', "timezone applies to at"),
        ('evry = "1 hour"', "unknown key 'evry' (known: bot, name, every"),
        ('every = "1 hour"\nmissed = "catch_up"', "missed = 'catch_up': use skip or run_once"),
        ('every = "1 hour"\ntime_limit = "soon"', "time_limit = 'soon': give seconds"),
        ('days = ["funday"]\nat = "09:00"', "unknown day 'funday'"),
        ('days = "weekdays"', 'days needs at = "HH:MM"'),
        ("queued = 0", "queued = 0: give the number of waiting items"),
        ("name = 'x'", 'say when: every = "15 minutes"'),
        ('every = "1 hour"\nsettings = { db = "sqlite://" }', "a job cannot choose its database"),
        ('every = "1 hour"\nsettings = { colour = "red" }', "unknown setting 'colour'"),
    ],
)
def test_a_bad_job_is_a_one_line_config_error(project, job, message):
    write(project, f'[[job]]\nbot = "sched_worker"\n{job}\n')
    with pytest.raises(ConfigError) as error:
        load_jobs(project)
    text = str(error.value)
    assert message in text and len(text.splitlines()) == 1


def test_unknown_bots_duplicates_and_the_command_line(project, tmp_path):
    write(project, '[[job]]\nbot = "nobody"\nevery = "1 hour"\n')
    with pytest.raises(ConfigError, match="unknown bot 'nobody': no bots/nobody.py"):
        load_jobs(project)
    write(project, '[[job]]\nbot = "sched_worker"\nevery = "1 hour"\n' * 2)
    with pytest.raises(ConfigError, match="job 2: a job named 'sched_worker: every hour' is"):
        load_jobs(project)
    done = subprocess.run(
        [sys.executable, "-m", "deskhand.scheduling", "--root", str(project), "--once"],
        capture_output=True,
        text=True,
        env={**os.environ, "DESKHAND_DB": f"sqlite:///{tmp_path}/q.db"},
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "schedule: bots/schedules.toml, job 2: a job named 'sched_worker: every hour' is "
        'already in bots/schedules.toml, job 1: give one of them a name = "..."'
    ]


# -- when runs start -------------------------------------------------------------------------


def test_two_daemons_on_one_database_never_start_the_same_run_twice(project, clock, queue_url):
    write(
        project,
        """
[[job]]
bot = "sched_worker"
every = "1 hour"

[[job]]
bot = "sched_broken"
at = "06:00"
timezone = "Europe/Berlin"
""",
    )
    clock.set("2026-03-23T10:00:00+00:00")
    a, b = Launcher(), Launcher()
    first, second = daemon(project, queue_url, a), daemon(project, queue_url, b)
    for day in range(3):  # a day of hourly runs and one daily run, the daemons taking turns
        for hour in range(24):
            clock.advance(hours=1)
            order = (first, second) if (day + hour) % 2 else (second, first)
            for d in order:
                d.tick()
    started = a.started + b.started
    assert sorted(set(started)) == [
        ("sched_broken: daily at 06:00 (Europe/Berlin)", True),
        ("sched_worker: every hour", True),
    ]
    assert started.count(("sched_worker: every hour", True)) == 72
    assert started.count(("sched_broken: daily at 06:00 (Europe/Berlin)", True)) == 3
    assert a.started and b.started  # both daemons took runs
    row = first.db.jobs()["sched_broken: daily at 06:00 (Europe/Berlin)"]
    moment = dt.datetime.fromtimestamp(row.last_slot, dt.UTC)
    assert moment == dt.datetime(2026, 3, 26, 5, 0, tzinfo=dt.UTC)  # 06:00 CET, Thursday
    for d in (first, second):
        d.close()


def test_the_lock_race_on_the_database_has_one_winner_per_run(queue_url):
    """Two daemons (their own connections) try to start each run at the same moment."""
    states = [State(queue_url, owner) for owner in ("host-a:1", "host-b:2")]
    now = dt.datetime(2026, 3, 23, 8, 0, tzinfo=dt.UTC)
    barrier = threading.Barrier(2)
    outcomes: dict[int, list[str]] = {slot: [] for slot in range(30)}

    def contend(state: State) -> None:
        for slot in outcomes:
            barrier.wait()
            outcome = state.acquire("job", "bot", slot, ttl=60, now=now)
            outcomes[slot].append(outcome)
            barrier.wait()
            if outcome == STARTED:
                state.release("bot")

    threads = [threading.Thread(target=contend, args=(s,)) for s in states]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(sorted(o) == [STARTED, TAKEN] for o in outcomes.values()), outcomes

    a, b = states
    assert a.acquire("job", "bot", 100, ttl=60, now=now) == STARTED
    assert b.acquire("other job", "bot", 100, ttl=60, now=now) == BUSY  # the bot is running
    later = now + dt.timedelta(seconds=61)  # a's daemon died: its lock expired
    assert b.acquire("other job", "bot", 101, ttl=60, now=later) == STARTED
    assert a.renew("bot", 60, later) is False and b.renew("bot", 60, later) is True
    for state in states:
        state.close()


def test_missed_runs_are_skipped_or_run_once_on_start_up(project, clock, tmp_path):
    url = f"sqlite:///{tmp_path}/q.db"
    daily = '[[job]]\nbot = "sched_worker"\nat = "07:00"\ntimezone = "Europe/Berlin"\n'
    hourly = '[[job]]\nbot = "sched_broken"\nevery = "1 hour"\n'
    write(project, daily + hourly)
    clock.set("2026-03-23T05:59:00+00:00")  # Monday 06:59 in Berlin
    launcher = Launcher()
    monday = daemon(project, url, launcher)
    clock.set("2026-03-23T06:59:30+00:00")  # 07:59:30: both are due
    monday.tick()
    assert [name for name, _ in launcher.started] == [
        "sched_worker: daily at 07:00 (Europe/Berlin)",
        "sched_broken: every hour",
    ]
    monday.tick()
    monday.close()  # the machine is off until Wednesday

    clock.set("2026-03-25T09:00:00+00:00")
    skipping = Launcher()
    skip = daemon(project, url, skipping)
    skip.startup()
    assert skipping.started == []  # missed = skip (the default): wait for the next time

    run_once = 'missed = "run_once"\n'
    write(project, daily + run_once + hourly + run_once)
    wednesday = Launcher()
    catching = daemon(project, url, wednesday)
    catching.startup()
    assert len(wednesday.started) == 2
    row = catching.db.jobs()["sched_worker: daily at 07:00 (Europe/Berlin)"]
    assert dt.datetime.fromtimestamp(row.last_slot, dt.UTC).isoformat() == (
        "2026-03-25T06:00:00+00:00"  # today's 07:00 in Berlin: the latest one missed
    )
    other = daemon(project, url, Launcher())  # a second daemon starting at the same moment
    catching.reap()
    assert [other.catch_up(job) for job in other.jobs] == [False, False]
    clock.advance(minutes=30)
    assert [other.catch_up(job) for job in other.jobs] == [False, False]  # ran 30 min ago
    assert len(wednesday.started) == 2
    for d in (skip, catching, other):
        d.close()


def test_a_queue_trigger_starts_the_worker_when_enough_items_wait(project, clock, tmp_path):
    url = f"sqlite:///{tmp_path}/q.db"
    write(project, '[[job]]\nbot = "sched_worker"\nqueued = 3\nevery = "5 minutes"\n')
    launcher = Launcher()
    d = daemon(project, url, launcher)
    with open_store(url) as store:
        store.add("sched_worker", "a")
        store.add("sched_worker", "b")
        clock.advance(minutes=5)
        d.tick()
        assert launcher.started == []
        store.add("sched_worker", "c")
        clock.advance(minutes=5)
        d.tick()
    assert launcher.started == [
        ("sched_worker: when 3+ items wait, checked every 5 minutes", False)
    ]
    d.close()


def test_a_failing_start_or_a_crashing_run_never_stops_the_daemon(project, clock, tmp_path):
    url = f"sqlite:///{tmp_path}/q.db"
    write(project, '[[job]]\nbot = "sched_worker"\nevery = "1 minute"\n')
    launcher = Launcher(code=None)
    out = io.StringIO()
    d = daemon(project, url, launcher, out=out)
    launcher.fail = OSError("Cannot allocate memory")
    clock.advance(minutes=1)
    d.tick()
    assert d.running == {} and "could not start: OSError: Cannot allocate memory" in out.getvalue()
    clock.advance(minutes=1)
    d.tick()
    assert list(d.running) == ["sched_worker"]
    clock.advance(minutes=1)
    d.tick()  # still running: skipped, said once
    clock.advance(minutes=1)
    d.tick()
    assert out.getvalue().count("skipped, sched_worker is still running") == 1
    launcher.handles[0].code = -11  # it crashed
    d.reap()
    clock.advance(minutes=1)
    d.tick()
    assert len(launcher.started) == 2 and d.exits == [("sched_worker: every minute", -11)]
    assert "ended with exit code -11" in out.getvalue()
    d.close()


# -- real runs in child processes -------------------------------------------------------------


def test_once_runs_what_is_due_a_crash_and_a_failing_bot_are_reported(project, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.json").write_text("{}")
    (inbox / "b.json").write_text('{"crash": true}')
    with Webhook() as hook:
        write(
            project,
            f"""
[[job]]
bot = "sched_worker"
every = "1 hour"
settings = {{ input = "{inbox}", logs_dir = "{tmp_path}/logs" }}

[[job]]
bot = "sched_broken"
every = "1 hour"
settings = {{ logs_dir = "{tmp_path}/logs" }}

[alerts]
webhook = "{hook.url}"
""",
        )
        url = f"sqlite:///{tmp_path}/q.db"
        out = io.StringIO()
        d = daemon(project, url, out=out)
        assert d.once() == 1
        assert sorted(d.exits) == [("sched_broken: every hour", 3), ("sched_worker: every hour", 7)]
        again = daemon(project, url, out=out)
        assert again.once() == 0 and again.exits == []  # nothing is due an hour later
        d.close()
        again.close()
        alerts = {a["bot"]: a for a in hook.bodies}

    assert set(alerts) == {"sched_worker", "sched_broken"}
    assert alerts["sched_broken"]["error"] == "RuntimeError: the inbox share is gone"
    assert alerts["sched_worker"]["error"] == (
        "the run of sched_worker died (exit code 7); item(s) b will be retried"
    )
    with open_store(url) as store:
        a, b = store.find("sched_worker", "a"), store.find("sched_worker", "b")
        assert a.status == "done"
        assert (b.status, b.error_kind, b.attempts) == ("new", "RunnerDied", 1)
        assert "died (exit code 7) while working on this item" in b.error_message
    # The run says it was started by the schedule (the console's trigger column).
    starts = [
        json.loads(line)
        for steps in (tmp_path / "logs" / "sched_worker").glob("*/steps.jsonl")
        for line in steps.read_text().splitlines()
        if '"run_start"' in line
    ]
    assert starts and {s["trigger"] for s in starts} == {"schedule"}


def test_a_hung_run_is_stopped_then_killed_at_its_time_limit(project, tmp_path, monkeypatch):
    write(
        project,
        '[[job]]\nbot = "sched_worker"\nevery = "1 hour"\ntime_limit = 30\nsource = false\n',
    )
    url = f"sqlite:///{tmp_path}/q.db"
    marker = tmp_path / "started"
    with open_store(url) as store:
        store.add("sched_worker", "stuck", {"hang": True, "marker": str(marker)})
    monkeypatch.setenv("DESKHAND_LOGS_DIR", str(tmp_path / "logs"))
    out = io.StringIO()
    d = daemon(project, url, out=out, grace=10)
    now = [0.0]
    d.monotonic = lambda: now[0]  # the daemon's clock for limits; the child runs for real
    assert d.catch_up(d.jobs[0])
    child = d.running["sched_worker"].proc
    wait_for(lambda: d.reap() or marker.exists(), "the item to start")
    now[0] = 31.0
    d.reap()
    assert "reached its time limit of 30 s: told to stop" in out.getvalue()
    now[0] = 42.0  # the step never finishes: after the grace period it is killed
    d.reap()
    wait_for(lambda: d.reap() or not d.running, "the killed run to be reaped")
    assert d.exits == [("sched_worker: every hour", -signal.SIGKILL)]
    with pytest.raises(ProcessLookupError):
        os.killpg(child.pid, 0)  # its whole process group is gone
    with open_store(url) as store:
        item = store.find("sched_worker", "stuck")
        assert (item.status, item.error_kind, item.attempts) == ("new", "TimeLimit", 1)
        assert item.error_message == (
            "the run was stopped (time limit of 30 s) while working on this item"
        )
    assert d.db.locks() == {}  # the bot can run again
    d.close()


def test_the_daemon_runs_twice_and_a_sigterm_mid_run_loses_nothing(project, tmp_path):
    write(project, '[[job]]\nbot = "sched_worker"\nevery = "1 second"\nsource = false\n')
    url = f"sqlite:///{tmp_path}/q.db"
    go, marker = tmp_path / "go", tmp_path / "started"
    env = {**os.environ, "DESKHAND_DB": url, "DESKHAND_LOGS_DIR": str(tmp_path / "logs")}
    log = tmp_path / "daemon.log"
    with open_store(url) as store, open(log, "w") as output:
        store.add("sched_worker", "first")
        proc = subprocess.Popen(
            [sys.executable, "-m", "deskhand.scheduling", "--root", str(project)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(lambda: store.find("sched_worker", "first").status == "done", "run 1")
            state = State(url, "test")
            ended = state.jobs  # the job's row says when its latest run ended
            wait_for(lambda: ended()["sched_worker: every second"].last_end, "run 1 to end")
            store.add("sched_worker", "second", {"marker": str(marker), "wait_for": str(go)})
            store.add("sched_worker", "third")
            wait_for(marker.exists, "run 2 to be in the middle of 'second'")
            [beat] = state.daemons()  # the heartbeat row of the live daemon
            assert beat.running == ["sched_worker"]

            proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "told to stop (shutdown)" in log.read_text(), "the stop")
            assert proc.poll() is None  # it waits for the step to finish
            go.touch()
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
        items = {r: store.find("sched_worker", r) for r in ("first", "second", "third")}
        runners = {r: store.history(items[r].id)[1].runner for r in ("first", "second")}
        second = [entry.event for entry in store.history(items["second"].id)]

    text = log.read_text()
    assert items["first"].status == "done"
    # 'second' finished its step, then went back to the queue untouched; 'third' never began
    assert (items["second"].status, items["second"].attempts) == ("new", 0)
    assert second == ["added", "claimed", "released"]
    assert (items["third"].status, items["third"].attempts) == ("new", 0)
    assert (
        "[second] step 'work' ok"
        in (tmp_path / "logs")
        .joinpath("sched_worker", runners["second"].rsplit(":", 1)[1], "bot.log")
        .read_text()
    )
    assert runners["first"].rsplit(":", 1)[1] != runners["second"].rsplit(":", 1)[1]  # two runs
    assert text.count("sched_worker: started (pid") >= 2
    assert "daemon stopped" in text
    assert state.daemons() == [] and state.locks() == {}  # clean exit: no beat, no lock
    state.close()
    pid = json.loads("[" + marker.read_text() + "]")[0]
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_run_bot_schedule_through_the_cli(tmp_path):
    """Needs the wiring in deskhand/cli.py: the project's own bots/schedules.toml."""
    done = subprocess.run(
        [sys.executable, "run_bot.py", "schedule", "--list"],
        cwd=ROOT,
        env={**os.environ, "DESKHAND_DB": f"sqlite:///{tmp_path}/q.db"},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("invoice_entry: every 15 minutes  next ")
    assert "queue then work; time limit 20m, missed runs: run_once" in done.stdout
