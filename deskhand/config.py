"""Settings, in increasing precedence: defaults < ``[tool.deskhand]`` in pyproject.toml <
the bot's own ``settings`` < ``DESKHAND_*`` environment variables < command-line options.

:class:`Settings` is a pydantic-settings model: every value is checked for its type and
range when the layers are merged (:func:`load_settings`), and a bad one is a one-line
ConfigError that names the variable, key or option that set it and what it must be.
Unknown keys are an error, not ignored: a typo must not silently fall back to a default.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError


class Settings(BaseSettings):
    """What a run needs to know about its surroundings. ``Settings(...)`` takes exactly the
    values it is given (and checks them); :func:`load_settings` merges the layers."""

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

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

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        **_: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:  # fmt: skip
        # Only what it is given: load_settings reads the layers, so that an error can name
        # the one that set a bad value (and the bot's settings rank between two of them).
        return (init_settings,)

    @field_validator("max_attempts")
    @classmethod
    def _at_least_one(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"is {value!r}: it must be at least 1 (1 = no retries)")
        return value

    @field_validator("retry_delay")
    @classmethod
    def _not_negative(cls, value: float | None) -> float | None:
        if value is not None and value < 0:
            raise ValueError(f"is {value!r}: it must be 0 or more seconds")
        return value

    @field_validator("timeout_ms", "lease_seconds", "max_file_mb", "file_retention_days")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError(f"is {value!r}: it must be more than 0")
        return value

    @field_validator("target")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        target = (value or "").strip()
        if not target:
            return value
        parts = urlsplit(target) if "://" in target else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            hint = f"http://{target.split('://')[-1].rstrip('/')}/"
            raise ValueError(f"is {value!r}: a URL needs http:// or https://: did you mean {hint}?")
        return value

    def resolve(self, path: Path | None) -> Path | None:
        """A path from the settings, relative to the project root."""
        if path is None:
            return None
        return path if path.is_absolute() else self.root / path


_KEYS = {name: f for name, f in Settings.model_fields.items() if name != "root"}
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


def _kind(key: str) -> str:
    """What a setting's value must look like, as people say it."""
    kind = str(_KEYS[key].annotation)
    for word, what in (("bool", "true or false"), ("int", "a whole number")):
        if word in kind:
            return what
    return "a number" if "float" in kind else "a path" if "Path" in kind else "text"


def _merge(
    values: dict[str, Any], layer: dict[str, Any], origin: str, sources: dict[str, str]
) -> None:
    """Lay ``layer`` over ``values``: unknown keys refused, None (not given) skipped."""
    for key, value in layer.items():
        key = key.replace("-", "_")
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            where = f"{origin} ({_name(key, origin)})" if origin.startswith("env") else origin
            raise ConfigError(f"{where}: unknown setting '{key}' (known: {known})")
        if value is not None:
            values[key] = value
            sources[key] = _name(key, origin)


def checked(values: dict[str, Any], sources: dict[str, str] | None = None) -> Settings:
    """``Settings(**values)``, its first bad value a ConfigError that names the variable,
    key or option (``sources``: key -> how the user wrote it) and what it must be."""
    sources = sources or {}
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        key = str(error["loc"][0]) if error["loc"] else "settings"
        name = sources.get(key, key)
        if error["type"] == "value_error":  # a range check (the value has its type by then)
            raise ConfigError(f"{name} {error['ctx']['error']}") from None
        what = f"expected {_kind(key)}" if key in _KEYS else error["msg"]
        raise ConfigError(f"{name} has a bad value {error['input']!r}: {what}") from None


def validate(settings: Settings, sources: dict[str, str] | None = None) -> None:
    """Check ``settings`` again (types and ranges); the ConfigError names the variable or
    key that set a bad value (``sources``: key -> how the user wrote it)."""
    checked(settings.model_dump(), sources)


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
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{pyproject} is not valid TOML: {exc}") from None
        _merge(values, data.get("tool", {}).get("deskhand", {}), "[tool.deskhand]", sources)
    _merge(values, bot_settings or {}, "the bot's settings", sources)
    env = {
        k[len("DESKHAND_") :].lower(): v
        for k, v in os.environ.items()
        if k.startswith("DESKHAND_") and k not in _ENV_SKIP and not k.startswith("DESKHAND_SECRET_")
    }
    _merge(values, env, "environment DESKHAND_*", sources)
    _merge(values, cli or {}, "command line", sources)
    return checked({"root": root, **values}, sources)


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
