"""One scheduled run, in its own process: ``python -m deskhand.scheduling.child ROOT BOT``.

The daemon starts it (the database in ``DESKHAND_DB``) and may stop it: the first SIGTERM or
SIGINT sets the runner's ``stop`` event (the current step finishes, the item is released),
a second one interrupts at once (the runner still releases the item). If the daemon dies,
the run stops the same way. It sends the bot's alerts itself and exits like ``run``: 0 every
item done, 1 some not, 2 a configuration error, 3 an unexpected error, 130 interrupted,
143 stopped (the item in progress given back).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

PARENT_CHECK_SECONDS = 1.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deskhand.scheduling.child")
    parser.add_argument("root")
    parser.add_argument("bot")
    parser.add_argument("--settings", default="{}", help="the job's settings, JSON")
    parser.add_argument("--no-source", dest="source", action="store_false")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # bots import from the project, as on the CLI

    from loguru import logger

    logger.remove()  # the run logs to its folder; the daemon's output gets plain lines
    stop = threading.Event()
    _stop_on_signals(stop)
    _stop_when_orphaned(stop, os.getppid())
    from ..masking import scope

    with scope():  # the run's secrets stay masked in its summary and alerts
        return _run(root, args.bot, json.loads(args.settings), args.source, stop)


def _run(root: Path, name: str, job_settings: dict, source: bool, stop: threading.Event) -> int:
    from .. import alerts
    from ..bot import load_bot
    from ..config import Settings, load_settings
    from ..errors import ConfigError
    from ..logs import mask
    from ..runner import run_bot
    from ..summary import check_reachable

    settings = Settings(root=root)
    try:
        bot = load_bot(name, root)
        settings = load_settings(root, bot.settings, job_settings)
        if settings.target:
            check_reachable(settings.target)
        result = run_bot(
            bot, settings, on_item=_line, from_source=source, stop=stop, trigger="schedule"
        )
    except KeyboardInterrupt:
        print(f"{name}: interrupted: the item in progress went back to the queue", flush=True)
        return 130
    except Exception as exc:
        code = 2 if isinstance(exc, ConfigError) else 3
        text = str(exc).strip().splitlines()
        message = mask(text[0] if text else type(exc).__name__)
        if code == 3:
            message = f"{type(exc).__name__}: {message}"
        print(f"{name}: {message}", file=sys.stderr, flush=True)
        _alert(alerts, name, settings, error=message)
        return code
    from ..summary import summary

    for line in summary(name, result):
        print(line, flush=True)
    print(f"{name}: report: {result.report}", flush=True)
    _alert(alerts, name, settings, result=result)
    return result.exit_code


def _alert(alerts, name: str, settings, **what) -> None:
    try:
        sent = alerts.notify(name, settings, **what)
    except Exception as exc:  # a broken alert must not change the run's exit code
        print(f"{name}: alert not sent: {exc}", file=sys.stderr, flush=True)
        return
    if sent:
        print(f"{name}: alert sent to {', '.join(sent)}", flush=True)


def _line(result, index: int, total: int) -> None:
    from ..logs import mask

    what = result.output.get("record") or (result.error or {}).get("message", "")
    print(mask(f"[{index}/{total}] {result.status:12} {result.label}  {what}"), flush=True)


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum, frame) -> None:
        if stop.is_set():
            raise KeyboardInterrupt  # asked twice: stop now (the runner releases the item)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, handler)


def _stop_when_orphaned(stop: threading.Event, parent: int) -> None:
    def watch() -> None:
        while not stop.wait(PARENT_CHECK_SECONDS):
            if os.getppid() != parent:
                stop.set()

    threading.Thread(target=watch, daemon=True, name="parent-watch").start()


if __name__ == "__main__":
    sys.exit(main())
