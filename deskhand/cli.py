"""The command line: ``deskhand <command>`` (or ``python run_bot.py <command>``).

Parsing and dispatch only: the commands are the modules of :mod:`deskhand.commands` and
those other packages register (entry points ``deskhand.commands``).

Exit codes: 0 every item done; 1 some item not done (or some file not read); 2 a usage or
configuration error, told in one line with no traceback; 130 interrupted (Ctrl-C); 141 the
reader of the output went away (``| head``); 143 stopped by SIGTERM (the item in progress
was given back, or completed when its point of no return was behind it).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from . import masking
from .commands import Command, install_hint, load_commands, project_root, suggest
from .errors import ConfigError, DeskhandError
from .logs import mask

_INVALID = re.compile(r"argument (?P<arg>\S+): invalid choice: '(?P<value>[^']*)' \(choose from ")


def _prog() -> str:
    """How the user called us: ``run_bot.py`` in a checkout, else ``deskhand``."""
    return "run_bot.py" if Path(sys.argv[0]).name == "run_bot.py" else "deskhand"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        found = _INVALID.match(message)
        if found:
            choices = self._choices(found["arg"])
            hint = suggest(found["value"], choices)
            if found["arg"] == "command":
                known = "" if hint else f"; the commands: {', '.join(choices)}"
                message = f"unknown command '{found['value']}'{hint}{known}"
            elif hint:
                message = message.split(" (choose from ")[0] + hint
        self.exit(2, f"{self.prog}: {message} (see --help)\n")

    def _choices(self, arg: str) -> list[str]:
        for action in self._actions:
            if arg in (action.dest, action.metavar, *action.option_strings) and action.choices:
                return [str(c) for c in action.choices]
        return []


def deskhand_version() -> str:
    """The installed distribution's version (the checkout's when not installed)."""
    try:
        return version("deskhand")
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser(commands: dict[str, Command] | None = None) -> argparse.ArgumentParser:
    """The parser of every command in ``commands`` (default: every registered one)."""
    commands = load_commands() if commands is None else commands
    parser = _Parser(prog=_prog(), description="deskhand: back-office bots.")
    parser.add_argument("--version", action="version", version=f"deskhand {deskhand_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for command in commands.values():
        command.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv``, run the command; its exit code (errors as one line on stderr)."""
    try:
        project_root()  # the project's recorders/, bots/ and demo/ import from its root
    except ConfigError:
        pass  # commands that need a project say so themselves
    commands = load_commands()
    args = build_parser(commands).parse_args(argv)
    from loguru import logger

    logger.remove()  # the CLI prints its own lines; each run logs to its own folder
    prog = _prog()
    with masking.scope():  # the command knows the secrets its runs found, until it ends
        try:
            return commands[args.command].run(args)
        except ConfigError as exc:
            print(f"{prog}: {mask(str(exc))}", file=sys.stderr)
            return 2
        except DeskhandError as exc:
            print(f"{prog}: {mask(str(exc))}", file=sys.stderr)
            return 1
        except ModuleNotFoundError as exc:  # an optional feature whose extra is not installed
            hint = install_hint(exc)
            if hint is None:
                raise
            print(f"{prog}: {exc}: {hint}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(f"{prog}: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:
            # The reader went away (`queue list | head`): nothing more to say to anybody.
            # Python's documented recipe: point stdout at devnull so the exit flush is quiet.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 141
