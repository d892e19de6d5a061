"""The one writer of a run's journal: masks each event once, then writes it to steps.jsonl
and its rendering to bot.log (and to the streams ``--log-json`` ships events to).

A page's actions, whose lines no one waits for, are rendered in a batch with the next other
event (:meth:`JournalWriter.write_later`: a step's end at the latest), in their places.
Writes are buffered and flushed when a step, an attempt or the run ends, when an event of
level WARNING or above comes, on :meth:`JournalWriter.close`, and by a timer every
:data:`FLUSH_SECONDS`: a process killed outright loses at most that last second of events
(and leaves at most one torn last line, which the reader skips); an exception or a signal
that unwinds the run loses nothing.
"""

from __future__ import annotations

import atexit
import json
import threading
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from .. import masking, private
from . import events as ev
from .text import bot_log_line, human_line

__all__ = ["FLUSH_SECONDS", "JournalWriter"]

FLUSH_SECONDS = 1.0
_FLUSH_ON = frozenset(  # the ends of a step, an attempt, the run
    e.EVENT for e in (ev.StepEnded, ev.ItemEnded, ev.RunEnded, ev.Retry, ev.Released)
) | {ev.LeaseLostEvent.EVENT}
_QUIET = frozenset({"DEBUG", "TRACE", "INFO"})
_LATER_MAX = 1000  # events held for write_later at most, then written
_encode = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False)


class JournalWriter:
    """Appends events to ``folder/steps.jsonl`` and ``folder/bot.log`` (owner-only files)."""

    def __init__(
        self,
        folder: Path,
        secrets: Callable[[], Any] = lambda: None,
        streams: Callable[[], list[IO[str]]] = list,
        to_json: Callable[[Any], Any] = lambda value: value,
    ) -> None:
        self.folder = Path(folder)
        self._secrets, self._streams, self._to_json = secrets, streams, to_json
        self._lock = threading.Lock()
        self._jsonl: list[str] = []
        self._log: list[str] = []
        self._later: list[tuple[ev.Event, float, dict[str, Any]]] = []  # see write_later
        self._files: tuple[IO[str], IO[str]] | None = None
        self._timer: threading.Thread | None = None
        self._closing = threading.Event()

    def open(self) -> JournalWriter:
        """Create (or append to) the two files and start the flush timer; what is buffered
        is also written when the interpreter exits with the writer still open."""
        jsonl = open(private.open_file(self.folder / "steps.jsonl"), "a", encoding="utf-8")  # noqa: SIM115
        log = open(private.open_file(self.folder / "bot.log"), "a", encoding="utf-8")  # noqa: SIM115
        self._files = (jsonl, log)
        self._closing.clear()
        self._timer = threading.Thread(target=self._tick, daemon=True, name="journal-flush")
        self._timer.start()
        _open.add(self)
        return self

    def write(
        self, event: ev.Event, stamp: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], str]:
        """Write one event (masked); return its journal line as a dict, and its readable
        text (as bot.log shows it after the time and level). ``stamp``: fields that replace
        the event's own in the line (the run's ``ts``, ``run_id``, ``bot``)."""
        with self._lock:
            self._write_later()
            record, human = self._render(event, stamp)
            if record.get("event") in _FLUSH_ON or event.level not in _QUIET:
                self._flush()
        return record, human

    def write_later(self, event: ev.Event, when: float, stamp: dict[str, Any]) -> None:
        """Write an event whose line no one waits for (a page's action) with the next event
        or flush (a step's end, a warning, the timer, at the latest), in its place among
        the events: ``ts`` from ``when`` (seconds since the epoch), the rest of ``stamp``,
        masked with every secret known by then. Rendering them in a batch keeps that work
        (and the caches it fills) off each action's path."""
        with self._lock:
            self._later.append((event, when, stamp))
            if len(self._later) >= _LATER_MAX:
                self._write_later()

    def _write_later(self) -> None:
        if self._later:
            later, self._later = self._later, []
            for event, when, stamp in later:
                ts = datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")
                self._render(event, {"ts": ts} | stamp)

    def _render(self, event: ev.Event, stamp: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
        fields = event.to_dict()
        if stamp:
            fields |= stamp  # the keys keep their places (to_dict has them all)
        record = masking.mask(self._to_json(fields), self._secrets())
        line = _encode(record)
        human = human_line(record)
        if self._files is not None:
            self._jsonl.append(line + "\n")
            self._log.append(bot_log_line(record, event.level, human) + "\n")
        for stream in self._streams():
            stream.write(line + "\n")
            stream.flush()
        return record, human

    def flush(self) -> None:
        """Write out what is buffered."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        self._write_later()
        if self._files is None or not self._jsonl:
            return
        jsonl, log = self._files
        jsonl.write("".join(self._jsonl))
        log.write("".join(self._log))
        self._jsonl.clear()
        self._log.clear()
        jsonl.flush()
        log.flush()

    def _tick(self) -> None:
        while not self._closing.wait(FLUSH_SECONDS):
            try:
                self.flush()
            except (OSError, ValueError):  # the disk is full or the file closed: next time
                continue

    def close(self) -> None:
        """Flush, stop the timer, close the files."""
        _open.discard(self)
        self._closing.set()
        with self._lock:
            try:
                self._flush()
            finally:
                files, self._files = self._files, None
                for fh in files or ():
                    fh.close()
        if self._timer is not None and self._timer is not threading.current_thread():
            self._timer.join(timeout=FLUSH_SECONDS * 2)
        self._timer = None


_open: weakref.WeakSet[JournalWriter] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for writer in list(_open):
        try:
            writer.flush()
        except (OSError, ValueError):
            continue
