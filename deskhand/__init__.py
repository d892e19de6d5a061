"""deskhand: code-first back-office bots.

A bot reads documents, keys them into legacy systems and logs every step::

    from deskhand import Bot, BusinessError, documents, vault

    bot = Bot("invoice_entry", selectors="legacy_ap", max_attempts=3)

    @bot.source
    def incoming(ctx):
        for path in sorted(ctx.input.iterdir()):
            yield ctx.item(reference=documents.fingerprint(path), file=path)

    @bot.process
    def key_invoice(item, ctx):
        with ctx.step("read document"):
            invoice = documents.extract(item.file)
        ...
        return ctx.done(record=record)

Run it with ``python run_bot.py run invoice_entry --input DOCS --target URL``.
"""

import importlib
from pathlib import Path
from typing import Any

from . import runner as _runner
from .bot import RESUME, Bot, WorkItem
from .context import Context
from .errors import (
    ApplicationError,
    BusinessError,
    ConfigError,
    DeskhandError,
    SelectorNotFound,
)
from .journal import RunModel
from .runner import RunResult, run_bot

__all__ = [
    "RESUME",
    "ApplicationError",
    "Bot",
    "BusinessError",
    "ConfigError",
    "Context",
    "DeskhandError",
    "RunResult",
    "SelectorNotFound",
    "WorkItem",
    "documents",
    "run_bot",
    "vault",
]
__version__ = "0.1.0"


def _render_report(run_dir: Path, model: RunModel) -> None:
    """report.html of a run that just ended, from its run model (deskhand.report)."""
    from .report import render_report  # jinja2 loads when a run ends, not on import

    render_report(run_dir, model)


# Every run (``run_bot.py run``, a worker, a scheduled run, ``run_bot(...)`` from Python)
# renders its report when it ends: the runner is handed the view, it does not import it.
_runner.VIEWS.setdefault("report", _render_report)


def __getattr__(name: str) -> Any:
    # documents and vault load on first use: pdfplumber and OCR are not needed to list bots
    if name in ("documents", "vault"):
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'deskhand' has no attribute {name!r}")
