"""What a run did, in the few lines a person reads after it (``run`` and scheduled runs)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from .errors import ConfigError
from .status import Status


def summary(name: str, result: Any) -> list[str]:
    """What a run did, and what it found in the queue already, as a person reads it."""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
    # Items, each counted once by its last attempt (the run model's counts), not claims.
    lines = [f"{name}: {sum(result.counts.values())} items: {counts}"]
    if handed := len(getattr(result, "done_elsewhere", ())):
        items = "1 item" if handed == 1 else f"{handed} items"
        lines.append(f"{name}: {items} handed over (a retry, a lost lease) and done since "
                     "by another runner")  # fmt: skip
    already = result.already
    earlier = [f"{already[Status.DONE]} already done"] if already.get(Status.DONE) else []
    hints = {
        Status.NEEDS_REVIEW: "waiting for review (queue list --status needs_review)",
        Status.FAILED: "failed earlier (queue retry --status failed)",
        Status.CANCELLED: "cancelled earlier",
        Status.IN_PROGRESS: "in progress in another run",
    }
    earlier += [f"{already[s]} {text}" for s, text in hints.items() if already.get(s)]
    if earlier:
        lines.append(f"{name}: already in the queue: {', '.join(earlier)}")
    if result.stopped:
        released = any(i.status == Status.RELEASED for i in result.items)
        what = "the item in progress went back to the queue" if released else "no item left open"
        lines.append(f"{name}: stopped by a signal: {what} (exit code 143)")
    return lines


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """A ConfigError in one line when nothing answers at ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return  # it answered; an error page is the bot's business
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"target {url} is unreachable ({reason}): start the app or fix --target"
        ) from None
