"""The run folder, the step log (``steps.jsonl``) and secret masking.

Every event of a run goes through one loguru logger, bound to the run. Two sinks per run
receive it: ``steps.jsonl`` (one JSON object a line: the single source of truth that the
report and every later view are rendered from) and ``bot.log`` (the same, for people).
A run is a masking scope: secret values registered while it runs (:func:`register_secret`,
``vault.get``) are masked, in every encoding, before anything is written, and forgotten when
it ends. The run folder is owner-only (see :mod:`deskhand.private`).
"""

from __future__ import annotations

import json
import re
import secrets as _random
import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from loguru import logger

from . import masking, private
from .masking import MASK

__all__ = [
    "MASK",
    "RunLog",
    "human_line",
    "mask",
    "new_run_id",
    "read_events",
    "register_secret",
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
        self._scope = masking.scope()  # last: nothing below can fail and leave it open
        self.secrets = self._scope.__enter__()  # the run's secrets: masked, then forgotten
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            for sink_id in self._sink_ids:
                logger.remove(sink_id)
            self._sink_ids.clear()
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
        with self._lock:
            if self._jsonl:
                self._jsonl.write(line + "\n")
                self._jsonl.flush()
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
    return f"{where}{kind}: {e.get('message', '')}{_data(e.get('data'))}"


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
