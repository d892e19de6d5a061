"""Names for what was recorded: elements (``invoice_number``, ``save_button``), pages, the
item fields that typed values become, and how those fields match the columns of --data."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field

from .recording import Action, Target

MAX_WORDS = 4
SUFFIX = {"button": "button", "link": "link"}


def identifier(text: str, fallback: str = "element") -> str:
    """``"Invoice number:"`` -> ``invoice_number``: lower case words joined by ``_``."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:MAX_WORDS]
    name = "_".join(words) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name + "_" if keyword.iskeyword(name) else name


def element_base_name(target: Target) -> str:
    name = identifier(target.hint, target.kind)
    if target.kind == "radio" and target.group:
        group = identifier(target.group)
        if not name.startswith(group):
            name = f"{group}_{name}"
    suffix = SUFFIX.get(target.kind)
    if suffix and not name.endswith(suffix):
        name = f"{name}_{suffix}"
    return name


def page_name(title: str) -> str:
    """A page's name from its heading: words holding digits (a record's number) left out."""
    return identifier(re.sub(r"\S*\d\S*", " ", title), "page")


@dataclass
class Element:
    """A named element of the repository being written."""

    name: str
    page: str
    target: Target


@dataclass
class Names:
    """Element names, unique across the repository, given in order of first use."""

    elements: dict[tuple, Element] = field(default_factory=dict)

    def element(self, action: Action) -> Element:
        target = action.target
        page = page_name(action.page_title)
        key = (page, *target.key)
        if key not in self.elements:
            taken = {e.name for e in self.elements.values()}
            base = element_base_name(target)
            name = base if base not in taken else f"{page}_{base}"
            number = 2
            while name in taken:
                name, number = f"{base}_{number}", number + 1
            self.elements[key] = Element(name, page, target)
        return self.elements[key]

    def pages(self) -> dict[str, list[Element]]:
        grouped: dict[str, list[Element]] = {}
        for element in self.elements.values():
            grouped.setdefault(element.page, []).append(element)
        return grouped


@dataclass
class Field:
    """An item field: a column of the input that a typed or chosen value comes from."""

    name: str
    example: str
    element: str
    in_data: bool  # the --data file has this column


def match_fields(
    wanted: list[tuple[str, str]], columns: list[str], rows: list[dict[str, str]]
) -> list[Field]:
    """Fields for ``wanted`` (element name, value typed), in order.

    With --data columns, a value is matched to the column holding the same value (in any
    row), preferring a column named like the element and one not used yet; failing that, to
    a column named like the element. Other values become fields named after their element.
    """
    fields: list[Field] = []
    used: set[str] = set()
    by_identifier = {identifier(c, "column"): c for c in columns}
    for element, value in wanted:
        holding = [c for c in columns if any(r.get(c, "").strip() == value.strip() for r in rows)]
        same_name = by_identifier.get(element)
        if holding and value.strip():
            holding.sort(key=lambda c: (c != same_name, c in used))
            column = holding[0]
        elif same_name is not None:
            column = same_name
        else:
            column = None
        name = column if column is not None else element
        if column is None and any(f.name == name for f in fields):
            name = f"{name}_{len(fields) + 1}"
        used.add(name)
        fields.append(Field(name, value, element, column is not None))
    return fields


def variable_name(title: str, taken: set[str]) -> str:
    """A Python variable for a popup page, from its title (``vendor_lookup``)."""
    base = identifier(title, "popup")
    name, number = base, 2
    while name in taken:
        name, number = f"{base}_{number}", number + 1
    taken.add(name)
    return name
