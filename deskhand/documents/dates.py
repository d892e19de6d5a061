"""Dates on a page: which order all-number dates are printed in, and the document's date when
no label names it.

The order of '03/05/2026' is read from the page itself: a date elsewhere on it that can only be
day-first ('28/02/2026') or only month-first ('02/28/2026') settles it; else the page's country
cues (currency, legal forms, tax names) do. A document's date without a label is the first date
on its first page that no "due", "delivery" or "period" word qualifies.
"""

from __future__ import annotations

import re

from .model import Line, Word
from .parse import fold
from .values import Candidate, date

_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")
# Cues of a country that writes the day first: currencies, legal forms, tax names, languages.
_DAY_FIRST = re.compile(
    r"(€|£|₹|\bzl\b|\b(eur|gbp|chf|inr|pln|myr|sgd|aud|nzd|rm)\b|\brm ?\d|\bsdn\.? ?bhd\b|"
    r"\bbhd\b|\bgmbh\b|\bs\.?a\.?r\.?l\b|\bb\.?v\.?\b|\bgst\b|\bmwst\b|\bust\b|\btva\b|\biva\b|"
    r"\bvat\b|\bpty\b|\bsp\. z o\.o\b|\brechnung\b|\bfacture\b|\bfactura\b|\bfactuur\b)"
)
_MONTH_FIRST = re.compile(r"(\$|\busd\b|\binc\b|\bllc\b|\bsales tax\b|\bzip\b)")
# Words that make a date on the same line something other than the document's date.
_NOT_ISSUE = re.compile(
    r"\b(due|payable|pay by|fallig\w*|zahlbar|echeance|vencimiento|expir\w*|valid|gultig|"
    r"delivery|deliver\w*|liefer\w*|livraison|period|zeitraum|periode|from|to|bis|until|"
    r"service|leistung\w*|shipped|ship|order\w*|bestell\w*|commande|birth|geburt\w*|since|"
    r"seit|last|previous|next|meter|reading|born|start|end)\b"
)


def day_first(text: str) -> bool:
    """Whether the page's all-number dates put the day first ('03/05/2026' = 3 May)."""
    pairs = [(int(m[1]), int(m[2])) for m in _NUMERIC.finditer(text)]
    if any(first > 12 >= second for first, second in pairs):
        return True
    if any(second > 12 >= first for first, second in pairs):
        return False
    folded = fold(text)
    days = len(_DAY_FIRST.findall(folded))
    months = len(_MONTH_FIRST.findall(folded))
    return days >= months if (days or months) else True


def order_known(text: str) -> bool:
    """Whether the page says which order its all-number dates are in: a date that can only be
    read one way, or country cues (currency, legal form, tax name, language) that agree."""
    pairs = [(int(m[1]), int(m[2])) for m in _NUMERIC.finditer(text)]
    if any((first > 12) != (second > 12) for first, second in pairs):
        return True
    folded = fold(text)
    return bool(_DAY_FIRST.search(folded)) != bool(_MONTH_FIRST.search(folded))  # one way


def unlabelled(lines: list[Line], day_first_order: bool, taken=()) -> Candidate | None:
    """The first date on page one that nothing on its line qualifies as due, delivery or a
    period ('17.01.2016 - 16.02.2016' is a period: skipped), and that is not another field's
    (``taken``: the due date's value), else None."""
    first = None
    count = 0
    for line in lines:
        if line.page != 1:
            break
        words = line.words
        if _NOT_ISSUE.search(fold(line.text)):
            count += bool(_NUMERIC.search(line.text))
            continue
        found = []
        for i in range(len(words)):
            if not any(ch.isdigit() for ch in words[i].text) and not _month_like(words[i]):
                continue
            candidate = date(words[i:], day_first_order)
            if candidate and candidate.value not in taken:
                found.append(candidate)
        count += len(found)
        if len(found) == 1 and not _ranged(line) and first is None:
            first = found[0]
    if first is not None:  # the only date of the page, or the first of several
        first.rule = "regex:date" if count == 1 else "regex:first-date"
    return first


_PAY = re.compile(
    r"\b(zahlbar|zahlen|zahlung|uberweisen|begleichen|pay|payable|payment|paid|remit|regler|"
    r"reglement|payer|payable|pagar|pago|betalen|betaling|zaplaty|zaplacic)\b"
)
_BY = {"bis", "by", "until", "before", "avant", "jusqu", "antes", "voor", "do"}
_FILLER = {"zum", "spatestens", "le", "au", "del", "de", "the", "op"}


def due_by(lines: list[Line], day_first_order: bool) -> Candidate | None:
    """The due date a sentence about paying gives: 'Zahlbar innerhalb 30 Tagen netto bis
    04.04.2013', 'Bitte überweisen Sie bis zum 09.06.2014', 'Please pay by 26 Sep 2025'; the
    first such date (a discount's deadline follows it)."""
    for line in lines:
        if not _PAY.search(fold(line.text)):
            continue
        words = line.words
        for i, word in enumerate(words[:-1]):
            if fold(word.text).strip(".,:") not in _BY:
                continue
            j = i + 1
            while j < len(words) - 1 and fold(words[j].text).strip(".,:") in _FILLER:
                j += 1
            found = date(words[j:], day_first_order)
            if found:
                found.rule = "regex:due-by"
                return found
    return None


_LETTER = re.compile(r"^[A-ZÄÖÜ][\w.\- ]{1,40}, ?(den|le|el|am|dnia|the)$", re.IGNORECASE)
_AFTER_NUMBER = {"vom", "du", "dated", "del", "from", "dnia", "van", "z"}


def letter_date(lines: list[Line], day_first_order: bool) -> Candidate | None:
    """A letter's date after its place, on page one: 'München, den 01.11.2024', 'Paris, le 2
    mars 2022' (rule 'layout:letter-date')."""
    for line in lines:
        if line.page != 1:
            break
        words = line.words
        for i in range(1, min(len(words), 8)):
            if fold(words[i].text) not in ("den", "le", "el", "am", "dnia", "the"):
                continue
            if not _LETTER.match(" ".join(w.text for w in _phrase_before(words, i + 1))):
                continue
            found = date(words[i + 1 :], day_first_order)
            if found:
                found.rule = "layout:letter-date"
                return found
    return None


def _phrase_before(words: list[Word], end: int) -> list[Word]:
    """The words before ``end`` back to a wide gap (another column's text)."""
    start = end - 1
    while start > 0 and words[start].x0 - words[start - 1].x1 <= 1.2 * words[start].height:
        start -= 1
    return words[start:end]


def after_number(words: list[Word], day_first_order: bool) -> Candidate | None:
    """The date after a document's number: 'Rechnung RE-499 vom 19.05.2014', 'Facture 12 du
    2 mars 2022', 'Invoice 12 dated 2 March 2022' (``words``: those after the number)."""
    if len(words) < 2 or fold(words[0].text).strip(".,:") not in _AFTER_NUMBER:
        return None
    return date(words[1:], day_first_order)


def _month_like(word: Word) -> bool:
    return word.text[:1].isalpha() and len(word.text) >= 3


def _ranged(line: Line) -> bool:
    return bool(re.search(r"\d\s+(-|–|to|bis|au)\s+\d", line.text))
