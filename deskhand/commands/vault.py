"""``deskhand vault set|list|delete``: the project's secrets (see :mod:`deskhand.vault`)."""

from __future__ import annotations

import argparse
from typing import Any

from . import project_root


def register(sub: Any) -> argparse.ArgumentParser:
    """``vault`` and its actions (their arguments live beside the vault)."""
    from ..vault import add_arguments

    return add_arguments(sub)


def run(args: argparse.Namespace) -> int:
    """Execute the parsed ``vault`` action."""
    from ..vault import run as run_vault

    return run_vault(args, project_root())
