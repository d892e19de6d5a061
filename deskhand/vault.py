"""Secrets by name. Every secret value handed out is registered for masking, so it never
reaches steps.jsonl, bot.log, the report or an exception message.

This first version reads ``DESKHAND_SECRET_<NAME>`` from the environment: a JSON object
(``{"username": "clerk", "password": "..."}``) or a plain string (``{"value": ...}``).
User names (keys ``username``, ``user``, ``login``, ``email``) are identities that a review
needs, so they are not masked; every other value is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping

from .errors import ConfigError
from .logs import MASK, register_secret

_IDENTITY_KEYS = {"username", "user", "login", "email"}


class Secret(Mapping[str, str]):
    """A named set of secret values; its repr never shows them."""

    def __init__(self, name: str, values: dict[str, str]) -> None:
        self.name = name
        self._values = values

    def __getitem__(self, key: str) -> str:
        try:
            return self._values[key]
        except KeyError:
            raise ConfigError(f"secret '{self.name}' has no '{key}'") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, keys={sorted(self._values)}, values={MASK})"

    __str__ = __repr__


def env_name(name: str) -> str:
    return "DESKHAND_SECRET_" + name.upper().replace("-", "_")


def get(name: str) -> Secret:
    """The secret called ``name``; a ConfigError that says how to set it when missing."""
    var = env_name(name)
    raw = os.environ.get(var)
    if raw is None:
        raise ConfigError(
            f"secret '{name}' not found: set {var}='{{\"username\": ..., \"password\": ...}}'"
        )
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        data = {"value": raw}
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{var} must be a JSON object of strings or a plain string")
    for key, value in data.items():
        if key not in _IDENTITY_KEYS:
            register_secret(value)
    return Secret(name, data)
