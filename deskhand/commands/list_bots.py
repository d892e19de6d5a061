"""``deskhand list``: the project's bots, one line each."""

from __future__ import annotations

import argparse

from ..errors import DeskhandError
from . import project_root

NAME = "list"
HELP = "list the bots in bots/"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """No arguments."""


def run(args: argparse.Namespace) -> int:
    """Print each bot's name and summary (or why it does not load)."""
    from ..bot import list_bots, load_bot

    root = project_root()
    for name in list_bots(root):
        try:
            summary = load_bot(name, root).summary
        except DeskhandError as exc:
            summary = f"(cannot load: {exc})"
        print(f"{name:24} {summary}")
    return 0
