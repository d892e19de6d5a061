"""The command line: ``python run_bot.py <command>`` or ``deskhand <command>``.

Exit codes: 0 every item done; 1 some item not done (or some file not read); 2 a usage or
configuration error, told in one line with no traceback; 130 interrupted (Ctrl-C); 141 the
reader of the output went away (``| head``); 143 stopped by SIGTERM (the item in progress
was given back, or completed when its point of no return was behind it).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from loguru import logger

from . import masking
from .errors import ConfigError, DeskhandError
from .logs import mask

PROG = "run_bot.py"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="deskhand: back-office bots.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    sub.add_parser("list", help="list the bots in bots/")

    run = sub.add_parser("run", help="queue a bot's input, then process its queue")
    run.add_argument("bot")
    _run_options(run)

    worker = sub.add_parser("worker", help="process what a bot's queue holds")
    worker.add_argument("bot")
    worker.add_argument("--forever", action="store_true", help="keep waiting for new items")
    _run_options(worker)

    from .queue.cli import add_arguments as add_queue_arguments

    add_queue_arguments(sub)

    from .scheduling import add_arguments as add_schedule_arguments
    from .vault import add_arguments as add_vault_arguments

    add_schedule_arguments(sub)
    add_vault_arguments(sub)

    from .selectors import add_arguments as add_selectors_arguments

    add_selectors_arguments(sub)
    from .web import trace as web_trace  # run_bot.py trace RUN_DIR

    web_trace.add_arguments(sub)
    COMMANDS.setdefault("trace", web_trace.run_command)

    for recorder in _recorders():
        recorder.add_arguments(sub)

    demo = sub.add_parser("demo", help="start the demo app and run invoice_entry on the samples")
    demo.add_argument(  # the other jobs: demo/jobs.py
        "job", nargs="?", default="invoice_entry",
        choices=["invoice_entry", "order_entry", "reconcile_balances", "file_documents"],
    )  # fmt: skip
    demo.add_argument("--headed", action="store_true", help="show the browser")
    demo.add_argument("--trace", action="store_true", help="record a Playwright trace.zip")

    app = sub.add_parser("demo-app", help="serve the bundled legacy web app")
    app.add_argument("--port", type=int, default=8765)
    app.add_argument("--host", default="127.0.0.1")
    app.add_argument("--db", default="logs/demo-app.db", help="SQLite file for its records")
    app.add_argument("--faults", help="inject faults, e.g. error=0.1,lost=0.05,expire=7,seed=1")
    app.add_argument(
        "--variant",
        default="normal",
        choices=["normal", "shifted"],
        help="shifted: the same app with other ids and classes",
    )

    from .extract_cli import add_arguments as add_extract_arguments

    add_extract_arguments(sub)

    from .console.cli import add_arguments as add_console_arguments

    add_console_arguments(sub)

    report = sub.add_parser("report", help="render a run's report.html again from its log")
    report.add_argument("run_dir", metavar="RUN_DIR")
    return parser


def _run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", help="input folder or file (documents, spreadsheet)")
    p.add_argument("--target", help="URL of the application to key into")
    p.add_argument("--headed", action="store_true", default=None, help="show the browser")
    p.add_argument("--trace", action="store_true", default=None, help="save trace.zip")
    p.add_argument("--max-attempts", type=int, help="attempts per item for system errors")
    p.add_argument("--retry-delay", type=float, help="seconds before the first retry")
    p.add_argument("--db", help="queue database URL (default: sqlite .deskhand/queue.db)")
    p.add_argument("--log-json", action="store_true", help="events to stdout as JSON lines")


def _recorders() -> list:
    """The project's recorders (recorders/ beside bots/), when this project has them."""
    found = []
    for name in ("recorders.web", "recorders.desktop"):
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name not in ("recorders", name):
                raise
    return found


def main(argv: list[str] | None = None) -> int:
    try:
        _root()  # the project's recorders/, bots/ and demo/ are imported from its root
    except ConfigError:
        pass  # commands that need a project say so themselves
    args = build_parser().parse_args(argv)
    logger.remove()  # the CLI prints its own lines; each run logs to its own folder
    with masking.scope():  # the command knows the secrets its runs found, until it ends
        try:
            return COMMANDS[args.command](args)
        except ConfigError as exc:
            print(f"{PROG}: {mask(str(exc))}", file=sys.stderr)
            return 2
        except DeskhandError as exc:
            print(f"{PROG}: {mask(str(exc))}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader went away (`queue list | head`): nothing more to say to anybody.
            # Python's documented recipe: point stdout at devnull so the exit flush is quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 141


def _root() -> Path:
    from .config import find_root

    root = find_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))  # bots and the demo import from the project
    return root


def cmd_list(args: argparse.Namespace) -> int:
    from .bot import list_bots, load_bot

    root = _root()
    for name in list_bots(root):
        try:
            summary = load_bot(name, root).summary
        except DeskhandError as exc:
            summary = f"(cannot load: {exc})"
        print(f"{name:24} {summary}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .bot import load_bot
    from .config import load_settings

    root = _root()
    bot = load_bot(args.bot, root)
    options = ("input", "target", "headed", "trace", "max_attempts", "retry_delay", "db")
    settings = load_settings(root, bot.settings, {k: getattr(args, k) for k in options})
    if args.log_json:  # stdout carries only the events (JSON lines); people's lines: stderr
        from .logs import ship_events

        with ship_events(sys.stdout), redirect_stdout(sys.stderr):
            return _execute(bot, settings, args.command == "run", getattr(args, "forever", False))
    if args.command == "worker":
        return _execute(bot, settings, from_source=False, forever=args.forever)
    return _execute(bot, settings)


def _execute(bot, settings, from_source: bool = True, forever: bool = False) -> int:
    from . import alerts
    from .runner import check_requirements, run_bot

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


def summary(name: str, result) -> list[str]:
    """What a run did, and what it found in the queue already, as a person reads it."""
    counts = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in result.counts.items())
    lines = [f"{name}: {len(result.items)} items: {counts}"]
    already = result.already
    earlier = [f"{already[s]} already done" for s in ("done",) if already.get(s)]
    hints = {
        "needs_review": "waiting for review (queue list --status needs_review)",
        "failed": "failed earlier (queue retry --status failed)",
        "cancelled": "cancelled earlier",
        "in_progress": "in progress in another run",
    }
    earlier += [f"{already[s]} {text}" for s, text in hints.items() if already.get(s)]
    if earlier:
        lines.append(f"{name}: already in the queue: {', '.join(earlier)}")
    if result.stopped:
        released = any(i.status == "released" for i in result.items)
        what = "the item in progress went back to the queue" if released else "no item left open"
        lines.append(f"{name}: stopped by a signal: {what} (exit code 143)")
    return lines


def check_reachable(url: str, timeout: float = 5.0) -> None:
    """A ConfigError in one line when nothing answers at ``url``."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            pass
    except urllib.error.HTTPError:
        return  # it answered; an error page is the bot's business
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ConfigError(
            f"target {url} is unreachable ({reason}): start the app or fix --target"
        ) from None


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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_app(
    root: Path,
    db: Path,
    port: int | None = None,
    faults: str | None = None,
    variant: str = "normal",
):
    """Serve the demo app in a subprocess for the block; yields its base URL."""
    port = port or free_port()
    extra = ["--variant", variant] + (["--faults", faults] if faults else [])
    db.parent.mkdir(parents=True, exist_ok=True)
    server_log = db.with_suffix(".log")  # its request log: a pipe nobody reads would fill up
    with open(server_log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "demo.legacy_app", "--port", str(port), "--db", str(db), *extra],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                last = server_log.read_text().strip().splitlines()[-1:]
                raise ConfigError(f"the demo app did not start: {' '.join(last)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ConfigError("the demo app did not start within 20 s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def cmd_demo(args: argparse.Namespace) -> int:
    from .bot import load_bot
    from .config import load_settings
    from .vault import env_name

    root = _root()
    if args.job != "invoice_entry":
        from demo.jobs import run_job

        return run_job(args.job, root, args.headed, args.trace)
    from demo.data import DEMO_PASSWORD, DEMO_USER

    os.environ.setdefault(
        env_name("legacy_ap"), json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD})
    )
    bot = load_bot("invoice_entry", root)
    db = root / "logs" / "demo-app.db"
    queue = root / "logs" / "demo-queue.db"
    for old in (db, queue):  # the demo starts from an empty system every time
        for suffix in ("", "-wal", "-shm", "-journal"):  # SQLite replays a leftover WAL
            Path(f"{old}{suffix}").unlink(missing_ok=True)
    with demo_app(root, db) as url:
        print(f"demo app on {url} (database {db.relative_to(root)})", flush=True)
        cli = {
            "input": root / "demo" / "documents",
            "target": url,
            "headed": args.headed or None,
            "trace": args.trace or None,
            "db": f"sqlite:///{queue}",
        }
        settings = load_settings(root, bot.settings, cli)
        return _execute(bot, settings)


def cmd_demo_app(args: argparse.Namespace) -> int:
    _root()
    from demo.legacy_app.app import serve
    from demo.legacy_app.faults import parse_faults

    if args.faults:
        try:
            parse_faults(args.faults)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    serve(args.port, args.db, args.host, faults=args.faults, variant=args.variant)
    return 0


def cmd_extract(args: argparse.Namespace) -> int:
    from .extract_cli import run

    return run(args)


def cmd_queue(args: argparse.Namespace) -> int:
    from .queue.cli import run

    return run(args, _root())


def cmd_schedule(args: argparse.Namespace) -> int:
    from .scheduling import run

    return run(args, _root())


def cmd_vault(args: argparse.Namespace) -> int:
    from .vault import run

    return run(args, _root())


def cmd_record(args: argparse.Namespace) -> int:
    from recorders.web import run

    return run(args, _root())


def cmd_selectors(args: argparse.Namespace) -> int:
    from .selectors import run_command

    return run_command(args, _root())


def cmd_record_desktop(args: argparse.Namespace) -> int:
    from recorders.desktop import run

    return run(args, _root())


def cmd_report(args: argparse.Namespace) -> int:
    from .report import render_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "steps.jsonl").is_file():
        raise ConfigError(f"{run_dir} has no steps.jsonl: pass a run folder logs/<bot>/<run-id>")
    print(render_report(run_dir))
    return 0


COMMANDS = {
    "list": cmd_list,
    "run": cmd_run,
    "worker": cmd_run,
    "queue": cmd_queue,
    "record-desktop": cmd_record_desktop,
    "record": cmd_record,
    "selectors": cmd_selectors,
    "schedule": cmd_schedule,
    "vault": cmd_vault,
    "demo": cmd_demo,
    "demo-app": cmd_demo_app,
    "extract": cmd_extract,
    "report": cmd_report,
    "console": lambda args: importlib.import_module("deskhand.console.cli").run(args, _root()),
}
