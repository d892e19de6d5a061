"""The run's browser session: one browser context for all the items of a run.

The session model, in four rules:

1. **One context a run.** Every page a run opens (``ctx.web()``) belongs to one browser
   context, so the cookies and storage a log-in leaves are there for the next item: a bot
   logs in once a run (in ``@bot.setup``, or on its first item), not once an item.
2. **Saved state.** After logging in, the bot calls ``app.save_session()``: the context's
   storage state (cookies, local storage) is kept, in memory only: it is never logged or
   written to disk, since it holds what a log-in grants.
3. **A retry starts clean.** An item's retry (its attempt 2, 3, ...: the earlier attempt
   failed with an ApplicationError or another system error) gets a new context: fresh
   cookies, whatever the failed attempt left behind is gone. It starts from the saved state,
   so it is still logged in when that state still holds; when it does not (the server ended
   the session) the bot's log-in helper sees the log-in page and logs in again.
4. **The bot checks, the session never guesses.** Whether a page is logged in is the bot's
   to see (its log-in form is shown, or not): ``bots/_legacy_app.py`` opens the app and logs
   in only when the app asks for it.

**Starting early.** ``start(alongside)`` starts the browser, the run's context and its first
page on the runner's thread (Playwright's sync API is bound to it) while ``alongside`` (work
that needs no browser: the runner reads the first item's documents, see ``Bot(reads=...)``)
runs on a worker thread: the run waits for the longer of the two, not for both in turn.

Tracing (``--trace``) records every context: the first one to ``trace.zip``, a retry's clean
context to ``trace-2.zip``, ``trace-3.zip``, ...
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import overlays
from .browser import close_context


class WebSession:
    """The browser context a run's items share, its saved state, and the clean contexts of
    retries. Made by the runner; a bot sees it through ``app.save_session()``."""

    def __init__(
        self,
        browser: Callable[[], Any],
        *,
        timeout_ms: int = 10_000,
        trace_dir: Path | None = None,
    ) -> None:
        self._browser = browser  # returns the started Browser (started on first call)
        self.timeout_ms = timeout_ms
        self.trace_dir = trace_dir
        self.context: Any = None
        self.state: dict[str, Any] | None = None  # storage state saved after a log-in
        self.contexts = 0  # how many contexts this run opened
        self._clean_for: set[tuple[str, int]] = set()  # (item, attempt) given a clean one
        self._overlays: Any = None  # what the closed context watched (deskhand.web.overlays)
        self._spare: Any = None  # a page opened by start(), handed out by the next new_page()

    def start(self, alongside: Callable[[], Any] | None = None) -> None:
        """Start the browser and open the context and its first page now, while
        ``alongside`` runs on a worker thread (in this thread's contextvars: the run's
        document cache); return when both are done. Best effort: an error of either is
        left for the step that does the same work to meet (and report) again."""
        worker = None
        if alongside is not None:
            run = contextvars.copy_context().run
            worker = threading.Thread(
                target=run, args=(_quietly, alongside), name="deskhand-alongside", daemon=True
            )
            worker.start()
        try:
            self._spare = self._spare or self._open_context().new_page()
        except Exception:  # Chromium missing or not starting: ctx.web() says so in its step
            pass
        finally:
            if worker is not None:
                worker.join()

    def new_page(self, item: str | None = None, attempt: int = 1) -> Any:
        """A new page in the run's context. The first page of an item's retry (``attempt``
        over 1) comes in a clean context made from the saved state."""
        if item is not None and attempt > 1 and (item, attempt) not in self._clean_for:
            self._clean_for.add((item, attempt))
            self.close_context()
        spare, self._spare = self._spare, None
        if spare is not None and not spare.is_closed():
            return spare
        return self._open_context().new_page()

    def _open_context(self) -> Any:
        if self.context is None:
            self.contexts += 1
            self.context = self._browser().new_context(
                timeout_ms=self.timeout_ms,
                trace=self.trace_dir is not None,
                storage_state=self.state,
            )
            overlays.carry_over(self._overlays, self.context)
        return self.context

    def save(self, context: Any = None) -> None:
        """Keep the storage state of ``context`` (default: the run's) for clean contexts."""
        self.state = (context or self.context).storage_state()

    def close_context(self) -> None:
        """Close the current context (its trace saved); the next page opens a new one."""
        context, self.context, self._spare = self.context, None, None
        if context is not None:
            self._overlays = overlays.watched(context) or self._overlays
            close_context(context, self._trace_path())

    def _trace_path(self) -> Path | None:
        if self.trace_dir is None:
            return None
        name = "trace.zip" if self.contexts <= 1 else f"trace-{self.contexts}.zip"
        return self.trace_dir / name

    def close(self) -> None:
        """Close the context and forget the saved state."""
        try:
            self.close_context()
        finally:
            self.state = None


def _quietly(work: Callable[[], Any]) -> None:
    try:
        work()
    except Exception:  # a head start only: the step doing the same work meets it again
        pass
