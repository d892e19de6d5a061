"""Settings, in increasing precedence: defaults < ``[tool.deskhand]`` in pyproject.toml <
the bot's own ``settings`` < ``DESKHAND_*`` environment variables < command-line options.

Unknown keys are an error, not ignored: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """What a run needs to know about its surroundings."""

    root: Path = Path(".")
    logs_dir: Path = Path("logs")
    input: Path | None = None
    target: str | None = None
    headed: bool = False
    trace: bool = False
    timeout_ms: int = 10_000
    max_attempts: int | None = None  # None: the bot's own
    retry_delay: float | None = None  # seconds before the first retry; doubles each time
    db: str | None = None  # queue database URL; default sqlite:///<root>/.deskhand/queue.db
    lease_seconds: float = 60.0  # a claimed item returns to the queue this long after its
    # runner's last heartbeat (the runner beats every third of it)
    store_files: bool = True  # queued items carry their files' content (runners on other
    # machines read them); false: items hold local paths (one machine, or a shared folder)
    max_file_mb: float = 25.0  # largest file an item may carry into the queue
    file_retention_days: float = 30.0  # `queue prune`: files of items done longer ago go

    def resolve(self, path: Path | None) -> Path | None:
        """A path from the settings, relative to the project root."""
        if path is None:
            return None
        return path if path.is_absolute() else self.root / path


_KEYS = {f.name: f for f in fields(Settings) if f.name != "root"}
_ENV_SKIP = {
    "DESKHAND_BROWSER",
    "DESKHAND_OCR_LANG",
    "DESKHAND_VAULT_KEY",
    "DESKHAND_VAULT_FILE",
    "DESKHAND_PRIVATE_FILES",
    "DESKHAND_OCR_ENGINE",
}  # read where they are used


def _name(key: str, origin: str) -> str:
    """The setting as the user wrote it in that layer."""
    if origin.startswith("environment"):
        return f"environment variable DESKHAND_{key.upper()}"
    if origin == "command line":
        return f"--{key.replace('_', '-')}"
    if origin == "[tool.deskhand]":
        return f"{key} in [tool.deskhand] of pyproject.toml"
    return f"{key} in {origin}"


def _coerce(key: str, value: Any, origin: str) -> Any:
    kind = _KEYS[key].type
    try:
        if "Path" in kind:
            return Path(value)
        if "bool" in kind:
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes")
            return bool(value)
        if "int" in kind:
            return int(value)
        if "float" in kind:
            return float(value)
        return str(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{_name(key, origin)} has a bad value {value!r}: expected {_kind(kind)}"
        ) from None


def _kind(kind: str) -> str:
    for word, what in (("bool", "true or false"), ("int", "a whole number")):
        if word in kind:
            return what
    return "a number" if "float" in kind else "a path" if "Path" in kind else "text"


def _apply(
    settings: Settings, values: dict[str, Any], origin: str, sources: dict[str, str]
) -> Settings:
    changes = {}
    for key, value in values.items():
        key = key.replace("-", "_")
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            where = f"{origin} ({_name(key, origin)})" if origin.startswith("env") else origin
            raise ConfigError(f"{where}: unknown setting '{key}' (known: {known})")
        if value is not None:
            changes[key] = _coerce(key, value, origin)
            sources[key] = _name(key, origin)
    return replace(settings, **changes)


def validate(settings: Settings, sources: dict[str, str] | None = None) -> None:
    """Range-check the merged settings; the ConfigError names the variable or key that set
    the bad value."""
    sources = sources or {}

    def bad(key: str, what: str) -> ConfigError:
        value = getattr(settings, key)
        return ConfigError(f"{sources.get(key, key)} is {value!r}: {what}")

    if settings.max_attempts is not None and settings.max_attempts < 1:
        raise bad("max_attempts", "it must be at least 1 (1 = no retries)")
    if settings.retry_delay is not None and settings.retry_delay < 0:
        raise bad("retry_delay", "it must be 0 or more seconds")
    for key in ("timeout_ms", "lease_seconds", "max_file_mb", "file_retention_days"):
        if getattr(settings, key) <= 0:
            raise bad(key, "it must be more than 0")
    if settings.target:
        target = settings.target.strip()
        parts = urlsplit(target) if "://" in target else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            hint = f"http://{target.split('://')[-1].rstrip('/')}/"
            raise bad("target", f"a URL needs http:// or https://: did you mean {hint}?")


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest folder upwards that has a ``bots/`` folder."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "bots").is_dir():
            return folder
    raise ConfigError(f"no bots/ folder in {start} or above: run deskhand from a project folder")


def load_settings(
    root: Path, bot_settings: dict[str, Any] | None = None, cli: dict[str, Any] | None = None
) -> Settings:
    """Merge every layer into one Settings, validated."""
    settings = Settings(root=root)
    sources: dict[str, str] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
        settings = _apply(
            settings, data.get("tool", {}).get("deskhand", {}), "[tool.deskhand]", sources
        )
    settings = _apply(settings, bot_settings or {}, "the bot's settings", sources)
    env = {
        k[len("DESKHAND_") :].lower(): v
        for k, v in os.environ.items()
        if k.startswith("DESKHAND_") and k not in _ENV_SKIP and not k.startswith("DESKHAND_SECRET_")
    }
    settings = _apply(settings, env, "environment DESKHAND_*", sources)
    settings = _apply(settings, cli or {}, "command line", sources)
    validate(settings, sources)
    return settings


def describe(settings: Settings, bot: Any) -> dict[str, Any]:
    """The settings a run used, as its run_start event records them."""
    return {
        "input": str(settings.resolve(settings.input)) if settings.input else None,
        "target": settings.target,
        "headed": settings.headed,
        "trace": settings.trace,
        "timeout_ms": settings.timeout_ms,
        "max_attempts": settings.max_attempts or bot.max_attempts,
        "retry_delay": bot.retry_delay if settings.retry_delay is None else settings.retry_delay,
        "lease_seconds": settings.lease_seconds,
    }
