"""The X display a desktop bot works on: the person's own, or a virtual one (Xvfb).

``virtual_display()`` yields the display to use. With ``$DISPLAY`` set it yields that one and
starts nothing; without it (a server, a cron job, CI) it starts ``Xvfb`` on a display number
that Xvfb picks itself (``-displayfd``), points ``$DISPLAY`` at it for the block (programs
started in the block inherit it) and stops it afterwards.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import ApplicationError, ConfigError

SCREEN = "1280x1024x24"


@contextmanager
def virtual_display(
    virtual: bool | None = None, size: str = SCREEN, timeout: float = 15.0
) -> Iterator[str]:
    """Yield the X display to work on (``":0"``, ``":7"``).

    ``virtual``: None (default) uses ``$DISPLAY`` when set, else starts Xvfb; True always
    starts Xvfb; False requires ``$DISPLAY``.
    """
    current = os.environ.get("DISPLAY")
    if virtual is False and not current:
        raise ConfigError("no screen: set DISPLAY, or let deskhand start Xvfb (virtual=None)")
    if current and not virtual:
        yield current
        return
    with xvfb(size, timeout) as display:
        saved = os.environ.get("DISPLAY")
        os.environ["DISPLAY"] = display
        try:
            yield display
        finally:
            if saved is None:
                os.environ.pop("DISPLAY", None)
            else:
                os.environ["DISPLAY"] = saved


class Xvfb:
    """A running Xvfb server; :meth:`stop` ends it. Made by :func:`start_xvfb`."""

    def __init__(self, proc: subprocess.Popen, display: str) -> None:
        self.proc = proc
        self.display = display

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_xvfb(size: str = SCREEN, timeout: float = 15.0) -> Xvfb:
    """Start Xvfb on a free display number and wait until it accepts connections."""
    if shutil.which("Xvfb") is None:
        raise ConfigError("no screen and no Xvfb: apt-get install xvfb (or set DISPLAY)")
    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(
            # -noreset: by default the server resets when its last client leaves, and a
            # client connecting just then is refused ("connection lost")
            [
                "Xvfb",
                "-displayfd",
                str(write_end),
                "-screen",
                "0",
                size,
                "-nolisten",
                "tcp",
                "-noreset",
            ],
            pass_fds=(write_end,),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    finally:
        os.close(write_end)
    try:
        number = _read_display_number(read_end, timeout)
    finally:
        os.close(read_end)
    if number is None:
        Xvfb(proc, "").stop()
        raise ApplicationError(f"Xvfb did not start within {timeout:g} s")
    return Xvfb(proc, f":{number}")


@contextmanager
def xvfb(size: str = SCREEN, timeout: float = 15.0) -> Iterator[str]:
    """Run Xvfb for the block; yield its display name."""
    server = start_xvfb(size, timeout)
    try:
        yield server.display
    finally:
        server.stop()


def _read_display_number(fd: int, timeout: float) -> str | None:
    """Xvfb writes its display number and a newline once it accepts connections."""
    data = b""
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], timeout)
        if not ready:
            return None
        chunk = os.read(fd, 16)
        if not chunk:
            return None
        data += chunk
    return data.decode().strip() or None
