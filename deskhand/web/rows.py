"""Rows of a list element: ``app.rows("results")`` reads every row's named cells in one round
trip a page, and follows the list's ``next`` element page by page; ``row.click("record_no")``
clicks into a cell (logged as ``results[4].record_no``)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from playwright.sync_api import Error as PlaywrightError

from ..errors import ApplicationError
from .protocols import PageHost

if TYPE_CHECKING:
    from .element import Element

ROW_MARK = "data-deskhand-rows"  # set on the rows read, to see when the next page replaced them
# Argument and answer travel as JSON strings: Playwright converts a nested value piece by
# piece, which costs more than reading the rows (see deskhand.web.forms).
_READ_ROWS = """(rows, json) => { const [cells, mark] = JSON.parse(json); return JSON.stringify(
rows.map(row => {
  row.setAttribute('MARK', mark);
  const out = {};
  for (const [name, selectors] of cells) {
    out[name] = null;
    for (const css of selectors) {
      const found = row.querySelector(css);
      if (found) { out[name] = [found.innerText.trim(), css]; break; }
    }
  }
  return out;
})); }""".replace("MARK", ROW_MARK)


@dataclass
class Row:
    """One row of a list element: ``row["vendor"]`` is a cell's text; ``row.click("record_no")``
    clicks into a cell (logged)."""

    page: PageHost
    list_name: str
    index: int  # 0-based, over all pages read
    locator: Any
    cells: dict[str, str] = field(default_factory=dict)
    _css: dict[str, str] = field(default_factory=dict, repr=False)

    def __getitem__(self, cell: str) -> str:
        try:
            return self.cells[cell]
        except KeyError:
            known = ", ".join(self.cells) or "none"
            raise ApplicationError(
                f"row of '{self.list_name}' has no cell '{cell}' on this page (cells: {known})"
            ) from None

    def click(self, cell: str) -> Row:
        """Click the first element in ``cell`` (a link, a button)."""
        if cell not in self._css:
            self[cell]  # the clear error
        self.page.ctx.action("click", element=f"{self.list_name}[{self.index}].{cell}")
        self.page.ctx.last_page = self.page
        was_open = not self.page.raw.is_closed()
        try:
            self.locator.locator(self._css[cell]).first.click()
        except PlaywrightError as exc:
            if was_open and self.page.closed_by_action(exc):
                return self
            self.page.keep_evidence(self.list_name)
            raise ApplicationError(
                f"{self.list_name}[{self.index}].{cell}: {str(exc).strip().splitlines()[0]}"
            ) from None
        return self


def read_rows(element: Element, mark: str, start: int) -> list[Row]:
    """The rows of list ``element`` on the page now, in one round trip (none: [])."""
    resolved = element.page._resolved
    if element.name not in resolved:  # counted with the frame's others: one trip if there
        element._resolve_together()
        if element.name not in resolved and not element.exists():
            return []  # (a list resolved is read straight away: no rows read as none)
    loc = element.locator
    cells = [[name, list(css)] for name, css in element.spec.cells]
    answer = element._do(lambda loc: loc.evaluate_all(_READ_ROWS, json.dumps([cells, mark])))
    data = json.loads(answer)
    rows = []
    for offset, found in enumerate(data):
        row = Row(element.page, element.name, start + offset, loc.nth(offset))
        for name, hit in found.items():
            if hit is not None:
                row.cells[name], row._css[name] = hit
        rows.append(row)
    return rows


def page_rows(
    page: PageHost, name: str, until: Callable[[Row], bool] | None, max_pages: int
) -> list[Row]:
    """The rows of list element ``name`` of ``page``, following its ``next`` element page by
    page until ``until(row)`` is true (that row is the last returned) or the rows run out."""
    element = page.element(name)
    found: list[Row] = []
    for page_no in itertools.count(1):
        mark = f"{id(found)}-{page_no}"
        for row in read_rows(element, mark, len(found)):
            found.append(row)
            if until is not None and until(row):
                page.ctx.action("rows", element=name, data={"rows": len(found), "found": True})
                return found
        nxt = page.element(element.spec.next) if element.spec.next else None
        if nxt is None or page_no >= max_pages or not nxt.exists():
            break
        if nxt.attribute("disabled") is not None:
            break
        nxt.click()
        fresh = element.locator.and_(element._root().locator(f":not([{ROW_MARK}='{mark}'])"))
        try:
            fresh.first.wait_for(state="attached")
        except Exception:
            raise ApplicationError(
                f"'{element.spec.next}' did not show a next page of '{name}' in time"
            ) from None
    page.ctx.action("rows", element=name, data={"rows": len(found), "pages": page_no})
    return found
