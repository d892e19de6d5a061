"""Web automation: the system Chromium through Playwright, pages with named elements."""

from .browser import Browser, close_context, find_chromium
from .page import Element, WebPage

__all__ = ["Browser", "close_context", "Element", "WebPage", "find_chromium"]
