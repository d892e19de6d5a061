"""Owner-only files: what deskhand writes (run folders, the queue database, the vault,
traces) can hold personal and business data, so it is created readable by its owner only
(folders 0700, files 0600), whatever the process's umask.

``DESKHAND_PRIVATE_FILES=0`` (or ``false``/``no``) turns this off: files then get the
modes the umask gives, for a team that shares a logs folder through a group.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .errors import ConfigError

VARIABLE = "DESKHAND_PRIVATE_FILES"
DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def enabled() -> bool:
    """Whether files are created owner-only (the default)."""
    raw = os.environ.get(VARIABLE, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{VARIABLE}={raw!r}: use 1 (owner-only files, the default) or 0")


def make_dirs(path: Path) -> Path:
    """Create the folder ``path`` and any missing parents, owner-only when enabled."""
    path = Path(path)
    if not enabled():
        path.mkdir(parents=True, exist_ok=True)
        return path
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIRECTORY_MODE)
        except FileExistsError:
            continue  # made by another process at the same moment
    return path


def open_file(path: Path, flags: int = os.O_WRONLY | os.O_APPEND) -> int:
    """Open ``path`` (created owner-only when enabled and missing); a file descriptor."""
    mode = FILE_MODE if enabled() else 0o666
    return os.open(path, flags | os.O_CREAT, mode)


def create(path: Path) -> Path:
    """Make sure the file ``path`` exists; a new one is owner-only when enabled. An existing
    file is never opened: closing a descriptor of a SQLite database would drop the locks
    this process holds on it through its other connections (POSIX advisory locks)."""
    try:
        os.close(open_file(path, os.O_WRONLY | os.O_EXCL))
    except FileExistsError:
        pass
    return path


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, created owner-only when enabled."""
    fd = open_file(path, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    return path


def lock_down(folder: Path) -> None:
    """Make everything under ``folder`` (and the folder) owner-only, when enabled: for the
    files that other programs wrote there (the browser's traces and screenshots)."""
    if not enabled():
        return
    folder = Path(folder)
    inside = list(folder.rglob("*")) if folder.is_dir() and not folder.is_symlink() else []
    for path in [folder, *inside]:
        try:
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode):
                continue
            mode = DIRECTORY_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
            if stat.S_IMODE(info.st_mode) & ~mode:
                path.chmod(stat.S_IMODE(info.st_mode) & mode)
        except OSError:
            continue  # removed meanwhile, or not ours to change
