"""The run folder, the step log (``steps.jsonl``) and secret masking.

Every event of a run goes through one loguru logger, bound to the run. Two sinks per run
receive it: ``steps.jsonl`` (one JSON object a line: the single source of truth that the
report and every later view are rendered from) and ``bot.log`` (the same, for people).
Secret values registered with :func:`register_secret` are masked before anything is written.
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

MASK = "********"
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secret_pattern: re.Pattern[str] | None = None


def register_secret(value: str) -> None:
    """Never let ``value`` reach a log, a report or an exception message again."""
    global _secret_pattern
    if not isinstance(value, str) or len(value) < 3:
        return  # too short to mask without masking ordinary text; vault refuses these anyway
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        ordered = sorted(_secrets, key=len, reverse=True)
        _secret_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def mask(value: Any) -> Any:
    """Return ``value`` with every registered secret replaced by ``********``.

    Works through strings, dicts, lists and tuples; other values are returned as they are.
    """
    pattern = _secret_pattern
    if pattern is None:
        return value
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(v) for v in value]
    return value


def has_secrets() -> bool:
    return _secret_pattern is not None


def mask_in_json(text: str) -> str:
    """Mask secrets in JSON (or HTML) text, also where JSON escaping changed their form."""
    text = mask(text)
    with _secrets_lock:
        escaped = [json.dumps(s)[1:-1] for s in _secrets]
    for form in escaped:
        text = text.replace(form, MASK)
    return text


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
        self.log = logger.bind(run_id=self.run_id)

    def __enter__(self) -> RunLog:
        self.screenshots.mkdir(parents=True, exist_ok=True)
        self._jsonl = open(self.dir / "steps.jsonl", "a", encoding="utf-8")  # noqa: SIM115
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
        return self

    def __exit__(self, *exc: object) -> None:
        for sink_id in self._sink_ids:
            logger.remove(sink_id)
        self._sink_ids.clear()
        if self._jsonl:
            self._jsonl.close()
            self._jsonl = None

    def event(self, kind: str, level: str = "INFO", /, **fields: Any) -> dict:
        """Write one event (masked) to steps.jsonl and a readable line to bot.log."""
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "event": kind,
            "run_id": self.run_id,
            "bot": self.bot,
        }
        record.update({k: v for k, v in fields.items() if v is not None})
        record = mask(to_json(record))
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
