"""``run_bot.py record-desktop --bot NAME``: do a task once in a desktop program, get a bot.

The recorder listens to the mouse and keyboard (pynput) while you work, and keeps the last
few screen states. For each click it crops a picture around the point clicked from the
screen as it was before the pointer arrived there (so no hover highlight), widening the crop
until it is unique on that screen, and saves it as ``selectors/NAME/click_NN.png``. Typed
characters become ``desk.type(...)``; Enter, Tab, Esc and the like ``desk.press(...)``;
Ctrl/Alt combinations ``desk.hotkey(...)``. Press F12 (``--stop-key``) to stop, or close
the program, or Ctrl+C; then ``bots/NAME.py`` is written: a bot that clicks the same
pictures and types the same text. With ``--data FILE`` (a CSV or XLSX with the row keyed
while recording), a typed value found in a column becomes ``desk.type(item["column"])``
and the bot makes one work item per row of its --input sheet.

With ``--program CMD`` the recorder starts the program first (and the bot will start it
when its ``--window`` is not open). Without ``$DISPLAY`` everything happens on an Xvfb
started for the recording (useful to drive it from a script).
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np

from deskhand.desktop.history import ScreenHistory, cut, is_unique
from deskhand.errors import ConfigError
from deskhand.spreadsheet import read_table

from .codegen import rows_source
from .naming import match_fields

CROPS = ((120, 40), (200, 60), (320, 90), (480, 130))  # tried in turn until unique
DOUBLE_CLICK = 0.4  # seconds between two presses at one spot that make a double click
FRAMES = 40  # screen states kept (a state is kept once, however long it lasts)
MODIFIERS = {"ctrl", "ctrl_l", "ctrl_r", "alt", "alt_l", "alt_r", "alt_gr", "cmd", "cmd_l"}


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``record-desktop`` (the entry point ``deskhand.commands`` names this
    module)."""
    parser = subparsers.add_parser(
        "record-desktop", help="record a task in a desktop program and write a bot"
    )
    parser.add_argument("--bot", required=True, help="the bot's name: bots/NAME.py")
    parser.add_argument("--program", help="start this command first, e.g. 'python -m app'")
    parser.add_argument("--window", help="title of the program's window (waited for)")
    parser.add_argument("--stop-key", default="f12", help="key that ends the recording (f12)")
    parser.add_argument("--data", help="CSV or XLSX whose columns the typed values come from")
    parser.add_argument("--force", action="store_true", help="overwrite an existing bot")
    return parser


@dataclass
class Action:
    kind: str  # click, double_click, right_click, type, press, hotkey
    t: float
    value: str | list[str] = ""
    x: int = 0
    y: int = 0
    image: str = ""
    offset: tuple[int, int] = (0, 0)


@dataclass
class Recording:
    """What the listeners saw: pointer moves (timed) and the pictures cut for clicks."""

    moves: deque = field(default_factory=lambda: deque(maxlen=5000))
    crops: dict[str, np.ndarray] = field(default_factory=dict)

    def entered(self, x: int, y: int, w: int, h: int, t: float) -> float:
        """When the pointer last came into the box around (x, y) before ``t``."""
        inside = t
        for when, mx, my in reversed(self.moves):
            if when > t:
                continue
            if abs(mx - x) > w // 2 or abs(my - y) > h // 2:
                return inside
            inside = when
        return inside


_event = threading.local()  # the X server's time of the event a listener is handling


def _timed(listener_class):
    """A pynput listener that tells its callbacks the X server's time of each event, so
    that mouse and keyboard events (two listeners, two threads) can be put in order."""

    class Timed(listener_class):
        def _handle_message(self, display, event, *rest):
            _event.time = getattr(event, "time", 0)
            return super()._handle_message(display, event, *rest)

    return Timed


class Recorder:
    def __init__(self, display: str, stop_key: str) -> None:
        self.display = display
        self.stop_key = stop_key.lower()
        self.rec = Recording()
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._events: list[tuple] = []  # (server ms, sequence, kind, data...)
        self._skew = float("inf")  # monotonic clock minus X server clock, in seconds

    def _when(self) -> float:
        """When the event being handled happened, on the monotonic clock (the callback may
        run well after it, on a busy machine)."""
        server = getattr(_event, "time", 0) / 1000
        self._skew = min(self._skew, time.monotonic() - server)
        return server + self._skew

    # -- listening ----------------------------------------------------------------------
    def start(self) -> None:
        from pynput import keyboard, mouse

        self.history = ScreenHistory(self.display, keep=FRAMES).start()
        self._mouse = _timed(mouse.Listener)(on_click=self._click, on_move=self._move)
        self._keys = _timed(keyboard.Listener)(on_press=self._press, on_release=self._release)
        for listener in (self._mouse, self._keys):
            listener.start()
            listener.wait()

    def stop(self) -> list[Action]:
        """Stop listening; the actions, in the order they happened."""
        self.done.set()
        for listener in (self._mouse, self._keys):
            listener.stop()
            listener.join(5)
        self.history.stop()
        with self._lock:
            events = sorted(self._events, key=lambda e: (e[0], e[1]))
        return actions(events)

    def _add(self, kind: str, *data) -> None:
        with self._lock:
            self._events.append((getattr(_event, "time", 0), len(self._events), kind, *data))

    def _move(self, x: int, y: int, *_) -> None:
        self.rec.moves.append((self._when(), int(x), int(y)))

    def _click(self, x: int, y: int, button, pressed: bool, *_) -> None:
        if pressed and not self.done.is_set():
            action = Action("right_click" if button.name == "right" else "click", 0, "", x, y)
            self._crop(action, self._when())
            self._add("click", action)

    def _press(self, key, *_) -> None:
        name = getattr(key, "name", None)
        if name == self.stop_key:
            self.done.set()
        elif not self.done.is_set():
            self._add("down", name, getattr(key, "char", None))

    def _release(self, key, *_) -> None:
        self._add("up", getattr(key, "name", None), None)

    # -- pictures -----------------------------------------------------------------------
    def _crop(self, action: Action, now: float) -> None:
        """Crop the smallest unique picture around the click from the screen as it was
        before the pointer came near it."""
        for width, height in CROPS:
            t = self.rec.entered(action.x, action.y, width, height, now)
            frame = self.history.frame_before(t - 0.01)
            if frame is None:
                return
            crop, offset = cut(frame, action.x, action.y, width, height)
            if is_unique(frame, crop):
                break
        name = f"click_{len(self.rec.crops) + 1:02d}"
        self.rec.crops[name] = crop
        action.image, action.offset = name, offset


def actions(events: list[tuple]) -> list[Action]:
    """Ordered raw events -> actions: typing joined into text, Ctrl/Alt combinations as
    hotkeys, two quick clicks at one spot as a double click."""
    result: list[Action] = []
    text: list[str] = []
    held: set[str] = set()

    def flush(t: float) -> None:
        if text:
            result.append(Action("type", t, "".join(text)))
            text.clear()

    for t, _, kind, *data in events:
        if kind == "click":
            flush(t)
            click = data[0]
            click.t = t
            last = result[-1] if result else None
            if (
                click.kind == "click"
                and last is not None
                and last.kind == "click"
                and t - last.t < DOUBLE_CLICK * 1000
                and abs(last.x - click.x) < 4
                and abs(last.y - click.y) < 4
            ):
                last.kind = "double_click"
            else:
                result.append(click)
            continue
        name, char = data
        modifier = name in MODIFIERS and name.split("_")[0].replace("cmd", "win")
        if kind == "up":
            held.discard(modifier)
        elif modifier:
            held.add(modifier)
        else:
            if char and ord(char[0]) < 32:  # Ctrl+A arrives as '\x01'
                char = chr(ord(char[0]) + 96)
            if held and (char or name):
                flush(t)
                result.append(Action("hotkey", t, [*sorted(held), (char or name).lower()]))
            elif char:
                text.append(char)
            elif name == "space":
                text.append(" ")
            elif name == "backspace" and text:
                text.pop()
            elif name and not name.startswith("shift") and name != "caps_lock":
                flush(t)
                result.append(Action("press", t, name))
    flush(events[-1][0] if events else 0)
    return result


# -- the bot it writes ---------------------------------------------------------------------
def bot_source(
    name: str,
    actions: list[Action],
    program: list[str] | None,
    window: str | None,
    columns: list[str] = (),
    rows: list[dict[str, str]] = (),
) -> str:
    """The bot's code. With the --data ``columns`` and ``rows``, each typed value found in
    a column is keyed from that column of the work item, one item per --input row."""
    clicks = sum(a.kind.endswith("click") for a in actions)
    typed = [a for a in actions if a.kind == "type"]
    wanted = [(f"text_{n}", a.value) for n, a in enumerate(typed, 1)]
    fields = {
        id(action): found.name
        for action, found in zip(typed, match_fields(wanted, list(columns), list(rows)))
        if found.in_data
    }
    columns = list(dict.fromkeys(fields.values()))
    how = (
        f"and clicks it; typed text comes from the --input columns {', '.join(columns)}"
        if fields
        else "and clicks it; typed text is typed again. Record with --data FILE.csv to take\n"
        "typed values from the columns of a spreadsheet instead"
    )
    lines = [
        f'"""Recorded with run_bot.py record-desktop on {date.today().isoformat()}: '
        f"{len(actions)} actions, {clicks} clicks.",
        "",
        f"Each click finds its picture in selectors/{name}/ (cropped around the point clicked)",
        f"{how}.",
        '"""',
        "",
        "from deskhand import Bot",
        "from deskhand.desktop import open_desktop",
        "",
        f'bot = Bot("{name}", max_attempts=1)',
        f"PROGRAM = {_lit(program)}",
        f"WINDOW = {_lit(window)}",
        "",
    ]
    if fields:
        lines += rows_source(columns)
    else:
        lines += [
            "",
            "@bot.source",
            "def once(ctx):",
            '    yield ctx.item(reference="recorded-task")',
        ]
    lines += [
        "",
        "",
        "@bot.process",
        "def replay(item, ctx):",
        f'    desk = open_desktop(ctx, images="{name}")',
    ]
    if program and window:
        lines += [
            '    with ctx.step("open the program"):',
            "        if desk.find_window(WINDOW) is None:",
            "            desk.start(PROGRAM, window=WINDOW)",
        ]
    elif window:
        lines += ['    with ctx.step("find the window"):', "        desk.window(WINDOW)"]
    for n, action in enumerate(actions, 1):
        lines.append(f'    with ctx.step("{n}: {_describe(action)}"):')
        lines.append(f"        {_code(action, fields.get(id(action)))}")
    lines += ["    return ctx.done()", ""]
    return "\n".join(lines)


def _lit(value) -> str:
    """A Python literal in the style ruff formats: double quotes, one item a line if long."""
    if value is None:
        return "None"
    text = json.dumps(value, ensure_ascii=False)
    if isinstance(value, list) and len(text) > 80:
        return "[\n" + "".join(f"    {json.dumps(v, ensure_ascii=False)},\n" for v in value) + "]"
    return text


def _describe(action: Action) -> str:
    if action.kind.endswith("click"):
        return f"{action.kind.replace('_', ' ')} {action.image}"
    if action.kind == "type":
        return "type"
    keys = action.value if isinstance(action.value, list) else [action.value]
    return f"{action.kind} {'+'.join(keys)}"


def _code(action: Action, field: str | None = None) -> str:
    if action.kind.endswith("click"):
        target = f'desk.image("{action.image}")'
        if action.offset != (0, 0):
            target += f".offset({action.offset[0]}, {action.offset[1]})"
        return f"{target}.{action.kind}()"
    if action.kind == "type":
        return f"desk.type({f'item[{_lit(field)}]' if field else _lit(action.value)})"
    if action.kind == "press":
        return f"desk.press({_lit(action.value)})"
    return f"desk.hotkey({', '.join(_lit(k) for k in action.value)})"


# -- the command ---------------------------------------------------------------------------
def run(args: argparse.Namespace, root: Path | None = None) -> int:
    """Record until the stop key, the program's end or Ctrl+C; write the bot into the project
    at ``root`` (default: the one around the working folder). Exit 0."""
    if root is None:
        from deskhand.commands import project_root

        root = project_root()
    import cv2

    from deskhand.desktop import Desktop, DesktopSession

    if not args.bot.isidentifier():
        raise ConfigError(f"bot name '{args.bot}' must be a Python identifier, e.g. key_invoice")
    target = root / "bots" / f"{args.bot}.py"
    if target.exists() and not args.force:
        raise ConfigError(f"{target} exists: choose another --bot name or pass --force")
    program = shlex.split(args.program) if args.program else None
    columns, rows = read_table(args.data) if args.data else ([], [])
    session = DesktopSession(folder=root / "logs" / "record-desktop").start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        desk = Desktop(session)
        started = desk.start(program, window=args.window, name=args.bot) if program else None
        if args.window and started is None:
            desk.window(args.window)
        recorder = Recorder(session.display, args.stop_key)
        recorder.start()
        print(
            f"recording on {session.display}: do the task, then press {args.stop_key.upper()} "
            "(or close the program, or Ctrl+C) to stop",
            flush=True,
        )
        try:
            while not (stop.is_set() or recorder.done.is_set()):
                if program and not session.programs[0].running():
                    break
                time.sleep(0.1)
        except KeyboardInterrupt:
            pass
        done = recorder.stop()
    finally:
        session.close()
    folder = root / "selectors" / args.bot
    folder.mkdir(parents=True, exist_ok=True)
    used = {a.image for a in done if a.image}  # the second click of a double click is not
    for name, crop in recorder.rec.crops.items():
        if name in used:
            cv2.imwrite(str(folder / f"{name}.png"), crop)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = bot_source(args.bot, done, program, args.window, columns, rows)
    target.write_text(source, encoding="utf-8")
    print(
        f"wrote {target} ({len(done)} actions) and {len(used)} pictures in {folder}",
        flush=True,
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m recorders.desktop --bot NAME [--root DIR] ...`` (until run_bot.py has it)."""
    from deskhand.config import find_root

    parser = argparse.ArgumentParser(prog="python -m recorders.desktop")
    sub = parser.add_subparsers(dest="command")
    recorder = register(sub)
    recorder.add_argument("--root", type=Path, help="project folder (default: found from cwd)")
    args = parser.parse_args(["record-desktop", *(sys.argv[1:] if argv is None else argv)])
    try:
        return run(args, args.root or find_root())
    except ConfigError as exc:
        print(f"record-desktop: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
