"""Test set-up for runs of a bot written by the test: a project folder in ``tmp_path`` with
the bot in it, its logs and queue database beside it, and a fresh interpreter on this
checkout for what must run in a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from deskhand.bot import Bot, load_bot
from deskhand.config import Settings, load_settings
from deskhand.runner import ItemResult, RunResult, run_bot

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "project"  # the project folder in tmp_path


def write_bot(tmp_path: Path, name: str, source: str) -> Path:
    """The project folder ``tmp_path/project`` with ``source`` (dedented) as its
    ``bots/<name>.py``."""
    root = tmp_path / PROJECT
    (root / "bots").mkdir(parents=True, exist_ok=True)
    (root / "bots" / f"{name}.py").write_text(textwrap.dedent(source))
    return root


def settings_for(tmp_path: Path, bot: Bot, **cli: Any) -> Settings:
    """The settings of a run of ``bot`` in the project of :func:`write_bot`, its logs in
    ``tmp_path/logs`` and its queue in ``tmp_path/queue.db`` (``cli``: more options, or
    other ones, as the command line gives them)."""
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}", **cli}
    return load_settings(tmp_path / PROJECT, bot.settings, cli)


def load(tmp_path: Path, name: str, source: str, **cli: Any) -> tuple[Bot, Settings]:
    """The bot ``source`` written into a project in ``tmp_path`` and loaded, with the
    settings of :func:`settings_for`."""
    bot = load_bot(name, write_bot(tmp_path, name, source))
    return bot, settings_for(tmp_path, bot, **cli)


def run(
    tmp_path: Path,
    name: str,
    source: str,
    on_item: Callable[[ItemResult, int, int], None] | None = None,
    **cli: Any,
) -> RunResult:
    """One run of the bot ``source`` (see :func:`load`) to its end."""
    bot, settings = load(tmp_path, name, source, **cli)
    return run_bot(bot, settings, on_item=on_item)


def other_run(tmp_path: Path, bot: str, seen: Path) -> Path:
    """The folder of the bot's one run in ``tmp_path/logs`` that is not ``seen``."""
    [run_dir] = [d for d in (tmp_path / "logs" / bot).iterdir() if d != seen]
    return run_dir


def python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python *args`` in a fresh interpreter that imports this checkout's deskhand
    (``env``: variables to add), its output captured as text."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, *args],
        env={**os.environ, "PYTHONPATH": path, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
