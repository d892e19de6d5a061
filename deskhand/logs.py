"""The run folder, the step log (``steps.jsonl``) and secret masking.

Every event of a run goes through one loguru logger, bound to the run. Two sinks per run
receive it: ``steps.jsonl`` (one JSON object a line: the single source of truth that the
report and every later view are rendered from) and ``bot.log`` (the same, for people).
A bot's own ``loguru.logger`` calls and the standard :mod:`logging` module (routed into
loguru by :class:`InterceptHandler`, installed for the run and removed after; the root
logger passes INFO and up while a run runs) become ``log`` events of the item and step they
were made in. :func:`ship_events` copies every event, as a JSON line, to a stream too
(``--log-json``: stdout, for log shipping).
A run is a masking scope: secret values registered while it runs (:func:`register_secret`,
``vault.get``) are masked, in every encoding, before anything is written, and forgotten when
it ends. The run folder is owner-only (see :mod:`deskhand.private`).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import logging
import re
import secrets as _random
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from loguru import logger

from . import masking, private
from .masking import MASK

__all__ = [
    "MASK",
    "InterceptHandler",
    "RunLog",
    "human_line",
    "mask",
    "new_run_id",
    "read_events",
    "register_secret",
    "ship_events",
    "slug",
    "to_json",
]


def register_secret(value: str) -> None:
    """Never let ``value`` reach a log, a report or an exception message of the current run
    (or command) again, in any encoding (see :mod:`deskhand.masking`)."""
    masking.register(value)


def mask(value: Any) -> Any:
    """Return ``value`` with every registered secret, in every encoding, replaced by
    ``********``. Works through strings, bytes, dicts, lists and tuples."""
    return masking.mask(value)


def to_json(value: Any) -> Any:
    """Make a value JSON-able the way deskhand writes it: ISO dates, decimals as strings."""
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_json(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "to_json"):
        return to_json(value.to_json())
    return repr(value)


def new_run_id() -> str:
    """A sortable, unique run id: ``20261122-184501-3fa9``."""
    return datetime.now().strftime("%Y%m%d-%H%M%S-") + _random.token_hex(2)


def slug(text: str, limit: int = 40) -> str:
    """A file-name-safe short form of ``text``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:limit] or "x"


_streams: list[IO[str]] = []  # where ship_events copies every event to
_runs: list[RunLog] = []  # the runs logging now, newest last
_local = threading.local()  # per thread: the run, the item and the steps it is in


@contextlib.contextmanager
def ship_events(stream: IO[str]) -> Any:
    """While open, every run's events (masked) are also written to ``stream``, one JSON
    object a line: ``with ship_events(sys.stdout): ...`` (``run --log-json``)."""
    _streams.append(stream)
    try:
        yield stream
    finally:
        _streams.remove(stream)


class InterceptHandler(logging.Handler):
    """Hand standard :mod:`logging` records to loguru (loguru's documented recipe), the
    logger's name kept as ``extra["stdlib"]``."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        frame, depth = inspect.currentframe(), 0
        while frame and (depth == 0 or frame.f_code.co_filename == logging.__file__):
            frame = frame.f_back
            depth += 1
        logger.bind(stdlib=record.name).opt(depth=depth, exception=record.exc_info).log(
            level, record.getMessage()
        )


def _place() -> dict:
    """The item, attempt and steps the current thread is in (tracked from its events)."""
    place = getattr(_local, "place", None)
    if place is None:
        place = _local.place = {"item": None, "attempt": None, "steps": []}
    return place


def _track(record: dict) -> None:
    place, kind = _place(), record["event"]
    if kind == "item_start":
        place.update(item=record.get("item"), attempt=record.get("attempt"), steps=[])
    elif kind == "item_end":
        place.update(item=None, attempt=None, steps=[])
    elif kind == "step_start":
        place["steps"].append(record.get("step"))
    elif kind == "step_end" and record.get("step") in place["steps"]:
        del place["steps"][place["steps"].index(record.get("step")) :]


class RunLog:
    """The run folder ``logs/<bot>/<run-id>/`` and its two log sinks.

    Use as a context manager; :meth:`event` writes one event to both sinks.
    """

    def __init__(self, logs_dir: Path, bot: str, run_id: str | None = None) -> None:
        self.bot = bot
        self.run_id = run_id or new_run_id()
        self.dir = Path(logs_dir) / bot / self.run_id
        self.screenshots = self.dir / "screenshots"
        self._sink_ids: list[int] = []
        self._jsonl = None
        self._lock = threading.Lock()
        self._scope: Any = None
        self.secrets: masking.Secrets | None = None  # the run's masking registry
        self.log = logger.bind(run_id=self.run_id)

    def __enter__(self) -> RunLog:
        private.make_dirs(self.screenshots)
        fd = private.open_file(self.dir / "steps.jsonl")
        self._jsonl = open(fd, "a", encoding="utf-8")  # noqa: SIM115
        private.create(self.dir / "bot.log")
        mine = self.run_id

        def only_this_run(record: dict) -> bool:
            return record["extra"].get("run_id") == mine

        self._sink_ids.append(
            logger.add(
                self.dir / "bot.log",
                level="DEBUG",
                filter=only_this_run,
                format="{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <7} | {message}",
                encoding="utf-8",
            )
        )
        self._sink_ids.append(
            logger.add(self._foreign, level="TRACE", filter=self._is_foreign, format="{message}")
        )
        self._intercept = InterceptHandler()
        root = logging.getLogger()
        self._root_level = root.level
        root.addHandler(self._intercept)
        root.setLevel(min(root.level or logging.WARNING, logging.INFO))
        _runs.append(self)
        self._outer, _local.run = getattr(_local, "run", None), self
        self._outer_place, _local.place = getattr(_local, "place", None), None
        self._scope = masking.scope()  # last: nothing below can fail and leave it open
        self.secrets = self._scope.__enter__()  # the run's secrets: masked, then forgotten
        return self

    def _is_foreign(self, record: dict) -> bool:
        """A record of the bot's own (loguru or logging), not a deskhand event: it goes to
        the run this thread works for (else the newest run)."""
        if "run_id" in record["extra"]:
            return False
        mine = getattr(_local, "run", None) or (_runs[-1] if _runs else None)
        return mine is self

    def _foreign(self, message: Any) -> None:
        """A bot's own log record as a ``log`` event of the item and step it was made in."""
        rec = message.record
        place = _place()
        stdlib = rec["extra"].get("stdlib")
        try:
            level: Any = logger.level(rec["level"].name).name
        except ValueError:  # a stdlib level loguru has no name for
            level = rec["level"].no
        self.event(
            "log",
            level,
            message=rec["message"],
            level=rec["level"].name,
            source="logging" if stdlib else "loguru",
            logger=stdlib or rec["name"],
            item=place["item"],
            attempt=place["attempt"],
            step=place["steps"][-1] if place["steps"] else None,
            traceback=_traceback(rec["exception"]),
        )

    def __exit__(self, *exc: object) -> None:
        try:
            for sink_id in self._sink_ids:
                logger.remove(sink_id)
            self._sink_ids.clear()
            if self in _runs:
                _runs.remove(self)
                logging.getLogger().removeHandler(self._intercept)
                logging.getLogger().setLevel(self._root_level)
                _local.run, _local.place = self._outer, self._outer_place
            if self._jsonl:
                self._jsonl.close()
                self._jsonl = None
            private.lock_down(self.dir)
        finally:
            if self._scope is not None:
                self._scope.__exit__(None, None, None)
                self._scope = None

    def event(self, kind: str, level: str = "INFO", /, **fields: Any) -> dict:
        """Write one event (masked) to steps.jsonl and a readable line to bot.log."""
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": kind,
            "run_id": self.run_id,
            "bot": self.bot,
        }
        record.update({k: v for k, v in fields.items() if v is not None})
        record = masking.mask(to_json(record), self.secrets)
        line = json.dumps(record, ensure_ascii=False)
        _track(record)
        with self._lock:
            if self._jsonl:
                self._jsonl.write(line + "\n")
                self._jsonl.flush()
            for stream in _streams:
                stream.write(line + "\n")
                stream.flush()
        self.log.log(level, human_line(record))
        return record


def human_line(e: dict) -> str:
    """One readable line for an event, as bot.log shows it."""
    kind = e["event"]
    where = f"[{e['item']}] " if e.get("item") else ""
    if kind in ("step_start", "step_end"):
        text = f"{where}step '{e.get('step')}'"
        if kind == "step_start":
            return text + " started" + _data(e.get("data"))
        text += f" {e.get('status')} in {e.get('duration_ms', 0)} ms"
        return text + (f": {e['error']['message']}" if e.get("error") else "")
    if kind == "action":
        return f"{where}  {e.get('action')} {e.get('element') or ''}{_data(e.get('data'))}"
    if kind == "item_end":
        text = f"{where}item {e.get('status')} after {e.get('attempt')} attempt(s)"
        return text + (f": {e['error']['message']}" if e.get("error") else "")
    if kind == "item_start":
        return f"{where}item started (attempt {e.get('attempt')})"
    if kind == "run_start":
        return f"run {e['run_id']} of {e['bot']} started"
    if kind == "run_end":
        return f"run {e['run_id']} ended: {e.get('counts')}"
    if kind == "log":
        step = f"({e['step']}) " if e.get("step") else ""
        origin = f"{e.get('source')}:{e.get('logger')}" if e.get("source") else "log"
        text = f"{where}{step}{origin}: {e.get('message', '')}{_data(e.get('data'))}"
        return text + (f"\n{e['traceback']}" if e.get("traceback") else "")
    if kind == "source":
        earlier = e.get("already_queued") or {}
        held = ", ".join(f"{n} {status}" for status, n in sorted(earlier.items()))
        return f"source: {e.get('total')} item(s) read, {e.get('added')} queued" + (
            f"; already in the queue: {held}" if held else ""
        )
    if kind == "values":
        return f"{where}values {e.get('kind')}{_data(e.get('data'))}"
    if kind == "healing":
        tried = ", ".join(
            f"{c['selector']} matched {c['matches']}" for c in e.get("candidates") or []
        )
        proposal = f"; proposal {e['proposal']}" if e.get("proposal") else ""
        return (
            f"{where}healing {e.get('element')} (selectors/{e.get('repository')}.yaml): "
            f"{tried}{proposal}"
        )
    return f"{where}{kind}: {e.get('message', '')}{_data(e.get('data'))}"


def _traceback(exception: Any) -> str | None:
    if not exception or exception.type is None:
        return None
    import traceback

    lines = traceback.format_exception(exception.type, exception.value, exception.traceback)
    return "".join(lines).rstrip()


def _data(data: Any) -> str:
    if not data:
        return ""
    return " " + json.dumps(data, ensure_ascii=False, sort_keys=True)[:500]


def read_events(run_dir: Path) -> list[dict]:
    """All events of a run, in order; a torn last line (a crash mid-write) is skipped."""
    events = []
    with open(Path(run_dir) / "steps.jsonl", encoding="utf-8") as fh:
        for line in fh:
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return events
