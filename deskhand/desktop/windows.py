"""Top-level windows (python-xlib) and the programs a bot starts.

Windows are found by title. With a window manager, the clients it lists
(``_NET_CLIENT_LIST``) are used; without one (Xvfb) the mapped children of the root window,
in stacking order. A window's region is its position and size on the screen now.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..errors import ApplicationError, ConfigError
from .screen import Region


@dataclass(frozen=True)
class WindowInfo:
    id: int
    title: str
    region: Region


class Windows:
    """The top-level windows of one display."""

    def __init__(self, display: str) -> None:
        from Xlib.display import Display

        self._display = Display(display)
        self._root = self._display.screen().root

    def list(self) -> list[WindowInfo]:
        """Visible top-level windows with a title, bottom of the stack first."""
        from Xlib import X
        from Xlib.error import XError

        found = []
        for window in self._candidates():
            try:
                if window.get_attributes().map_state != X.IsViewable:
                    continue
                title = self._title(window)
                if not title:
                    continue
                geometry = window.get_geometry()
                origin = window.translate_coords(self._root, 0, 0)
                region = Region(-origin.x, -origin.y, geometry.width, geometry.height)
            except XError:  # closed while we looked
                continue
            found.append(WindowInfo(window.id, title, region))
        return found

    def find(self, title: str | re.Pattern) -> WindowInfo | None:
        """The top-most visible window whose title contains ``title`` (or matches it)."""
        for info in reversed(self.list()):
            if _matches(info.title, title):
                return info
        return None

    def focus(self, window_id: int) -> None:
        """Give the window the keyboard focus, as a window manager does on a click (back to
        following the pointer when it closes)."""
        from Xlib import X
        from Xlib.error import XError

        window = self._display.create_resource_object("window", window_id)
        try:
            window.set_input_focus(X.RevertToPointerRoot, X.CurrentTime)
            self._display.sync()
        except XError:  # closed meanwhile
            pass

    def has_window_manager(self) -> bool:
        atom = self._display.intern_atom("_NET_SUPPORTING_WM_CHECK", True)
        return bool(atom and self._root.get_full_property(atom, 0))

    def _candidates(self) -> list:
        atom = self._display.intern_atom("_NET_CLIENT_LIST_STACKING", True)
        prop = self._root.get_full_property(atom, 0) if atom else None
        if prop is not None and len(prop.value):
            return [self._display.create_resource_object("window", w) for w in prop.value]
        return list(self._root.query_tree().children)

    def _title(self, window) -> str:
        atom = self._display.intern_atom("_NET_WM_NAME", True)
        if atom:
            prop = window.get_full_property(atom, 0)
            if prop is not None and prop.value:
                value = prop.value
                return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        name = window.get_wm_name()
        if isinstance(name, bytes):
            name = name.decode("latin-1")
        return name or ""

    def close(self) -> None:
        try:
            self._display.close()
        except Exception:
            pass


def _matches(title: str, wanted: str | re.Pattern) -> bool:
    if isinstance(wanted, re.Pattern):
        return wanted.search(title) is not None
    return wanted in title


class Program:
    """A program a bot started; its output goes to ``log`` (a file in the run folder)."""

    def __init__(
        self, command: Sequence[str], log: Path, cwd: Path | None = None, env: dict | None = None
    ) -> None:
        self.command = [str(c) for c in command]
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            try:
                self.proc = subprocess.Popen(
                    self.command,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            except OSError as exc:
                raise ConfigError(f"cannot start {self.command[0]}: {exc.strerror}") from None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def running(self) -> bool:
        return self.proc.poll() is None

    def check_running(self) -> None:
        """An ApplicationError quoting the program's last output if it has exited."""
        if self.running():
            return
        tail = self.log.read_text(errors="replace").strip().splitlines()[-3:]
        said = (": " + " | ".join(tail)) if tail else ""
        raise ApplicationError(
            f"{Path(self.command[0]).name} exited with code {self.proc.returncode}{said}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
