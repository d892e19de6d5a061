"""``deskhand init DIR [--bot NAME]``: write a new bot project.

The project (from :mod:`deskhand`'s ``project_template``): ``bots/NAME.py`` (a first bot
that runs as it is: ``deskhand run NAME`` from DIR), ``tests/test_NAME.py``, ``inputs/``
with its sample sheet, ``selectors/``, ``templates/``, ``logs/`` and a ``pyproject.toml``
whose ``[tool.deskhand]`` holds the project's settings. Nothing existing is overwritten.
"""

from __future__ import annotations

import argparse
import re
from importlib.resources import files
from pathlib import Path

from ..errors import ConfigError

HELP = "write a new bot project (bots/, a first bot and its test, pyproject.toml)"
GITIGNORE = "logs/\n.deskhand/\n__pycache__/\n*.pyc\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``DIR`` and the first bot's name."""
    parser.add_argument("dir", metavar="DIR", help="the project folder (created if missing)")
    parser.add_argument(
        "--bot", default="first_bot", help="the first bot's name: bots/NAME.py (first_bot)"
    )


def run(args: argparse.Namespace) -> int:
    """Write the project; print what was written and what to do next."""
    target = Path(args.dir).expanduser().resolve()
    written = create_project(target, args.bot)
    for path in written:
        print(f"wrote {path.relative_to(target)}")
    print(f"next: cd {args.dir} && deskhand run {args.bot}")
    return 0


def create_project(target: Path, bot: str) -> list[Path]:
    """Write the project template into ``target`` (which must not hold a project yet); the
    files written."""
    if not bot.isidentifier() or bot.startswith("_"):
        raise ConfigError(f"--bot {bot!r} must be a Python name such as enter_invoices")
    if target.exists() and not target.is_dir():
        raise ConfigError(f"{target} is a file: choose a folder for the project")
    for taken in ("bots", "pyproject.toml"):
        if (target / taken).exists():
            raise ConfigError(f"{target / taken} exists already: choose an empty folder")
    project = re.sub(r"[^a-z0-9]+", "-", target.name.lower()).strip("-") or "bots"
    words = {"__BOT__": bot, "__PROJECT__": project}
    written = []
    template = files("deskhand") / "project_template"
    for source, relative in _walk(template, Path()):
        path = target / _fill(str(relative), words)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_fill(source.read_text(encoding="utf-8"), words), encoding="utf-8")
        written.append(path)
    (target / "logs").mkdir(exist_ok=True)
    gitignore = target / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text(GITIGNORE, encoding="utf-8")
        written.append(gitignore)
    return written


def _walk(folder, relative: Path):
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name == "__pycache__":
            continue
        if entry.is_dir():
            yield from _walk(entry, relative / entry.name)
        else:
            yield entry, relative / entry.name


def _fill(text: str, words: dict[str, str]) -> str:
    for word, value in words.items():
        text = text.replace(word, value)
    return text
