"""Starting the browser: the system Chromium, driven by Playwright's sync API.

Browsers cannot be downloaded on many back-office machines, so deskhand drives the Chromium
that the system has (``/usr/bin/chromium`` on Debian). A headless run prefers Chromium's
headless shell (Debian's ``chromium-headless-shell``, the build Playwright itself runs
headless): the full browser's headless mode costs ~40 % more CPU per invoice keyed.
``DESKHAND_BROWSER`` overrides both.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from .. import masking, private
from ..errors import ApplicationError, ConfigError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
HEADLESS_CANDIDATES = ("chromium-headless-shell", "chrome-headless-shell")
INSTALL_HINT = "apt-get install chromium (or set DESKHAND_BROWSER=/path/to/chromium)"

# Flags for a quiet, offline, unattended Chromium: no background traffic to the internet,
# no first-run UI, no sandbox (bots often run as root in containers, where it cannot start).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def find_chromium(headless: bool = False) -> str:
    """The Chromium executable to drive (for a ``headless`` one, the headless shell when the
    system has it), or a ConfigError that says what to install."""
    override = os.environ.get("DESKHAND_BROWSER")
    if override:
        if Path(override).is_file() and os.access(override, os.X_OK):
            return override
        raise ConfigError(f"DESKHAND_BROWSER={override} is not an executable file: fix or unset it")
    for name in (*HEADLESS_CANDIDATES, *CANDIDATES) if headless else CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ConfigError(f"no Chromium browser found: {INSTALL_HINT}")


class Browser:
    """One Chromium process. Runs take their own context from it (cookies, tracing), so a
    test session or a long-lived worker can share one browser between runs."""

    def __init__(self, *, headless: bool = True) -> None:
        self.headless = headless
        self._pw = self._browser = None

    def start(self) -> Browser:
        from playwright.sync_api import Error, sync_playwright

        executable = find_chromium(headless=self.headless)
        if not self.headless and not os.environ.get("DISPLAY"):
            raise ConfigError("--headed needs a screen: set DISPLAY or run under xvfb-run")
        self._pw = sync_playwright().start()
        try:
            self._browser = self._pw.chromium.launch(
                executable_path=executable, headless=self.headless, args=LAUNCH_ARGS
            )
        except Error as exc:
            self._pw.stop()
            self._pw = None
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ApplicationError(f"Chromium ({executable}) did not start: {first}") from None
        return self

    def new_context(
        self, *, timeout_ms: int = 10_000, trace: bool = False, storage_state: dict | None = None
    ):
        """A fresh browser context (its own cookies, or those of ``storage_state``: what
        ``context.storage_state()`` returned), with Playwright tracing if asked."""
        if self._browser is None:
            self.start()
        context = self._browser.new_context(
            viewport={"width": 1280, "height": 900}, storage_state=storage_state
        )
        context.set_default_timeout(timeout_ms)
        if trace:
            context.tracing.start(screenshots=True, snapshots=True)
        return context

    def close(self) -> None:
        """Stop the browser; safe to call twice."""
        try:
            if self._browser is not None:
                self._browser.close()
        finally:
            if self._pw is not None:
                self._pw.stop()
            self._pw = self._browser = None


def close_context(context, trace_path: Path | None = None) -> None:
    """Save the context's trace (when it records one, secrets masked) and close it."""
    try:
        if trace_path is not None:
            context.tracing.stop(path=str(trace_path))
            mask_trace(trace_path)
    finally:
        context.close()


# Members that are pictures (screencast frames, screenshots, images the pages loaded): a
# password field renders as dots, and rewriting their bytes could only damage them.
_IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF")


def mask_trace(path: Path, secrets: masking.Secrets | None = None) -> None:
    """Rewrite a trace.zip with every registered secret masked, in every encoding, in
    every member: the recorded request bodies (``resources/*.dat``: form-encoded),
    ``trace.network`` (post data as JSON), ``trace.trace`` (action parameters and DOM
    snapshots, JSON with raw UTF-8). The file is left owner-only (see deskhand.private).
    """
    secrets = masking.current() if secrets is None else secrets
    if secrets.pattern() is not None:
        masked = path.with_name(path.name + ".masking")
        with (
            zipfile.ZipFile(path) as source,
            zipfile.ZipFile(masked, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for info in source.infolist():
                data = source.read(info)
                if not data.startswith(_IMAGE_MAGIC):
                    data = secrets.mask(data)
                out.writestr(info, data)
        masked.replace(path)
    private.lock_down(path)
