"""Summary figures printed as a small table rather than as label-value lines.

- A header row of labels set close together, over the values in their columns ('Typ  Netto
  MwSt  Brutto' over '19  16,72  3,18  19,90': a till's tax table), whose labels do not
  each begin a phrase.
- A tax table's further rows: one per rate, then often their sum ('Summe 1,61 14,08 15,69');
  every figure down a column is a candidate, and the sums (summary.py) choose.
- A totals row whose figures belong to the columns above it ('TOTAL:  67.59  309.00' under
  'Tax Amount  Total Amount'): the figure under a total column is the total.

Nothing here knows a layout's coordinates: columns are the labels' own x-ranges.
"""

from __future__ import annotations

from .labels import LABELS, SUMMARY_FIELDS
from .layout import Label, column_span, match_phrase
from .model import Line, Word
from .parse import parse_amount, split_currency, tokens
from .values import Candidate, amount

_TOTAL_HEADS = frozenset("total totals gross brutto ttc gesamt gesamtbetrag endbetrag".split())
MAX_ROWS = 6  # rows of a tax table read down a column


def _amounts(line: Line) -> int:
    return sum(parse_amount(split_currency(w.text)[0], strict=True) is not None for w in line.words)


def header_labels(lines: list[Line], skip: set[int]) -> list[Label]:
    """The labels of summary header rows: a line with no amount on which words set close
    together begin the spellings of two summary fields or more ('MwSt  Netto  Brutto'),
    over a line with two amounts or more."""
    found: list[Label] = []
    for index, line in enumerate(lines[:-1]):
        if index in skip or _amounts(line):
            continue
        row: list[Label] = []
        i = 0
        while i < len(line.words):
            match = match_phrase(line, LABELS, i)
            if match:
                row.append(Label(match[0], line, i, match[1], match[2]))
                i = match[1]
            else:
                i += 1
        fields = {lb.field for lb in row if lb.field in SUMMARY_FIELDS}
        below = lines[index + 1]
        near = below.page == line.page and below.top - line.bottom < 2.5 * line.height
        if len(fields) >= 2 and near and _amounts(below) >= 2:
            found += row
    return found


def rate_label(label: Label) -> bool:
    """A tax label that names the rate's column, not the tax ('MwSt-%', 'VAT %')."""
    nxt = label.line.words[label.end] if label.end < len(label.line.words) else None
    return "%" in label.words[-1].text or (nxt is not None and nxt.text.startswith("%"))


def column_below(
    label: Label, labels: list[Label], lines: list[Line], first: Candidate
) -> list[Candidate]:
    """The figures under ``first`` (read under ``label``) in the label's column, row by row
    while the column holds nothing but a figure and the row other figures too: a tax
    table's rows by rate and their sum."""
    lo, hi = column_span(label, labels)
    last = first.words[0]
    found: list[Candidate] = []
    for line in lines:
        if line.page != last.page or line.top < last.top + 0.7 * last.height:
            continue
        if line.top - last.bottom > 2.5 * max(line.height, 1.0) or len(found) >= MAX_ROWS:
            break
        words = [w for w in line.words if lo <= w.xc < hi]
        if _amounts(line) < 2:
            break  # a label and its figure ('Acompte : 10,00'), not a row of the table
        value = amount(words, strict=True) if words else None
        if value is None or len(value.words) != len(words):
            break
        value.rule, value.size, value.below = first.rule, first.size, True
        found.append(value)
        last = value.words[0]
    return found


def row_total(words: list[Word], lines: list[Line]) -> Candidate | None:
    """On a totals row holding several figures ('TOTAL:  67.59  309.00'), the figure whose
    column's header above names a total ('Total Amount'); None when no header says so."""
    figures = []
    rest = words
    while rest:
        found = amount(rest, strict=True)
        if found is None:
            break
        figures.append(found)
        rest = rest[rest.index(found.words[-1]) + 1 :]
    for figure in reversed(figures):
        if _under_total_head(figure.words[-1], lines):
            return figure
    return None


def _under_total_head(word: Word, lines: list[Line]) -> bool:
    """Whether the nearest header cell above ``word`` (the first words above it that are not
    figures, up to two lines of them) names a total."""
    above = [ln for ln in lines if ln.page == word.page and ln.bottom <= word.top + 1]
    header_lines = 0
    for line in reversed(above[-12:]):
        over = [w for w in line.words if w.x0 < word.x1 and w.x1 > word.x0]
        if not over:
            continue
        text = [t for w in over for t in tokens(w.text)]
        if any(any(ch.isdigit() for ch in w.text) for w in over) and header_lines == 0:
            continue  # a row of the table above the totals
        if not text:
            break
        if set(text) & _TOTAL_HEADS:
            return True
        header_lines += 1
        if header_lines == 2:
            break
    return False
