"""Shared by the bots that work in the legacy app's later modules (customer accounts,
orders): log in, close the fault mode's maintenance notices, and each job's settings file."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from deskhand import ApplicationError, BusinessError, ConfigError, vault


def open_app(ctx):
    """A logged-in page of the legacy app, at its main frameset (credentials: the vault
    secret ``legacy_ap``). The run logs in once: later items (and a retry's clean context,
    made from the saved session) find the app logged in already and skip the log-in; when
    the app has ended the session it shows its log-in page, and the bot logs in again
    (see deskhand.web.session)."""
    app = ctx.web()
    app.on_overlay("maintenance", close="maintenance_close")
    with ctx.step("open app"):
        app.goto("main")
        if app["username"].exists():  # the app asks for a log-in: first item, or it expired
            with ctx.step("log in"):
                log_in(app, vault.get("legacy_ap"))
    return app


def log_in(app, secret) -> None:
    """Log in through the app's log-in page (opened unless it is shown already), then keep
    the session for the run's next items and retries (``app.save_session()``)."""
    if not app["username"].exists():
        app.goto("login")
    app["username"].fill(secret["username"])
    app["password"].fill(secret["password"])
    with app.expect_navigation():
        app["login_button"].click()
    if app["login_errors"].exists():
        raise BusinessError(f"the legacy app refused the log-in: {app['login_errors'].text()}")
    logged_in(app)
    app.save_session()


def logged_in(app) -> None:
    """Wait for the app's menu frame: the sign of a page that is logged in."""
    if not app["nav_search"].exists(timeout=app.ctx.settings.timeout_ms / 1000):
        raise ApplicationError(f"the legacy app did not show its menu ({app.url})")


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
