"""Text views of the journal: bot.log's lines and the run's one-line summary.

bot.log is a rendering of steps.jsonl: each of its lines is :func:`bot_log_line` of one
journal line, so ``render_bot_log(steps.jsonl)`` gives bot.log back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..status import Status
from . import events as ev

__all__ = ["bot_log_line", "counts_text", "human_line", "level_of", "render_bot_log"]

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}")  # the writer's UTC time stamps


def human_line(e: dict[str, Any] | ev.Event) -> str:
    """One readable line for an event (a journal line's dict, or typed), as bot.log shows it."""
    if isinstance(e, ev.Event):
        e = e.to_dict()
    where = f"[{e['item']}] " if e.get("item") else ""
    return _LINES.get(e.get("event"), _notice)(e, where)


def counts_text(counts: dict[str, int]) -> str:
    """``3 done, 1 needs review, 0 failed, 1 released``: counts as people read them."""
    return ", ".join(f"{n} {Status(s).label}" for s, n in counts.items()) or "no items"


def level_of(e: dict[str, Any] | ev.Event) -> str:
    """The level bot.log shows an event with (from the event alone)."""
    return (e if isinstance(e, ev.Event) else ev.from_dict(e)).level


def bot_log_line(
    e: dict[str, Any] | ev.Event, level: str | None = None, human: str | None = None
) -> str:
    """The event's line in bot.log: ``2026-03-01 09:00:00.123 | INFO    | …`` (UTC).
    ``level`` and ``human``: the event's level and :func:`human_line`, when the caller has
    them at hand."""
    line = e.to_dict() if isinstance(e, ev.Event) else e
    ts = str(line.get("ts", ""))
    when = f"{ts[:10]} {ts[11:23]}" if _ISO.match(ts) else ts
    return f"{when} | {level or level_of(e): <7} | {human or human_line(line)}"


def render_bot_log(lines: list[dict[str, Any]]) -> str:
    """bot.log's text for the journal lines ``lines``."""
    return "".join(bot_log_line(line) + "\n" for line in lines)


def _data(data: Any) -> str:
    if not data:
        return ""
    return " " + json.dumps(data, ensure_ascii=False, sort_keys=True)[:500]


def _error(e: dict[str, Any]) -> str:
    return f": {e['error']['message']}" if e.get("error") else ""


def _source(e: dict[str, Any], where: str) -> str:
    earlier = e.get("already_queued") or {}
    held = ", ".join(f"{n} {status}" for status, n in sorted(earlier.items()))
    return f"source: {e.get('total')} item(s) read, {e.get('added')} queued" + (
        f"; already in the queue: {held}" if held else ""
    )


def _log(e: dict[str, Any], where: str) -> str:
    step = f"({e['step']}) " if e.get("step") else ""
    origin = f"{e.get('source')}:{e.get('logger')}" if e.get("source") else "log"
    text = f"{where}{step}{origin}: {e.get('message', '')}{_data(e.get('data'))}"
    return text + (f"\n{e['traceback']}" if e.get("traceback") else "")


def _healing(e: dict[str, Any], where: str) -> str:
    tried = ", ".join(f"{c['selector']} matched {c['matches']}" for c in e.get("candidates") or [])
    proposal = f"; proposal {e['proposal']}" if e.get("proposal") else ""
    repository = f"selectors/{e.get('repository')}.yaml"
    return f"{where}healing {e.get('element')} ({repository}): {tried}{proposal}"


def _notice(e: dict[str, Any], where: str) -> str:
    """Every kind not in _LINES (warnings, retries, released, a bot's own): message, data."""
    return f"{where}{e.get('event')}: {e.get('message', '')}{_data(e.get('data'))}"


# The kind of a journal line -> its text in bot.log (``w``: "[item] " or ""); other kinds:
# _notice.
_LINES: dict[str, Callable[[dict[str, Any], str], str]] = {
    ev.RunStarted.EVENT: lambda e, w: f"run {e.get('run_id')} of {e.get('bot')} started",
    ev.Sourced.EVENT: _source,
    ev.ItemStarted.EVENT: lambda e, w: f"{w}item started (attempt {e.get('attempt')})",
    ev.StepStarted.EVENT: lambda e, w: f"{w}step '{e.get('step')}' started{_data(e.get('data'))}",
    ev.StepEnded.EVENT: lambda e, w: (
        f"{w}step '{e.get('step')}' {e.get('status')} in {e.get('duration_ms', 0)} ms{_error(e)}"
    ),
    ev.StepData.EVENT: lambda e, w: f"{w}step '{e.get('step')}' data{_data(e.get('data'))}",
    ev.Action.EVENT: lambda e, w: (
        f"{w}  {e.get('action')} {e.get('element') or ''}{_data(e.get('data'))}"
    ),
    ev.LogRecord.EVENT: _log,
    ev.Values.EVENT: lambda e, w: f"{w}values {e.get('kind')}{_data(e.get('data'))}",
    ev.Healing.EVENT: _healing,
    ev.KeyDeclared.EVENT: lambda e, w: f"{w}business key {e.get('key')}",
    ev.ItemEnded.EVENT: lambda e, w: (
        f"{w}item {e.get('status')} after {e.get('attempt')} attempt(s){_error(e)}"
    ),
    ev.RunEnded.EVENT: lambda e, w: (
        f"run {e.get('run_id')} ended: {counts_text(e.get('counts') or {})}"
    ),
}
