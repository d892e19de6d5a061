"""``run_bot.py demo JOB``: the other back-office jobs on the embedded default.

Each starts what it needs on a clean slate under logs/demo-<job>/ (the legacy app with a
fresh database, a mail server, the generated inputs) and runs its bot once:

- order_entry: the order e-mails of demo/orders/inbox; an SMTP server on a free port keeps
  every mail it receives as logs/demo-order_entry/sent/*.eml.
- reconcile_balances: the November statement and the AR ledger of demo/accounts; the
  workbook lands in logs/demo-reconcile_balances/reconciliation.xlsx.
- file_documents: the mixed documents of demo/filing/inbox, filed into
  logs/demo-file_documents/archive with index.xlsx.
"""

from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path

from deskhand.errors import ConfigError

DATA = Path(__file__).parent  # the inputs the jobs start from
JOBS = ("order_entry", "reconcile_balances", "file_documents")


def run_job(name: str, root: Path, headed: bool = False, trace: bool = False) -> int:
    """Run the demo of job ``name`` from a clean slate; the run's exit code."""
    from demo.data import DEMO_PASSWORD, DEMO_USER
    from demo.server import demo_app
    from deskhand.bot import load_bot
    from deskhand.commands.run import execute as _execute
    from deskhand.config import load_settings
    from deskhand.vault import env_name

    if name not in JOBS:
        raise ConfigError(f"unknown demo job '{name}' (known: invoice_entry, {', '.join(JOBS)})")
    os.environ.setdefault(
        env_name("legacy_ap"), json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD})
    )
    work = root / "logs" / f"demo-{name}"
    shutil.rmtree(work, ignore_errors=True)  # every demo starts from an empty system
    work.mkdir(parents=True)
    bot = load_bot(name, root)
    cli = {"headed": headed or None, "trace": trace or None, "db": f"sqlite:///{work / 'queue.db'}"}
    if name == "file_documents":
        cli["input"] = _filing_inputs(root, work)
        return _execute(bot, load_settings(root, bot.settings, cli))
    with demo_app(root, work / "app.db") as url:
        print(f"demo app on {url} (database {(work / 'app.db').relative_to(root)})", flush=True)
        cli["target"] = url
        if name == "reconcile_balances":
            cli["input"] = _accounts_inputs(root, work)
            code = _execute(bot, load_settings(root, bot.settings, cli))
            print(f"workbook: {work / 'reconciliation.xlsx'}")
            return code
        with _mail_catcher(work / "sent") as port:
            cli["input"] = _order_inputs(root, work, port)
            code = _execute(bot, load_settings(root, bot.settings, cli))
        print(f"mails sent: {len(list((work / 'sent').glob('*.eml')))} in {work / 'sent'}")
        return code


def _accounts_inputs(root: Path, work: Path) -> Path:
    folder = work / "inputs"
    shutil.copytree(DATA / "accounts", folder, ignore=shutil.ignore_patterns("truth.json"))
    (folder / "reconcile.toml").write_text(f'output = "{work}"\n')
    return folder


def _order_inputs(root: Path, work: Path, smtp_port: int) -> Path:
    folder = work / "inbox"
    shutil.copytree(DATA / "orders" / "inbox", folder)
    (folder / "order_entry.toml").write_text(
        f'smtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\noutbox = "{work / "outbox.db"}"\n'
    )
    return folder


def _filing_inputs(root: Path, work: Path) -> Path:
    folder = work / "inbox"
    shutil.copytree(DATA / "filing" / "inbox", folder)
    (folder / "file_documents.toml").write_text(f'archive = "{work / "archive"}"\n')
    return folder


@contextmanager
def _mail_catcher(folder: Path):
    """An SMTP server on a free port that writes each mail it receives to ``folder``."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        raise ConfigError("the order demo needs aiosmtpd: pip install aiosmtpd") from None
    from demo.server import free_port

    folder.mkdir(parents=True, exist_ok=True)

    class Keep:
        async def handle_DATA(self, _server, _session, envelope):
            count = len(list(folder.glob("*.eml"))) + 1
            (folder / f"{count:03d}.eml").write_bytes(envelope.original_content)
            return "250 Message accepted for delivery"

    port = free_port()
    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    print(f"mail server on 127.0.0.1:{port} (keeps mails in {folder})", flush=True)
    try:
        yield port
    finally:
        controller.stop()
