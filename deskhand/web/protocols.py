"""What an element, a row or ``fill_form`` uses of the page it belongs to.

:class:`~deskhand.web.page.WebPage` implements it; ``element.py`` and ``forms.py`` name
this Protocol instead of importing ``page.py``, which imports them (no import cycle).
"""

from __future__ import annotations

from typing import Any, Protocol

from ..actions import ActionLog
from ..selectors import ElementSpec, SelectorRepository


class PageHost(Protocol):
    """A logged page: its Playwright page, the item's action log, its selector repository,
    the run's cache of resolved selectors and its evidence."""

    raw: Any
    ctx: ActionLog
    selectors: SelectorRepository | None
    _resolved: dict[str, int]

    @property
    def url(self) -> str: ...

    def element(self, _name: str, /, **params: Any) -> Any: ...

    def keep_evidence(self, name: str) -> None: ...

    def closed_by_action(self, error: BaseException) -> bool: ...

    def _root_for(self, spec: ElementSpec) -> Any: ...

    def _locator_for(self, spec: ElementSpec, selector: str) -> Any: ...
