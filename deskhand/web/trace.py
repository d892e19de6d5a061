"""``run_bot.py trace RUN_DIR``: a run's Playwright trace in the system Chromium.

``playwright show-trace`` launches Playwright's own browser build, which cannot be
downloaded here. The trace viewer itself is a static web app shipped in the Playwright
package (the one trace.playwright.dev serves), so deskhand serves it, with the run's
``trace.zip``, from a local HTTP server on 127.0.0.1 and opens it in the system Chromium
(a window of its own, with a throwaway profile). Closing that window ends the command.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import tempfile
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ..errors import ConfigError


def viewer_folder() -> Path:
    """The trace viewer web app inside the installed Playwright package."""
    import playwright

    folder = Path(playwright.__file__).parent / "driver/package/lib/vite/traceViewer"
    if not (folder / "index.html").is_file():
        raise ConfigError(
            f"the Playwright trace viewer is missing ({folder}): reinstall playwright"
        )
    return folder


def find_trace(run_dir: Path) -> Path:
    """``RUN_DIR/trace.zip``, or a ConfigError saying how to record one."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir} is not a folder: pass a run folder logs/<bot>/<run-id>")
    trace = run_dir / "trace.zip"
    if not trace.is_file():
        raise ConfigError(f"{run_dir} has no trace.zip: run the bot with --trace to record one")
    return trace


class _Handler(SimpleHTTPRequestHandler):
    """The viewer's files, and the trace at /trace.zip; nothing else is served."""

    def __init__(self, *args: Any, trace: Path, **kwargs: Any) -> None:
        self.trace = trace
        super().__init__(*args, **kwargs)

    def translate_path(self, path: str) -> str:
        if path.split("?", 1)[0] == "/trace.zip":
            return str(self.trace)
        return super().translate_path(path)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass


def serve_trace(trace: Path, port: int = 0) -> tuple[ThreadingHTTPServer, str]:
    """Serve the viewer and ``trace`` on 127.0.0.1 in a daemon thread; returns the server
    (``shutdown()`` it when done) and the viewer URL that loads the trace."""
    handler = functools.partial(
        _Handler, directory=str(viewer_folder()), trace=Path(trace).resolve()
    )
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.block_on_close = False  # closing never waits for a browser's kept-alive connection
    threading.Thread(target=server.serve_forever, daemon=True, name="trace-viewer").start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, f"{base}/index.html?trace={quote(base + '/trace.zip', safe='')}"


def chromium_command(url: str, profile: Path, headless: bool = False) -> list[str]:
    """The system Chromium showing ``url`` as an app window with its own ``profile``."""
    from .browser import find_chromium

    command = [find_chromium(), f"--user-data-dir={profile}", "--no-first-run"]
    command += ["--no-default-browser-check", "--disable-extensions"]
    if os.geteuid() == 0:  # Chromium refuses to run its sandbox as root (containers)
        command.append("--no-sandbox")
    if headless:  # tests: load, run the viewer's scripts a while, print the DOM, exit
        return command + ["--headless", "--virtual-time-budget=8000", "--dump-dom", url]
    return command + [f"--app={url}"]


def add_arguments(sub: Any) -> None:
    """Add ``trace RUN_DIR`` to the command line's sub-commands."""
    parser = sub.add_parser("trace", help="open a run's Playwright trace in the system Chromium")
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run folder logs/<bot>/<run-id>")
    parser.add_argument("--port", type=int, default=0, help="local port (default: any free)")
    parser.add_argument(
        "--no-browser", action="store_true", help="only serve and print the URL (Ctrl-C stops)"
    )


def _interrupt(_signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt


def _until(done: Any) -> None:
    """Wait until ``done()`` is true, waking every half second: a signal's Python handler
    runs only when the main thread wakes, and a SIGTERM the kernel delivers to another
    thread (the server's) does not wake a main thread blocked without a timeout."""
    while not done():
        time.sleep(0.5)


def run_command(args: argparse.Namespace) -> int:
    """Serve the run's trace and show it until the Chromium window is closed."""
    trace = find_trace(Path(args.run_dir))
    signal.signal(signal.SIGTERM, _interrupt)  # a terminated command closes its Chromium too
    server, url = serve_trace(trace, args.port)
    print(f"trace viewer: {url}", flush=True)
    try:
        if args.no_browser:
            _until(lambda: False)
        with tempfile.TemporaryDirectory(prefix="deskhand-trace-") as profile:
            browser = subprocess.Popen(chromium_command(url, Path(profile)))
            try:
                _until(lambda: browser.poll() is not None)
            finally:
                if browser.poll() is None:
                    browser.terminate()
                    browser.wait(timeout=10)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
    return 0
