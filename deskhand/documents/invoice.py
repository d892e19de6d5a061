"""The generic invoice reader: labels and their values, the line-item table, the issuer.

Nothing here knows a vendor. Fields are found by their labels in several languages and
spellings, with the value right of or below the label; line items by the table's header row
and the columns it defines; the issuer as the most prominent name at the top of page one.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from . import parties, table
from .layout import Label, below, find_labels, group_lines, phrases, right_of
from .model import Field, Line, Reread, Word, union
from .parse import (
    CURRENCY_CODES,
    CURRENCY_SIGNS,
    fold,
    parse_amount,
    parse_date,
    parse_identifier,
    parse_terms,
    repair_digits,
    split_currency,
    tokens,
)

REPAIRED = 0.9  # confidence factor for a value that needed an OCR repair

_LABELS = {
    "invoice_number": "invoice no|invoice number|invoice #|invoice nr|invoice num|inv no|inv #|"
    "invoice id|rechnungsnummer|rechnungsnr|rechnungs nr|rechnung nr|facture n|facture no|"
    "facture numero|numero de facture|n de facture|no de facture|receipt no|receipt number|"
    "receipt #|beleg nr|belegnummer|bon nr|ticket n|ticket no|recu n|quittung nr",
    "invoice_date": "invoice date|date of issue|issue date|date issued|billing date|date|datum|"
    "rechnungsdatum|date de facture|date facture|date d emission",
    "due_date": "due date|due|payment due|due by|fallig|fallig am|falligkeit|falligkeitsdatum|"
    "zahlbar bis|echeance|date d echeance",
    "po_number": "po number|po no|po #|po|purchase order|purchase order no|purchase order number|"
    "order no|bestellnummer|bestellnr|bestell nr|bon de commande|commande n",
    "terms": "payment terms|terms|terms of payment|zahlungsbedingungen|zahlungsziel|"
    "conditions de paiement|conditions de reglement",
    "subtotal": "subtotal|sub total|net total|net amount|total net|total excl vat|zwischensumme|"
    "nettobetrag|summe netto|total ht|sous total|montant ht",
    "tax": "vat|tax|sales tax|gst|hst|mwst|ust|umsatzsteuer|mehrwertsteuer|tva",
    "total": "total|total due|amount due|balance due|grand total|total amount|invoice total|"
    "amount payable|gesamtbetrag|gesamtsumme|rechnungsbetrag|zahlbetrag|endbetrag|summe|"
    "total ttc|montant ttc|net a payer|montant du|amount paid|total paid|zu zahlen|a payer|"
    "total a payer|montant total|total amount due",
    "currency": "currency|wahrung|devise",
}
LABELS = {field: [tokens(s) for s in spellings.split("|")] for field, spellings in _LABELS.items()}
SUMMARY = ("subtotal", "tax", "total")
_TITLES = ("invoice", "rechnung", "facture", "receipt", "quittung", "credit note", "gutschrift")
_RECURRING = re.compile(r"\b(recurring|wiederkehrend\w*|recurrent\w*|dauerrechnung)\b")
_NOT_RECURRING = re.compile(
    r"\b(not|non|kein\w*|pas)[\s-]+(a\s+|une?\s+)?(recurring|wiederk|recurr)"
)
_OCR_DASHES = re.compile(r"(?<=[A-Za-z0-9])[~—–](?=[A-Za-z0-9])")
_LEGAL_FORMS = set("ltd limited gmbh ag inc llc llp plc sarl sa sas bv nv ab oy corp co".split())
_LEGAL_FORMS |= {"kg", "srl", "spa", "pty", "services"}


@dataclass
class Candidate:
    """A possible value for a field, with the words it was read from."""

    value: Any
    words: list[Word]
    rule: str
    repaired: bool = False
    size: int = 1
    currency: str | None = None

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


def extract(
    words: list[Word], page_sizes: list[tuple[float, float]], reread: Reread | None = None
) -> tuple[dict[str, Field], list[dict[str, Field]], str]:
    """Read an invoice from the words of all its pages: (fields, line items, text)."""
    lines = group_lines(words)
    text = "\n".join(line.text for line in lines)
    day_first = _day_first(text)
    headers = table.find_headers(lines)
    labels = find_labels(lines, LABELS, skip=set(headers))
    items = table.read_rows(lines, headers, labels, reread)

    found: dict[str, list[Candidate]] = {}
    for label in labels:
        candidate = _value(label, labels, lines, day_first, reread)
        if candidate:
            found.setdefault(label.field, []).append(candidate)

    fields: dict[str, Field] = {}
    issuer = _issuer(lines, labels, page_sizes)
    if issuer:
        fields["issuer"] = issuer.to_field("issuer")
        address = parties.issuer_address(lines, fields["issuer"], labels)
        if address:
            fields["issuer_address"] = address
    buyer = parties.customer(lines, labels)
    if buyer:
        fields["customer"] = buyer
    for name in ("invoice_number", "invoice_date", "due_date", "po_number", "subtotal", "tax"):
        if found.get(name):
            best = max(found[name], key=lambda c: (c.size, -c.words[0].page, -c.words[0].top))
            fields[name] = best.to_field(name)
    total = _pick_total(found.get("total", []), fields)
    if total:
        fields["total"] = total.to_field("total")
    if reread:
        _reconcile(fields, reread)
        checks = [
            (fields[name], lambda ws, n=name: _value_of(n, ws, day_first))
            for name in ("invoice_number", "invoice_date", "due_date", "po_number", *SUMMARY)
            if name in fields
        ]
        table.confirm(checks + table.row_checks(items), reread)
    currency = _currency(found.get("currency", []), total, words)
    if currency:
        fields["currency"] = currency.to_field("currency")
    terms = _terms(found.get("terms", []), lines)
    if terms:
        fields["terms"] = terms.to_field("terms")
    fields["recurring"] = _recurring(lines, words)
    return fields, items, text


def _day_first(text: str) -> bool:
    """How to read 03/05/2026: as a date that cannot be month-first says, else as the
    currency suggests (dollars: month first; pounds, euros and the rest: day first)."""
    pairs = [(int(m[1]), int(m[2])) for m in re.finditer(r"\b(\d{1,2})/(\d{1,2})/\d{2,4}\b", text)]
    if any(first > 12 for first, _ in pairs):
        return True
    if any(second > 12 for _, second in pairs):
        return False
    dollars = text.count("$") + len(re.findall(r"\bUSD\b", text))
    others = sum(text.count(sign) for sign in "£€") + len(re.findall(r"\b(EUR|GBP|CHF)\b", text))
    return others >= dollars if (dollars or others) else False


def _value(
    label: Label, labels: list[Label], lines: list[Line], day_first: bool, reread: Reread | None
) -> Candidate | None:
    """The typed value of ``label``: right of it, else below it, else (OCR) read again."""
    rule = f"label:{label.text}"

    def places():
        yield right_of(label, labels)
        yield below(label, labels, lines)
        if reread and label.words[0].ocr:  # OCR may have dropped the value: read it alone
            line = label.line
            yield reread(line.page, (label.x1 + 1, line.top - 2, 1e4, line.bottom + 2), "--psm 7")

    for words in places():
        value = _typed(label.field, words, day_first)
        if value:
            value.rule, value.size = rule, label.size
            return value
    return None


def _typed(field: str, words: list[Word], day_first: bool) -> Candidate | None:
    words = [w for w in words if any(ch.isalnum() or ch in "£€$" for ch in w.text)]
    if not words:
        return None
    if field in ("invoice_number", "po_number"):
        return identifier(words)
    if field in ("invoice_date", "due_date"):
        return _date(words, day_first)
    if field in SUMMARY:
        return amount(words, strict=True)
    if field == "terms":
        value = parse_terms(" ".join(w.text for w in words[:4]))
        return Candidate(value, words[:4], "") if value else None
    if field == "currency":
        code = words[0].text.strip(".:").upper()
        code = CURRENCY_SIGNS.get(code, code)
        return Candidate(code, words[:1], "") if code in CURRENCY_CODES else None
    return None


def _value_of(field: str, words: list[Word], day_first: bool) -> Any:
    candidate = _typed(field, words, day_first)
    return candidate.value if candidate else None


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


def _date(words: list[Word], day_first: bool) -> Candidate | None:
    for n in range(min(4, len(words)), 0, -1):
        text = " ".join(w.text for w in words[:n])
        repaired = False
        if words[0].ocr:
            text, repaired = repair_digits(text)
        value = parse_date(text, day_first)
        if value:
            return Candidate(value, words[:n], "", repaired)
    return None


def amount(words: list[Word], strict: bool, decimal: str | None = None) -> Candidate | None:
    """The first amount in ``words`` (skipping rates like '20%'), with its currency sign."""
    for i, word in enumerate(words):
        after = words[i + 1].text if i + 1 < len(words) else ""
        if "%" in word.text or after.startswith("%"):
            continue
        number, currency = split_currency(word.text)
        used = [word]
        if after and re.fullmatch(r"\d{1,3}", number) and re.fullmatch(r"\d{3}([.,]\d{2})?", after):
            if words[i + 1].x0 - word.x1 < 0.75 * word.height:  # '1 234,50', or a lost comma
                number, used = f"{number} {after}", [word, words[i + 1]]
                after = words[i + 2].text if i + 2 < len(words) else ""
        following = words[i + len(used)] if after else None
        for neighbour in (words[i - 1] if i else None, following):
            if neighbour and not currency:
                sign = split_currency(neighbour.text)
                if sign[1] and not sign[0]:
                    currency = sign[1]
                    used.append(neighbour)
        repaired = False
        if word.ocr:
            number, repaired = repair_digits(number)
        value = parse_amount(number, strict=strict, currency=currency, decimal=decimal)
        if value is not None:
            used.sort(key=lambda w: w.x0)
            return Candidate(value.quantize(Decimal("0.01")), used, "", repaired, 1, currency)
    return None


def _reconcile(fields: dict[str, Field], reread: Reread) -> None:
    """OCR: when subtotal + tax != total, read each again alone and keep sums that add up."""
    if not {"subtotal", "total"} <= fields.keys():
        return
    names = [n for n in SUMMARY if n in fields]
    zero = Decimal("0.00")

    def adds_up(values: dict[str, Decimal]) -> bool:
        return values["subtotal"] + values.get("tax", zero) == values["total"]

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


def _pick_total(candidates: list[Candidate], fields: dict[str, Field]) -> Candidate | None:
    """The total: the one that adds up when there is a choice, else the lowest on the page."""
    if not candidates:
        return None
    subtotal = fields.get("subtotal")
    if subtotal:
        tax = fields["tax"].value if "tax" in fields else Decimal("0.00")
        adding_up = [c for c in candidates if c.value == subtotal.value + tax]
        if adding_up:
            candidates = adding_up
    return max(candidates, key=lambda c: (c.words[0].page, c.words[0].top))


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
        code = split_currency(word.text)[1]
        if code:
            seen[code] += 1
            where.setdefault(code, word)
    if not seen:
        return None
    code = seen.most_common(1)[0][0]
    return Candidate(code, [where[code]], "regex:currency")


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


def _issuer(
    lines: list[Line], labels: list[Label], page_sizes: list[tuple[float, float]]
) -> Candidate | None:
    """The issuer: the most prominent name (big type, near the top) on page one's top third."""
    labelled = {id(w) for lb in labels for w in lb.words}
    height = page_sizes[0][1] if page_sizes else 842.0
    best, best_score = None, 0.0
    first = True
    for line in lines:
        if line.page != 1 or line.top > height / 3:
            continue
        for phrase in phrases(line):
            text = " ".join(w.text for w in phrase)
            letters = sum(ch.isalpha() for ch in text)
            digits = sum(ch.isdigit() for ch in text)
            if (
                letters < 3
                or digits * 4 > letters
                or "@" in text
                or "www" in text.lower()
                or any(id(w) in labelled for w in phrase)
                or any(t in fold(text) for t in _TITLES)
            ):
                continue
            size = max(w.height for w in phrase)
            legal = {t for t in tokens(text)} & _LEGAL_FORMS
            score = size * (1.15 if legal else 1.0) * (1.1 if first else 1.0)
            if score > best_score:
                best, best_score = phrase, score
            first = False
    if not best:
        return None
    return Candidate(" ".join(w.text for w in best).strip(" ,;:"), best, "layout:top-name")
