"""The interfaces a lower layer is handed instead of importing the layer above it.

The drivers (``deskhand.web``, ``deskhand.desktop``) report every action through an
:class:`ActionLog` and the step through a :class:`StepContext`; both are what an item's
``Context`` offers, and ``Context`` implements them without naming them (Protocols are
structural, as robocorp's lifecycle hooks are). The item's context in turn sees the runner's
run only as a :class:`RunHandle`. So imports point down only: drivers never import
``deskhand.context`` or ``deskhand.runner``, and the context never imports the runner.

This module imports nothing of deskhand's: it sits below the drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from threading import Event
from typing import Any, Protocol


class RunLogView(Protocol):
    """Where a run's evidence goes: its id and folders (``deskhand.logs.RunLog``)."""

    run_id: str
    dir: Path
    screenshots: Path

    def event(self, kind: str, level: str = "INFO", /, **fields: Any) -> dict: ...

    def event_later(self, event: Any) -> None: ...


class RunHandle(Protocol):
    """What an item's context, its steps and the drivers use of the run that holds them
    (``deskhand.runner.Run``): settings, the run log, the queue store, the stop flag, the
    selector repository and the run's cache of resolved selectors (element name -> index of
    the candidate that matched)."""

    bot: Any
    owner: str
    settings: Any
    log: RunLogView
    store: Any
    stop: Event
    resolved_selectors: dict[str, int]

    @property
    def selectors(self) -> Any: ...

    def new_page(self) -> Any: ...

    def check_lease(self, ctx: Any, strict: bool = False) -> None: ...

    def declare_key(self, ctx: Any, key: str) -> None: ...

    close: Callable[[], None]


class WorkItemView(Protocol):
    """The work item being processed (``deskhand.bot.WorkItem``)."""

    reference: str


class ActionLog(Protocol):
    """What a driver calls back into while it works for an item: it logs each action (the
    point-of-no-return lease check happens there), warns, writes other events, takes
    evidence of the page it last used, and keeps the pages it opened."""

    run: RunHandle
    current: WorkItemView | None
    attempt: int
    last_page: Any
    pages: list[Any]

    @property
    def settings(self) -> Any: ...

    def action(self, action: str, element: str | None = None, data: Any = None) -> None: ...

    def warning(self, message: str, **data: Any) -> None: ...

    def emit(self, kind: str, level: str = "INFO", /, **fields: Any) -> dict: ...

    def capture(self, name: str) -> dict[str, Any]: ...


class StepContext(ActionLog, Protocol):
    """What a step (``deskhand.steps.Step``) uses of the item's context: the open steps,
    the queue's record of the item and where the item stands with its point of no return."""

    steps: list[Any]
    queued: Any
    in_point_of_no_return: bool
    passed_point_of_no_return: str | None
