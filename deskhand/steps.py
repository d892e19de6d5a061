"""The step: the unit of logging.

``with ctx.step("fill invoice form", invoice="4711"):`` logs the start, the end, the duration,
the status and the data (secrets masked). When the block raises, it saves a screenshot and
the HTML of the page the step last used, logs the error, and re-raises: the runner decides
what the error means for the item.
"""

from __future__ import annotations

import time
from typing import Any

from .actions import StepContext
from .errors import BusinessError, Stopped
from .journal.events import ErrorInfo, StepData, StepEnded, StepStarted
from .logs import mask, slug, to_json
from .status import StepStatus


def error_info(exc: BaseException) -> dict[str, str]:
    """The error as the step log records it: its kind and its one-line message."""
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return {"kind": type(exc).__name__, "message": message}


class Step:
    """A logged, timed block of a bot's process. Made by ``ctx.step(...)``."""

    def __init__(
        self, ctx: StepContext, name: str, point_of_no_return: bool = False, **data: Any
    ) -> None:
        self.ctx = ctx
        self.name = name
        self.point_of_no_return = point_of_no_return
        self.data = data
        self._started = 0.0

    def __enter__(self) -> Step:
        ctx = self.ctx
        ctx.run.check_lease(ctx)  # the heartbeat found the item taken: stop here
        ctx.steps.append(self)
        self._started = time.perf_counter()
        ctx.emit(
            StepStarted(
                item=ctx.current.reference if ctx.current else None,
                attempt=ctx.attempt,
                step=self.name,
                data=self.data or None,
                point_of_no_return=True if self.point_of_no_return else None,
            )
        )
        if self.point_of_no_return and ctx.queued is not None:
            run, queued = ctx.run, ctx.queued
            try:  # saved only while the claim's lease holds: the last check before acting
                ctx.queued = run.store.record_intent(
                    queued.id, run.owner, self.name, mask(to_json(self.data)),
                    token=queued.lease_token, lease_seconds=run.settings.lease_seconds,
                )  # fmt: skip
            except BaseException as exc:
                self.__exit__(type(exc), exc, None)
                raise
            ctx.in_point_of_no_return = True
        return self

    def __exit__(self, exc_type: type | None, exc: BaseException | None, tb: object) -> bool:
        ctx = self.ctx
        ctx.steps.pop()
        ctx.in_point_of_no_return = any(s.point_of_no_return for s in ctx.steps)
        duration = round((time.perf_counter() - self._started) * 1000, 1)
        if exc is None:
            if self.point_of_no_return and ctx.queued is not None:
                run, queued = ctx.run, ctx.queued
                ctx.queued = run.store.record_outcome(
                    queued.id, run.owner, mask(to_json(self.data)), token=queued.lease_token
                )
                ctx.passed_point_of_no_return = self.name
            ctx.emit(
                StepEnded(
                    item=ctx.current.reference if ctx.current else None,
                    attempt=ctx.attempt,
                    step=self.name,
                    status=StepStatus.OK,
                    duration_ms=duration,
                )
            )
            # A stop after the point of no return finishes the item instead of releasing it.
            if ctx.run.stop.is_set() and not ctx.steps and not ctx.passed_point_of_no_return:
                raise Stopped(f"stopped after step '{self.name}': the item goes back to the queue")
            return False
        business = isinstance(exc, BusinessError)
        status = StepStatus.BUSINESS_ERROR if business else StepStatus.FAILED
        evidence: dict[str, Any] = {}
        # Only the innermost failing step takes the evidence; outer ones just log the end.
        if not getattr(exc, "_deskhand_step", None):
            evidence = self.ctx.capture(slug(self.name))
            try:
                exc._deskhand_step = self.name  # type: ignore[union-attr]
            except AttributeError:
                pass
        shot, html = evidence.pop("screenshot", None), evidence.pop("html", None)
        self.ctx.emit(
            StepEnded(
                step=self.name,
                status=status,
                duration_ms=duration,
                error=ErrorInfo(**error_info(exc)),
                screenshot=shot,
                html=html,
                extra=evidence,  # any other evidence a driver saved
            )
        )
        return False

    def set(self, **data: Any) -> None:
        """Add data to the step while it runs (logged as a ``data`` event of the step)."""
        self.data.update(data)
        self.ctx.emit(StepData(step=self.name, data=data))
