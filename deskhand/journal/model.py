"""The run model: a run's journal read once into run → items → attempts → steps.

Every view is rendered from it (as Robot Framework renders log, report and xunit from one
result model): the HTML report, the console, the run summary and ``run_end``'s counts,
alerts. So they cannot disagree about an item's status: :attr:`ItemRun.status` is the one
place that decides it, from the item's last attempt:

- ``item_end`` says how the attempt ended (done, needs_review, failed, released,
  lease_lost);
- else a ``released`` event: the run stopped and gave the item back (released);
- else a ``retry`` or ``waiting`` event: the item went back to the queue for another
  attempt that this run did not make (retrying);
- else nothing ended it: the run crashed or is still running (unfinished).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..status import Status, StepStatus, count_statuses
from . import events as ev

__all__ = ["AttemptRun", "ItemRun", "RunModel", "StepRun", "build", "read_lines", "read_run"]

VALUE_KINDS = ("extracted", "reviewed", "keyed", "read_back")


@dataclass
class StepRun:
    """One step of an attempt: its data, its actions, how it ended, its evidence."""

    name: str
    data: Any = None
    point_of_no_return: bool = False
    status: StepStatus = StepStatus.RUNNING
    duration_ms: float | None = None
    error: ev.ErrorInfo | None = None
    actions: list[ev.Action] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)


@dataclass
class AttemptRun:
    """One attempt at an item in this run (``number``: the queue's attempt count)."""

    number: int | None
    started: str = ""
    steps: list[StepRun] = field(default_factory=list)
    end: ev.ItemEnded | None = None
    released: str | None = None  # the message of a ``released`` event
    retry: str | None = None  # the message of a ``retry`` or ``waiting`` event
    key: str | None = None
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # this attempt's, by kind

    @property
    def status(self) -> Status:
        """How the attempt ended (see the module)."""
        if self.end is not None:
            return self.end.status
        if self.released is not None:
            return Status.RELEASED
        if self.retry is not None:
            return Status.RETRYING
        return Status.UNFINISHED

    def running_step(self) -> StepRun | None:
        """The innermost step that has not ended."""
        running = [s for s in self.steps if s.status == StepStatus.RUNNING]
        return running[-1] if running else None


@dataclass
class ItemRun:
    """One work item (by reference) in this run: its attempts, values and warnings."""

    reference: str
    payload: dict[str, Any] = field(default_factory=dict)
    attempts: list[AttemptRun] = field(default_factory=list)
    values: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def last(self) -> AttemptRun | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def status(self) -> Status:
        """The item's status at the end of this run: its last attempt's."""
        return self.last.status if self.last else Status.UNFINISHED

    @property
    def output(self) -> dict[str, Any]:
        end = self.last.end if self.last else None
        return dict(end.output or {}) if end else {}

    @property
    def error(self) -> ev.ErrorInfo | None:
        end = self.last.end if self.last else None
        return end.error if end else None

    @property
    def duration_ms(self) -> float | None:
        end = self.last.end if self.last else None
        return end.duration_ms if end else None

    @property
    def reconciled(self) -> bool:
        """Completed by confirming an earlier attempt's record in the target (never keyed
        twice), or from the queue's checkpoint."""
        out = self.output
        return self.status == Status.DONE and bool(
            out.get("reconciled") or out.get("from_checkpoint")
        )

    @property
    def label(self) -> str:
        """What a person calls the item: its file name, else its reference."""
        name = self.payload.get("name") or self.payload.get("file") or ""
        return str(name).replace("\\", "/").rsplit("/", 1)[-1] or self.reference


@dataclass
class RunModel:
    """A run as its journal tells it."""

    bot: str = ""
    run_id: str = ""
    version: int | None = None  # the journal's schema version (0: before it had one)
    start: ev.RunStarted | None = None
    end: ev.RunEnded | None = None
    source: ev.Sourced | None = None
    items: dict[str, ItemRun] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)  # run-level log lines and warnings
    healing: list[ev.Healing] = field(default_factory=list)
    torn: bool = False  # the last line was cut off (a crash mid-write): skipped

    @property
    def ended(self) -> bool:
        return self.end is not None

    @property
    def stopped(self) -> bool:
        return bool(self.end and self.end.stopped)

    def counts(self) -> dict[str, int]:
        """Items per status (done, needs_review, failed always; the others when present):
        the one count the summary, run_end, the report, the console and alerts show."""
        return count_statuses([i.status for i in self.items.values()])

    def with_status(self, *statuses: str) -> list[ItemRun]:
        return [i for i in self.items.values() if i.status in statuses]

    # -- building --------------------------------------------------------------------------
    def add(self, event: ev.Event) -> None:
        """Take one more event of the journal into the model."""
        if self.version is None:
            self.version = event.v
        if isinstance(event, ev.RunStarted):
            self.start, self.bot, self.run_id = event, event.bot, event.run_id
            return
        if isinstance(event, ev.RunEnded):
            self.end = event
            return
        if isinstance(event, ev.Sourced):
            self.source = event
            return
        if isinstance(event, ev.Healing):
            self.healing.append(event)
        ref = getattr(event, "item", None)
        if ref is None:
            if isinstance(event, ev.LogRecord | ev.Warning_):
                self.messages.append(event.message)
            return
        item = self.items.get(ref)
        if item is None:
            item = self.items[ref] = ItemRun(ref)
        self._add_to_item(item, event)

    def _add_to_item(self, item: ItemRun, event: ev.Event) -> None:
        if isinstance(event, ev.ItemStarted):
            item.payload = dict(event.data) if isinstance(event.data, dict) else {}
            item.attempts.append(AttemptRun(event.attempt, event.ts))
            return
        if isinstance(event, ev.Values):  # the item's latest values of each kind
            item.values[event.kind_of] = dict(event.data or {})
            if item.last is not None:
                item.last.values[event.kind_of] = dict(event.data or {})
            return
        if isinstance(event, ev.Warning_):
            item.warnings.append(event.message)
            return
        attempt = item.last
        if attempt is None:  # a journal that did not start the attempt (a partial copy)
            attempt = AttemptRun(getattr(event, "attempt", None), event.ts)
            item.attempts.append(attempt)
        if isinstance(event, ev.StepStarted):
            attempt.steps.append(StepRun(event.step, event.data, bool(event.point_of_no_return)))
        elif isinstance(event, ev.StepEnded):
            step = next(
                (
                    s
                    for s in reversed(attempt.steps)
                    if s.name == event.step and s.status == StepStatus.RUNNING
                ),
                None,
            )
            if step is not None:
                step.status, step.duration_ms = event.status, event.duration_ms
                step.error = event.error
                step.html = list(event.html or [])
                if event.screenshot:
                    step.screenshots.append(event.screenshot)
        elif isinstance(event, ev.Action):
            step = attempt.running_step()
            if step is not None:
                step.actions.append(event)
        elif isinstance(event, ev.Retry | ev.Waiting):
            attempt.retry = event.message
        elif isinstance(event, ev.Released):
            attempt.released = event.message
        elif isinstance(event, ev.KeyDeclared):
            attempt.key = event.key
        elif isinstance(event, ev.ItemEnded):
            attempt.end = event


def build(events: Iterable[ev.Event | dict[str, Any]]) -> RunModel:
    """The run model of ``events`` (typed, or the dicts of journal lines)."""
    model = RunModel()
    for event in events:
        model.add(event if isinstance(event, ev.Event) else ev.from_dict(event))
    return model


def read_lines(path: Path) -> tuple[list[dict[str, Any]], bool]:
    """The journal's lines as dicts, and whether a torn line (a crash mid-write) was
    skipped. Lines that are not JSON objects are skipped the same way."""
    lines, torn = [], False
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                torn = True
                continue
            if isinstance(data, dict) and "event" in data:
                lines.append(data)
            else:
                torn = True
    return lines, torn


def read_run(run_dir: Path) -> RunModel:
    """The run model of ``run_dir/steps.jsonl``; its bot and run id from the folder when
    the journal lacks a ``run_start`` (a run that crashed at once)."""
    run_dir = Path(run_dir)
    lines, torn = read_lines(run_dir / "steps.jsonl")
    model = build(lines)
    model.torn = torn
    model.bot = model.bot or (lines[0].get("bot", "") if lines else "") or run_dir.parent.name
    model.run_id = model.run_id or (lines[0].get("run_id", "") if lines else "") or run_dir.name
    return model
