"""Web automation: the system Chromium through Playwright, pages with named elements."""

from .browser import Browser, close_context, find_chromium
from .element import Option
from .page import Element, FramePage, WebPage
from .rows import Row

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
