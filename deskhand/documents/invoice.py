"""The generic invoice reader: labels and their values, the line-item table, the issuer.

Nothing here knows a vendor. Fields are found by their labels in several languages and
spellings, with the value right of or below the label; line items by the table's header row
and the columns it defines; the issuer as the most prominent name at the top of page one.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from . import columns, confidence, dates, parties, seller, summary, table, tables
from .labels import LABELS, qualified
from .layout import (
    Label,
    below,
    find_labels,
    group_lines,
    match_phrase,
    right_of,
    spaced_out,
    unglued,
)
from .model import Field, Line, Reread, Table, Word
from .parse import (
    CURRENCY_CODES,
    CURRENCY_SIGNS,
    fold,
    parse_terms,
    split_currency,
    tokens,
)
from .summary import SUMMARY
from .values import Candidate, amount, identifier
from .values import date as date_value

_TITLES = ("invoice", "rechnung", "facture", "receipt", "quittung", "credit note", "gutschrift")
_RECURRING = re.compile(r"\b(recurring|wiederkehrend\w*|recurrent\w*|dauerrechnung)\b")
_NOT_RECURRING = re.compile(
    r"\b(not|non|kein\w*|pas)[\s-]+(a\s+|une?\s+)?(recurring|wiederk|recurr)"
)
_LEGAL_FORMS = set("ltd limited gmbh ag inc llc llp plc sarl sa sas bv nv ab oy corp co".split())
_LEGAL_FORMS |= {"kg", "srl", "spa", "pty", "services"}


def extract(
    words: list[Word],
    page_sizes: list[tuple[float, float]],
    reread: Reread | None = None,
    other_items: Callable[[list[Line]], list[dict[str, Field]]] | None = None,
) -> tuple[dict[str, Field], list[dict[str, Field]], str, list[Table]]:
    """Read an invoice from the words of all its pages: (fields, line items, text, the
    line-item tables by column alignment). ``other_items`` reads the items when no table
    has them (a till receipt's lines)."""
    words = unglued(words)
    lines = group_lines(words)
    if any(w.ocr and len(w.text) == 1 for w in words):
        words = spaced_out(lines)
        lines = group_lines(words)
    text = "\n".join(line.text for line in lines)
    day_first = dates.day_first(text)
    headers = table.find_headers(lines)
    labels = find_labels(lines, LABELS, skip=set(headers))
    rows = columns.header_labels(lines, set(headers))
    if rows:  # a summary header row set close together: its labels replace the line's
        replaced = {id(lb.line) for lb in rows}
        labels = [lb for lb in labels if id(lb.line) not in replaced] + rows
    labels = [_qualified(label, labels) for label in labels]
    labels += _rated_taxes(lines, labels, set(headers))
    items, bodies = table.read_items(lines, headers, labels, reread)

    found: dict[str, list[Candidate]] = {}
    for label in labels:
        dated = _dated(label, labels, day_first)
        if dated is not None:
            found.setdefault("invoice_date", []).append(dated)
            if label.field == "_title_number" and dated.words[0] in right_of(label, labels)[:1]:
                continue  # 'Beitragsrechnung 24. Januar 2014': a date, no number
        candidate = _value(label, labels, lines, day_first, reread)
        if candidate:
            found.setdefault(label.field, []).append(candidate)
            if candidate.below and label.field in SUMMARY:  # a tax table's further rows
                found[label.field] += columns.column_below(label, labels, lines, candidate)

    fields: dict[str, Field] = {}
    issuer, buyer = parties.parties(lines, labels, page_sizes)
    if issuer:
        fields["issuer"] = issuer
        address = parties.issuer_address(lines, issuer, labels)
        if address:
            fields["issuer_address"] = address
    if buyer:
        fields["customer"] = buyer
    letter = dates.letter_date(lines, day_first)
    if letter is not None:
        found.setdefault("invoice_date", []).append(letter)
    for name in ("invoice_number", "invoice_date", "due_date", "po_number"):
        if found.get(name):
            best = max(found[name], key=lambda c: (c.size, -c.words[0].page, -c.words[0].top))
            fields[name] = best.to_field(name)
            if name == "invoice_date" and any(c.value != best.value for c in found[name]):
                # the page dates itself twice, differently (a letter's date and a print
                # date in the footer): which is the invoice's is a guess
                fields[name].confidence = min(fields[name].confidence, confidence.UNCONFIRMED)
    if "invoice_number" not in fields and found.get("_title_number"):
        fields["invoice_number"] = found["_title_number"][0].to_field("invoice_number")
    if "due_date" not in fields:
        due = dates.due_by(lines, day_first)
        if due and ("invoice_date" not in fields or due.value >= fields["invoice_date"].value):
            fields["due_date"] = due.to_field("due_date")
    if "invoice_date" not in fields:
        due = fields.get("due_date")
        unlabelled = dates.unlabelled(lines, day_first, {due.value} if due else ())
        if unlabelled:
            fields["invoice_date"] = unlabelled.to_field("invoice_date")
    chosen = summary.choose({name: found.get(name, []) for name in SUMMARY}, lines)
    if "total" not in chosen:
        paid = summary.paid_less_change(labels, found.get("subtotal", []))
        if paid is not None:
            chosen["total"] = paid
    for name, candidate in chosen.items():
        fields[name] = candidate.to_field(name)
    total = chosen.get("total")
    confirmed: set[str] = set()
    if reread:
        summary.reconcile(fields, reread)
        summary.complete(fields, lines)
        checks = [
            (fields[name], lambda ws, n=name: _value_of(n, ws, day_first))
            for name in ("invoice_number", "invoice_date", "due_date", "po_number", *SUMMARY)
            if name in fields
        ]
        # read again also the fields too sure to be re-read for their own sake but not sure
        # enough to be keyed unconfirmed (see confidence.py)
        every = frozenset(id(f) for f, _ in checks if f.confidence < confidence.CONFIRMED_OCR)
        reread_ok = table.confirm(checks + table.row_checks(items), reread, every)
        confirmed = {name for name, f in fields.items() if id(f) in reread_ok}
    currency = _currency(found.get("currency", []), total, words)
    if currency:
        fields["currency"] = currency.to_field("currency")
    terms = _terms(found.get("terms", []), lines)
    if terms:
        fields["terms"] = terms.to_field("terms")
    fields["recurring"] = _recurring(lines, words)
    if not items and other_items is not None:
        items = other_items(lines)
    summary_lines = [lb.line for lb in labels if lb.field in (*SUMMARY, "_other")]
    confidence.calibrate(fields, lines, words, summary_lines, confirmed, items)
    return fields, items, text, tables.column_tables(headers, bodies)


def _value(
    label: Label, labels: list[Label], lines: list[Line], day_first: bool, reread: Reread | None
) -> Candidate | None:
    """The typed value of ``label``: right of it, else below it, else (OCR) read again."""
    rule = f"label:{label.text}"
    if label.field == "_other" or (label.field == "tax" and columns.rate_label(label)):
        return None

    def places():
        yield right_of(label, labels)
        if label.field == "_title_number":
            return
        yield below(label, labels, lines)
        if reread and label.words[0].ocr:  # OCR may have dropped the value: read it alone
            line = label.line
            yield reread(line.page, (label.x1 + 1, line.top - 2, 1e4, line.bottom + 2), "--psm 7")

    for place, words in enumerate(places()):
        value = _typed(label.field, words, day_first)
        if value is None and label.field == "total" and place == 0:
            value = columns.row_total(words, lines)  # 'TOTAL: 67.59 309.00' under columns
        if value:
            value.rule, value.size, value.below = rule, label.size, place == 1
            return value
    return None


def _dated(label: Label, labels: list[Label], day_first: bool) -> Candidate | None:
    """The document's date printed with its title or number: 'Beitragsrechnung 24. Januar
    2014', 'Rechnung # RE-499 vom 19.05.2014'."""
    if label.field not in ("_title_number", "invoice_number"):
        return None
    words = [w for w in right_of(label, labels) if w.text not in (":", "#")]
    found = date_value(words[:4], day_first) if label.field == "_title_number" else None
    if found is not None and found.words[-1].text.isdigit() and len(found.words) == 1:
        found = None  # '20140519': a number that reads as a date
    if found is None:
        number = identifier(words[:2]) if words else None
        if number is None:
            return None
        rest = words[words.index(number.words[-1]) + 1 :]
        found = dates.after_number(rest, day_first)
    if found is not None:
        found.rule, found.size = f"label:{label.text}", label.size
    return found


def _typed(field: str, words: list[Word], day_first: bool) -> Candidate | None:
    words = [w for w in words if any(ch.isalnum() or ch in "£€$" for ch in w.text)]
    if not words:
        return None
    if field in ("invoice_number", "po_number", "_title_number"):
        return identifier(words)
    if field in ("invoice_date", "due_date"):
        return date_value(words, day_first)
    if field in SUMMARY:
        # a tax number or a reference before the figure ('TVA : FR119999... 120 000,00 €')
        # ends the label's reach: that figure belongs to something else
        ids = [i for i, w in enumerate(words) if _identifier_like(w.text)]
        words = words[: ids[0]] if ids else words
        found = amount(words, strict=True)
        if found and field == "tax" and words[-1] not in found.words:
            # 'MwSt 19 % auf 804,35 € 152,83 €': the base first, the tax last
            figures = [found]
            rest = words[words.index(found.words[-1]) + 1 :]
            later = amount(rest, strict=True)
            while later is not None:
                figures.append(later)
                rest = rest[rest.index(later.words[-1]) + 1 :]
                later = amount(rest, strict=True) if rest else None
            if len(figures) == 3 and figures[0].value + figures[1].value == figures[2].value:
                found = figures[1]  # 'MwSt A 19% 1,64 0,31 1,95': net, tax, gross
            else:
                found = figures[-1]
            found.base = figures[0].value if len(figures) >= 2 else None
        if found and field == "total" and words[-1] not in found.words:
            rest = words[words.index(found.words[-1]) + 1 :]
            if amount(rest, strict=True):  # 'TOTAL : 52.00 3.12': a tax summary's row
                return None
        return found
    if field == "terms":
        value = parse_terms(" ".join(w.text for w in words[:4]))
        return Candidate(value, words[:4], "") if value else None
    if field == "currency":
        code = words[0].text.strip(".:").upper()
        code = CURRENCY_SIGNS.get(code, code)
        return Candidate(code, words[:1], "") if code in CURRENCY_CODES else None
    return None


_TAX_ONLY = {"tax": LABELS["tax"]}


def _rated_taxes(lines: list[Line], labels: list[Label], headers: set[int]) -> list[Label]:
    """Tax labels inside a line, before a rate: 'Steuerbasisbetrag USt. 19 % 198,00 37,62'
    (a label elsewhere must begin a phrase)."""
    summary = {id(lb.line) for lb in labels if lb.field in (*SUMMARY, "_other")}
    found = []
    for index, line in enumerate(lines):
        if index in headers or id(line) in summary or "%" not in line.text:
            continue
        for i in range(1, len(line.words)):
            match = match_phrase(line, _TAX_ONLY, i)
            if match:
                end = match[1]
                after = " ".join(w.text for w in line.words[end : end + 2])
                if "%" in after:
                    found.append(Label("tax", line, i, end, match[2]))
                    break
    return found


def _qualified(label: Label, labels: list[Label]) -> Label:
    """The label with the field its qualifiers say (see labels.qualified), read up to the
    next label on its line ('TOTAL HT   TOTAL TTC': 'TTC' qualifies the second)."""
    after = []
    for word in right_of(label, labels):
        if any(ch.isdigit() for ch in word.text):
            break
        after += tokens(word.text)
    field = qualified(label.field, tokens(label.text), after)
    if field != label.field:
        label = dataclasses.replace(label, field=field)
    return label


def _identifier_like(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 4 and any(ch.isalpha() for ch in text) and not split_currency(text)[1]


def _value_of(field: str, words: list[Word], day_first: bool) -> Any:
    candidate = _typed(field, words, day_first)
    return candidate.value if candidate else None


def _currency(
    labelled: list[Candidate], total: Candidate | None, words: list[Word]
) -> Candidate | None:
    """The currency: labelled, else the total's sign or code, else the most used one."""
    if labelled:
        return labelled[0]
    if total is not None and total.currency:
        sign = next((w for w in total.words if split_currency(w.text)[1]), total.words[0])
        return Candidate(total.currency, [sign], "total")
    seen: Counter[str] = Counter()
    where: dict[str, Word] = {}
    for word in words:
        rest, code = split_currency(word.text)
        if rest[:1].isalpha() and word.text[:3].isalpha():
            code = None  # 'SARYANI', 'EUROPA': a word that begins like a code ('€/Stk' counts)
        code = code or _CURRENCY_WORDS.get(fold(word.text).strip(".:()"))
        weight = _currency_weight(word)
        if code and weight:
            seen[code] += weight
            where.setdefault(code, word)
    if not seen:
        return _country_currency(words)
    code = seen.most_common(1)[0][0]
    return Candidate(code, [where[code]], "regex:currency")


# Currencies printed as words or local signs: 'RM 12.00', '12,00 Euro', '12,00 zl'.
_CURRENCY_WORDS = {"rm": "MYR", "euro": "EUR", "euros": "EUR", "zl": "PLN", "zloty": "PLN"}
_CURRENCY_WORDS |= {"rs": "INR", "rs.": "INR", "chf": "CHF", "sfr": "CHF"}
# When no currency is printed at all: the country the page names (rule 'country:...', held
# under the threshold by its confidence: the document never says it).
_COUNTRY_CURRENCY = [
    (re.compile(r"\bsdn\.? ?bhd\b|\bmalaysia\b"), "MYR"),
    (re.compile(r"\bdeutschland\b|\bgermany\b|\bfrance\b|\bnederland\b|\bespana\b"), "EUR"),
    (re.compile(r"\bust[ .-]*id\w*\b|\bde ?\d{3} ?\d{3} ?\d{3}\b"), "EUR"),  # a German VAT id
    (re.compile(r"\bosterreich\b|\bitalia\b|\bbelgique\b|\bbelgie\b|\bportugal\b"), "EUR"),
    (re.compile(r"\bsp\. ?z o\.? ?o\b|\bpolska\b|\bpoland\b"), "PLN"),
    (re.compile(r"\bunited kingdom\b"), "GBP"),
    (re.compile(r"\bgstin\b|\bindia\b"), "INR"),
]


def _currency_weight(word: Word) -> int:
    """How much a word counts as a printed currency: a code or word ('EUR', 'RM', 'Euro')
    2, a sign ('€', '12,00€', '€/Stk') 1, a word OCR read unsurely 0 (a smudge read as
    '¥' or '$')."""
    if word.ocr and word.conf < seller.NOISE:
        return 0
    core = word.text.strip(".:()")
    return 2 if core.isalpha() and len(core) >= 2 else 1


def _country_currency(words: list[Word]) -> Candidate | None:
    text = fold(" ".join(w.text for w in words))
    found = {code for pattern, code in _COUNTRY_CURRENCY if pattern.search(text)}
    if len(found) != 1 or not words:
        return None
    code = found.pop()
    return Candidate(code, words[:1], f"country:{code}")


def _terms(labelled: list[Candidate], lines: list[Line]) -> Candidate | None:
    if labelled:
        return labelled[0]
    for line in lines:
        value = parse_terms(line.text)
        if value:
            return Candidate(value, line.words, "regex:terms")
    return None


def _recurring(lines: list[Line], words: list[Word]) -> Field:
    for line in lines:
        folded = " ".join(_fuzzy_recurring(t) for t in fold(line.text).split())
        if _RECURRING.search(folded) and not _NOT_RECURRING.search(folded):
            return Candidate(True, line.words, "regex:recurring").to_field("recurring")
    # Not saying so is as sure as the reading of the page: the median word confidence.
    confs = sorted(w.conf for w in words)
    conf = confs[len(confs) // 2] if confs and any(w.ocr for w in words) else 0.99
    return Field("recurring", False, "", round(conf, 3), 1, None, "default")


def _fuzzy_recurring(token: str) -> str:
    core = token.strip(".,;:")
    if len(core) == 9 and sum(a != b for a, b in zip(core, "recurring", strict=True)) <= 1:
        return "recurring"
    return token
