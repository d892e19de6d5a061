"""``deskhand worker BOT [--forever]``: process what a bot's queue holds (nothing queued)."""

from __future__ import annotations

import argparse

from .run import run, run_options

HELP = "process what a bot's queue holds"
__all__ = ["HELP", "add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``BOT``, ``--forever`` and the options ``run`` takes."""
    parser.add_argument("bot")
    parser.add_argument("--forever", action="store_true", help="keep waiting for new items")
    run_options(parser)
