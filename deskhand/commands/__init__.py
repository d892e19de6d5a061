"""deskhand's commands, registered in one way.

Each command is a module with ``HELP`` and ``add_arguments(parser)`` (or ``register(sub)``,
which adds its own sub-parser and returns it) and ``run(args) -> int``; ``NAME`` when the
command is not called like the module (``demo_app`` is ``demo-app``). The built-in ones are
the modules of this package named in :data:`BUILTIN`; other packages add theirs through the
entry-point group ``deskhand.commands`` (the recorders do)::

    [project.entry-points."deskhand.commands"]
    record = "recorders.web"
    record-desktop = "recorders.desktop"

A command whose module cannot be imported (an extra not installed) stays listed and says,
when run, what to install (:data:`EXTRAS` knows which extra brings which module). Errors
are :class:`~deskhand.errors.ConfigError` (a bad command line or set-up: one line, exit 2)
or :class:`~deskhand.errors.DeskhandError` (exit 1).
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

from ..errors import ConfigError

GROUP = "deskhand.commands"
BUILTIN = (
    "init",
    "list_bots",
    "run",
    "worker",
    "queue",
    "schedule",
    "vault",
    "selectors",
    "trace",
    "demo",
    "demo_app",
    "extract",
    "console",
    "report",
)  # the order of ``--help``; plugins' commands come after them


EXTRAS = {  # a module an optional feature imports -> the extra of deskhand that installs it
    "pyautogui": "desktop",
    "mss": "desktop",
    "pynput": "desktop",
    "Xlib": "desktop",
    "psycopg": "postgres",
    "rapidocr": "ocr",
    "onnxruntime": "ocr",
    "aiosmtpd": "demo",
    "reportlab": "demo",
}


def install_hint(error: ImportError) -> str | None:
    """``pip install 'deskhand[desktop]'`` when ``error`` is a module of an extra."""
    top = (error.name or "").split(".")[0]
    return f"pip install 'deskhand[{EXTRAS[top]}]'" if top in EXTRAS else None


@dataclass(frozen=True)
class Command:
    """One sub-command: its name, how it adds its parser, how it runs."""

    name: str
    register: Callable[[Any], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], int]


def from_module(module: ModuleType | Any, name: str | None = None) -> Command:
    """The command a module (or any object with the same names) defines."""
    name = getattr(module, "NAME", None) or name or module.__name__.rsplit(".", 1)[-1]
    name = name.replace("_", "-")
    register = getattr(module, "register", None)
    if register is None:

        def register(sub: Any) -> argparse.ArgumentParser:
            parser = sub.add_parser(name, help=module.HELP, description=module.HELP)
            module.add_arguments(parser)
            return parser

    return Command(name, register, module.run)


def _unavailable(name: str, error: Exception) -> Command:
    """A plugin command whose module does not load: listed, and saying what to install (or
    what went wrong: a broken plugin does not take the other commands down with it)."""
    if isinstance(error, ImportError):
        hint = install_hint(error) or f"install {error.name or 'what it needs'}"
        why = f"{name} is not available ({error}): {hint}"
    else:
        hint = "its package failed to load"
        why = (
            f"{name} is not available: its package failed to load ({type(error).__name__}: {error})"
        )

    def register(sub: Any) -> argparse.ArgumentParser:
        # Every argument is taken as it is (no option prefix), so that any command line
        # reaches run() and its hint.
        parser = sub.add_parser(name, help=f"(not available: {hint})", prefix_chars="\0")
        parser.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
        return parser

    def run(args: argparse.Namespace) -> int:
        raise ConfigError(why)

    return Command(name, register, run)


def load_commands() -> dict[str, Command]:
    """Every command by name: the built-in ones, then the entry points' (a plugin may not
    replace a built-in command)."""
    found = {}
    for module_name in BUILTIN:
        command = from_module(importlib.import_module(f"{__name__}.{module_name}"))
        found[command.name] = command
    for point in sorted(entry_points(group=GROUP), key=lambda p: p.name):
        if point.name in found:
            continue
        try:
            found[point.name] = from_module(point.load(), point.name)
        except Exception as exc:  # noqa: BLE001 - one broken plugin, not the whole CLI
            found[point.name] = _unavailable(point.name, exc)
    return found


def project_root() -> Path:
    """The project this command works on (the nearest folder upwards with ``bots/``); it
    goes on ``sys.path`` so that its bots import their helpers."""
    from ..config import find_root

    root = find_root()
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


def suggest(word: str, known: list[str] | tuple[str, ...]) -> str:
    """``"; did you mean 'run'?"`` when ``word`` is close to a known one, else ``""``."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


def load_bot(name: str, root: Path) -> Any:
    """The bot ``bots/<name>.py``; a mistyped name gets a suggestion."""
    from ..bot import list_bots
    from ..bot import load_bot as load

    known = list_bots(root)
    if name not in known:
        hint = suggest(name, known)
        if hint:
            shown = ", ".join(known)
            raise ConfigError(f"unknown bot '{name}'{hint} (bots here: {shown})")
    return load(name, root)
