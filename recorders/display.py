"""A screen for the headed browser: the person's own, or a virtual one (Xvfb) when there is
none, started on a free display number and stopped afterwards."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from deskhand import ConfigError

SCREEN = "1280x1024x24"


@contextmanager
def screen(virtual: bool | None = None) -> Iterator[str]:
    """Yield the DISPLAY to show windows on.

    ``virtual``: True always starts Xvfb; False needs $DISPLAY; None (the default) uses
    $DISPLAY when set and Xvfb otherwise.
    """
    current = os.environ.get("DISPLAY")
    if virtual is False and not current:
        raise ConfigError("recording needs a screen: set DISPLAY, or let deskhand start Xvfb")
    if current and not virtual:
        yield current
        return
    with xvfb() as display:
        yield display


@contextmanager
def xvfb(timeout: float = 15.0) -> Iterator[str]:
    """Start ``Xvfb`` on a display number it picks itself (``-displayfd``); stop it after."""
    if shutil.which("Xvfb") is None:
        raise ConfigError("no screen and no Xvfb: apt-get install xvfb (or set DISPLAY)")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", SCREEN, "-nolisten", "tcp"],
        pass_fds=(write_end,),
        start_new_session=True,  # a Ctrl-C meant for the recorder must not end the screen
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_end)
    try:
        number = _read_display_number(read_end, timeout)
        if number is None:
            raise ConfigError(f"Xvfb did not start within {timeout:g} s")
        yield f":{number}"
    finally:
        os.close(read_end)
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
