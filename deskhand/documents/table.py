"""Line items: the table's header row names the columns, the rows below fill them.

A header row is a line with a description-like column, an amount-like column and a quantity
or unit-price column, in any of several languages. Each column owns the horizontal band
between the midpoints to its neighbours; a row's words go to the band they sit in. Rows run
until a subtotal/total line or a wide gap. On OCR pages a missing or inconsistent number is
read again from its cell alone.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .layout import Label, match_phrase, phrase_starts
from .model import Field, Line, Reread, Word, union
from .parse import parse_amount, parse_quantity, repair_digits, split_currency, tokens

_COLUMNS = {
    "description": "description|item|items|item description|beschreibung|bezeichnung|leistung|"
    "artikel|designation|libelle|service|services|details|product|produkt",
    "quantity": "qty|quantity|menge|anzahl|qte|quantite|hours|hrs|units|pcs|stk",
    "unit_price": "unit price|price|rate|unit cost|price per unit|einzelpreis|preis|stuckpreis|"
    "prix unitaire|prix unit|pu",
    "amount": "amount|line total|total|betrag|gesamt|gesamtpreis|montant|summe",
}
COLUMNS = {key: [tokens(s) for s in spellings.split("|")] for key, spellings in _COLUMNS.items()}
NUMERIC = ("quantity", "unit_price", "amount")
CELL_OPTIONS = ("--psm 8", "--psm 7")  # one word, else one line
REPAIRED = 0.9
CENT = Decimal("0.01")
CONFIRM_BELOW = 0.8  # OCR fields less sure than this are read a second time
Cells = tuple[list[Word], dict[str, list[Word]]]  # description words, number words by column


@dataclass
class Column:
    key: str
    x0: float
    x1: float
    lo: float = float("-inf")  # the band the column owns
    hi: float = float("inf")


@dataclass
class Header:
    line: Line
    columns: list[Column]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)

    def column_at(self, x: float) -> Column:
        """The column whose band holds ``x`` (the last one right of every band)."""
        return next((c for c in self.columns if c.lo <= x < c.hi), self.columns[-1])


def find_headers(lines: list[Line]) -> dict[int, Header]:
    """Table header rows by line index."""
    headers = {}
    for index, line in enumerate(lines):
        found: dict[str, Column] = {}
        i = 0
        while i < len(line.words):
            match = match_phrase(line, COLUMNS, i, fuzzy_from=4)
            if match and match[0] not in found:
                found[match[0]] = Column(match[0], line.words[i].x0, line.words[match[1] - 1].x1)
                i = match[1]
            else:
                i += 1
        if {"description", "amount"} <= found.keys() and found.keys() & {"quantity", "unit_price"}:
            columns = sorted(found.values(), key=lambda c: c.x0)
            for left, right in itertools.pairwise(columns):
                left.hi = right.lo = (left.x1 + right.x0) / 2
            headers[index] = Header(line, columns)
    return headers


def read_rows(
    lines: list[Line], headers: dict[int, Header], labels: list[Label], reread: Reread | None
) -> list[dict[str, Field]]:
    """The line items under every header row."""
    return read_items(lines, headers, labels, reread)[0]


def read_items(
    lines: list[Line], headers: dict[int, Header], labels: list[Label], reread: Reread | None
) -> tuple[list[dict[str, Field]], dict[int, list[list[tuple[Line, Cells]]]]]:
    """The line items under every header row, and by header (its line's index) the lines
    each of its items was read from, with their row_cells: the row's, then any its
    description wraps onto."""
    summary = {id(lb.line) for lb in labels if lb.field in ("subtotal", "tax", "total")}
    items: list[dict[str, Field]] = []
    bodies: dict[int, list[list[tuple[Line, Cells]]]] = {}
    for index, header in headers.items():
        last = header.line
        row_lines: list[Line] = []
        body = bodies.setdefault(index, [])
        for line_index in range(index + 1, len(lines)):
            line = lines[line_index]
            if line.page != header.line.page or line_index in headers:
                break
            if line.top - last.bottom > 6 * max(header.line.height, line.height):
                break
            split = row_cells(line, header)
            row = _row(
                line,
                header,
                split,
                reread if line.words[0].ocr else None,
                allow_reread=id(line) not in summary,
            )
            if row is not None:
                items.append(row)
                row_lines.append(line)
                body.append([(line, split)])
                last = line
                continue
            if id(line) in summary:
                break
            if items and row_lines and _continues(line, split, row_lines[-1], header):
                extra = " ".join(w.text for w in line.words)
                field = items[-1]["description"]
                field.value = f"{field.value} {extra}"
                field.raw = field.value
                field.bbox = union([*row_lines[-1].words, *line.words])
                row_lines[-1] = Line([*row_lines[-1].words, *line.words])
                body[-1].append((line, split))
                last = line
    return items, bodies


Parse = Callable[[list[Word]], object]


def confirm(
    fields: list[tuple[Field, Parse]], reread: Reread, every: frozenset[int] = frozenset()
) -> set[int]:
    """Raise unsure OCR fields' confidence where reading their box again gives the same value;
    return the ids of the fields a second reading confirmed.

    Tesseract is often unsure of clean numbers in a page-wide pass ('11.411,00' at 0.41); a
    second reading of the box alone that agrees is as sure as its own confidence says. Fields
    whose id is in ``every`` are read again however sure they look (a second, independent
    reading is what confirms an OCR value). All the boxes are read in one tesseract run per
    page segmentation mode.
    """
    confirmed: set[int] = set()
    for options in ("--psm 7", "--psm 8"):
        unsure = [
            (f, parse)
            for f, parse in fields
            if f.bbox
            and id(f) not in confirmed
            and (f.confidence < CONFIRM_BELOW or id(f) in every)
        ]
        if not unsure:
            break
        regions = []
        for field, _ in unsure:
            x0, top, x1, bottom = field.bbox
            pad = 0.3 * (bottom - top)
            regions.append((field.page, (x0 - pad, top - pad, x1 + pad, bottom + pad)))
        for (field, parse), words in zip(unsure, reread.many(regions, options), strict=True):
            if words and parse(words) == field.value:
                field.confidence = round(max(field.confidence, min(w.conf for w in words)), 3)
                confirmed.add(id(field))
    return confirmed


def row_checks(items: list[dict[str, Field]]) -> list[tuple[Field, Parse]]:
    """The line items' numbers, each with the parser that reads it, for ``confirm``."""
    return [
        (item[key], lambda ws, k=key: _value(k, ws)[0])
        for item in items
        for key in NUMERIC
        if item[key].rule == "table"
    ]


def _numeric(word: Word) -> bool:
    number, _ = split_currency(word.text)
    if word.ocr:
        number, _ = repair_digits(number)
    return (
        bool(number)
        and any(ch.isdigit() for ch in number)
        and all(ch.isdigit() or ch in ".,'’ -()" for ch in number)
    )


def row_cells(line: Line, header: Header) -> Cells:
    """A row's description words, and its numbers' words by column; the words that are
    neither (a unit, a currency code right of the numbers) are left out."""
    first_number = min(c.x0 for c in header.columns if c.key != "description")
    description: list[Word] = []
    cells: dict[str, list[Word]] = {key: [] for key in NUMERIC}
    starts = phrase_starts(line)
    for i, word in enumerate(line.words):
        column = header.column_at(word.xc)
        if column.key == "description":
            description.append(word)
        elif description and description[-1] is line.words[i - 1] and i not in starts:
            description.append(word)  # 'Network switch 24' runs on into the next band
        elif _numeric(word):
            cells[column.key].append(word)
        elif word.x1 <= first_number and any(ch.isalnum() for ch in word.text):
            description.append(word)
    return description, cells


def _value(key: str, words: list[Word]) -> tuple[Decimal | None, bool]:
    text = "".join(w.text for w in words) if len(words) > 1 else (words[0].text if words else "")
    number, currency = split_currency(text)
    repaired = False
    if words and words[0].ocr:
        number, repaired = repair_digits(number)
    if key == "quantity":
        return parse_quantity(number), repaired
    value = parse_amount(number, currency=currency)
    return (value.quantize(Decimal("0.01")) if value is not None else None), repaired


def _row(
    line: Line, header: Header, split: Cells, reread: Reread | None, allow_reread: bool
) -> dict[str, Field] | None:
    description, cells = split
    if not description or not any(ch.isalpha() for w in description for ch in w.text):
        return None
    keys = [c.key for c in header.columns if c.key in NUMERIC]
    values = {k: _value(k, cells[k]) for k in keys}
    complete = all(values[k][0] is not None for k in keys)
    if not any(cells[k] for k in keys):
        return None
    if len(keys) < 3 or not complete or not _adds_up(values):
        inferred = _by_position(line, description)
        if inferred:
            values, cells = inferred
            keys, complete = list(NUMERIC), True
    if reread and allow_reread and (not complete or not _adds_up(values)):
        values, cells = _read_again(line, header, description, keys, values, cells, reread)
        complete = all(values[k][0] is not None for k in keys)
    if not complete:
        return None
    if reread and not _adds_up(values):
        values = _decimal_slip(values)
    qty = values["quantity"][0] if "quantity" in values else Decimal(1)
    amount = values["amount"][0]
    price = values["unit_price"][0] if "unit_price" in values else amount / qty
    text = " ".join(w.text for w in description)
    row = {"description": _field("description", text, description, False)}
    for key, value in (("quantity", qty), ("unit_price", price), ("amount", amount)):
        if key in values:
            row[key] = _field(key, value, cells[key], values[key][1])
        else:
            row[key] = Field(
                key, value, "", row["description"].confidence, line.page, None, "default"
            )
    return row


def _by_position(line: Line, description: list[Word]):
    """Three numbers after the description, in the usual order quantity, price, amount.

    For a header whose column name OCR missed: taken only if the three add up.
    """
    starts = phrase_starts(line)
    after = line.words.index(description[-1]) + 1
    groups: list[list[Word]] = []
    for i in range(after, len(line.words)):
        word = line.words[i]
        if not _numeric(word):
            continue
        if not groups or i in starts:
            groups.append([])
        groups[-1].append(word)
    if len(groups) != 3:
        return None
    cells = dict(zip(NUMERIC, groups, strict=True))
    values = {k: _value(k, cells[k]) for k in NUMERIC}
    if all(v is not None for v, _ in values.values()) and _adds_up(values):
        return values, cells
    return None


def _adds_up(values: dict[str, tuple[Decimal | None, bool]]) -> bool:
    if not {"quantity", "unit_price", "amount"} <= values.keys():
        return True
    qty, price, amount = (values[k][0] for k in ("quantity", "unit_price", "amount"))
    if qty is None or price is None or amount is None:
        return False
    return (qty * price).quantize(Decimal("0.01"), ROUND_HALF_UP) == amount


def _decimal_slip(values: dict[str, tuple[Decimal | None, bool]]):
    """Put back a decimal mark OCR lost ('7.5' read '75') where the row's sum says so."""
    if not {"quantity", "unit_price", "amount"} <= values.keys():
        return values
    qty, price, amount = (values[k][0] for k in ("quantity", "unit_price", "amount"))
    expected = {
        "quantity": amount / price if price else None,
        "unit_price": amount / qty if qty else None,
        "amount": (qty * price).quantize(CENT, ROUND_HALF_UP),
    }
    for key, value in expected.items():
        if value is None:
            continue
        value = value.quantize(Decimal("0.0001")).normalize()
        if _digits(value) == _digits(values[key][0]):
            trial = {**values, key: (value.quantize(CENT) if key != "quantity" else value, True)}
            if _adds_up(trial):
                return trial
    return values


def _digits(value: Decimal) -> str:
    return format(value.normalize(), "f").replace(".", "").lstrip("0")


def _read_again(line, header, description, keys, values, cells, reread):
    """OCR each number cell of ``line`` again on its own; keep what makes the row add up."""
    desc_end = max(w.x1 for w in description)
    options: dict[str, list[tuple[Decimal | None, bool, list[Word]]]] = {}
    pad = 0.35 * line.height
    regions = []
    for key in keys:
        column = header.column(key)
        lo = max(column.lo if column.lo > float("-inf") else column.x0 - 5, desc_end + 1)
        hi = column.hi if column.hi < float("inf") else column.x1 + 60
        regions.append((line.page, (lo, line.top - pad, hi, line.bottom + pad)))
    read: dict[str, list[Word]] = {key: [] for key in keys}
    for tesseract_options in CELL_OPTIONS:  # the cells still empty, one run per mode
        empty = [(k, r) for k, r in zip(keys, regions, strict=True) if not read[k]]
        if not empty:
            break
        found = reread.many([r for _, r in empty], tesseract_options)
        for (key, _), words in zip(empty, found, strict=True):
            read[key] = [w for w in words if _numeric(w)]
    for key in keys:
        words = read[key]
        again = _value(key, words) if words else (None, False)
        options[key] = [(values[key][0], values[key][1], cells[key])]
        if again[0] is not None and again[0] != values[key][0]:
            options[key].append((again[0], True, words))
    best = None
    for combo in itertools.product(*(options[k] for k in keys)):
        trial = {k: (v, rep) for k, (v, rep, _) in zip(keys, combo, strict=True)}
        if all(v is not None for v, _ in trial.values()) and _adds_up(trial):
            best = combo
            break
    if best is None:  # nothing adds up: take what was read, filling gaps from the re-read
        best = tuple(next((o for o in options[k] if o[0] is not None), options[k][0]) for k in keys)
    values = {k: (v, rep) for k, (v, rep, _) in zip(keys, best, strict=True)}
    cells = {**cells, **{k: ws for k, (_, _, ws) in zip(keys, best, strict=True)}}
    return values, cells


def _field(name: str, value, words: list[Word], repaired: bool) -> Field:
    conf = min(w.conf for w in words) * (REPAIRED if repaired else 1.0)
    return Field(
        name,
        value,
        " ".join(w.text for w in words),
        round(conf, 3),
        words[0].page,
        union(words),
        "table",
    )


def _continues(line: Line, split: Cells, previous: Line, header: Header) -> bool:
    """A description wrapped onto a second line: close below, text only, same left edge."""
    description, cells = split
    if any(cells.values()) or not description or len(description) != len(line.words):
        return False
    if not any(ch.isalpha() for w in description for ch in w.text):
        return False
    gap = line.top - previous.bottom
    return (
        gap < 0.6 * line.height
        and abs(description[0].x0 - previous.words[0].x0) < 2 * line.height
        and min(w.conf for w in description) >= 0.6
    )
