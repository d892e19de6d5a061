"""Web automation: the system Chromium through Playwright, pages with named elements."""

from .browser import Browser, close_context, find_chromium
from .element import Option, Row
from .frames import FramePage
from .page import Element, WebPage

__all__ = [
    "Browser",
    "close_context",
    "Element",
    "FramePage",
    "Option",
    "Row",
    "WebPage",
    "find_chromium",
]
