"""The summary figures: subtotal + tax = total, checked, read again, or completed.

On scans OCR loses a decimal mark or a digit group, or misreads a label: the figures that
do not add up are read again alone (one tesseract run for all), and a figure still missing
or wrong is taken from the sum of the other two when its own line prints those digits.
"""

from __future__ import annotations

import dataclasses
import itertools
from decimal import Decimal

from .layout import Label, right_of
from .model import Field, Line, Reread, Word, union
from .parse import split_currency, tokens
from .values import REPAIRED, Candidate, amount

SUMMARY = ("subtotal", "tax", "total")
ZERO = Decimal("0.00")


def reconcile(fields: dict[str, Field], reread: Reread) -> None:
    """OCR: when subtotal + tax != total, read each again alone and keep sums that add up."""
    if not {"subtotal", "total"} <= fields.keys():
        return
    names = [n for n in SUMMARY if n in fields]

    def adds_up(values: dict[str, Decimal]) -> bool:
        return values["subtotal"] + values.get("tax", ZERO) == values["total"]

    current = {n: fields[n].value for n in names}
    if adds_up(current) or not all(fields[n].bbox for n in names):
        return
    options: dict[str, list[tuple[Decimal, list[Word]]]] = {n: [(current[n], [])] for n in names}
    regions = []
    for name in names:
        x0, top, x1, bottom = fields[name].bbox
        pad = 0.3 * (bottom - top)
        regions.append((fields[name].page, (x0 - 3 * pad, top - pad, x1 + pad, bottom + pad)))
    for psm in ("--psm 7", "--psm 8"):
        for name, words in zip(names, reread.many(regions, psm), strict=True):
            found = amount(words, strict=False)
            if found and all(found.value != v for v, _ in options[name]):
                options[name].append((found.value, found.words))
    combos = sorted(
        itertools.product(*(options[n] for n in names)),
        key=lambda combo: sum(bool(words) for _, words in combo),  # fewest changes first
    )
    for combo in combos:
        if adds_up({n: v for n, (v, _) in zip(names, combo, strict=True)}):
            for name, (value, words) in zip(names, combo, strict=True):
                if words:
                    conf = min(w.conf for w in words) * REPAIRED
                    fields[name] = dataclasses.replace(
                        fields[name],
                        value=value,
                        raw=" ".join(w.text for w in words),
                        confidence=round(conf, 3),
                        bbox=union(words),
                    )
            return


def choose(
    found: dict[str, list[Candidate]], lines: list[Line] | None = None
) -> dict[str, Candidate]:
    """The subtotal, tax and total among their labelled candidates: the ones that add up
    (subtotal + tax = total, the tax possibly printed per rate and summed), else the
    most likely total (see _likeliest) and the nearest subtotal and tax above it.

    Net and gross on one line are a row of a tax table: they are the document's figures only
    on the table's last row, when that row is the table's only one or the sum of the rows
    above it, holds no rate ('19 %': one rate's row) and no other total is larger."""
    subs, taxes, totals = (found.get(name, []) for name in SUMMARY)
    if not totals:
        return {n: _nearest(found.get(n, []), None) for n in ("subtotal", "tax") if found.get(n)}
    percent = {id(w) for ln in lines or [] if "%" in ln.text for w in ln.words}  # rate rows
    combos = _combos(subs, taxes, totals, percent)
    if not combos:
        combos = _based(taxes, totals)
    if combos:
        total, sub, tax = max(
            combos,
            key=lambda c: (
                c[2] is not None,
                c[1] is None or not _same_line(c[1], c[0]),
                _where(c[0]),
                c[0].size,
            ),
        )
        chosen = {"total": total}
        if sub is not None:
            chosen["subtotal"] = sub
        if tax is not None:
            chosen["tax"] = tax
        for candidate in chosen.values():
            candidate.checked = True
        return chosen
    total = _likeliest(totals)
    chosen = {"total": total}
    sub = _nearest(subs, total)
    if sub is not None:
        chosen["subtotal"] = sub
    tax = _nearest(taxes, total, after=sub)
    if tax is not None:
        chosen["tax"] = tax
    return chosen


def _combos(
    subs: list[Candidate], taxes: list[Candidate], totals: list[Candidate], percent: set
) -> list[tuple[Candidate, Candidate, Candidate | None]]:
    combos = []
    for total in totals:
        for sub in subs:
            if sub.value == total.value and sub.words == total.words:
                continue
            if _same_line(sub, total) and not _table_total(total, totals, percent):
                continue  # net and gross on one line: a row of the tax rates' table
            options = [(tax, tax.value) for tax in taxes] + [(None, ZERO)]
            summed = _summed(taxes, sub, total)
            if summed is not None:
                options.append((summed, summed.value))
            for tax, value in options:
                if sub.value + value == total.value and (tax is not None or value == ZERO):
                    if tax is None and sub.value == total.value and taxes:
                        continue  # a tax is printed: subtotal = total is a coincidence
                    combos.append((total, sub, tax))
    return combos


def _based(taxes: list[Candidate], totals: list[Candidate]) -> list[tuple]:
    """Tax lines that print their bases ('USt. 19 % auf 804,35 € 152,83 €', one per rate or
    per kind of charge), when bases and taxes add up to a total below them: their taxes'
    sum is the tax (no net total is printed)."""
    lines: dict[tuple, Candidate] = {}
    for tax in taxes:
        if tax.base is not None:
            lines.setdefault(_where(tax), tax)
    if len(lines) < 2:
        return []
    based = list(lines.values())
    value = sum((t.value for t in based), ZERO)
    gross = value + sum((t.base for t in based), ZERO)
    summed = Candidate(value, [w for t in based for w in t.words], "sum:taxes")
    last = max(_where(t) for t in based)
    return [(t, None, summed) for t in totals if t.value == gross and _where(t) > last]


_PAID = frozenset("cash tendered bargeld gegeben tunai paid bar".split())
_CHANGE = frozenset("change kembalian ruckgeld zuruck ruckgabe wechselgeld".split())


def paid_less_change(labels: list[Label], subs: list[Candidate]) -> Candidate | None:
    """With no total labelled: the amount handed over less the change given back ('CASH
    100.00', 'CHANGE 71.40'), when a net-labelled figure is exactly that ('SUBTOTAL 28.60':
    what was paid is the total)."""
    paid, change = [], []
    for label in labels:
        if label.field != "_other":
            continue
        words = set(tokens(label.text))
        found = amount(right_of(label, labels), strict=True)
        if found is not None and found.value > 0:
            (change if words & _CHANGE else paid if words & _PAID else []).append(found.value)
    if len(paid) != 1 or len(change) != 1 or paid[0] <= change[0]:
        return None
    due = paid[0] - change[0]
    same = [c for c in subs if c.value == due]
    if not same:
        return None
    return Candidate(due, same[0].words, "sum:paid-change")


def _same_line(a: Candidate, b: Candidate) -> bool:
    return _where(a)[0] == _where(b)[0] and abs(a.words[0].top - b.words[0].top) < 2


def _table_total(total: Candidate, totals: list[Candidate], percent: set) -> bool:
    """Whether ``total``, read under a column's header, is its tax table's total: the
    column's last figure, the only one or the sum of those above it, on a row without a
    rate, and no other total on the page is larger."""
    if not total.below or id(total.words[0]) in percent:
        return False
    word = total.words[0]
    column = [
        c
        for c in totals
        if c.below
        and c.words[0].page == word.page
        and c.words[0].x0 < word.x1
        and c.words[0].x1 > word.x0
    ]
    if any(c.words[0].top > word.top + 1 for c in column):
        return False  # not the column's last row
    above = [c for c in column if c.words[0].top < word.top - 1]
    if above and sum((c.value for c in above), ZERO) != total.value:
        return False
    return all(c.value <= total.value for c in totals)


def _likeliest(totals: list[Candidate]) -> Candidate:
    """Unchecked, the total most likely the document's: beside its label ('zu zahlen 15,69')
    before under a column's header (a tax table's 'Brutto'); then printed again under
    another total label (a bill's stub, each page's header) or named by a longer label
    ('Total amount due', 'Grand total') before a section's 'Total'; then the lowest."""
    lines_of: dict = {}
    for c in totals:
        lines_of.setdefault(c.value, set()).add(_where(c))

    def key(c: Candidate):
        again = min(len(lines_of[c.value]), 2) - 1
        return (not c.below, again + (c.size >= 2), _where(c))

    return max(totals, key=key)


def _where(candidate: Candidate) -> tuple[int, float]:
    return candidate.words[0].page, candidate.words[0].top


def _nearest(
    candidates: list[Candidate], total: Candidate | None, after: Candidate | None = None
) -> Candidate | None:
    """The candidate nearest above ``total`` (below ``after``), else the last one."""
    if not candidates:
        return None
    if total is not None:
        above = [c for c in candidates if _where(c) <= _where(total)]
        if after is not None:
            above = [c for c in above if _where(c) >= _where(after)] or above
        candidates = above or candidates
    return max(candidates, key=_where)


def _summed(taxes: list[Candidate], sub: Candidate, total: Candidate) -> Candidate | None:
    """The tax printed per rate between the subtotal and the total, summed ('7 %: 11,12',
    '19 %: 2,24' -> 13,36), when that sum is what the total adds to the subtotal."""
    between = [t for t in taxes if _where(sub) <= _where(t) <= _where(total)]
    if len(between) < 2:
        return None
    value = sum((t.value for t in between), ZERO)
    if sub.value + value != total.value:
        return None
    words = [w for t in between for w in t.words]
    return Candidate(value, words, "sum:taxes")


def complete(fields: dict[str, Field], lines: list[Line]) -> None:
    """OCR: a tax or total that is missing or does not add up is the difference (the sum)
    of the other two when a line where it belongs prints exactly those digits: 'MwsSt 20%
    5'361.60' under a misread label, '1 897 58 €' with its comma lost."""
    have = {n: fields[n] for n in SUMMARY if n in fields}
    if "subtotal" not in have or not (have.keys() & {"tax", "total"}):
        return
    subtotal = have["subtotal"]
    tax = have["tax"].value if "tax" in have else None
    total = have["total"].value if "total" in have else None
    if tax is not None and total is not None and subtotal.value + tax == total:
        return
    if total is not None and total > subtotal.value:  # the tax, between subtotal and total
        found = _printed(total - subtotal.value, lines, subtotal, have["total"])
        if found:
            fields["tax"] = _completed("tax", total - subtotal.value, found, "sum:total-subtotal")
            return
    if tax is not None:  # the total, under the tax
        found = _printed(subtotal.value + tax, lines, have["tax"], None)
        if found:
            fields["total"] = _completed("total", subtotal.value + tax, found, "sum:subtotal+tax")


def _printed(value: Decimal, lines: list[Line], above: Field, below: Field | None):
    """The numeric words of the first line under ``above`` (and over ``below``, else within
    three lines) whose digits are exactly those of ``value``."""
    want = format(value.quantize(Decimal("0.01")), "f").replace(".", "").lstrip("0")
    after = [ln for ln in lines if ln.page == above.page and ln.top > above.bbox[1] + 1]
    for line in after if below else after[:3]:
        if below is not None and line.bottom >= below.bbox[3]:
            break
        numbers = _trailing_numbers(line)
        if numbers and numbers[0].ocr:
            digits = "".join(ch for w in numbers for ch in w.text if ch.isdigit()).lstrip("0")
            if digits == want:
                return numbers
    return None


def _trailing_numbers(line: Line) -> list[Word]:
    """The numbers that end ``line`` (currency signs and codes skipped), left to right:
    '1 897 58 €' of 'TVA 20% 1 897 58 €'."""
    numbers: list[Word] = []
    for word in reversed(line.words):
        number, currency = split_currency(word.text)
        if currency and not number:
            continue
        if "%" in word.text or not any(ch.isdigit() for ch in number):
            break
        numbers.insert(0, word)
    return numbers


def _completed(name: str, value: Decimal, words: list[Word], rule: str) -> Field:
    conf = min(w.conf for w in words) * REPAIRED
    return Field(
        name,
        value.quantize(Decimal("0.01")),
        " ".join(w.text for w in words),
        round(conf, 3),
        words[0].page,
        union(words),
        rule,
    )
