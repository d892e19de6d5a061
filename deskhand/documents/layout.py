"""Where things are on a page: words grouped into lines, labels found, values beside or below.

Works the same on text-layer words and OCR words: only text and boxes are used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .model import Line, Word
from .parse import fold, tokens

TALL = 3.0  # a word this many times the usual height stands alone (see group_lines)
GAP = 1.2  # a gap wider than this many times the line's tallest word separates phrases


def group_lines(words: list[Word]) -> list[Line]:
    """Words grouped into lines (by vertical overlap), top to bottom, each left to right.
    A word over three times as tall as the page's usual word (a watermark's letters, 'PAID'
    across the totals) is a line of its own: it would join the lines it overlaps."""
    heights = sorted(w.bottom - w.top for w in words)
    tall = TALL * heights[len(heights) // 2] if heights else 0.0
    lines: list[list[Word]] = [[w] for w in words if tall and w.bottom - w.top > tall]
    sums: list[list[float]] = [[1e9, 1e9] for _ in lines]  # never joined by another word
    words = [w for w in words if not tall or w.bottom - w.top <= tall]
    for word in sorted(words, key=lambda w: (w.page, w.top, w.x0)):
        for index in range(len(lines) - 1, max(len(lines) - 7, -1), -1):
            line = lines[index]
            if line[0].page != word.page:
                continue
            top, bottom = sums[index][0] / len(line), sums[index][1] / len(line)
            overlap = min(bottom, word.bottom) - max(top, word.top)
            if overlap >= 0.5 * min(bottom - top, word.bottom - word.top):
                line.append(word)
                sums[index][0] += word.top
                sums[index][1] += word.bottom
                break
        else:
            lines.append([word])
            sums.append([word.top, word.bottom])
    result = [Line(sorted(line, key=lambda w: w.x0)) for line in lines]
    return sorted(result, key=lambda ln: (ln.page, ln.top))


_GLUED_FORM = re.compile(r"([a-z]{3,})(Sdn|Bhd|GmbH|Ltd|Inc|Corp|LLC|SARL|Pte|Pty)\.?$")
_GLUED = re.compile(r"([^\W\d_]{2,}[.]?\s?:)(\w.*)")


def unglued(words: list[Word]) -> list[Word]:
    """OCR words with a label and its value read as one ('Date:9/3/2018', 'INVOICE:A123')
    cut in two at the colon, each with its share of the box: a label is a word of its own."""
    found = []
    for word in words:
        if word.ocr and _GLUED_FORM.search(word.text):  # 'MarketingSdn': a lost space
            head, text = _GLUED_FORM.search(word.text).start(2), word.text
            cut = round(word.x0 + head / len(text) * (word.x1 - word.x0), 2)
            found.append(replace(word, text=text[:head], x1=cut))
            found.append(replace(word, text=text[head:], x0=cut))
            continue
        match = _GLUED.fullmatch(word.text) if word.ocr else None
        if not match:
            found.append(word)
            continue
        share = len(match[1]) / len(word.text)
        cut = round(word.x0 + share * (word.x1 - word.x0), 2)
        found.append(replace(word, text=match[1], x1=cut))
        found.append(replace(word, text=match[2], x0=cut))
    return found


def spaced_out(lines: list[Line]) -> list[Word]:
    """The lines' words, with runs of single OCR characters ('T H E S T O R E', as an engine
    boxes letter-spaced print) joined into words where the gaps between them are no wider
    than the run's usual gap between letters."""
    found: list[Word] = []
    for line in lines:
        run: list[Word] = []
        for word in [*line.words, None]:
            if word is not None and word.ocr and len(word.text) == 1:
                run.append(word)
                continue
            found += _joined(run) if len(run) >= 3 else run
            run = []
            if word is not None:
                found.append(word)
    return found


def _joined(run: list[Word]) -> list[Word]:
    gaps = [b.x0 - a.x1 for a, b in zip(run, run[1:], strict=False)]
    usual = sorted(gaps)[len(gaps) // 2]
    height = max(w.height for w in run)
    wide = min(max(1.6 * usual, 0.3 * height), 0.7 * height)  # never across a column
    words, current = [], [run[0]]
    for gap, word in zip(gaps, run[1:], strict=True):
        if gap > wide:
            words.append(current)
            current = []
        current.append(word)
    words.append(current)
    return [
        replace(
            part[0],
            text="".join(w.text for w in part),
            x1=part[-1].x1,
            top=min(w.top for w in part),
            bottom=max(w.bottom for w in part),
            conf=min(w.conf for w in part),
        )
        for part in words
    ]


def phrase_starts(line: Line) -> set[int]:
    """Indexes of the words that begin a phrase: after a wide gap, or the line's first."""
    height = max(w.height for w in line.words)
    starts = {0}
    for i in range(1, len(line.words)):
        if line.words[i].x0 - line.words[i - 1].x1 > GAP * height:
            starts.add(i)
    return starts


def phrases(line: Line) -> list[list[Word]]:
    """The line cut at its wide gaps."""
    starts = sorted(phrase_starts(line)) + [len(line.words)]
    return [line.words[a:b] for a, b in zip(starts, starts[1:], strict=False)]


@dataclass
class Label:
    """A label found on a line: words [start, end) of ``line`` name ``field``."""

    field: str
    line: Line
    start: int
    end: int
    size: int  # how many tokens the label has: longer labels are more specific

    @property
    def words(self) -> list[Word]:
        return self.line.words[self.start : self.end]

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words).rstrip(":")

    @property
    def x0(self) -> float:
        return self.words[0].x0

    @property
    def x1(self) -> float:
        return self.words[-1].x1


def _close(a: str, b: str, shortest: int = 6) -> bool:
    """Equal, or one edit apart for words this long or longer (OCR drops or swaps a letter)."""
    if a == b:
        return True
    if min(len(a), len(b)) < shortest or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) <= 1
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


class _Tokens:
    """A line's tokens, each with the index of the word it came from, and where each word's
    tokens begin."""

    def __init__(self, line: Line) -> None:
        self.toks = [(tok, i) for i, word in enumerate(line.words) for tok in tokens(word.text)]
        self.first: dict[int, int] = {}
        for k, (_, i) in enumerate(self.toks):
            self.first.setdefault(i, k)


class _Index:
    """A vocabulary's spellings by first token, and the spellings each token may begin
    (fuzzily) remembered: a label search costs a dictionary look-up per word."""

    def __init__(self, vocabulary: dict[str, list[list[str]]], fuzzy_from: int) -> None:
        self.spellings = [(key, s) for key, spellings in vocabulary.items() for s in spellings]
        self.fuzzy_from = fuzzy_from
        self.known: dict[str, list[tuple[str, list[str]]]] = {}

    def starting(self, token: str) -> list[tuple[str, list[str]]]:
        found = self.known.get(token)
        if found is None:
            found = [(k, s) for k, s in self.spellings if _close(token, s[0], self.fuzzy_from)]
            self.known[token] = found
        return found


_indexes: dict[tuple[int, int], tuple[dict, _Index]] = {}
_line_tokens: dict[int, tuple[Line, _Tokens]] = {}


def _index(vocabulary: dict[str, list[list[str]]], fuzzy_from: int) -> _Index:
    entry = _indexes.get((id(vocabulary), fuzzy_from))
    if entry is None or entry[0] is not vocabulary:
        if len(_indexes) > 64:  # templates make their own vocabularies: keep a few
            _indexes.clear()
        entry = (vocabulary, _Index(vocabulary, fuzzy_from))
        _indexes[(id(vocabulary), fuzzy_from)] = entry
    return entry[1]


def _tokens_of(line: Line) -> _Tokens:
    entry = _line_tokens.get(id(line))
    if entry is None or entry[0] is not line:
        if len(_line_tokens) > 4096:
            _line_tokens.clear()
        entry = (line, _Tokens(line))
        _line_tokens[id(line)] = entry
    return entry[1]


def match_phrase(
    line: Line,
    vocabulary: dict[str, list[list[str]]],
    start: int,
    fuzzy_from: int = 6,
    limit: int | None = None,
) -> tuple[str, int, int] | None:
    """The longest vocabulary phrase starting at word ``start`` (and ending before word
    ``limit``, where a wide gap begins another phrase): (key, end word, size)."""
    line_tokens = _tokens_of(line)
    toks = line_tokens.toks
    first = line_tokens.first.get(start)
    if first is None:
        return None
    best = None
    best_exact = False
    for key, spelling in _index(vocabulary, fuzzy_from).starting(toks[first][0]):
        n = len(spelling)
        if best is not None and (n < best[2] or n == best[2] and best_exact):
            continue
        window = toks[first : first + n]
        if len(window) < n or not all(
            _close(t, s, fuzzy_from) for (t, _), s in zip(window[1:], spelling[1:], strict=True)
        ):
            continue
        exact = all(t == s for (t, _), s in zip(window, spelling, strict=True))
        if best is not None and n == best[2] and not exact:
            continue  # a spelling read exactly beats one an OCR slip would also give
        last_word = window[-1][1]
        if limit is not None and last_word >= limit:
            continue  # 'Date   Due': two column headers, not one label
        after = toks[first + n][1] if first + n < len(toks) else None
        if after == last_word:
            continue  # the label would end inside a word
        best, best_exact = (key, last_word + 1, n), exact
    return best


def find_labels(
    lines: list[Line], vocabulary: dict[str, list[list[str]]], skip: set[int] = frozenset()
) -> list[Label]:
    """Every label of ``vocabulary`` (field -> spellings as token lists) on ``lines``.

    A label starts a phrase, or follows a value (a word with a digit) on the same line, so
    'Payment terms: Due on receipt' holds one label, not two.
    """
    found = []
    for index, line in enumerate(lines):
        if index in skip:
            continue
        starts = phrase_starts(line)
        i = 0
        while i < len(line.words):
            previous = line.words[i - 1].text if i else ""
            if i in starts or any(ch.isdigit() for ch in previous):
                limit = min((k for k in starts if k > i), default=None)
                match = match_phrase(line, vocabulary, i, limit=limit)
                if match:
                    key, end, size = match
                    found.append(Label(key, line, i, end, size))
                    i = end
                    continue
            i += 1
    return found


def right_of(label: Label, labels: list[Label]) -> list[Word]:
    """The words after ``label`` on its line, up to the next label."""
    stop = min(
        (lb.start for lb in labels if lb.line is label.line and lb.start >= label.end),
        default=len(label.line.words),
    )
    return label.line.words[label.end : stop]


def below(label: Label, labels: list[Label], lines: list[Line]) -> list[Word]:
    """The words under ``label`` in its column, on the nearest line below (within 3 lines)."""
    lo, hi = column_span(label, labels)
    limit = label.line.bottom + 3.2 * max(label.line.height, 1.0)
    for line in lines:
        if line.page != label.line.page or line is label.line:
            continue
        if line.top < label.line.top + 0.7 * label.line.height:
            continue  # above, or beside (OCR's boxes of the next line may overlap this one's)
        if line.top > limit:
            break
        words = [w for w in line.words if lo <= w.xc < hi]
        if words:
            return words
    return []


def column_span(label: Label, labels: list[Label]) -> tuple[float, float]:
    """The x-range of ``label``'s column: from half its width left of it (or the label on its
    left) to the next label on its right."""
    same_row = [lb for lb in labels if lb.line is label.line and lb is not label]
    left = max((lb.x1 for lb in same_row if lb.x1 <= label.x0), default=None)
    right = min((lb.x0 for lb in same_row if lb.x0 >= label.x1), default=None)
    width = label.x1 - label.x0
    lo = label.x0 - 0.5 * width if left is None else max(left, label.x0 - 0.5 * width)
    return lo, 1e9 if right is None else right


def has_any(text: str, words: tuple[str, ...]) -> bool:
    folded = fold(text)
    return any(w in folded for w in words)
