"""What a run did, in the few lines a person reads after it (``run`` and scheduled runs)."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from .errors import ConfigError


def summary(name: str, result: Any) -> list[str]:
    """What a run did, and what it found in the queue already, as a person reads it."""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
    lines = [f"{name}: {len(result.items)} items: {counts}"]
    already = result.already
    earlier = [f"{already[s]} already done" for s in ("done",) if already.get(s)]
    hints = {
        "needs_review": "waiting for review (queue list --status needs_review)",
        "failed": "failed earlier (queue retry --status failed)",
        "cancelled": "cancelled earlier",
        "in_progress": "in progress in another run",
    }
    earlier += [f"{already[s]} {text}" for s, text in hints.items() if already.get(s)]
    if earlier:
        lines.append(f"{name}: already in the queue: {', '.join(earlier)}")
    if result.stopped:
        released = any(i.status == "released" for i in result.items)
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
