"""Shared by the bots that work in the legacy app's later modules (customer accounts,
orders): log in, close the fault mode's maintenance notices, and each job's settings file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from deskhand import BusinessError, ConfigError, vault


def open_app(ctx):
    """A logged-in page of the legacy app (credentials: the vault secret ``legacy_ap``)."""
    app = ctx.web()
    app.raw.add_locator_handler(
        app.raw.locator("#maintenance-notice"),
        lambda notice: notice.locator("#maintenance-close").click(),
    )
    with ctx.step("log in"):
        secret = vault.get("legacy_ap")
        app.goto("login")
        app["username"].fill(secret["username"])
        app["password"].fill(secret["password"])
        with app.raw.expect_navigation():
            app["login_button"].click()
        if app["login_errors"].exists():
            raise BusinessError(f"the legacy app refused the log-in: {app['login_errors'].text()}")
    return app


def job_settings(folder: Path, name: str, defaults: dict[str, Any]) -> dict[str, Any]:
    """``folder/name`` (TOML) over ``defaults``; an unknown key or a bad file is a ConfigError."""
    path = folder / name
    if not path.is_file():
        return dict(defaults)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(defaults))
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(defaults)})"
        )
    for key, value in list(data.items()):
        wanted = type(defaults[key])
        if wanted is str and isinstance(value, int | float) and not isinstance(value, bool):
            data[key] = value = str(value)  # an amount written as a number
        if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
            raise ConfigError(f"{path}: '{key}' must be {wanted.__name__}, not {value!r}")
    return {**defaults, **data}
