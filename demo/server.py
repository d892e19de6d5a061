"""The demo's servers for tests, benchmarks and ``deskhand demo``: the legacy app in a
subprocess of its own, and a free local port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskhand.errors import ConfigError


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def demo_app(
    root: Path,
    db: Path,
    port: int | None = None,
    faults: str | None = None,
    variant: str = "normal",
) -> Iterator[str]:
    """Serve the demo app in a subprocess for the block (working folder ``root``, records
    in the SQLite file ``db``); yields its base URL."""
    port = port or free_port()
    extra = ["--variant", variant] + (["--faults", faults] if faults else [])
    db.parent.mkdir(parents=True, exist_ok=True)
    server_log = db.with_suffix(".log")  # its request log: a pipe nobody reads would fill up
    with open(server_log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "demo.legacy_app", "--port", str(port), "--db", str(db), *extra],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            if proc.poll() is not None:
                last = server_log.read_text().strip().splitlines()[-1:]
                raise ConfigError(f"the demo app did not start: {' '.join(last)}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise ConfigError("the demo app did not start within 20 s") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
