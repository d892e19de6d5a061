"""A template's line items: the ``lines:`` section of templates/NAME.yaml.

The template names its table's columns by their header labels and/or x-ranges; each column
owns a horizontal band (an x-range as given, else the band between the midpoints to its
neighbours, as the generic table reader does), and every line below the header row is an
item when its amount column holds an amount. The table ends at an ``end`` label (by default
the generic subtotal/tax/total labels, on a line that is not an item), at the next header
row, at the end of the page or at the bottom of the ``region``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from . import invoice
from .layout import find_labels, group_lines, match_phrase, phrase_starts
from .model import Field, Line, Word, union
from .parse import parse_amount, parse_quantity, repair_digits, split_currency, tokens

ColumnKey = Literal["description", "quantity", "unit_price", "amount"]
NUMERIC = ("quantity", "unit_price", "amount")
REPAIRED = 0.9  # confidence factor for a number that needed an OCR repair
CENT = Decimal("0.01")


def _spellings(value: str | list[str] | None) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


class ColumnRule(BaseModel):
    """One column: its header label(s), its x-range in points, or both (the range wins)."""

    model_config = ConfigDict(extra="forbid")

    label: str | list[str] | None = None
    x: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _somewhere(self) -> ColumnRule:
        if self.label is None and self.x is None:
            raise ValueError("give label (the header's words) or x ([x0, x1] in points)")
        if self.x is not None and self.x[0] >= self.x[1]:
            raise ValueError("x is [x0, x1] with x0 < x1")
        return self

    @property
    def labels(self) -> list[str]:
        return _spellings(self.label)


class LinesRule(BaseModel):
    """How a template reads its line items."""

    model_config = ConfigDict(extra="forbid")

    columns: dict[ColumnKey, ColumnRule]
    start: str | list[str] | None = None
    end: str | list[str] | None = None
    region: tuple[float, float, float, float] | None = None
    page: int = 1

    @model_validator(mode="after")
    def _readable(self) -> LinesRule:
        missing = [k for k in ("description", "amount") if k not in self.columns]
        if missing:
            raise ValueError(f"columns need description and amount (missing {missing})")
        labelled = any(c.label is not None for c in self.columns.values())
        if not labelled and self.start is None and self.region is None:
            raise ValueError("with no column labels, give start (a label above) or region")
        return self


@dataclass
class _Band:
    key: str
    x0: float
    x1: float
    lo: float
    hi: float
    fixed: bool  # an x-range the template gave


@dataclass
class _Table:
    lines: list[Line]  # the lines below the header row, down to the end
    bands: list[_Band]
    summary: set[int]  # ids of lines that end the table unless they are items


def read(rule: LinesRule, name: str, words: list[Word], decimal: str | None) -> list[dict]:
    """The line items ``rule`` finds in ``words``: one dict of Fields per item."""
    if rule.region is not None:
        x0, top, x1, bottom = rule.region
        words = [
            w
            for w in words
            if w.page == rule.page and x0 <= w.xc <= x1 and top <= (w.top + w.bottom) / 2 <= bottom
        ]
    reader = _Reader(f"template:{name}", decimal)
    items: list[dict[str, Field]] = []
    for table in _tables(rule, group_lines(words)):
        items.extend(reader.rows(table))
    return items


def _tables(rule: LinesRule, lines: list[Line]) -> list[_Table]:
    """Each header row (or the start label's line) with the lines of its table."""
    first = 0
    if rule.start is not None:
        found = _label_lines(lines, _spellings(rule.start))
        if not found:
            return []
        first = min(found) + 1
    vocabulary = {k: [tokens(s) for s in c.labels] for k, c in rule.columns.items() if c.label}
    headers: dict[int, list[_Band]] = {}
    if not vocabulary:  # columns by x alone: the table starts below the start label (or region)
        headers[first - 1] = _bands(rule, {})
    for index in range(first, len(lines) if vocabulary else 0):
        found = _header(lines[index], vocabulary)
        if found is not None:
            headers[index] = _bands(rule, found)
    always, summary = _ends(rule, lines)
    stops = always | set(headers)
    return [_Table(_body(lines, i, stops), bands, summary) for i, bands in headers.items()]


def _body(lines: list[Line], header: int, stops: set[int]) -> list[Line]:
    """The lines below line ``header`` (-1: from the first) on its page, up to a stop."""
    body: list[Line] = []
    page = lines[header].page if header >= 0 else None
    for at in range(header + 1, len(lines)):
        page = page or lines[at].page
        if at in stops or lines[at].page != page:
            break
        body.append(lines[at])
    return body


def _label_lines(lines: list[Line], spellings: list[str]) -> set[int]:
    """Indexes of the lines on which one of ``spellings`` is a label."""
    vocabulary = {"label": [tokens(s) for s in spellings]}
    found = {id(lb.line) for lb in find_labels(lines, vocabulary)}
    return {i for i, line in enumerate(lines) if id(line) in found}


def _ends(rule: LinesRule, lines: list[Line]) -> tuple[set[int], set[int]]:
    """Where tables stop: (indexes of the template's end-label lines, which always end one;
    ids of lines with a generic subtotal/tax/total label, the default, which end one when
    they are not items)."""
    if rule.end is not None:
        return _label_lines(lines, _spellings(rule.end)), set()
    summary = {k: invoice.LABELS[k] for k in invoice.SUMMARY}
    return set(), {id(lb.line) for lb in find_labels(lines, summary)}


def _header(line: Line, vocabulary: dict[str, list[list[str]]]) -> dict[str, tuple] | None:
    """Where each labelled column's label sits on ``line``, if every one of them is there."""
    found: dict[str, tuple[float, float]] = {}
    i = 0
    while i < len(line.words):
        match = match_phrase(line, vocabulary, i, fuzzy_from=5)
        if match and match[0] not in found:
            found[match[0]] = (line.words[i].x0, line.words[match[1] - 1].x1)
            i = match[1]
        else:
            i += 1
    return found if found.keys() == vocabulary.keys() else None


def _bands(rule: LinesRule, labels: dict[str, tuple[float, float]]) -> list[_Band]:
    bands = []
    for key, column in rule.columns.items():
        if column.x is not None:
            bands.append(_Band(key, *column.x, *column.x, fixed=True))
        else:
            x0, x1 = labels[key]
            bands.append(_Band(key, x0, x1, float("-inf"), float("inf"), fixed=False))
    bands.sort(key=lambda b: b.x0)
    for left, right in itertools.pairwise(bands):
        middle = (left.x1 + right.x0) / 2
        if not left.fixed:
            left.hi = right.lo if right.fixed else middle
        if not right.fixed:
            right.lo = left.hi if left.fixed else middle
    return bands


class _Reader:
    """Rows of a table into Fields whose rule names the template."""

    def __init__(self, rule: str, decimal: str | None) -> None:
        self.rule = rule
        self.decimal = decimal

    def rows(self, table: _Table) -> list[dict[str, Field]]:
        items: list[dict[str, Field]] = []
        previous: Line | None = None
        for line in table.lines:
            row = self.row(line, table.bands)
            if row is None and id(line) in table.summary:
                break
            if row is not None:
                items.append(row)
                previous = line
            elif previous is not None and _continues(line, previous, table.bands):
                self._wrap(items[-1]["description"], line)
                previous = Line([*previous.words, *line.words])
            else:
                previous = None
        return items

    def row(self, line: Line, bands: list[_Band]) -> dict[str, Field] | None:
        cells = _cells(line, bands)
        description = cells.get("description", [])
        if not any(ch.isalpha() for w in description for ch in w.text):
            return None
        values = {}
        for key in NUMERIC:
            if cells.get(key):
                values[key] = self._number(key, cells[key])
                if values[key] is None:
                    return None  # something printed there that is not a number
        if "amount" not in values:
            return None
        return self._fields(line, description, cells, values)

    def _number(self, key: str, words: list[Word]) -> tuple[Decimal, bool] | None:
        text = "".join(w.text for w in words)
        number, currency = split_currency(text)
        repaired = False
        if words[0].ocr:
            number, repaired = repair_digits(number)
        if key == "quantity":
            value = parse_quantity(number)
            return (value, repaired) if value is not None and value > 0 else None
        mark = self.decimal or "."
        number = number.strip()
        cents = len(number) > 3 and number[-3] in (mark if self.decimal else ".,")
        if not cents and not currency:
            return None  # money has cents or a currency sign: '2' in 'Page 1 of 2' is not
        value = parse_amount(number, currency=currency, decimal=self.decimal)
        return (value.quantize(CENT), repaired) if value is not None else None

    def _fields(self, line, description, cells, values) -> dict[str, Field]:
        text = " ".join(w.text for w in description)
        row = {"description": self._field("description", text, description, False)}
        qty = values["quantity"][0] if "quantity" in values else Decimal(1)
        amount = values["amount"][0]
        defaults = {
            "quantity": qty,
            "unit_price": (amount / qty).quantize(CENT, ROUND_HALF_UP),
        }
        for key in NUMERIC:
            if key in values:
                row[key] = self._field(key, values[key][0], cells[key], values[key][1])
            else:
                conf = row["description"].confidence
                rule = f"{self.rule}:default"
                row[key] = Field(key, defaults[key], "", conf, line.page, None, rule)
        return row

    def _field(self, name: str, value, words: list[Word], repaired: bool) -> Field:
        conf = min(w.conf for w in words) * (REPAIRED if repaired else 1.0)
        raw = " ".join(w.text for w in words)
        return Field(
            name, value, raw, round(conf, 3), words[0].page, union(words), f"{self.rule}:lines"
        )

    @staticmethod
    def _wrap(field: Field, line: Line) -> None:
        extra = " ".join(w.text for w in line.words)
        field.value = field.raw = f"{field.value} {extra}"
        field.confidence = round(min(field.confidence, *(w.conf for w in line.words)), 3)
        x0, top, x1, bottom = field.bbox
        more = union(line.words)
        field.bbox = (min(x0, more[0]), min(top, more[1]), max(x1, more[2]), max(bottom, more[3]))


def _band_of(word: Word, bands: list[_Band]) -> _Band | None:
    return next((b for b in bands if b.lo <= word.xc <= b.hi), None)


def _cells(line: Line, bands: list[_Band]) -> dict[str, list[Word]]:
    """The line's words by column; a description runs on past its band until a wide gap."""
    starts = phrase_starts(line)
    cells: dict[str, list[Word]] = {}
    previous = None
    for i, word in enumerate(line.words):
        band = _band_of(word, bands)
        key = band.key if band else None
        if previous == "description" and i not in starts:
            key = "description"  # 'Toner cartridge HP 26A' spills into the next band
        if key is not None:
            cells.setdefault(key, []).append(word)
        previous = key
    return cells


def _continues(line: Line, previous: Line, bands: list[_Band]) -> bool:
    """A description wrapped onto the next line: close below, in the description band only."""
    cells = _cells(line, bands)
    if set(cells) != {"description"} or len(cells["description"]) != len(line.words):
        return False
    return line.top - previous.bottom < 0.8 * line.height


def agree(items: list[dict[str, Field]], generic: list[dict[str, Field]]) -> None:
    """Where the generic table reader read the same value for a cell (it may have confirmed
    an OCR reading), the template's cell is as sure as the surer of the two."""
    if len(items) != len(generic):
        return
    for mine, theirs in zip(items, generic, strict=True):
        for key, field in mine.items():
            other = theirs.get(key)
            if other is not None and other.value == field.value and field.bbox is not None:
                field.confidence = max(field.confidence, other.confidence)
