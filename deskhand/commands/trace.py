"""``deskhand trace RUN_DIR``: a run's Playwright trace in the system Chromium."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> argparse.ArgumentParser:
    """``trace RUN_DIR [--port] [--no-browser]``."""
    from ..web.trace import add_arguments

    add_arguments(sub)
    return sub.choices["trace"]


def run(args: argparse.Namespace) -> int:
    """Serve the trace and show it until its window closes."""
    from ..web.trace import run_command

    return run_command(args)
