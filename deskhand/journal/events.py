"""The run journal's events: one frozen dataclass per kind of line in ``steps.jsonl``.

Every line is one event: ``{"ts", "event", "v", "run_id", "bot", ...its fields}``. ``v`` is
:data:`SCHEMA_VERSION`; a line without it comes from a journal written before the events
were typed (version 0) and reads the same way. A kind this deskhand does not know (a newer
journal, a bot's own ``ctx.emit``) reads as :class:`Other`, its fields kept; a known kind's
unknown fields are kept in ``extra``. Nothing a journal holds is dropped by reading it.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..status import Status, StepStatus

__all__ = [
    "EVENTS",
    "SCHEMA_VERSION",
    "Action",
    "Candidate",
    "ErrorInfo",
    "Event",
    "Healing",
    "ItemEnded",
    "ItemEvent",
    "ItemStarted",
    "LINE_KEYS",
    "KeyDeclared",
    "LeaseLostEvent",
    "LogRecord",
    "Other",
    "Released",
    "Retry",
    "RunEnded",
    "RunStarted",
    "Sourced",
    "StepData",
    "StepEnded",
    "StepStarted",
    "Values",
    "Waiting",
    "WaitingForLease",
    "Warning_",
    "from_dict",
    "make",
]

SCHEMA_VERSION = 1
_BASE = ("ts", "event", "v", "run_id", "bot")
# A field whose name in the line is not its dataclass name (a property or a builtin's).
LINE_KEYS = {"level_name": "level", "kind_of": "kind"}
_FIELD_NAMES = {key: name for name, key in LINE_KEYS.items()}


@dataclass(frozen=True)
class ErrorInfo:
    """An error as the journal records it: its kind (the exception's class) and one line."""

    kind: str
    message: str


@dataclass(frozen=True)
class Candidate:
    """One selector of an element and how many elements it matched when it was tried."""

    selector: str
    matches: int


@dataclass(frozen=True, kw_only=True)
class Event:
    """What every line has: when, which run of which bot, the schema version."""

    EVENT: ClassVar[str] = ""
    LEVEL: ClassVar[str] = "INFO"
    ts: str = ""
    run_id: str = ""
    bot: str = ""
    v: int = SCHEMA_VERSION
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def kind(self) -> str:
        """The ``event`` field of the line."""
        return self.EVENT

    @property
    def level(self) -> str:
        """The log level bot.log shows the event with."""
        return self.LEVEL

    def to_dict(self) -> dict[str, Any]:
        """The line as a dict, in the journal's field order; fields that are None left out."""
        out: dict[str, Any] = {"ts": self.ts, "event": self.kind, "v": self.v}
        out |= {"run_id": self.run_id, "bot": self.bot}
        for name in _names(type(self)):
            value = getattr(self, name)
            if value is not None:
                out[LINE_KEYS.get(name, name)] = value if type(value) in _PLAIN else _plain(value)
        if self.extra:
            out |= {k: v for k, v in self.extra.items() if v is not None and k not in out}
        return out


@dataclass(frozen=True, kw_only=True)
class ItemEvent(Event):
    """An event of one item's attempt (``item``: its reference; None outside an item)."""

    item: str | None = None
    attempt: int | None = None


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    EVENT = "run_start"
    settings: dict[str, Any] | None = None  # the settings the run used, secrets masked
    queue: str | None = None
    db: str | None = None
    trigger: str | None = None  # "on demand", "worker", "schedule"


@dataclass(frozen=True, kw_only=True)
class Sourced(Event):
    EVENT = "source"
    total: int = 0  # items the bot's source yielded
    added: int = 0  # of them, new to the queue
    already_queued: dict[str, int] | None = None  # the others, by their queue status


@dataclass(frozen=True, kw_only=True)
class ItemStarted(ItemEvent):
    EVENT = "item_start"
    data: Any = None  # the item's payload


@dataclass(frozen=True, kw_only=True)
class StepStarted(ItemEvent):
    EVENT = "step_start"
    step: str = ""
    data: Any = None
    point_of_no_return: bool | None = None


@dataclass(frozen=True, kw_only=True)
class StepEnded(ItemEvent):
    EVENT = "step_end"
    step: str = ""
    status: StepStatus = StepStatus.OK
    duration_ms: float | None = None
    error: ErrorInfo | None = None
    screenshot: str | None = None  # evidence: relative to the run folder
    html: list[str] | None = None

    @property
    def level(self) -> str:
        return {StepStatus.OK: "INFO", StepStatus.BUSINESS_ERROR: "WARNING"}.get(
            self.status, "ERROR"
        )


@dataclass(frozen=True, kw_only=True)
class StepData(ItemEvent):
    EVENT = "data"
    step: str | None = None
    data: Any = None


@dataclass(frozen=True, kw_only=True)
class Action(ItemEvent):
    EVENT = "action"
    LEVEL = "DEBUG"
    step: str | None = None
    action: str = ""
    element: str | None = None
    data: Any = None


@dataclass(frozen=True, kw_only=True)
class LogRecord(ItemEvent):
    """A line of the bot's (``ctx.info``, its loguru or logging calls)."""

    EVENT = "log"
    message: str = ""
    level_name: str | None = None  # the record's level (``level`` in the line)
    source: str | None = None  # "loguru" or "logging"; None: ctx.info
    logger: str | None = None
    step: str | None = None
    traceback: str | None = None
    data: Any = None

    @property
    def level(self) -> str:
        return self.level_name or "INFO"


@dataclass(frozen=True, kw_only=True)
class Values(ItemEvent):
    """Field values for the report's comparison (``kind``: extracted, reviewed, keyed,
    read_back)."""

    EVENT = "values"
    kind_of: str = ""  # ``kind`` in the line
    data: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class Healing(ItemEvent):
    """An element found only by a fallback selector, and the ranking proposed for it."""

    EVENT = "healing"
    LEVEL = "WARNING"
    element: str = ""
    page: str | None = None
    frame: list[str] | None = None
    repository: str | None = None
    candidates: list[Candidate] | None = None
    proposed: list[str] | None = None
    proposal: str | None = None  # the file the proposal was written to


@dataclass(frozen=True, kw_only=True)
class KeyDeclared(ItemEvent):
    EVENT = "key"
    key: str = ""


@dataclass(frozen=True, kw_only=True)
class _Notice(ItemEvent):
    """What happened to an item, in a sentence (a warning in bot.log)."""

    LEVEL = "WARNING"
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Warning_(_Notice):  # noqa: N801 - ``Warning`` is a builtin
    EVENT = "warning"
    data: Any = None


@dataclass(frozen=True, kw_only=True)
class Waiting(_Notice):
    """The item went back to the queue for a while: another item holds its business key."""

    EVENT = "waiting"


@dataclass(frozen=True, kw_only=True)
class Released(_Notice):
    """The run stopped: the item went back to the queue before its point of no return."""

    EVENT = "released"


@dataclass(frozen=True, kw_only=True)
class LeaseLostEvent(_Notice):
    EVENT = "lease_lost"


@dataclass(frozen=True, kw_only=True)
class Retry(_Notice):
    EVENT = "retry"
    error: ErrorInfo | None = None


@dataclass(frozen=True, kw_only=True)
class ItemEnded(ItemEvent):
    EVENT = "item_end"
    status: Status = Status.DONE
    output: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    duration_ms: float | None = None

    @property
    def level(self) -> str:
        return {Status.DONE: "INFO", Status.FAILED: "ERROR"}.get(self.status, "WARNING")


@dataclass(frozen=True, kw_only=True)
class WaitingForLease(Event):
    EVENT = "waiting_for_lease"
    LEVEL = "WARNING"
    message: str = ""
    item_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class RunEnded(Event):
    EVENT = "run_end"
    counts: dict[str, int] | None = None  # items by status, as the run model counts them
    total: int | None = None
    stopped: bool | None = None


@dataclass(frozen=True, kw_only=True)
class Other(ItemEvent):
    """A kind this deskhand does not know: its name and every field are kept."""

    name: str = "other"
    message: str | None = None
    data: Any = None

    @property
    def kind(self) -> str:
        return self.name

    @property
    def level(self) -> str:
        return str(self.extra.get("_level", "INFO"))

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in super().to_dict().items() if k != "name"}
        if "name" in self.extra:
            out["name"] = self.extra["name"]
        out.pop("_level", None)
        return out


EVENTS: dict[str, type[Event]] = {
    cls.EVENT: cls
    for cls in (
        RunStarted, Sourced, ItemStarted, StepStarted, StepEnded, StepData, Action, LogRecord,
        Warning_, Values, Healing, KeyDeclared, Waiting, Released, LeaseLostEvent, Retry,
        ItemEnded, WaitingForLease, RunEnded,
    )
}  # fmt: skip


@functools.cache
def _names(cls: type[Event]) -> tuple[str, ...]:
    """The event's own fields, in order (not the ones every line has, not ``extra``)."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in (*_BASE, "extra"))


@functools.cache
def _init_names(cls: type[Event]) -> frozenset[str]:
    return frozenset(f.name for f in dataclasses.fields(cls)) - {"extra", "name"}


_PLAIN = frozenset({str, int, float, bool, dict})


def from_dict(line: dict[str, Any]) -> Event:
    """The typed event of one journal line (a dict); any version, any kind."""
    kind = str(line.get("event") or "other")
    cls = EVENTS.get(kind, Other)
    names = _init_names(cls)
    known: dict[str, Any] = {"v": 0}
    extra: dict[str, Any] = {}
    try:
        for key, value in line.items():
            if key == "event":
                continue
            name = _FIELD_NAMES.get(key, key)
            if name in names:
                known[name] = _typed(cls, name, value)
            else:
                extra[key] = value
        if cls is Other:
            known["name"] = kind
        return cls(**known, extra=extra)
    except (TypeError, ValueError, AttributeError):  # a field of a shape not expected here
        return Other(name=kind, extra={k: v for k, v in line.items() if k != "event"})


def make(kind: str, fields: dict[str, Any], level: str | None = None) -> Event:
    """The typed event for ``RunLog.event(kind, level, **fields)``: the old keyword form."""
    event = from_dict({"event": kind, "v": SCHEMA_VERSION, **fields})
    if isinstance(event, Other) and level and level != "INFO":
        event = dataclasses.replace(event, extra={**event.extra, "_level": level})
    return event


def _typed(cls: type[Event], name: str, value: Any) -> Any:
    """A field's JSON value as its dataclass type: errors, candidates, statuses."""
    if value is None:
        return None
    if name == "error" and isinstance(value, dict):
        return ErrorInfo(str(value.get("kind", "")), str(value.get("message", "")))
    if name == "candidates" and isinstance(value, list):
        return [
            Candidate(str(c.get("selector")), int(c.get("matches") or 0))
            for c in value
            if isinstance(c, dict)
        ]
    if name == "status" and cls is ItemEnded:
        return Status(value)
    if name == "status" and cls is StepEnded:
        return StepStatus(value)
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Status | StepStatus):
        return str(value)
    return value
