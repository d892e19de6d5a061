"""Secret masking: every registered secret value, in every form it can be written in.

A password typed into a form does not stay as it was typed: the browser sends it
form-encoded (``Pa55+w0rd%26x%3D1``), a trace stores that body inside JSON, a DOM snapshot
keeps the field's value as JSON with raw UTF-8, an HTML page escapes it (``&amp;``), a
header carries it in base64. :func:`mask` replaces each of these forms with ``********``:

- raw, JSON-escaped (``\\"``, ``\\u00e9`` or raw UTF-8), URL-encoded (``quote``,
  ``quote_plus``, browser form encoding, either hex case), HTML-escaped (named, decimal or
  hex character references), and two layers of these (JSON inside JSON, a URL-encoded body
  inside JSON, HTML inside JSON); each character may take any of these forms;
- base64 (standard and URL-safe) of the UTF-8 bytes and of the form-encoded bytes, also
  inside a longer base64 text (all three byte alignments), for secrets of 5 bytes or more.

Secrets belong to a run: :func:`scope` opens a registry (the runner opens one per run; the
command line opens one per command), :func:`register` adds to the innermost one, and what a
scope registers is also known to the scopes around it (a command knows what its run found),
but never to the process as a whole. Outside any scope, values go to a process registry.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
MIN_LENGTH = 3  # shorter values cannot be masked without masking ordinary text
# Base64 of shorter secrets is a few letters that turn up by chance in any base64 blob (an
# embedded screenshot): masking them would damage it, and they give little away.
BASE64_MIN_BYTES = 5
_NAMED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;", "\xa0": "&nbsp;"}


class Secrets:
    """A registry of secret values; masking with it also masks its parents' values."""

    def __init__(self, parent: Secrets | None = None) -> None:
        self.parent = parent
        self._values: set[str] = set()
        self._lock = threading.Lock()
        self._cache: tuple[tuple, re.Pattern[str] | None] = ((), None)

    def add(self, value: str) -> None:
        """Mask ``value`` from now on here and in the enclosing scopes (not the process's)."""
        if not isinstance(value, str) or len(value) < MIN_LENGTH:
            return  # too short to mask without masking ordinary text; the vault refuses it
        registry: Secrets | None = self
        while registry is not None and (registry is self or registry is not _PROCESS):
            with registry._lock:
                registry._values.add(value)
            registry = registry.parent

    def values(self) -> set[str]:
        """Every value this registry masks (its own and its parents')."""
        found: set[str] = set()
        registry: Secrets | None = self
        while registry is not None:
            with registry._lock:
                found |= registry._values
            registry = registry.parent
        return found

    def pattern(self) -> re.Pattern[str] | None:
        """One compiled pattern for every form of every value; None when there are none."""
        chain, registry = [], self
        while registry is not None:
            chain.append((id(registry), len(registry._values)))
            registry = registry.parent
        key = tuple(chain)
        if self._cache[0] != key:
            values = sorted(self.values(), key=len, reverse=True)  # the longest wins
            source = "|".join(_secret_pattern(v) for v in values)
            self._cache = (key, re.compile(source) if source else None)
        return self._cache[1]

    def mask(self, value: Any) -> Any:
        """``value`` with every form of every secret replaced by ``********``: through
        strings, bytes, dict keys and values, lists and tuples; other values as they are."""
        pattern = self.pattern()
        return value if pattern is None else _masked(value, pattern)


_PROCESS = Secrets()
_current: ContextVar[Secrets | None] = ContextVar("deskhand_secrets", default=None)


def current() -> Secrets:
    """The innermost open scope's registry (the process's outside any scope)."""
    found = _current.get()
    return _PROCESS if found is None else found


def register(value: str) -> None:
    """Never let ``value`` (in any encoding) reach a log, a report, a trace, the queue or
    an exception message written in the current scope again."""
    current().add(value)


def mask(value: Any, secrets: Secrets | None = None) -> Any:
    """``value`` masked with ``secrets`` (default: the current scope's)."""
    return (current() if secrets is None else secrets).mask(value)


@contextmanager
def scope() -> Iterator[Secrets]:
    """A registry for the block (a run, a command, a test), inside the current one."""
    registry = Secrets(parent=current())
    token = _current.set(registry)
    try:
        yield registry
    finally:
        _current.reset(token)


def forms(secret: str) -> list[str]:
    """The usual written forms of ``secret`` (for tests and audits): raw, JSON, URL, form,
    HTML and base64 encodings."""
    found = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret),
        quote(secret, safe=""),
        quote_plus(secret),
        html.escape(secret),
        html.escape(secret, quote=False),
        base64.b64encode(secret.encode()).decode(),
        base64.urlsafe_b64encode(secret.encode()).decode(),
        base64.b64encode(quote_plus(secret).encode()).decode(),
    }
    return sorted(found)


# -- the pattern ---------------------------------------------------------------------------


def _masked(value: Any, pattern: re.Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(MASK, value)
    if isinstance(value, bytes | bytearray):
        text = bytes(value).decode("utf-8", "surrogateescape")
        return pattern.sub(MASK, text).encode("utf-8", "surrogateescape")
    if isinstance(value, dict):
        return {_masked(k, pattern): _masked(v, pattern) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v, pattern) for v in value]
    return value


def _secret_pattern(secret: str) -> str:
    characters = "".join(_character(c) for c in secret)
    encoded = sorted(_base64_forms(secret), key=len, reverse=True)
    return "|".join([characters, *(re.escape(e) for e in encoded)])


_character_cache: dict[str, str] = {}


def _character(c: str) -> str:
    """A regular expression for one character in any of its (up to two-layer) encodings."""
    if c not in _character_cache:
        first = _encodings(c)
        second = {w for f in first for w in _wrapped(f)}
        found = sorted(first | second, key=len, reverse=True)
        _character_cache[c] = "(?:" + "|".join(re.escape(f) for f in found) + ")"
    return _character_cache[c]


def _encodings(c: str) -> set[str]:
    data = c.encode("utf-8")
    units = c.encode("utf-16-be")
    json_u = "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2))
    url = "".join(f"%{b:02X}" for b in data)
    found = {
        c,
        json.dumps(c)[1:-1],
        json_u,
        json_u.upper().replace("\\U", "\\u"),
        url,
        url.lower(),
        f"&#{ord(c)};",
        f"&#x{ord(c):x};",
        f"&#x{ord(c):X};",
    }
    if c == " ":
        found.add("+")
    if c == "/":
        found.add("\\/")
    if c in _NAMED:
        found.add(_NAMED[c])
    return found


def _wrapped(form: str) -> set[str]:
    """``form`` inside a second layer: JSON, HTML or URL encoding."""
    return {
        json.dumps(form)[1:-1],
        json.dumps(form, ensure_ascii=False)[1:-1],
        html.escape(form),
        quote(form, safe=""),
    }


def _base64_forms(secret: str) -> set[str]:
    """Base64 text that only the secret's bytes determine, at each of the three byte
    alignments it can have inside a longer base64 text."""
    found = set()
    for data in {secret.encode(), quote_plus(secret).encode()}:
        if len(data) < BASE64_MIN_BYTES:
            continue
        found.add(base64.b64encode(data).decode())
        for offset in range(3):
            encoded = base64.b64encode(b"\0" * offset + data + b"\0\0\0").decode()
            start = -(-8 * offset // 6)  # the first character made of the secret's bits only
            end = (8 * offset + 8 * len(data)) // 6
            core = encoded[start:end]
            if len(core) >= 6:  # always, from BASE64_MIN_BYTES on
                found.add(core)
                found.add(core.replace("+", "-").replace("/", "_"))
    return found
