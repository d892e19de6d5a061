"""Typed values from printed text: amounts, quantities, dates, identifiers, payment terms.

Each parser takes the text as printed (or as OCR read it) and returns the value or None.
They know the usual national spellings (decimal comma, thousands dot or apostrophe, day
before or after the month, month names in English, German and French) and the usual OCR
confusions in numbers (O for 0, l for 1), which they repair and report.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

CURRENCY_SIGNS = {
    "£": "GBP",
    "€": "EUR",
    "$": "USD",
    "¥": "JPY",
    "₹": "INR",
    "₩": "KRW",
    "₺": "TRY",
    "zł": "PLN",
    "Kč": "CZK",
}
_DOLLARS = {"US": "USD", "C": "CAD", "CA": "CAD", "A": "AUD", "AU": "AUD", "NZ": "NZD"}
_DOLLARS |= {"HK": "HKD", "S": "SGD", "SG": "SGD", "MX": "MXN", "R": "BRL"}
CURRENCY_CODES = frozenset(
    "GBP EUR USD CHF JPY CAD AUD NZD SEK NOK DKK PLN CZK HUF INR CNY HKD SGD ZAR MXN BRL RON "
    "BGN TRY KRW ISK ILS AED SAR".split()
)
TERMS = ("NET15", "NET30", "NET60", "DUE_ON_RECEIPT")

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "januar": 1,
    "februar": 2,
    "marz": 3,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "oktober": 10,
    "dezember": 12,
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
    "sept": 9,
    "juil": 7,
    "janv": 1,
    "fevr": 2,
    "dez": 12,
    "okt": 10,
    "mrz": 3,
    "janner": 1,
    "jaenner": 1,
    "maerz": 3,
    "avr": 4,
    "fev": 2,
    # Dutch, Spanish, Polish (nominative and genitive), Malay
    "januari": 1,
    "februari": 2,
    "maart": 3,
    "mei": 5,
    "augustus": 8,
    "enero": 1,
    "febrero": 2,
    "marzo": 3,
    "abril": 4,
    "mayo": 5,
    "junio": 6,
    "julio": 7,
    "agosto": 8,
    "septiembre": 9,
    "setiembre": 9,
    "octubre": 10,
    "noviembre": 11,
    "diciembre": 12,
    "styczen": 1,
    "stycznia": 1,
    "luty": 2,
    "lutego": 2,
    "marzec": 3,
    "marca": 3,
    "kwiecien": 4,
    "kwietnia": 4,
    "maj": 5,
    "maja": 5,
    "czerwiec": 6,
    "czerwca": 6,
    "lipiec": 7,
    "lipca": 7,
    "sierpien": 8,
    "sierpnia": 8,
    "wrzesien": 9,
    "wrzesnia": 9,
    "pazdziernik": 10,
    "pazdziernika": 10,
    "listopad": 11,
    "listopada": 11,
    "grudzien": 12,
    "grudnia": 12,
    "mac": 3,
    "jun": 6,
    "julai": 7,
    "ogos": 8,
    "disember": 12,
}
_ABBREVIATIONS = {name[:3]: n for name, n in _MONTHS.items() if len(name) > 4 and name[:3]}
_ABBREVIATIONS.update(
    {
        "jan": 1,
        "feb": 2,
        "mar": 3,
        "apr": 4,
        "may": 5,
        "jun": 6,
        "jul": 7,
        "aug": 8,
        "sep": 9,
        "oct": 10,
        "nov": 11,
        "dec": 12,
        "mei": 5,
        "des": 12,
        "dis": 12,
        "ene": 1,
        "ago": 8,
        "dic": 12,
        "sty": 1,
        "lut": 2,
        "kwi": 4,
        "cze": 6,
        "lip": 7,
        "sie": 8,
        "wrz": 9,
        "paz": 10,
        "lis": 11,
        "gru": 12,
    }
)

# OCR confusions inside numbers: letters that are digits when digits surround them.
_DIGIT_LOOKALIKES = str.maketrans(
    {
        "O": "0",
        "o": "0",
        "D": "0",
        "Q": "0",
        "l": "1",
        "I": "1",
        "|": "1",
        "]": "1",
        "[": "1",
        "!": "1",
        "i": "1",
        "S": "5",
        "B": "8",
        "Z": "2",
        "§": "5",
    }
)


@functools.lru_cache(maxsize=1 << 16)  # the same words come again and again
def fold(text: str) -> str:
    """Lower case without accents: 'Fällig' -> 'fallig', 'Désignation' -> 'designation'."""
    text = text.replace("ß", "ss").replace("ẞ", "ss")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def tokens(text: str) -> list[str]:
    """Folded word tokens of ``text`` for label matching: 'Invoice No.:' -> ['invoice', 'no']."""
    return list(_tokens(text))


@functools.lru_cache(maxsize=1 << 16)
def _tokens(text: str) -> tuple[str, ...]:
    folded = fold(text).replace("#", " # ")
    return tuple(_NOT_TOKEN.sub(" ", folded).split())


_NOT_TOKEN = re.compile(r"[^a-z0-9#]+")


def repair_digits(text: str) -> tuple[str, bool]:
    """Undo OCR letter-for-digit confusions in the mostly-numeric parts of ``text``."""
    parts = re.split(r"([\s\-/])", text)
    repaired = False
    for i, part in enumerate(parts):
        digits = sum(ch.isdigit() for ch in part)
        if digits and digits * 2 >= sum(ch.isalnum() for ch in part):
            fixed = part.translate(_DIGIT_LOOKALIKES)
            if fixed != part:
                parts[i], repaired = fixed, True
    return "".join(parts), repaired


def split_currency(text: str) -> tuple[str, str | None]:
    """Strip a currency sign or code from either end: '£1,234.50' -> ('1,234.50', 'GBP')."""
    text = text.strip()
    currency = None
    for sign, code in CURRENCY_SIGNS.items():
        if sign in text:
            currency = code
            if sign == "$":  # 'US$', 'C$', 'A$', 'NZ$', 'HK$': which dollar
                prefix = re.search(r"([A-Z]{1,2})\$", text)
                if prefix and prefix[1] in _DOLLARS:
                    currency = _DOLLARS[prefix[1]]
                    text = text.replace(prefix[1], "", 1)
            text = text.replace(sign, "")
            break
    else:
        if re.match(r"^(Fr\.|SFr\.?)", text):  # Swiss francs: 'Fr. 1'234.50'
            return re.sub(r"^S?Fr\.?\s*", "", text).strip(), "CHF"
        if re.match(r"^RM\s?-?\d", text):  # Malaysian ringgit: 'RM9.70'
            return text[2:].strip(), "MYR"
        match = re.match(r"^([A-Z]{3})\s*(.*)$", text) or re.match(r"^(.*?)\s*([A-Z]{3})$", text)
        if match:
            code = next((g for g in match.groups() if g in CURRENCY_CODES), None)
            if code:
                currency = code
                text = text.replace(code, "")
    return text.strip(), currency


_DECIMAL_POINT = re.compile(r"(\d{1,3}(?:[,' ’]\d{3})+|\d+)(?:\.(\d{1,2}))?")
_DECIMAL_COMMA = re.compile(r"(\d{1,3}(?:[.' ’]\d{3})+|\d+)(?:,(\d{1,2}))?")


def parse_amount(
    text: str, strict: bool = False, currency: str | None = None, decimal: str | None = None
) -> Decimal | None:
    """An amount with either decimal mark and any thousands separator, to 2 places.

    '1,234.50', '1.234,50', "1'234.50", '1 234,50', '£1,234.50', '1.234,50 €' -> 1234.50.
    ``strict`` accepts only amounts with 2 decimals or a currency sign (so '20' in 'VAT 20'
    or a reference number is not taken for money). ``decimal`` ('.' or ',') says which mark
    is the decimal one when the document's convention is known (a template's option): then
    '1.234' is 1234.00 and '7,5' is 7.50.
    """
    number, sign = split_currency(text)
    currency = currency or sign
    number = number.strip("():;*")
    negative = number.startswith(("-", "−")) or number.endswith("-")
    number = number.strip("-−").strip()
    if decimal in (".", ","):
        pattern = _DECIMAL_COMMA if decimal == "," else _DECIMAL_POINT
        match = pattern.fullmatch(number)
        if not match:
            return None
        digits, cents = re.sub(r"\D", "", match[1]), (match[2] or "0").ljust(2, "0")
        value = Decimal(f"{digits}.{cents}")
        return -value if negative else value
    match = re.fullmatch(r"(\d{1,3}(?:[.,' ’]\d{3})+|\d+)(?:([.,])(\d{1,2}))?", number)
    if not match:
        return None
    whole, mark, cents = match.groups()
    if mark is None and re.fullmatch(r"\d{1,3}[.,]\d{3}", whole) and strict and not currency:
        return None  # '1.234' alone: a thousands mark or 3 decimals? not money we trust
    if strict and not currency and (cents is None or len(cents) != 2):
        return None
    digits = re.sub(r"\D", "", whole)
    try:
        value = Decimal(f"{digits}.{(cents or '0').ljust(2, '0')}")
    except InvalidOperation:
        return None
    return -value if negative else value


def parse_quantity(text: str) -> Decimal | None:
    """A quantity: '2', '7.5', '7,5', '1,000' (thousands), '3 h', '12x' -> Decimal."""
    number = re.sub(r"\s*(x|h|hrs?|pcs?|stk|std)\.?$", "", text.strip(), flags=re.IGNORECASE)
    match = re.fullmatch(r"(\d{1,3}(?:[.,']\d{3})+|\d+)(?:[.,](\d{1,3}))?", number)
    if not match:
        return None
    whole, fraction = match.groups()
    if fraction is not None and len(fraction) == 3 and re.fullmatch(r"\d{1,3}", whole):
        whole, fraction = whole + fraction, None  # '1,000': a thousands mark
    value = Decimal(re.sub(r"\D", "", whole) + (f".{fraction}" if fraction else ""))
    return value


_GLUED_TIME = re.compile(
    r"\b(\d{1,2}[/.-]\d{1,2}[/.-]\d{4})([0-2]?\d:[0-5]\d(?::[0-5]\d)?(?:\s*[ap]\.?m\.?)?)"
)


def parse_date(text: str, day_first: bool = False, order: str | None = None) -> date | None:
    """A date in the usual printed forms -> date.

    ISO '2026-03-05', '2026/03/05', '20260305'; '05.03.2026' (day.month.year); '5 Mar 2026',
    '05-Mar-2026', '5. März 2026', '1er mars 2026', 'Montag, 5. März 2026'; 'March 5, 2026';
    '03/05/2026' as month/day unless ``day_first`` (or the first number cannot be a month).
    ``order`` ('DMY', 'MDY' or 'YMD', a template's option) says how to read all-number dates.
    """
    folded = fold(text).strip().rstrip(".,;:").lstrip(":")  # ':12-03-2018': a label's colon
    folded = re.sub(r"\s+", " ", folded)
    folded = _WEEKDAY.sub("", folded)
    folded = _GLUED_TIME.sub(r"\1", folded)  # '12/03/201810:25:49': OCR lost the space
    folded = _TIME.sub("", folded).strip().rstrip(".,;:")  # '19-05-2018 12:46:58 pm'
    folded = re.sub(r"\s*([-/.])\s*(?=\d)", r"\1", folded) if _SPACED.fullmatch(folded) else folded
    if order == "YMD":
        m = re.fullmatch(r"(\d{2}|\d{4})[-/. ](\d{1,2})[-/. ](\d{1,2})", folded)
        if m:
            return _date(_year(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", folded) or re.fullmatch(
        r"(20\d{2})(\d{2})(\d{2})", folded
    )
    if m:
        return _date(int(m[1]), int(m[2]), int(m[3]))
    m = re.fullmatch(r"(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{2}|\d{4})", folded)
    if m and order != "MDY":
        return _date(_year(m[3]), int(m[2]), int(m[1]))
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})", folded)
    if m:
        first, second = int(m[1]), int(m[2])
        if order == "MDY":
            return _date(_year(m[3]), first, second)
        if day_first or order == "DMY" or first > 12:
            found = _date(_year(m[3]), second, first)
            # '12/28/2017' read day first is impossible: the printed order is month first
            return found or (None if order else _date(_year(m[3]), first, second))
        return _date(_year(m[3]), first, second) or _date(_year(m[3]), second, first)
    m = re.fullmatch(
        r"(\d{1,2})(?:st|nd|rd|th|er)?\.?[\s/-]?(?:de\s)?([a-z]+)\.?[\s,/-]*(?:de\s)?(\d{4}|\d{2})",
        folded,
    )
    if m and (month := _month(m[2])):
        return _date(_year(m[3]), month, int(m[1]))
    m = re.fullmatch(r"([a-z]+)\.?\s?(\d{1,2})(?:st|nd|rd|th)?,?\s?(\d{4})", folded)
    if m and (month := _month(m[1])):
        return _date(int(m[3]), month, int(m[2]))
    return None


_TIME = re.compile(r"\s+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?\s*(?:[ap]\.?m\.?|h|uhr)?$")
_SPACED = re.compile(r"\d{1,4}\s*[-/.]\s*\d{1,2}\s*[-/.]\s*\d{2,4}")


_WEEKDAY = re.compile(
    r"^(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|montag|dienstag|mittwoch|donnerstag|"
    r"freitag|samstag|sonntag|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|"
    r"(?:mon|tue|wed|thu|fri|sat|sun)\.?)?,?\s*(?:le\s+|den\s+|am\s+)?"
)


def _month(name: str) -> int | None:
    return _MONTHS.get(name) or (_ABBREVIATIONS.get(name[:3]) if len(name) >= 3 else None)


def _year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _date(year: int, month: int, day: int) -> date | None:
    if not 1970 <= year <= 2099:  # '3800-12-04': a misread, not a date
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


def parse_identifier(text: str) -> str | None:
    """An invoice or order number as printed: 'INV-0042', '000482'; None for words or dates."""
    value = text.strip().strip(".,:;#()[]")
    if not value or not any(ch.isdigit() for ch in value) or len(value) > 40:
        return None
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9\-/_.]*", value):
        return None
    return value


def parse_terms(text: str) -> str | None:
    """Payment terms -> 'NET15', 'NET30', 'NET60' or 'DUE_ON_RECEIPT' (None otherwise)."""
    folded = fold(text)
    m = re.search(r"\bnet(?:to)?\s*(\d{1,3})\b", folded) or re.search(
        r"\b(\d{1,3})\s*(?:days|tage|jours)\b", folded
    )
    if m:
        terms = f"NET{int(m[1])}"
        return terms if terms in TERMS else None
    if re.search(
        r"\b(due|payable)\s+(up)?on\s+(receipt|delivery)\b|\bsofort\b|\breception\b"
        r"|\bimmediate(ly)?\b",
        folded,
    ):
        return "DUE_ON_RECEIPT"
    return None
