"""Mouse and keyboard: pyautogui for the mouse, keys and hotkeys; XTest for text.

pyautogui connects to ``$DISPLAY`` when it is imported (and fails without one), so it is
imported on first use, pointed at the display the bot works on. Its ``write`` types ASCII
only; :class:`Typist` types any text through XTest as a real keyboard would, giving a
character the keyboard map lacks (``é``, ``€``, ``Ł``) a spare key code for the session.
"""

from __future__ import annotations

import os
import time
from typing import Any

from ..errors import ApplicationError

SPECIAL = {"\n": "Return", "\t": "Tab", "\b": "BackSpace"}


def pyautogui_on(display: str, failsafe: bool = True) -> Any:
    """The pyautogui module, imported now if need be, sending its input to ``display``."""
    saved = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = display
    try:
        import pyautogui
    except Exception as exc:  # no X connection, missing Xlib
        raise ApplicationError(f"pyautogui cannot use display {display}: {exc}") from None
    finally:
        if saved is None:
            os.environ.pop("DISPLAY", None)
        else:
            os.environ["DISPLAY"] = saved
    from Xlib.display import Display

    # pyautogui connects once, at import; each session gets its own connection, since a
    # later run may be on another Xvfb (or a new one with the same number).
    x11 = pyautogui.platformModule
    try:
        x11._display.close()
    except Exception:  # already closed, or its server is gone
        pass
    x11._display = Display(display)
    pyautogui.PAUSE = 0  # deskhand waits for what it needs, not a fixed 0.1 s per call
    pyautogui.FAILSAFE = failsafe
    return pyautogui


def key_name(pyautogui: Any, key: str) -> str:
    """``key`` as pyautogui names it; a ValueError for a name it does not know (pyautogui
    itself would silently press nothing)."""
    name = key.lower()
    aliases = {"return": "enter", "escape": "esc", "control": "ctrl", "del": "delete"}
    name = aliases.get(name, name)
    mapping = getattr(pyautogui.platformModule, "keyboardMapping", {})
    if name not in pyautogui.KEYBOARD_KEYS or (mapping and mapping.get(name) is None):
        raise ValueError(f"unknown key '{key}': use names such as enter, tab, esc, ctrl, f5")
    return name


class Typist:
    """Types text on one display through the XTest extension."""

    def __init__(self, display: str) -> None:
        from Xlib import XK
        from Xlib.display import Display

        self._display = Display(display)
        self._codes: dict[int, tuple[int, bool]] = {}  # keysym -> (keycode, needs shift)
        self._spare: list[int] = []  # key codes with no symbol: lent to missing characters
        self._lent: dict[int, int] = {}  # keysym -> keycode, oldest first
        info = self._display.display.info
        first, count = info.min_keycode, info.max_keycode - info.min_keycode + 1
        for offset, symbols in enumerate(self._display.get_keyboard_mapping(first, count)):
            code = first + offset
            if not any(symbols):
                self._spare.append(code)
                continue
            for level, symbol in enumerate(symbols[:2]):
                if symbol and symbol not in self._codes:
                    self._codes[symbol] = (code, level == 1)
        self._shift = self._codes[XK.XK_Shift_L][0]
        self._keysyms = {c: XK.string_to_keysym(name) for c, name in SPECIAL.items()}

    def type(self, text: str, interval: float = 0.0) -> None:
        from Xlib import X
        from Xlib.ext.xtest import fake_input

        for char in text:
            code, shift = self._code_for(char)
            if shift:
                fake_input(self._display, X.KeyPress, self._shift)
            fake_input(self._display, X.KeyPress, code)
            fake_input(self._display, X.KeyRelease, code)
            if shift:
                fake_input(self._display, X.KeyRelease, self._shift)
            self._display.sync()
            if interval:
                time.sleep(interval)

    def _code_for(self, char: str) -> tuple[int, bool]:
        point = ord(char)
        if char in self._keysyms:
            symbol = self._keysyms[char]
        elif 0x20 <= point <= 0x7E or 0xA0 <= point <= 0xFF:
            symbol = point  # Latin-1 key symbols are the code points
        else:
            symbol = 0x01000000 | point  # X's Unicode key symbols
        if symbol in self._codes:
            return self._codes[symbol]
        return self._lend(symbol), False

    def _lend(self, symbol: int) -> int:
        """Map ``symbol`` to a spare key code, taking back the longest-lent one if need be.

        Codes stay lent until :meth:`close`: a program reads the keyboard map when it
        handles the key, and an early restore would make it read another character.
        """
        if self._spare:
            code = self._spare.pop(0)
        elif self._lent:
            oldest = next(iter(self._lent))
            code = self._lent.pop(oldest)
            del self._codes[oldest]
            time.sleep(0.05)  # let programs handle the keys typed with it first
        else:
            raise ApplicationError(f"no spare key code to type {chr(symbol & 0xFFFFFF)!r}")
        self._display.change_keyboard_mapping(code, [(symbol, symbol)])
        self._display.sync()
        # Programs refresh their copy of the map when they handle MappingNotify; a busy one
        # would otherwise read the key we type next with its old (empty) meaning.
        time.sleep(0.15)
        self._lent[symbol] = code
        self._codes[symbol] = (code, False)
        return code

    def close(self) -> None:
        """Give the lent key codes back (no symbol) and close the connection."""
        try:
            for code in self._lent.values():
                self._display.change_keyboard_mapping(code, [(0, 0)])
            self._display.sync()
            self._display.close()
        except Exception:  # the display is already gone
            pass
        self._lent.clear()
