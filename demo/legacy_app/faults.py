"""Fault mode: a target that fails the way real intranets do, on a seeded random source.

``--faults SPEC`` is comma-separated ``key=value`` (each key at most once, blanks ignored)::

    error=P        share P of requests answer HTTP 500 before anything happens (never GET /login)
    lost=P         share P of accepted invoice saves commit the record, then answer HTTP 500
    latency=P:S    share P of requests are delayed S seconds before they are handled
    expire=N       a session ends after N authenticated requests: the next one goes to /login
    modal=P        share P of the main shell, search and invoice form pages show a
                   "maintenance notice" overlay that blocks the page until it is closed
    slow=S         every HTML page takes S seconds longer
    seed=N         seed the random source so that a run can be repeated

P is a share from 0 to 1, S seconds (>= 0), N a whole number (expire >= 1). Each injected
fault prints one line to stdout (``fault KIND METHOD PATH``) and is counted for GET /_faults.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields

KINDS = ("error", "lost", "latency", "expire", "modal", "slow")


@dataclass(frozen=True)
class FaultSpec:
    """What to inject; the default injects nothing."""

    error: float = 0.0
    lost: float = 0.0
    latency: tuple[float, float] = (0.0, 0.0)  # (share of requests, seconds)
    expire: int = 0  # 0: sessions never expire
    modal: float = 0.0
    slow: float = 0.0
    seed: int | None = None


def parse_faults(spec: str | None) -> FaultSpec:
    """Parse a SPEC such as ``error=0.1,latency=0.2:1.5,seed=42``; ValueError names the bad key."""
    known = {f.name for f in fields(FaultSpec)}
    values: dict = {}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, raw = (part.strip() for part in item.partition("="))
        if key not in known:
            raise ValueError(
                f"--faults: unknown key '{key}' (known: {', '.join(sorted(known))})"
                if key
                else f"--faults: '{item}' has no key"
            )
        if not sep or not raw:
            raise ValueError(f"--faults: '{key}' needs a value ({key}={_FORMS[key]})")
        if key in values:
            raise ValueError(f"--faults: '{key}' given twice")
        try:
            values[key] = _PARSERS[key](raw)
        except ValueError:
            raise ValueError(
                f"--faults: bad value for '{key}': '{raw}' (expected {key}={_FORMS[key]})"
            ) from None
    return FaultSpec(**values)


def _share(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(raw)
    return value


def _seconds(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value < float("inf"):
        raise ValueError(raw)
    return value


def _latency(raw: str) -> tuple[float, float]:
    share, sep, seconds = raw.partition(":")
    if not sep:
        raise ValueError(raw)
    return _share(share), _seconds(seconds)


def _count(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise ValueError(raw)
    return value


_PARSERS: dict[str, Callable[[str], object]] = {
    "error": _share,
    "lost": _share,
    "latency": _latency,
    "expire": _count,
    "modal": _share,
    "slow": _seconds,
    "seed": int,
}
_FORMS = {
    "error": "P, 0..1",
    "lost": "P, 0..1",
    "latency": "P:SECONDS",
    "expire": "N >= 1",
    "modal": "P, 0..1",
    "slow": "SECONDS",
    "seed": "INTEGER",
}


class Faults:
    """The running fault injector of one app: the dice, the counts and the session counters."""

    def __init__(self, spec: FaultSpec, sleep: Callable[[float], None] = time.sleep):
        self.spec = spec
        self.sleep = sleep
        # One die per kind: whether the n-th save is lost does not depend on how many pages
        # (each a draw for latency and errors) the timing of a run happened to request first.
        self._dice = {
            kind: random.Random(None if spec.seed is None else f"{spec.seed}/{kind}")
            for kind in KINDS
        }
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(KINDS, 0)
        self._sessions: dict[str, int] = {}  # session id -> authenticated requests so far

    def hit(self, kind: str) -> bool:
        """True for the spec's share of calls of this kind (``lost``: of saves); draws nothing
        when the share is 0, so seeds stay stable."""
        share = self.spec.latency[0] if kind == "latency" else getattr(self.spec, kind)
        if share <= 0.0:
            return False
        with self._lock:
            return self._dice[kind].random() < share

    def record(self, kind: str, method: str, path: str) -> None:
        """Count an injected fault and print it, one line, for the server log."""
        with self._lock:
            self._counts[kind] += 1
        print(f"fault {kind} {method} {path}", flush=True)

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    # -- session expiry: the counters live here, so a stale cookie cannot revive a session --
    def start_session(self) -> str:
        sid = secrets.token_hex(16)
        with self._lock:
            self._sessions[sid] = 0
        return sid

    def end_session(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def use_session(self, sid: str | None) -> bool:
        """Count one authenticated request; False once the session has had its N requests
        (or is unknown to this server, e.g. after a restart): it is over, log in again."""
        with self._lock:
            used = self._sessions.get(sid or "")
            if used is None:
                return False
            if used >= self.spec.expire:
                del self._sessions[sid]
                return False
            self._sessions[sid] = used + 1
            return True
