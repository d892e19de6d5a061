"""The customer's block: who the document is for, found by its labels ("Bill to", "Attn",
"Sold to", "Guest", "Kunde"), by the address window under a sender line ('Muster GmbH |
Hauptstr. 1 | 10115 Berlin'), after a salutation line ('Herrn', 'Firma'), or as the name over
another address block than the seller's. Its words are never the seller's (seller.py)."""

from __future__ import annotations

from .layout import Label, below, phrase_starts, right_of
from .model import Line, Word
from .parse import fold, tokens
from .seller import (
    _ADDRESS,
    _DELIVERY,
    _POSTCODE,
    _SALUTATION,
    _SEPARATORS,
    Name,
    _address_below,
    _name_like,
    _phrase_at,
)


def labelled(page: list[Line], own: list[Label], taken: set[int]) -> tuple[set[int], Name | None]:
    """The words of the customer's labelled blocks, and the customer's name (billing
    labels before delivery ones)."""
    block: set[int] = set()
    found: list[tuple[bool, Name]] = []
    for label in (lb for lb in own if lb.field == "customer"):
        delivery = bool(set(tokens(label.text)) & _DELIVERY)
        for words in (_same_phrase(label, own), _first_phrase(below(label, own, page), page)):
            words = [w for w in words if w.text.strip(":") and id(w) not in taken]
            if words and _SALUTATION.match(fold(words[0].text)) and len(words) == 1:
                line = next(ln for ln in page if words[0] in ln.words)
                words = _next_in_column(line, words[0], page)
            name = Name(words)
            if words and _name_like(name.text) and not _ADDRESS.search(fold(name.text)):
                name.cues.append(f"label:{label.text}")
                if _address_below(words, page):
                    name.cues.append("address below")
                found.append((delivery, name))
                block |= {id(w) for w in words}
                block |= _block_below(words, page)
                break
    if not found:
        return block, None
    return block, min(found, key=lambda f: f[0])[1]


def _first_phrase(words: list[Word], page: list[Line]) -> list[Word]:
    """The phrase the first of ``words`` begins (the next column is another block)."""
    if not words:
        return words
    line = next(ln for ln in page if words[0] in ln.words)
    return [w for w in _phrase_at(line, words[0]) if w in words]


def _same_phrase(label: Label, own: list[Label]) -> list[Word]:
    """The phrase right of a label ('Bill to:   Muster GmbH'), unless it lies so far away that
    it is another column's."""
    words = right_of(label, own)
    if not words or words[0].x0 - label.x1 > 6 * label.line.height:
        return []
    starts = phrase_starts(label.line)
    cut = next((i for i in sorted(starts) if i > label.end), len(label.line.words))
    return words[: max(1, cut - label.end)]


def _next_in_column(line: Line, word: Word, page: list[Line]) -> list[Word]:
    after = [ln for ln in page if ln.top > line.bottom][:2]
    for nxt in after:
        words = [w for w in nxt.words if abs(w.x0 - word.x0) < 3 * word.height]
        if words:
            return _phrase_at(nxt, words[0])
    return []


def _block_below(words: list[Word], page: list[Line]) -> set[int]:
    """The words of the (address) lines under ``words`` in their column, up to 5 lines."""
    x0, bottom = words[0].x0, words[0].bottom
    ids: set[int] = set()
    for line in [ln for ln in page if ln.top > bottom][:5]:
        near = [w for w in line.words if abs(w.x0 - x0) < 2 * words[0].height]
        if not near:
            break
        ids |= {id(w) for w in _phrase_at(line, near[0])}
    return ids


def sender_line(page: list[Line]) -> Line | None:
    """A small line of the top half that strings the sender's name, street and town with
    separators: 'Muster GmbH | Hauptstr. 1 | 10115 Berlin' (in small print also commas)."""
    heights = sorted(ln.height for ln in page)
    median = heights[len(heights) // 2]
    for line in page[: max(8, len(page) // 3)]:
        parts = [p for p in _SEPARATORS.split(line.text) if p and p.strip()]
        if len(parts) < 3 and line.height < 0.8 * median:  # in small print, commas do
            parts = [p for p in line.text.split(",") if p.strip()]  # 'Muster, Weg 2, 12345 Ort'
        if len(parts) >= 3 and line.height <= median * 1.05 and _POSTCODE.search(line.text):
            if _name_like(parts[0].strip(), True) and not _ADDRESS.search(fold(parts[0])):
                return line
    return None


def under(sender: Line, page: list[Line], taken: set[int]) -> Name | None:
    """The addressee: the first name under the sender line in its column (the window's
    address may start a little left of the sender line)."""
    x0 = sender.words[0].x0
    for line in [ln for ln in page if ln.top > sender.bottom][:4]:
        near = [w for w in line.words if x0 - 6 * line.height < w.x0 < x0 + 3 * line.height]
        if not near:
            continue
        words = [w for w in _phrase_at(line, near[0]) if id(w) not in taken]
        text = " ".join(w.text for w in words)
        if not words or _SALUTATION.match(fold(words[0].text)) and len(words) == 1:
            continue
        if _name_like(text) and not _ADDRESS.search(fold(text)):
            name = Name(words)
            if _address_below(words, page):
                name.cues.append("address below")
            return name
        return None
    return None


def other_block(
    page: list[Line], issuer: Name, candidates: list[Name], taken: set[int]
) -> Name | None:
    """Without a label: the name heading another address block (a name line with a postcode
    within the next three lines of its column) than the issuer's, in the top half."""
    for name in sorted(candidates, key=lambda n: (n.words[0].top, n.words[0].x0)):
        if name is issuer or fold(name.text) == fold(issuer.text):
            continue
        if (
            name.words[0].top > issuer.words[0].top + 400
            or "legal form" not in name.cues
            and (_ADDRESS.search(fold(name.text)))
        ):
            continue
        x0 = name.words[0].x0
        below_lines = [ln for ln in page if ln.top > name.words[0].bottom][:3]
        column = [
            " ".join(w.text for w in ln.words if abs(w.x0 - x0) < 150 and w.x0 >= x0 - 5)
            for ln in below_lines
        ]
        if any(_POSTCODE.search(t) for t in column) and abs(x0 - issuer.words[0].x0) > 0:
            if name.score < issuer.score:
                name.cues = ["address block"]
                return name
    return None


_ADDRESSED = {"herrn", "firma", "messrs"}


def after_salutation(page: list[Line], taken: set[int], height: float) -> Name | None:
    """The addressee under a salutation line of the top half ('Herrn' / 'Max Mustermann' /
    'Musterstr. 11'): the name line right under a line that is only a salutation, with an
    address under it."""
    for index, line in enumerate(page[:-1]):
        if line.top > height / 2:
            break
        if len(line.words) != 1 or id(line.words[0]) in taken:
            continue
        word = fold(line.words[0].text).strip(".:,")
        if not (_SALUTATION.match(word) or word in _ADDRESSED):
            continue
        nxt = page[index + 1]
        near = [w for w in nxt.words if abs(w.x0 - line.words[0].x0) < 3 * nxt.height]
        if not near or nxt.top - line.bottom > 2 * nxt.height:
            continue
        words = [w for w in _phrase_at(nxt, near[0]) if id(w) not in taken]
        name = Name(words)
        if words and _name_like(name.text) and not _ADDRESS.search(fold(name.text)):
            if _address_below(words, page):
                name.cues += ["after a salutation", "address below"]
                return name
    return None
