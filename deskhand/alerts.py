"""Alerts: tell people when a run failed or left items for review, by webhook and e-mail.

Configured in ``bots/schedules.toml``: ``[alerts]`` for every bot, ``[alerts.BOT]`` to
change it for one bot (``enabled = false`` to silence it)::

    [alerts]
    webhook = "https://chat.example.com/hooks/ops"   # JSON POST; or webhook_secret = NAME
    email_to = ["ops@example.com"]
    smtp_host = "mail.example.com"                   # port 25; smtp_security = "starttls"
    smtp_secret = "smtp"                             # vault secret: username, password

    [alerts.invoice_entry]
    email_to = ["ap-team@example.com"]

An alert says which bot, where, which items and why, and where the report is. Every text
goes through the same masking as the logs, so no registered secret is ever sent. A failed
delivery is reported on stderr and never fails the run.
"""

from __future__ import annotations

import json
import smtplib
import socket
import ssl
import sys
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from . import masking
from .errors import ConfigError
from .status import Status

ERROR = "error"  # the run itself failed (not a status of an item)
ON = (Status.FAILED.value, Status.NEEDS_REVIEW.value, ERROR)
KEYS = {
    "enabled": bool,
    "on": list,
    "webhook": str,
    "webhook_secret": str,
    "email_to": list,
    "email_from": str,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_security": str,
    "smtp_secret": str,
    "timeout": (int, float),
}
DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "on": list(ON),
    "smtp_host": "localhost",
    "smtp_port": 25,
    "smtp_security": "none",
    "timeout": 10,
}
MAX_ITEMS = 50  # items listed in one alert; the report has them all


def load_config(root: Path, bot: str | None = None) -> dict[str, Any]:
    """The ``[alerts]`` settings for ``bot`` (its table over the defaults), checked; with no
    bot, every table is checked and the defaults returned."""
    from .scheduling.jobs import SCHEDULES_FILE, read_schedules_file

    data = read_schedules_file(root).get("alerts", {})
    if not isinstance(data, dict):
        raise ConfigError(f"{SCHEDULES_FILE}: alerts must be a table: [alerts]")
    common = {k: v for k, v in data.items() if not isinstance(v, dict)}
    _check(common, "[alerts]")
    for name, table in data.items():
        if isinstance(table, dict):
            if not (Path(root) / "bots" / f"{name}.py").is_file():
                raise ConfigError(f"{SCHEDULES_FILE}: [alerts.{name}]: no bot bots/{name}.py")
            _check(table, f"[alerts.{name}]")
    config = {**DEFAULTS, **common}
    if bot is not None and isinstance(data.get(bot), dict):
        config.update(data[bot])
    return config


def _check(table: dict[str, Any], where: str) -> None:
    from .scheduling.jobs import SCHEDULES_FILE

    for key, value in table.items():
        if key not in KEYS:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(f"{SCHEDULES_FILE}: {where}: unknown key '{key}' (known: {known})")
        kind = KEYS[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ConfigError(f"{SCHEDULES_FILE}: {where}: '{key}' has a bad value {value!r}")
    if any(on not in ON for on in table.get("on", [])):
        raise ConfigError(f"{SCHEDULES_FILE}: {where}: on takes {', '.join(ON)}")
    if table.get("smtp_security", "none") not in ("none", "starttls", "ssl"):
        raise ConfigError(f"{SCHEDULES_FILE}: {where}: smtp_security is none, starttls or ssl")


def notify(bot: str, settings: Any, result: Any = None, *, error: str | None = None) -> list[str]:
    """Send ``bot``'s alerts when ``result`` (a RunResult) has failed or needs_review
    items, or the run itself failed (``error``: one line). Returns where it was sent."""
    config = load_config(settings.root, bot)
    alert = build_alert(bot, result, error, config["on"])
    if alert is None or not config["enabled"]:
        return []
    sent = []
    if config.get("webhook") or config.get("webhook_secret"):
        try:
            post_json(_webhook_url(config), alert, config["timeout"])
            sent.append("webhook")
        except Exception as exc:
            _warn(_mask(f"alert: the webhook failed ({exc})", result))
    if config.get("email_to"):
        try:
            send_email(config, alert, getattr(result, "secrets", None))
            sent.append("e-mail " + ", ".join(config["email_to"]))
        except Exception as exc:
            _warn(_mask(f"alert: the e-mail to {config['smtp_host']} failed ({exc})", result))
    return sent


def build_alert(bot: str, result: Any, error: str | None, on: Any = ON) -> dict[str, Any] | None:
    """The alert as JSON-able data (masked), or None when nothing calls for one. The items
    and counts are the run model's (``result.journal``), as the report and summary show."""
    items = [i for i in _items(result) if i["status"] in on and i["status"] != Status.DONE]
    if not items and not (error and ERROR in on):
        return None
    counts = dict(result.counts) if result else {}
    parts = [f"{n} {Status(status).label}" for status, n in counts.items() if n]
    what = error or ", ".join(p for p in parts if not p.endswith(" done")) or "problems"
    worst = Status.FAILED if counts.get(Status.FAILED) else Status.NEEDS_REVIEW
    alert = {
        "bot": bot,
        "host": socket.gethostname(),
        "status": ERROR if error else str(worst),
        "run_id": result.run_id if result else None,
        "counts": counts,
        "error": error,
        "items": items[:MAX_ITEMS],
        "report": str(result.report) if result else None,
        "text": f"deskhand: {bot} on {socket.gethostname()}: {what}",
    }
    return _mask(alert, result)


def _items(result: Any) -> list[dict[str, Any]]:
    """The run's items at its end: from its run model when it has one, else its results."""
    if result is None:
        return []
    journal = getattr(result, "journal", None)
    if journal is not None:
        found = [(i.reference, i.label, i.status, i.error) for i in journal.items.values()]
        errors = [e.message if e else None for *_, e in found]
    else:
        found = [(i.reference, i.label, i.status, i.error) for i in result.items]
        errors = [(e or {}).get("message") for *_, e in found]
    return [
        {"reference": ref, "label": label, "status": str(status), "error": message}
        for (ref, label, status, _), message in zip(found, errors, strict=True)
    ]


def _mask(value: Any, result: Any = None) -> Any:
    """``value`` masked with the run's secrets (``result.secrets``: the run's scope has
    closed by the time an alert goes out) and the current scope's."""
    run_secrets = getattr(result, "secrets", None)
    if run_secrets is not None:
        value = masking.mask(value, run_secrets)
    return masking.mask(value)


def _webhook_url(config: dict[str, Any]) -> str:
    if not config.get("webhook_secret"):
        return config["webhook"]
    from . import vault  # a URL with a token in it is a secret: keep it in the vault

    secret = vault.get(config["webhook_secret"])
    return secret.get("url") or secret.get("value") or config.get("webhook", "")


def post_json(url: str, payload: dict[str, Any], timeout: float) -> None:
    """POST ``payload`` as JSON (an answer of 2xx is success)."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise OSError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise OSError(str(exc.reason)) from None


def send_email(config: dict[str, Any], alert: dict[str, Any], secrets: Any = None) -> None:
    """Send the alert as a plain-text e-mail through ``config``'s SMTP server."""
    message = EmailMessage()
    message["Subject"] = alert["text"]
    message["From"] = config.get("email_from") or f"deskhand@{socket.gethostname()}"
    message["To"] = ", ".join(config["email_to"])
    message.set_content(email_body(alert, secrets))
    host, port, timeout = config["smtp_host"], config["smtp_port"], config["timeout"]
    security = config["smtp_security"]
    if security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if config.get("smtp_secret"):
            from . import vault

            secret = vault.get(config["smtp_secret"])
            smtp.login(secret["username"], secret["password"])
        smtp.send_message(message)


def email_body(alert: dict[str, Any], secrets: Any = None) -> str:
    """The plain-text body of the alert's e-mail (masked)."""
    lines = [alert["text"], ""]
    if alert["error"]:
        lines += [f"The run failed: {alert['error']}", ""]
    if alert["counts"]:
        lines.append("Items: " + ", ".join(f"{n} {k}" for k, n in alert["counts"].items()))
    for item in alert["items"]:
        lines.append(f"  {item['status']:12} {item['label']}: {item['error'] or ''}")
    if alert["report"]:
        lines += ["", f"Report: {alert['report']}"]
    if alert["run_id"]:
        lines.append(f"Run: {alert['run_id']} on {alert['host']}")
    text = "\n".join(lines)
    if secrets is not None:
        text = masking.mask(text, secrets)
    return masking.mask(text) + "\n"


def _warn(text: str) -> None:
    print(masking.mask(text), file=sys.stderr, flush=True)
