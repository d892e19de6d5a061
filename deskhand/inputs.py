"""Input folders stay inside: a file a source finds in its ``--input`` folder is read only
when it really is there. A symbolic link that leads out of the folder (``invoice.pdf ->
/etc/passwd``) makes its item fail on its own with a clear error, instead of putting another
file's content into the logs and the queue; a link that leads nowhere is reported, not
dropped without a word.
"""

from __future__ import annotations

import os
from pathlib import Path


def escape(path: Path | str, folder: Path | str) -> str | None:
    """Why ``path`` (a file in the input ``folder``) must not be read, or None when it may:
    it is a link (or lies under one) whose target is outside the folder, or a broken link."""
    path, folder = Path(path), Path(folder)
    try:
        inside = folder.resolve(strict=True)
    except OSError:
        return None  # the folder itself is missing: ctx.input says so
    if not path.is_absolute():
        path = folder / path
    try:
        target = path.resolve(strict=True)
    except OSError:
        if path.is_symlink():
            return f"{path.name} is a broken link (to {os.readlink(path)}): replace it by the file"
        return None  # not there at all: reading it says so
    if target != inside and inside not in target.parents:
        if not _under(path, folder):
            return None  # not a file of the input folder: the bot's own business
        return (
            f"{path.name} is a link to {target}, outside the input folder {inside}: "
            "put the file itself in the folder"
        )
    return None


def broken_links(folder: Path | str) -> list[str]:
    """The entries of ``folder`` that are links leading nowhere, as ``name -> target``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.is_symlink() and not entry.exists():
            found.append(f"{entry.name} -> {os.readlink(entry)}")
    return found


def _under(path: Path, folder: Path) -> bool:
    """Whether ``path`` names something in ``folder`` (lexically, links not followed)."""
    a, b = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    return a == b or b in a.parents
