"""The run folder, its journal (``steps.jsonl`` and ``bot.log``) and secret masking.

Every event of a run goes through the run's one journal writer
(:class:`deskhand.journal.JournalWriter`): masked once, written to ``steps.jsonl`` (one JSON
object a line: the single source of truth every view is rendered from, see
:mod:`deskhand.journal`) and, rendered, to ``bot.log`` (the same, for people); it is also
logged through loguru (bound to the run) for any sink of the application's own.
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
import dataclasses
import inspect
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
from .journal import events as journal_events
from .journal.model import RunModel, read_lines, read_run
from .journal.text import human_line
from .journal.writer import JournalWriter
from .masking import MASK

__all__ = [
    "MASK",
    "InterceptHandler",
    "RunLog",
    "format_traceback",
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


_JSON_SCALARS = frozenset({str, int, float, bool, type(None)})


def to_json(value: Any) -> Any:
    """Make a value JSON-able the way deskhand writes it: ISO dates, decimals as strings."""
    if type(value) in _JSON_SCALARS:
        return value
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
    """The run folder ``logs/<bot>/<run-id>/`` and its journal (steps.jsonl, bot.log).

    Use as a context manager; :meth:`event` writes one event through the journal's one
    writer (:class:`deskhand.journal.JournalWriter`).
    """

    def __init__(self, logs_dir: Path, bot: str, run_id: str | None = None) -> None:
        self.bot = bot
        self.run_id = run_id or new_run_id()
        self.dir = Path(logs_dir) / bot / self.run_id
        self.screenshots = self.dir / "screenshots"
        self._sink_ids: list[int] = []
        self._writer: JournalWriter | None = None
        self._scope: Any = None
        self.secrets: masking.Secrets | None = None  # the run's masking registry
        self.log = logger.bind(run_id=self.run_id)

    def __enter__(self) -> RunLog:
        private.make_dirs(self.screenshots)
        self._writer = JournalWriter(
            self.dir, lambda: self.secrets, lambda: list(_streams), to_json
        ).open()
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
        self.event(
            journal_events.LogRecord(
                message=rec["message"],
                level_name=rec["level"].name,
                source="logging" if stdlib else "loguru",
                logger=stdlib or rec["name"],
                item=place["item"],
                attempt=place["attempt"],
                step=place["steps"][-1] if place["steps"] else None,
                traceback=format_traceback(rec["exception"] and rec["exception"].value),
            )
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
            if self._writer is not None:
                self._writer.close()
                self._writer = None
            private.lock_down(self.dir)
        finally:
            if self._scope is not None:
                self._scope.__exit__(None, None, None)
                self._scope = None

    def event(
        self, kind: str | journal_events.Event, level: str = "INFO", /, **fields: Any
    ) -> dict:
        """Write one event (masked) to steps.jsonl and its line to bot.log; return the
        journal line. ``kind``: a typed event (:mod:`deskhand.journal.events`), or an
        event's name and its fields (``event("source", total=3, added=1)``)."""
        ts = datetime.now(UTC).isoformat(timespec="milliseconds")
        base = {"ts": ts, "run_id": self.run_id, "bot": self.bot}
        if isinstance(kind, journal_events.Event):
            typed = dataclasses.replace(kind, **base)
        else:
            given = {k: v for k, v in fields.items() if v is not None}
            typed = journal_events.make(kind, {**base, **given}, level)
        if self._writer is not None:
            record, human = self._writer.write(typed)
        else:  # not entered (or closed): nothing is written, the line is still returned
            record = masking.mask(to_json(typed.to_dict()), self.secrets)
            human = human_line(record)
        _track(record)
        self.log.log(typed.level, human)  # for the application's own loguru sinks, if any
        return record

    def flush(self) -> None:
        """Write out the journal's buffered events."""
        if self._writer is not None:
            self._writer.flush()

    def read(self) -> RunModel:
        """The run model of what this run has journaled so far (flushed first)."""
        self.flush()
        return read_run(self.dir)


def format_traceback(exc: BaseException | None) -> str | None:
    """The exception's traceback as the journal records it (None for no exception)."""
    if exc is None:
        return None
    import traceback

    return "".join(traceback.format_exception(exc)).rstrip()


def read_events(run_dir: Path) -> list[dict]:
    """All events of a run, in order; a torn last line (a crash mid-write) is skipped."""
    return read_lines(Path(run_dir) / "steps.jsonl")[0]
