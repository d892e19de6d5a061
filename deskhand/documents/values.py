"""Typed values read from words, with the words they came from: identifiers, dates and
amounts as the invoice reader and templates find them right of or below a label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .model import Field, Word, union
from .parse import parse_amount, parse_date, parse_identifier, repair_digits, split_currency

REPAIRED = 0.9  # confidence factor for a value that needed an OCR repair
_THOUSANDS = re.compile(r"([.,'’]?)\d{3}(?:[.,]\d{2})?")
_OCR_DASHES = re.compile(r"(?<=[A-Za-z0-9])[~—–](?=[A-Za-z0-9])")


@dataclass
class Candidate:
    """A possible value for a field, with the words it was read from."""

    value: Any
    words: list[Word]
    rule: str
    repaired: bool = False
    size: int = 1
    currency: str | None = None
    checked: bool = False  # agrees with the other fields (subtotal + tax = total)
    below: bool = False  # read under its label (a column's header), not beside it
    base: Any = None  # a tax's base printed before it ('19 % auf 804,35 € 152,83 €')

    def to_field(self, name: str) -> Field:
        conf = min(w.conf for w in self.words) * (REPAIRED if self.repaired else 1.0)
        return Field(
            name,
            self.value,
            " ".join(w.text for w in self.words),
            round(conf, 3),
            self.words[0].page,
            union(self.words),
            self.rule,
        )


def identifier(words: list[Word]) -> Candidate | None:
    """The first identifier in ``words`` ('INV-0042', '000482'), as printed."""
    for i, word in enumerate(words[:2]):
        text, used = word.text, [word]
        for nxt in words[i + 1 :]:  # OCR may split '031' into '03' '1', 'PO-1' into 'PO-' '1'
            gap = nxt.x0 - used[-1].x1
            hyphen = text.endswith(("-", "/")) or nxt.text.startswith(("-", "/"))
            if gap > (1.0 if hyphen else 0.25) * word.height or not nxt.text[0].isalnum():
                if not (hyphen and gap <= word.height and nxt.text[0] in "-/"):
                    break
            text, used = text + nxt.text, used + [nxt]
        repaired = False
        if word.ocr:
            dashed = _OCR_DASHES.sub("-", text)  # 'F~2026-044': a hyphen read as a tilde
            repaired = dashed != text
            text, digits = repair_digits(dashed)
            repaired = repaired or digits
        value = parse_identifier(text)
        if value:
            return Candidate(value, used, "", repaired)
    return None


def date(words: list[Word], day_first: bool) -> Candidate | None:
    for n in range(min(4, len(words)), 0, -1):
        text = " ".join(w.text for w in words[:n])
        repaired = False
        if words[0].ocr:
            text, repaired = repair_digits(text)
        value = parse_date(text, day_first)
        if value:
            return Candidate(value, words[:n], "", repaired)
    return None


_SIGN_AS_S = re.compile(r"[Ss]\d{1,3}(?:,\d{3})*\.\d{2}")


def amount(words: list[Word], strict: bool, decimal: str | None = None) -> Candidate | None:
    """The first amount in ``words`` (skipping rates like '20%'), with its currency sign."""
    for i, word in enumerate(words):
        after = words[i + 1].text if i + 1 < len(words) else ""
        if "%" in word.text or after.startswith("%"):
            continue
        number, currency = split_currency(word.text)
        used = [word]
        group = _THOUSANDS.fullmatch(after)
        if group and re.fullmatch(r"\d{1,3}", number):
            # '1 234,50' (a monospaced space is as wide as a digit is tall), a lost comma,
            # or OCR cutting '£7,402.44' into '£7' ',402.44'
            if words[i + 1].x0 - word.x1 < 1.3 * word.height:
                number = f"{number}{'' if group[1] else ' '}{after}"
                used = [word, words[i + 1]]
                after = words[i + 2].text if i + 2 < len(words) else ""
        following = words[i + len(used)] if after else None
        for neighbour in (words[i - 1] if i else None, following):
            if neighbour and not currency:
                sign = split_currency(neighbour.text)
                if sign[1] and not sign[0]:
                    currency = sign[1]
                    used.append(neighbour)
        repaired = False
        if word.ocr and _SIGN_AS_S.fullmatch(number):
            number, repaired = number[1:], True  # 'S8.20': a '$' read as S, not 58.20
        if word.ocr:
            number, fixed = repair_digits(number)
            repaired = repaired or fixed
        value = parse_amount(number, strict=strict, currency=currency, decimal=decimal)
        if value is not None:
            used.sort(key=lambda w: w.x0)
            return Candidate(value.quantize(Decimal("0.01")), used, "", repaired, 1, currency)
    return None
