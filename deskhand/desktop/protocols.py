"""What a target (``targets.py``) uses of the desktop it was found on.

:class:`~deskhand.desktop.desktop.Desktop` implements it; ``targets.py`` names this Protocol
instead of importing ``desktop.py``, which imports it (no import cycle).
"""

from __future__ import annotations

from typing import Any, Protocol

from .screen import Region
from .session import DesktopSession


class DesktopHost(Protocol):
    """A desktop: its session (screen, programs), its default timeout, typing and keys,
    and the logging and evidence of its targets."""

    session: DesktopSession
    timeout: float

    def type(self, text: str, *, secret: bool = False, interval: float = 0.0) -> None: ...

    def hotkey(self, *keys: str) -> None: ...

    def settle(
        self, region: Region | None = None, quiet: float = 0.05, limit: float = 2.0
    ) -> bool: ...

    def _read(self, region: Region) -> str: ...

    def _gui(self) -> Any: ...

    def _not_found(self, target: Any, miss: Any, limit: float) -> Exception: ...

    def _log(self, action: str, target: Any, **data: Any) -> None: ...
