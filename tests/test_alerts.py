"""Alerts: a real run of a failing bot reported by webhook (a local HTTP server) and e-mail
(a local aiosmtpd server with AUTH), with no secret in either."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from assets.scheduler.servers import Mailbox, Webhook
from conftest import ASSETS

from deskhand import alerts, vault
from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.errors import ConfigError
from deskhand.runner import ItemResult, RunResult, run_bot

TOKEN = "tok-7d1e-ALERT-secret"
SMTP_PASSWORD = "relay-pass-5521"


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project with the flaky test bot (one item of each outcome, leaky error messages)."""
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    shutil.copy(ASSETS / "bots" / "flaky.py", root / "bots" / "flaky.py")
    monkeypatch.setenv("DESKHAND_SECRET_FLAKY_API", json.dumps({"username": "svc", "token": TOKEN}))
    monkeypatch.setenv(
        "DESKHAND_SECRET_SMTP_RELAY",
        json.dumps({"username": "relay", "password": SMTP_PASSWORD}),
    )
    return root


def configure(root: Path, text: str) -> None:
    (root / "bots" / "schedules.toml").write_text(text)


def run_flaky(root: Path, tmp_path: Path):
    bot = load_bot("flaky", root)
    cli = {"logs_dir": tmp_path / "logs", "retry_delay": 0, "db": f"sqlite:///{tmp_path}/q.db"}
    settings = load_settings(root, bot.settings, cli)
    return run_bot(bot, settings), settings


def test_a_failed_run_alerts_by_webhook_and_email_without_secrets(project, tmp_path):
    with Webhook() as hook, Mailbox(logins={"relay": SMTP_PASSWORD}) as mail:
        configure(
            project,
            f"""
[alerts]
webhook = "{hook.url}"
email_to = ["ops@example.com", "ap@example.com"]
email_from = "robot@example.com"
smtp_host = "127.0.0.1"
smtp_port = {mail.port}
smtp_secret = "smtp_relay"
""",
        )
        result, settings = run_flaky(project, tmp_path)
        assert result.counts == {"done": 2, "needs_review": 1, "failed": 1}

        sent = alerts.notify("flaky", settings, result)

    assert sent == ["webhook", "e-mail ops@example.com, ap@example.com"]
    [posted] = hook.received
    assert posted["content_type"] == "application/json"
    alert = posted["body"]
    assert alert["bot"] == "flaky" and alert["status"] == "failed"
    assert alert["counts"] == {"done": 2, "needs_review": 1, "failed": 1}
    assert alert["run_id"] == result.run_id and alert["report"] == str(result.report)
    items = {i["reference"]: i for i in alert["items"]}
    assert set(items) == {"bad-data", "broken"}  # the done items are not news
    assert items["broken"]["status"] == "failed"
    assert items["broken"]["error"] == "the system is down (token was ********)"
    assert items["bad-data"]["status"] == "needs_review"
    assert "1 needs review, 1 failed" in alert["text"]

    [message] = mail.messages
    assert mail.logins_used == ["relay"]  # the SMTP log-in came from the vault
    assert message.mail_from == "robot@example.com"
    assert message.rcpt_tos == ["ops@example.com", "ap@example.com"]
    text = mail.texts()[0]
    assert "Subject: deskhand: flaky on" in text
    assert "failed       broken: the system is down (token was ********)" in text
    assert f"Report: {result.report}" in text
    for secret in (TOKEN, SMTP_PASSWORD):
        assert secret not in json.dumps(alert) and secret not in text


def test_a_run_that_could_not_run_alerts_and_per_bot_settings_apply(project, tmp_path):
    with Webhook() as hook, Webhook() as team:
        configure(
            project,
            f"""
[alerts]
webhook = "{hook.url}"
on = ["failed", "error"]

[alerts.flaky]
webhook = "{team.url}"
""",
        )
        settings = load_settings(project)
        vault.get("flaky_api")  # the run had handed the token out: it is masked from now on
        sent = alerts.notify("flaky", settings, error=f"secret 'x' not found (token {TOKEN})")
        review_only = RunResult("flaky", "r1", tmp_path, [ItemResult("a", "a", "needs_review", 1)])
        quiet = alerts.notify("flaky", settings, review_only)  # on = failed, error only

    assert sent == ["webhook"] and quiet == []
    assert hook.received == []  # the bot's own table replaced the default webhook
    [alert] = team.bodies
    assert alert["status"] == "error" and alert["items"] == []
    assert alert["error"] == "secret 'x' not found (token ********)"


def test_nothing_wrong_nothing_sent_and_a_dead_webhook_is_only_reported(project, tmp_path, capsys):
    with Webhook() as hook:
        configure(project, f'[alerts]\nwebhook = "{hook.url}"\n')
        settings = load_settings(project)
        fine = RunResult("flaky", "r1", tmp_path, [ItemResult("a", "a", "done", 1)])
        assert alerts.notify("flaky", settings, fine) == []
    assert hook.received == []

    configure(project, '[alerts]\nwebhook = "http://127.0.0.1:9/hook"\nemail_to = []\n')
    failed = RunResult("flaky", "r2", tmp_path, [ItemResult("a", "a", "failed", 3)])
    assert alerts.notify("flaky", settings, failed) == []
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("alert: the webhook failed (")


@pytest.mark.parametrize(
    "text, message",
    [
        ("[alerts]\nwebhok = 'http://x'\n", "[alerts]: unknown key 'webhok' (known: "),
        ("[alerts]\nsmtp_port = '25'\n", "[alerts]: 'smtp_port' has a bad value '25'"),
        ("[alerts]\non = ['late']\n", "on takes failed, needs_review, error"),
        ("[alerts.nobody]\nwebhook = 'http://x'\n", "[alerts.nobody]: no bot bots/nobody.py"),
        ("[alerts]\nsmtp_security = 'tls'\n", "smtp_security is none, starttls or ssl"),
    ],
)
def test_bad_alert_settings_are_one_line_config_errors(project, text, message):
    configure(project, text)
    with pytest.raises(ConfigError) as error:
        alerts.load_config(project)
    assert message in str(error.value) and len(str(error.value).splitlines()) == 1
    assert str(error.value).startswith("bots/schedules.toml: ")
