"""``deskhand selectors check NAME --url URL``: see :mod:`deskhand.selectors`."""

from __future__ import annotations

import argparse
from typing import Any

from . import project_root


def register(sub: Any) -> argparse.ArgumentParser:
    """``selectors`` and its actions."""
    from ..selectors import add_arguments

    add_arguments(sub)
    return sub.choices["selectors"]


def run(args: argparse.Namespace) -> int:
    """Execute the parsed ``selectors`` action."""
    from ..selectors import run_command

    return run_command(args, project_root())
