"""Jobs: what ``bots/schedules.toml`` and a bot module's ``SCHEDULES`` declare, checked and
turned into ``schedule`` jobs.

A job says which bot runs and when: ``every = "15 minutes"``; ``at = "07:30"`` (daily);
``days = ["monday", "friday"]`` or ``"weekdays"`` with ``at``; ``timezone`` for ``at``;
``queued = N`` (start when at least N items wait, checked ``every``, default each minute).
Each run gets a *slot*: the instant it stands for, the same on every machine (the scheduled
time of an ``at`` job; the interval's start since the epoch otherwise), so that daemons
sharing a database start each slot once.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schedule

from ..errors import ConfigError

SCHEDULES_FILE = "bots/schedules.toml"
KEYS = (
    "bot", "name", "every", "at", "days", "timezone", "time_limit", "missed", "queued",
    "source", "settings",
)  # fmt: skip
UNITS = ("seconds", "minutes", "hours", "days", "weeks")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_GROUPS = {"weekdays": WEEKDAYS[:5], "weekend": WEEKDAYS[5:]}
MISSED = ("skip", "run_once")
DEFAULT_TIME_LIMIT = 3600.0
_EVERY = re.compile(r"^(?:(\d+)\s*)?(second|minute|hour|day|week)s?$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)?$")


@dataclass
class Job:
    """One declared schedule of one bot (``bot`` is its file name in bots/)."""

    bot: str
    name: str
    interval: int = 1
    unit: str = "days"
    at: str | None = None
    days: tuple[str, ...] = ()
    timezone: str | None = None
    time_limit: float = DEFAULT_TIME_LIMIT
    missed: str = "skip"
    queued: int | None = None
    source: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    # From the bot, once loaded: the queue a trigger counts, what a killed run's item gets.
    queue: str = ""
    max_attempts: int = 3
    retry_delay: float = 2.0

    @property
    def period(self) -> float:
        """Seconds between two runs (a weekday job: a week)."""
        if self.days:
            return 7 * 86400.0
        return dt.timedelta(**{self.unit: self.interval}).total_seconds()

    def describe(self) -> str:
        """When the job runs, in words: 'every 15 minutes', 'on weekdays at 18:00 (UTC)'."""
        unit = self.unit[:-1]
        if self.days:
            text = "on " + _day_words(self.days)
        elif self.unit == "days" and self.interval == 1 and self.at:
            text = "daily"
        else:
            text = f"every {unit}" if self.interval == 1 else f"every {self.interval} {self.unit}"
        if self.at:
            text += f" at {self.at}"
        if self.timezone:
            text += f" ({self.timezone})"
        if self.queued is not None:
            text = f"when {self.queued}+ items wait, checked {text}"
        return text

    def add_to(self, scheduler: schedule.Scheduler, fire: Callable[..., Any]) -> list:
        """Register the job with ``scheduler``; each ``schedule`` job calls
        ``fire(self, that_schedule_job)``. A weekday job makes one per day."""
        made = [getattr(scheduler.every(), day) for day in self.days] or [
            getattr(scheduler.every(self.interval), self.unit)
        ]
        for sched_job in made:
            if self.at:
                sched_job.at(self.at, self.timezone)
            sched_job.do(fire, self, sched_job)
        return made

    def slot(self, sched_job: Any, now: dt.datetime) -> int:
        """The slot of the run ``sched_job`` is firing for (epoch seconds)."""
        if self.at:  # the scheduled instant: the same on every machine
            return int(sched_job.next_run.astimezone().timestamp())
        return self.interval_slot(now)

    def interval_slot(self, now: dt.datetime) -> int:
        """The start of the interval ``now`` is in, counted from the epoch."""
        return int(math.floor(now.timestamp() / self.period) * self.period)

    def previous(self, sched_jobs: list) -> int:
        """The latest scheduled instant before now of an ``at`` job (epoch seconds)."""
        step = dt.timedelta(weeks=1) if self.days else dt.timedelta(**{self.unit: self.interval})
        found = []
        for sched_job in sched_jobs:
            if self.timezone:  # wall-clock arithmetic in the job's zone (DST changes)
                zone = _zone(self.timezone)
                wall = sched_job.next_run.astimezone(zone).replace(tzinfo=None) - step
                found.append(wall.replace(tzinfo=zone).timestamp())
            else:  # naive local time: astimezone() applies the local zone's offset
                found.append((sched_job.next_run - step).astimezone().timestamp())
        return int(max(found))


def load_jobs(root: Path) -> list[Job]:
    """The jobs of ``bots/schedules.toml`` and of every bot module's ``SCHEDULES``,
    checked (and their bots loaded); a ConfigError in one line when anything is wrong."""
    from ..bot import bots_dir, load_bot
    from ..config import load_settings

    jobs: list[Job] = []
    bots: dict[str, Any] = {}

    def bot_named(name: str) -> Any:
        if name not in bots:
            bots[name] = _load(load_bot, name, root)
        return bots[name]

    data = read_schedules_file(root)
    for n, spec in enumerate(data.get("job", []), 1):
        where = f"{SCHEDULES_FILE}, job {n}"
        if not isinstance(spec, dict) or not isinstance(spec.get("bot"), str):
            raise ConfigError(f'{where}: needs bot = "NAME" (a module in bots/)')
        jobs.append(parse_job(spec["bot"], spec, where))
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # bots import from the project, as on the CLI
    for path in sorted(bots_dir(root).glob("*.py")):
        if path.stem.startswith("_") or "SCHEDULES" not in path.read_text(encoding="utf-8"):
            continue
        bot_named(path.stem)
        declared = getattr(sys.modules.get(f"deskhand_bots.{path.stem}"), "SCHEDULES", None)
        if declared is None:
            continue
        if not isinstance(declared, list | tuple):
            raise ConfigError(f"bots/{path.name}: SCHEDULES must be a list of dicts")
        for n, spec in enumerate(declared):
            where = f"bots/{path.name}, SCHEDULES[{n}]"
            if not isinstance(spec, dict):
                raise ConfigError(f"{where}: must be a dict such as {{'every': '15 minutes'}}")
            if spec.get("bot", path.stem) != path.stem:
                raise ConfigError(f"{where}: names bot {spec['bot']!r}; leave bot out here")
            jobs.append(parse_job(path.stem, spec, where))
    seen: dict[str, str] = {}
    for job in jobs:
        if job.name in seen:
            raise ConfigError(
                f"{job.origin}: a job named {job.name!r} is already in {seen[job.name]}: "
                'give one of them a name = "..."'
            )
        seen[job.name] = job.origin
        bot = bot_named(job.bot)
        if "db" in job.settings:
            raise ConfigError(
                f"{job.origin}: a job cannot choose its database: set it for the daemon "
                "(--db or DESKHAND_DB)"
            )
        settings = load_settings(root, bot.settings, job.settings)
        job.queue = bot.queue
        job.max_attempts = settings.max_attempts or bot.max_attempts
        job.retry_delay = bot.retry_delay if settings.retry_delay is None else settings.retry_delay
    return jobs


def read_schedules_file(root: Path) -> dict[str, Any]:
    """``bots/schedules.toml`` as data ({} when there is none)."""
    path = Path(root) / SCHEDULES_FILE
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{SCHEDULES_FILE} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"job", "alerts"})
    if unknown:
        raise ConfigError(
            f"{SCHEDULES_FILE}: unknown table {unknown[0]!r} (known: [[job]], [alerts])"
        )
    if not isinstance(data.get("job", []), list):
        raise ConfigError(f"{SCHEDULES_FILE}: write each job as a [[job]] table")
    return data


def parse_job(bot: str, spec: dict[str, Any], where: str) -> Job:
    """One job from its declaration; ConfigError naming ``where`` when it is wrong."""
    unknown = sorted(set(spec) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    job = Job(bot=bot, name="", origin=where)
    try:
        _fill(job, spec)
        job.add_to(schedule.Scheduler(), lambda *a: None)  # schedule checks what is left
    except schedule.ScheduleError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    job.name = str(spec.get("name") or f"{bot}: {job.describe()}")
    return job


def _fill(job: Job, spec: dict[str, Any]) -> None:
    every, at, days = spec.get("every"), spec.get("at"), spec.get("days")
    if every is None and at is None and days is None and spec.get("queued") is None:
        raise ValueError('say when: every = "15 minutes", at = "07:30" or days = [...]')
    if every is not None:
        match = _EVERY.match(str(every).strip().lower())
        if not match:
            raise ValueError(
                f'every = {every!r}: write "N seconds|minutes|hours|days|weeks", e.g. "15 minutes"'
            )
        job.interval, job.unit = int(match.group(1) or 1), match.group(2) + "s"
        if job.interval < 1:
            raise ValueError("every must be at least 1")
    elif at is None and days is None:  # a queue trigger alone: check every minute
        job.unit = "minutes"
    if days is not None:
        if every is not None:
            raise ValueError("give either every or days, not both")
        job.days = _parse_days(days)
        if at is None:
            raise ValueError('days needs at = "HH:MM"')
    if at is not None:
        job.at = str(at)
    if spec.get("timezone") is not None:
        if not job.at:
            raise ValueError('timezone applies to at = "HH:MM": add at, or remove timezone')
        job.timezone = str(spec["timezone"])
        _zone(job.timezone)
    if spec.get("time_limit") is not None:
        job.time_limit = parse_duration(spec["time_limit"], "time_limit")
    job.missed = str(spec.get("missed", "skip"))
    if job.missed not in MISSED:
        raise ValueError(f"missed = {job.missed!r}: use skip or run_once")
    if spec.get("queued") is not None:
        queued = spec["queued"]
        if isinstance(queued, bool) or not isinstance(queued, int) or queued < 1:
            raise ValueError(f"queued = {queued!r}: give the number of waiting items, e.g. 10")
        job.queued = queued
    job.source = bool(spec.get("source", job.queued is None))
    settings = spec.get("settings", {})
    if not isinstance(settings, dict):
        raise ValueError('settings must be a table, e.g. settings = { input = "inbox" }')
    job.settings = {k: str(v) if isinstance(v, Path) else v for k, v in settings.items()}


def _parse_days(days: Any) -> tuple[str, ...]:
    names = DAY_GROUPS.get(days, (days,)) if isinstance(days, str) else days
    if not isinstance(names, list | tuple) or not names:
        raise ValueError('days must be a list such as ["monday", "friday"], or "weekdays"')
    out = []
    for day in names:
        day = str(day).strip().lower()
        if day not in WEEKDAYS:
            raise ValueError(f"unknown day {day!r}: use {', '.join(WEEKDAYS)} or weekdays")
        if day not in out:
            out.append(day)
    return tuple(sorted(out, key=WEEKDAYS.index))


def _day_words(days: tuple[str, ...]) -> str:
    for word, group in DAY_GROUPS.items():
        if days == group:
            return word
    return ", ".join(days)


def parse_duration(value: Any, what: str) -> float:
    """Seconds from 90, "90s", "30m" or "2h"."""
    match = _DURATION.match(str(value).strip().lower()) if not isinstance(value, bool) else None
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'{what} = {value!r}: give seconds or a duration such as "30m" or "2h"')
    factor = {"m": 60, "h": 3600}.get((match.group(2) or "s")[0], 1)
    return float(match.group(1)) * factor


def _zone(name: str) -> dt.tzinfo:
    try:
        import pytz  # schedule's own time-zone support is built on it
    except ImportError:  # pragma: no cover - a dependency of deskhand
        raise ConfigError("time zones need pytz: pip install 'schedule[timezone]'") from None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        pytz.timezone(name)
        return ZoneInfo(name)
    except (pytz.UnknownTimeZoneError, ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Berlin"
        ) from None


def _load(load_bot: Callable, name: str, root: Path) -> Any:
    try:
        return load_bot(name, root)
    except ConfigError:
        raise
    except Exception as exc:  # the module itself is broken: say so in one line
        raise ConfigError(
            f"bots/{name}.py cannot be imported ({type(exc).__name__}: {exc}): fix the bot"
        ) from None
