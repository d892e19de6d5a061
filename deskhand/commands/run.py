"""``deskhand run BOT``: queue a bot's input, then process its queue.

Exit codes: 0 every item done; 1 some item not done; 2 a configuration error (one line);
143 stopped by SIGTERM (the item in progress was given back, or completed when its point
of no return was behind it).
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from contextlib import contextmanager, redirect_stdout
from typing import Any

from ..errors import ConfigError, DeskhandError
from ..logs import mask
from . import load_bot, project_root

HELP = "queue a bot's input, then process its queue"
SETTINGS = ("input", "target", "headed", "trace", "max_attempts", "retry_delay", "db")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``BOT`` and the run's options."""
    parser.add_argument("bot")
    run_options(parser)


def run_options(p: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``worker`` share: settings for this run, and the log."""
    p.add_argument("--input", help="input folder or file (documents, spreadsheet)")
    p.add_argument("--target", help="URL of the application to key into")
    p.add_argument("--headed", action="store_true", default=None, help="show the browser")
    p.add_argument("--trace", action="store_true", default=None, help="save trace.zip")
    p.add_argument("--max-attempts", type=int, help="attempts per item for system errors")
    p.add_argument("--retry-delay", type=float, help="seconds before the first retry")
    p.add_argument("--db", help="queue database URL (default: sqlite .deskhand/queue.db)")
    p.add_argument("--log-json", action="store_true", help="events to stdout as JSON lines")


def run(args: argparse.Namespace) -> int:
    """Run the bot (``worker``: only its queue); the run's exit code."""
    from ..config import load_settings

    root = project_root()
    bot = load_bot(args.bot, root)
    settings = load_settings(root, bot.settings, {k: getattr(args, k) for k in SETTINGS})
    from_source = args.command != "worker"
    forever = getattr(args, "forever", False)
    if args.log_json:  # stdout carries only the events (JSON lines); people's lines: stderr
        from ..logs import ship_events

        with ship_events(sys.stdout), redirect_stdout(sys.stderr):
            return execute(bot, settings, from_source, forever)
    return execute(bot, settings, from_source, forever)


def execute(bot: Any, settings: Any, from_source: bool = True, forever: bool = False) -> int:
    """Check the set-up, run ``bot``, print its summary and send its alerts; the exit code."""
    from .. import alerts
    from ..runner import check_requirements, run_bot
    from ..summary import check_reachable, summary

    alerts.load_config(settings.root, bot.name)  # a broken [alerts] table: say so first
    stop = threading.Event()  # SIGTERM: finish the current step, give the item back, stop
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        # Everything the set-up can get wrong is found before anything is queued or claimed.
        check_requirements(bot, settings, from_source)
        if from_source and settings.input is not None:
            if not settings.resolve(settings.input).exists():
                raise ConfigError(f"input {settings.input} does not exist: check the path")
        if settings.target:
            check_reachable(settings.target)
        with _progress() as on_item:
            result = run_bot(
                bot,
                settings,
                on_item=on_item,
                from_source=from_source,
                forever=forever,
                stop=stop,
                on_note=lambda note: print(f"{bot.name}: {mask(note)}", flush=True),
            )
    except DeskhandError as exc:  # the run could not run: that is news too
        alerts.notify(bot.name, settings, error=str(exc))
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    for line in summary(bot.name, result):
        print(line)
    print(f"log:    {result.dir / 'bot.log'}")
    print(f"report: {result.report}")
    sent = alerts.notify(bot.name, settings, result)
    if sent:
        print(f"alert:  sent to {', '.join(sent)}")
    return result.exit_code


@contextmanager
def _progress():
    """A progress bar on a terminal; plain lines otherwise (logs, CI, cron)."""

    def line(result, index, total) -> None:
        what = result.output.get("record") or (result.error or {}).get("message", "")
        print(mask(f"[{index}/{total}] {result.status:12} {result.label}  {what}"), flush=True)

    if not sys.stdout.isatty():
        yield line
        return
    from rich.progress import Progress

    with Progress(transient=True) as progress:
        task = progress.add_task("items", total=None)

        def bar(result, index, total) -> None:
            progress.update(task, completed=index, total=total)
            progress.console.print(f"[{index}/{total}] {result.status} {result.label}")

        yield bar
