"""``deskhand console``: serve the console; ``console user add|list|remove``: its people.

The database is ``--db``, ``$DESKHAND_DB`` or
``<root>/.deskhand/queue.db``: the queue's own.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import threading
from pathlib import Path
from typing import TextIO

from ..console.tables import ROLES
from ..errors import ConfigError
from . import project_root

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``console`` (serve) and ``console user ...`` (people)."""
    parser = subparsers.add_parser("console", help="the operations console (web)")
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: this machine only)"
    )
    parser.add_argument("--port", type=int, default=8780)
    parser.add_argument(
        "--db", help="queue database URL (default: $DESKHAND_DB or .deskhand/queue.db)"
    )
    parser.add_argument("--logs", help="the run folders (default: the project's logs_dir)")
    parser.add_argument(
        "--secure-cookies", action="store_true", help="send the session cookie over HTTPS only"
    )
    actions = parser.add_subparsers(dest="console_command", metavar="ACTION")
    user = actions.add_parser("user", help="manage the console's people")
    user.add_argument("--db", default=argparse.SUPPRESS, help="as for the console")
    user_actions = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_actions.add_parser(
        "add", help="add a person (or set a new role and password)", allow_abbrev=False
    )
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    user_actions.add_parser("list", help="the people, their roles")
    remove = user_actions.add_parser("remove", help="stop a person from logging in")
    remove.add_argument("name")
    return parser


def run(args: argparse.Namespace, root: Path | None = None, out: TextIO | None = None) -> int:
    """Execute the parsed ``console`` command (for the project's root when not given)."""
    root = root or project_root()
    out = out or sys.stdout
    if args.console_command == "user":
        return _user(args, root, out)
    return _serve(args, root, out)


def _engine(args: argparse.Namespace, root: Path):
    from ..console.tables import create_tables
    from ..queue.schema import create_queue_engine, resolve_url

    engine = create_queue_engine(resolve_url(args.db, root))
    create_tables(engine)
    return engine


def _user(args: argparse.Namespace, root: Path, out: TextIO) -> int:
    from ..console.auth import add_user, list_users, remove_user

    engine = _engine(args, root)
    try:
        if args.user_command == "add":
            add_user(engine, args.name, args.role, _password(args.password_stdin))
            print(f"{args.name} can log in as {args.role}", file=out)
        elif args.user_command == "list":
            for u in list_users(engine):
                state = "" if u["active"] else "  (removed)"
                print(f"{u['name']:24} {u['role']:10}{state}", file=out)
        elif not remove_user(engine, args.name):
            raise ConfigError(f"no user {args.name}: see `console user list`")
        else:
            print(f"{args.name} can no longer log in", file=out)
    finally:
        engine.dispose()
    return 0


def _password(from_stdin: bool) -> str:
    """The password from standard input (one line), or asked twice on the terminal."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise ConfigError("no password on standard input: pipe it in, one line")
        return password
    if not sys.stdin.isatty():
        raise ConfigError("no terminal to ask for the password: use --password-stdin")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise ConfigError("the two passwords differ: run the command again")
    return first


def _serve(args: argparse.Namespace, root: Path, out: TextIO) -> int:
    from werkzeug.serving import make_server

    from ..config import load_settings
    from ..console.app import create_app
    from ..console.runs import all_runs

    settings = load_settings(root)
    logs = Path(args.logs) if args.logs else settings.resolve(settings.logs_dir)
    app = create_app(args.db, logs, root, secure_cookies=args.secure_cookies)
    console = app.extensions["deskhand_console"]
    try:
        server = make_server(args.host, args.port, app, threaded=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {args.host}:{args.port}: {exc.strerror}: choose another --port"
        ) from None
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(
        f"console on http://{shown}:{args.port}/ (database {console.url}, runs in {logs})", file=out
    )
    if args.host in LOOPBACK:
        print(
            "listening on this machine only; to let others in, put it behind an HTTPS proxy, "
            "or pass --host 0.0.0.0 (with --secure-cookies behind HTTPS)",
            file=out,
        )
    else:
        print(f"listening on {args.host}: anyone who can reach it sees the log-in page", file=out)
    from ..console.auth import list_users

    if not list_users(console.engine):
        print("nobody can log in yet: run_bot.py console user add NAME --role admin", file=out)
    out.flush()
    # Read every run's log once now, so that the first look at the runs page is quick.
    threading.Thread(target=all_runs, args=(logs,), daemon=True, name="read-runs").start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
