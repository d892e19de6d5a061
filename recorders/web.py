"""The web recorder: do the task once in Chromium, get a bot and its selector repository.

``run_bot.py record URL --bot NAME [--data ROWS.csv|.xlsx]`` opens Chromium with a window
(on a virtual screen when there is none), records what you do, and when you close the
browser (or press Ctrl-C) writes ``bots/NAME.py`` and ``selectors/NAME.yaml``.

In Python, for tests and tools::

    recorder = Recorder(url, bot="invoice_recorded", root=project)
    page = recorder.start()        # the Playwright page the person works in
    ...                            # act in the page, its frames and popups
    bot_file, selectors_file = recorder.stop()

JavaScript dialogs stay on screen for the person to answer (``dialogs="ask"``), or the
recorder answers them itself (``"accept"``, ``"dismiss"``); either way the answer is
recorded, and so is the dialog's text.
"""

from __future__ import annotations

import json
import os
import re
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from deskhand import ConfigError
from deskhand.desktop.display import virtual_display
from deskhand.spreadsheet import read_table
from deskhand.web.browser import LAUNCH_ARGS, find_chromium

from .codegen import Generated, generate
from .recording import actions

SCRIPT = (Path(__file__).parent / "recorder.js").read_text(encoding="utf-8")
BINDING = "__deskhandRecord"
DIALOG_ANSWERS = ("ask", "accept", "dismiss")


class Recorder:
    """One recording session: a headed Chromium, the events of the person's actions."""

    def __init__(
        self,
        url: str,
        bot: str,
        data: Path | str | None = None,
        root: Path | str = ".",
        *,
        dialogs: str = "ask",
        virtual_display: bool | None = None,
        browser_type: Any = None,
        key: str | None = None,
    ) -> None:
        """``browser_type``: a Playwright BrowserType to launch Chromium with, when the
        caller already runs Playwright (only one sync Playwright may run per thread)."""
        if not bot.isidentifier():
            raise ConfigError(f"--bot {bot!r} must be a Python name such as enter_invoices")
        if dialogs not in DIALOG_ANSWERS:
            raise ConfigError(f"dialogs must be one of {', '.join(DIALOG_ANSWERS)}")
        self.url = url
        self.bot = bot
        self.root = Path(root)
        self.dialogs = dialogs
        self.key = key
        self.virtual_display = virtual_display
        self.columns: list[str] = []
        self.rows: list[dict[str, str]] = []
        if data is not None:
            self.columns, self.rows = read_table(data)
        if key is not None and key not in self.columns:  # before the person does the work
            known = ", ".join(self.columns) or "none: pass --data"
            raise ConfigError(f"--key {key}: no such column in --data (columns: {known})")
        self.events: list[dict[str, Any]] = []
        self.page: Any = None
        self._browser_type = browser_type
        self._stack = ExitStack()
        self._context: Any = None
        self._page_ids: dict[Any, str] = {}
        self._frames: dict[Any, str] = {}  # unnamed iframes -> CSS for them
        self._stopped = False
        self.generated: Generated | None = None

    # -- the session ------------------------------------------------------------------
    def start(self) -> Any:
        """Open the browser on ``url`` and start recording; returns the Playwright page."""
        try:
            display = self._stack.enter_context(virtual_display(self.virtual_display))
            browser_type = self._browser_type or self._start_playwright()
            browser = browser_type.launch(
                executable_path=find_chromium(),
                headless=False,
                args=LAUNCH_ARGS,
                env={**os.environ, "DISPLAY": display},
            )
            self._stack.callback(_quietly, browser.close)
            self._context = browser.new_context(viewport={"width": 1280, "height": 900})
            self._context.expose_binding(BINDING, self._on_script_event)
            self._context.add_init_script(SCRIPT)
            self._context.on("page", self._on_page)
            self.page = self._context.new_page()
            self._event("goto", self.page, url=self.url)
            self.page.goto(self.url, wait_until="load")
        except BaseException:
            self._stack.close()
            raise
        return self.page

    def _start_playwright(self) -> Any:
        from playwright.sync_api import sync_playwright

        playwright = sync_playwright().start()
        self._stack.callback(_quietly, playwright.stop)
        return playwright.chromium

    def wait(self) -> None:
        """Record until the person closes the browser's windows (or presses Ctrl-C)."""
        while self.page is not None:
            open_pages = [p for p in self._context.pages if not p.is_closed()]
            if not open_pages:
                return
            try:
                open_pages[0].wait_for_event("close", timeout=0)
            except Exception:  # the browser went away
                return

    def stop(self, interrupted: bool = False) -> tuple[Path, Path]:
        """Stop recording, close the browser, write the bot and its selector repository.
        ``interrupted``: after Ctrl-C, which the browser's processes got too: write what
        was recorded without waiting for them."""
        if not self._stopped:
            if not interrupted:
                self._flush()  # before stopping: what the pages sent last still counts
            self._stopped = True
            self._stack.close()
        generated = self.generated = self.generate()
        if not any(a.target is not None for a in actions(self.events)):
            raise ConfigError("nothing was recorded (no click, no typing): no bot written")
        bot_file = self.root / "bots" / f"{self.bot}.py"
        selectors_file = self.root / "selectors" / f"{self.bot}.yaml"
        bot_file.parent.mkdir(parents=True, exist_ok=True)
        selectors_file.parent.mkdir(parents=True, exist_ok=True)
        bot_file.write_text(generated.bot, encoding="utf-8")
        selectors_file.write_text(generated.selectors, encoding="utf-8")
        return bot_file, selectors_file

    def generate(self) -> Generated:
        """The bot and repository for what was recorded so far."""
        return generate(
            actions(self.events), self.bot, self.url, self.columns, self.rows, key=self.key
        )

    def _flush(self) -> None:
        """Let events already sent by the pages arrive before the browser closes."""
        for page in list(self._page_ids):
            if not page.is_closed():
                for frame in page.frames:
                    try:
                        frame.evaluate("0")
                    except Exception:
                        pass

    # -- events -------------------------------------------------------------------------
    def _page_id(self, page: Any) -> str:
        if page not in self._page_ids:
            self._page_ids[page] = f"p{len(self._page_ids) + 1}"
            page.on("dialog", self._on_dialog)
            page.on("framenavigated", lambda frame: self._on_navigation(page, frame))
            page.on("close", lambda closed: self._event("close", closed, main=closed is self.page))
        return self._page_ids[page]

    def _event(self, kind: str, page: Any, **data: Any) -> None:
        if not self._stopped:
            now = time.time() * 1000
            self.events.append({"type": kind, "t": now, "page_id": self._page_id(page), **data})

    def _on_page(self, page: Any) -> None:
        opener = page.opener()
        if opener is None:  # the recorder's own first page, or a tab the person opened
            self._page_id(page)
        else:
            self._event("popup", page, opener=self._page_id(opener))
        for frame in page.frames:
            _install(frame)

    def _on_navigation(self, page: Any, frame: Any) -> None:
        if self._stopped:
            return
        name = "" if frame == page.main_frame else frame.name
        self._event("navigation", page, frame=name, url=frame.url)
        _install(frame)

    def _on_script_event(self, source: dict[str, Any], event: dict[str, Any]) -> None:
        if self._stopped:
            return
        page, frame = source["page"], source["frame"]
        frames = []
        while frame is not None and frame.parent_frame is not None:
            frames.insert(0, self._frame_selector(frame))
            frame = frame.parent_frame
        self.events.append({**event, "page_id": self._page_id(page), "frames": frames})

    def _frame_selector(self, frame: Any) -> str:
        """How the repository names an iframe: by its name, else by its element's id or src."""
        if frame.name:
            return frame.name
        if frame not in self._frames:
            selector = "iframe"
            try:
                element = frame.frame_element()
                tag = element.evaluate("e => e.localName")
                ident, src = element.get_attribute("id"), element.get_attribute("src")
                if ident and re.fullmatch(r"[A-Za-z][\w-]*", ident):
                    selector = f"{tag}#{ident}"
                elif src:
                    selector = f"{tag}[src={json.dumps(src)}]"
            except Exception:  # the frame went away meanwhile
                pass
            self._frames[frame] = selector
        return self._frames[frame]

    def _on_dialog(self, dialog: Any) -> None:
        """Answer for the person when told to; otherwise the dialog waits on screen and the
        page script reports the person's answer."""
        if dialog.type == "beforeunload":
            dialog.accept()
        elif self.dialogs == "accept":
            dialog.accept()
        elif self.dialogs == "dismiss":
            dialog.dismiss()


def _install(frame: Any) -> None:
    """Run the recorder script in ``frame``'s document if the init script did not: Chromium
    skips it for a popup's first document, which reuses the window of its about:blank."""
    try:
        frame.evaluate(SCRIPT)
    except Exception:  # the document is already gone again: its successor gets the script
        pass


def _quietly(close) -> None:
    try:
        close()
    except (Exception, KeyboardInterrupt):  # closing what a Ctrl-C may have ended already
        pass


# -- the command line -------------------------------------------------------------------
def register(subparsers: Any) -> Any:
    """Add ``record URL --bot NAME [--data FILE]`` to the command line's sub-commands (the
    entry point ``deskhand.commands`` ``record`` names this module)."""
    parser = subparsers.add_parser(
        "record", help="do a task once in Chromium; get bots/NAME.py and selectors/NAME.yaml"
    )
    parser.add_argument("url", metavar="URL", help="where to start, e.g. the log-in page")
    parser.add_argument("--bot", required=True, help="name of the bot to write: bots/NAME.py")
    parser.add_argument("--data", help="CSV or XLSX whose columns the typed values come from")
    parser.add_argument(
        "--dialogs",
        choices=DIALOG_ANSWERS,
        default="ask",
        help="answer JavaScript dialogs yourself (ask), or always accept / dismiss them",
    )
    parser.add_argument(
        "--key",
        metavar="COLUMN",
        help="the --data column that tells rows apart (default: "
        "the column whose values are all different)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing bot")
    return parser


def run(args: Any, root: Path | None = None) -> int:
    """``record URL --bot NAME``: record until the browser closes or Ctrl-C; write the bot
    into the project at ``root`` (default: the one around the working folder)."""
    if root is None:
        from deskhand.commands import project_root

        root = project_root()
    for existing in (f"bots/{args.bot}.py", f"selectors/{args.bot}.yaml"):
        if (Path(root) / existing).exists() and not args.force:
            raise ConfigError(f"{existing} exists: choose another --bot or pass --force")
    key = getattr(args, "key", None)
    recorder = Recorder(args.url, args.bot, args.data, root, dialogs=args.dialogs, key=key)
    recorder.start()
    print("recording: do the task in the browser, then close it (or press Ctrl-C here)")
    interrupted = False
    try:
        recorder.wait()
    except KeyboardInterrupt:
        interrupted = True
    bot_file, selectors_file = recorder.stop(interrupted)
    generated = recorder.generated
    print(f"bot:       {bot_file}")
    print(f"selectors: {selectors_file}")
    if generated.fields:
        print("columns:   " + ", ".join(dict.fromkeys(f.name for f in generated.fields)))
    for element, column in generated.followed:
        print(f"follows:   {element} <- column {column}")
    for element, value in generated.constants:
        print(f"constant:  {element} = {value!r} (left at its default; a --data column named")
        print("           like it when recording makes it follow that column)")
    if generated.key:
        print(f"items:     known by their {generated.key}")
    missing = [f.name for f in generated.fields if args.data and not f.in_data]
    if missing:
        print(f"not in {args.data}: {', '.join(missing)} (add these columns)")
    if generated.uses_vault:
        print(f"log-in:    set DESKHAND_SECRET_{args.bot.upper()} to a JSON username/password")
    return 0
