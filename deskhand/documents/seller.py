"""Who issued the document and who it is for: the seller and the billed customer.

Nothing here knows a party. Every name-like phrase of page one is a candidate; the seller's is
the one the page's cues point at, each cue one a seller prints about itself:

- a legal form or a trade beside it (GmbH, Ltd, Inc, B.V., S.A., SDN BHD, Sp. z o.o., Pvt;
  Restaurant, Trading, Store ...);
- the sender line over an envelope window ('Muster GmbH | Hauptstr. 1 | 10115 Berlin'),
  whose first part is the sender and whose next lines are the addressee;
- a company registration, VAT or GST number on the next lines ('(867388-U)', 'GST No.');
- its name in the page's e-mail or web addresses (info@muster.de), or printed again (the footer);
- a "From" / "Seller" / "Lieferant" / "Sold by" label over it;
- big type near the top of the page.

Candidates in the customer's block (under "Bill to", "Attn", "Sold to", "Guest", "Kunde",
after a salutation, or under the sender line) are the customer, never the seller.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .layout import Label, below, phrase_starts, phrases, right_of
from .model import Field, Line, Word, union
from .parse import CURRENCY_CODES, fold, tokens

_SELLER_LABELS = (
    "from|de|seller|vendor|supplier|lieferant|verkaufer|rechnungsersteller|fournisseur|"
    "vendeur|emetteur|proveedor|vendedor|sprzedawca|sold by|issued by|bill from|billed by|"
    "leverancier|verkoper"
)
_CUSTOMER_LABELS = (
    "bill to|billed to|invoice to|sold to|customer|client|kunde|rechnung an|"
    "rechnungsempfanger|rechnungsadresse|facture a|facturer a|factura a|destinataire|"
    "adresse client|adresse du client|adresse de facturation|buyer|kaufer|acheteur|comprador|"
    "nabywca|klant|afnemer|attn|attention|guest|guest name|customer name|messrs|m s|to|an|"
    "pour|for|ship to|deliver to|lieferadresse|adresse de livraison|cliente|bill to party|"
    "sold to party"
)
LABELS = {
    "seller": [tokens(s) for s in _SELLER_LABELS.split("|")],
    "customer": [tokens(s) for s in _CUSTOMER_LABELS.split("|")],
}
_DELIVERY = {"ship", "deliver", "lieferadresse", "livraison"}
LEGAL = frozenset(
    "gmbh ag kg ohg ug ltd limited inc incorporated llc llp lp plc sarl sa sas sasu eurl bv "
    "nv ab oy as aps spa srl sl sdn bhd pvt pte pty corp corporation co company sp zoo "
    "kft sro gbr ev".split()
)
_TRADES = frozenset(
    "restaurant restoran trading enterprise enterprises store stores mart supermarket "
    "hypermarket pharmacy hardware bakery bakeries cafe kitchen bistro hotel services "
    "stationery bookstore bookstores marketing industries holdings group telecom bank "
    "apotheke markt baumarkt drogerie tankstelle boulangerie pharmacie shop gmbh".split()
)
_SALUTATION = re.compile(
    r"^(herr|herrn|frau|mr|mrs|ms|miss|dr|m|mme|mlle|madame|monsieur|sr|sra)\.?$"
)
_ADDRESS = re.compile(
    r"(\w(strasse|str\.?|weg|allee|platz|gasse|straat|laan)\s*\d|^[a-z][a-z.-]+ \d{1,4}[a-z]?$|"
    r"\b(street|st|road|rd|avenue|ave|lane|drive|blvd|suite|floor|flr|"
    r"jalan|jln|lorong|lrg|"
    r"taman|lot|no|strasse|str|weg|allee|platz|gasse|rue|chemin|boulevard|bd|avenida|calle|"
    r"ulica|ul|straat|laan|plein|box|postfach|bp|cedex|building|bldg|plaza|mall|level|"
    r"kawasan|bandar|seksyen|persiaran|adresse|address|anschrift|direccion|adres)\b)"
)
_DATE_TIME = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\b|\b\d{1,2}:\d{2}\b")
_POSTCODE = re.compile(r"\b(\d{4,6}|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2})\b")
_REGISTRATION = re.compile(
    r"(\(\s*\d{3,}[- ]?[a-z]\s*\)|\b(co\.? ?reg|company no|co\.? no|roc|ssm|gst|vat|ust|"
    r"tva|siret|siren|hrb|hra|registergericht|steuer|tax id|abn|cin|gstin|nip|kvk|btw|"
    r"business registration|reg\.? no)\b)"
)
_HEADING = re.compile(
    r"\b(invoice|rechnung|facture|factura|factuur|faktura|receipt|quittung|beleg|bon|"
    r"summary|statement|page|seite|thank|thanks|welcome|copy|original|duplicate|cashier|"
    r"table|guest|member|terminal|counter|pos|check|tax|gst|total|subtotal|amount|date|"
    r"time|tel|phone|fax|email|mail|web|www|hours|opening|account|customer|client|"
    r"kunde|order|bill|pay|payment|due|balance|logo|qty|item|description|price|"
    r"simplified|cash|change|sales|slip|delivery|lieferschein|kasse|datum|uhrzeit|buyer|"
    r"kaufer|acheteur|comprador|nabywca|seller|vendeur|verkaufer)\b"
)
_SEPARATORS = re.compile(r"\s[•●·|–—]\s|\s-\s|\s\|\s|•|●|·|\|")
_REGISTERED = re.compile(r"\(?(co\.? ?(reg\.?|no\.?) ?:?)?\d[\d-]{3,}[- ]?[A-Za-z]?\)?", re.I)
SURE_OCR = 0.88  # an OCR name is sure only when its words were read at least this surely
_WEAK = {"trade", "printed again", "heading"}  # cues a customer's name may have as well
# what makes a chosen seller's name unsure: the page prints a legal name it is not (the
# trading name over the company's), a name line sits over it (a name on two lines), an
# address line over it (the address's last line), or it is a few letters only
# (a payee named in a sentence may be a bank, an agency or an acronym of the seller)
_DOUBT = {"legal name elsewhere", "name above", "under an address", "short", "payable to"}
_DOMAIN = re.compile(r"(?:@|www\.|https?://)([a-z0-9-]+(?:\.[a-z0-9-]+)*)")


@dataclass
class Name:
    """A name-like phrase and what the page says about it."""

    words: list[Word]
    score: float = 0.0
    cues: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(w.text for w in self.words).strip(" ,;:-|")


def _legal_name(best: Name, candidates: list[Name], page: list[Line], height: float) -> Name:
    """The seller's legal name when the header prints one under its trading name ('Harvey
    Norman' over 'Elitetrax Marketing Sdn Bhd (616227-D)', a logo over 'Muster GmbH' and its
    address): a name with a legal form and its registration or address in the top third.
    Else ``best``, marked unsure when the page prints a legal name elsewhere (the footer's
    company line) or a name line lies right above it."""
    if "legal form" in best.cues:
        return best
    legal = [n for n in candidates if "legal form" in n.cues and fold(n.text) != fold(best.text)]
    header = [
        n
        for n in legal
        if {"registration", "address under it"} & set(n.cues) and n.words[0].top < height / 3
    ]
    if header:
        chosen = max(header, key=lambda n: n.score)
        chosen.cues.append("legal name under the trading name")
        return chosen
    if legal:
        best.cues.append("legal name elsewhere")
    index = next((i for i, ln in enumerate(page) if best.words[0] in ln.words), 0)
    if 0 < index <= 3:
        above = [w for w in page[index - 1].words if w.x1 > best.words[0].x0]
        if above and any(_name_like(n.text) for n in [Name(above)]):
            best.cues.append("name above")
    return best


def _whole(label: Label) -> bool:
    """A party's label only when it ends in a colon or its phrase: 'Lieferant GmbH', 'Pay to
    the order of' and 'period from' are not labels of a party."""
    line = label.line
    if len(tokens(label.text)) == 1 and label.start not in phrase_starts(line):
        return False  # '1 an': a word after a number, not a label
    if label.words[-1].text.endswith(":"):
        return True
    nxt = line.words[label.end] if label.end < len(line.words) else None
    if nxt is not None and nxt.text.startswith(":"):
        return True
    return nxt is None or label.end in phrase_starts(line)


def _field(name: str, found: Name | None) -> Field | None:
    if found is None:
        return None
    cues = list(dict.fromkeys(found.cues))
    labelled = [c for c in cues if c.startswith("label:")]
    # Two cues of its own make a name sure: a legal form alone is as often the customer's.
    strong = [c for c in cues if c not in _WEAK and c not in _DOUBT]
    sure = len(strong) >= 2 or (len(strong) == 1 and len(cues) >= 2)
    sure = sure and not set(cues) & _DOUBT
    read = min(w.conf for w in found.words)
    if found.words[0].ocr and read < SURE_OCR:
        sure = False  # a name read unsurely is often a name misread
    conf = read * (0.97 if sure else 0.55 if cues else 0.4)
    rule = labelled[0] if labelled else "layout:" + (", ".join(cues) or "top of page")
    return Field(
        name, found.text, found.text, round(conf, 3), found.words[0].page, union(found.words), rule
    )


def _phrase_at(line: Line, word: Word) -> list[Word]:
    return next((p for p in phrases(line) if word in p), [word])


def _address_below(words: list[Word], page: list[Line]) -> bool:
    """A postcode or a street in the name's column within the next four lines."""
    x0, x1, bottom = words[0].x0, words[-1].x1, words[-1].bottom
    for line in [ln for ln in page if ln.top > bottom][:4]:
        # left-aligned under it, or centred under it
        near = [w for w in line.words if abs(w.x0 - x0) < 3 * line.height] or [
            w for w in line.words if x0 < w.xc < x1 and abs((x0 + x1) / 2 - w.x0) < (x1 - x0)
        ]
        if near:
            text = " ".join(w.text for w in _phrase_at(line, near[0]))
            text = _DATE_TIME.sub(" ", text)  # '27.02.2020 15:56': a year is no postcode
            if _POSTCODE.search(text) or _ADDRESS.search(fold(text)):
                return True
    return False


def _segments(line: Line) -> list[list[Word]]:
    """The line's phrases, each cut at separators ('•', '|', ' - ')."""
    found = []
    for phrase in phrases(line):
        current: list[Word] = []
        for word in phrase:
            if word.text in ("•", "●", "·", "|", "-", "–", "—"):
                if current:
                    found.append(current)
                current = []
                continue
            current.append(word)
        if current:
            found.append(current)
    return found


def _name_like(text: str, domain: bool = False) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    folded = fold(text)
    if letters < 3 or digits * 3 > letters or "@" in text or len(text) > 60:
        return False
    if len(text.split()) >= 4 and all(len(part) == 1 for part in text.split()):
        return False  # 'R E C H N U N G': a heading spaced out, not a name
    if text.startswith("("):  # '(Co. No. 123)', '(M) SDN BHD': the tail of something
        return False
    if re.search(r"\w: ", text):  # 'Ihr Zeichen: AB-312': a label and its value
        return False
    if any(sum(c.isdigit() for c in w) >= 4 for w in text.split()):  # a reference number
        return False
    if re.search(r"www\.|https?:", folded) or (
        not domain and re.search(r"\.(com|de|fr|net|org|io|eu|my)\b", folded)
    ):
        return False
    words = tokens(text)
    if not words or (len(words) == 1 and len(words[0]) < 3):
        return False
    if all(w.upper() in CURRENCY_CODES or w in ("rm", "euro") for w in words):
        return False  # 'EUR' over the prices' column
    if _HEADING.search(folded) and not set(words) & LEGAL:
        return False
    return not _SALUTATION.match(folded)


def _score(
    name: Name,
    line: Line,
    index: int,
    page: list[Line],
    height: float,
    sender: Line | None,
    domains: set[str],
    texts: list[str],
    own: list[Label],
) -> None:
    words = tokens(name.text)
    folded = fold(name.text)
    heights = sorted(ln.height for ln in page)
    median = heights[len(heights) // 2] or 1.0
    size = min(3.0, max(w.height for w in name.words) / median)
    top = name.words[0].top
    score = size + max(0.0, 1.5 * (1 - top / (height / 3)))
    if index == 0 or index == 1:
        score += 0.8 - 0.4 * index
        if size >= 1.2 and top < height / 4:
            name.cues.append("heading")  # the page's first line, in big type
    side_by_side = sum(_name_like(" ".join(w.text for w in p)) for p in phrases(line)) > 1
    if (
        (index <= 2 or top < 0.15 * height)
        and not side_by_side
        and _address_below(name.words, page)
    ):
        name.cues.append("address under it")  # a letterhead: the name over its address
    joined = f" {' '.join(words)} "
    if _legal(name.words) or " s b " in joined or " sp z o o " in joined:
        score += 2.5
        name.cues.append("legal form")
    elif set(words) & _TRADES:
        score += 1.0
        name.cues.append("trade")
    if sender is not None and line is sender and name.words[0] is _first_word(sender):
        score += 3.0
        name.cues.append("sender line")
    following = [fold(ln.text) for ln in page[index + 1 : index + 3]]
    if top < height / 3 and any(_REGISTRATION.match(t) for t in following):
        score += 1.0
        name.cues.append("registration")
    core = "".join(w for w in words if w not in LEGAL and len(w) > 1)
    if len(core) >= 4 and any(core in d or (len(d) >= 4 and d in core) for d in domains):
        score += 1.5
        name.cues.append("own web address")
    elif any(len(w) >= 5 and w not in LEGAL and any(w in d for d in domains) for w in words):
        score += 1.0
        name.cues.append("own web address")
    if sum(folded in t for t in texts) >= 2 and len(words) >= 2 and not _ADDRESS.search(folded):
        score += 1.0
        name.cues.append("printed again")
    for label in own:
        if label.field == "seller" and label.line.page == 1:
            if name.words[0] in right_of(label, own) or name.words[0] in below(label, own, page):
                score += 3.0
                name.cues.append(f"label:{label.text}")
    if _ADDRESS.search(folded) or _POSTCODE.search(name.text):
        score -= 2.5
    x0, x1 = name.words[0].x0, name.words[-1].x1
    over = [w for w in page[index - 1].words if w.x1 > x0 and w.x0 < x1] if index else []
    above = " ".join(w.text for w in over)
    if above and (_ADDRESS.search(fold(above)) or _POSTCODE.search(above)):
        if "legal form" not in name.cues:  # 'SELANGOR DARUL EHSAN': the address goes on
            score -= 2.0
            name.cues.append("under an address")
    if len(words) == 1 and len(words[0]) <= 3 and name.words[0].ocr:
        name.cues.append("short")  # 'MBB': an acronym, or a logo's letters
    name.score = score


def _legal(words: list[Word]) -> bool:
    """Whether ``words`` hold a legal form: two-letter ones ('AG', 'S.A.', 'Co.') only as
    printed in capitals or with a dot, so 'ab' or 'as' in a sentence are not one."""
    for word in words:
        for token in tokens(word.text):
            if token in LEGAL and (len(token) > 2 or "." in word.text or word.text[:1].isupper()):
                if len(token) > 2 or word.text.strip(".,()").isupper() or "." in word.text:
                    return True
    joined = "".join(tokens(" ".join(w.text for w in words)))
    return joined.endswith(("spzoo", "sdnbhd"))


def _registration_at(words: list[Word]) -> int:
    """Where a trailing registration number begins ('(519537-X)', '(139386 X)', 'Co. No.
    123456-A'), else len(words)."""
    if _REGISTERED.fullmatch(words[-1].text):
        return len(words) - 1
    for i in range(len(words) - 1, max(-1, len(words) - 4), -1):
        if words[i].text.startswith("("):
            tail = " ".join(w.text for w in words[i:])
            if tail.endswith(")") and sum(ch.isdigit() for ch in tail) >= 4:
                return i
            break
    return len(words)


NOISE = 0.5  # an OCR word read under this at the edge of a name is a smudge or a logo


def _without_noise(words: list[Word]) -> list[Word]:
    """The phrase without the unsure OCR words at its ends ('sae BE dm-drogerie markt':
    a logo's strokes read as letters before the name); [] when its words are mostly read
    unsurely (a logo or a picture read as text is no name)."""
    if not words[0].ocr:
        return words
    start, end = 0, len(words)
    while start < end and words[start].conf < NOISE:
        start += 1
    while end > start and words[end - 1].conf < NOISE:
        end -= 1
    kept = words[start:end]
    chars = sum(len(w.text) for w in kept)
    sure = sum(len(w.text) for w in kept if w.conf >= NOISE)
    return kept if chars and sure * 3 >= chars * 2 else []


def _legal_only(words: list[Word]) -> bool:
    """'(M) SDN BHD', 'GmbH & Co. KG': nothing but legal forms and bracketed bits."""
    rest = [t for t in tokens(" ".join(w.text for w in words if not w.text.startswith("(")))]
    return any(t in LEGAL for t in rest) and all(t in LEGAL or len(t) == 1 for t in rest)


def _first_word(line: Line) -> Word:
    return line.words[0]


def _domains(lines: list[Line]) -> set[str]:
    """The names in the page's e-mail and web addresses: 'info@muster.de' -> 'muster'."""
    found = set()
    for line in lines:
        for match in _DOMAIN.finditer(fold(line.text)):
            parts = match[1].split(".")
            for part in parts[:-1] if len(parts) > 1 else parts:
                if part not in ("www", "mail", "info", "com", "co"):
                    found.add(part.replace("-", ""))
    return found


_PAYEE = re.compile(
    r"\b(payable to|pay to the order of|made out to|zahlbar an|a l ordre de|a favor de)\s+(.+)$"
)


def payee(page: list[Line], taken: set[int]) -> tuple[Line, list[Word]] | None:
    """The name a sentence says to pay ('Please make checks payable to Muster Power.'):
    the seller, often printed nowhere else as text (its logo is a picture)."""
    for line in page:
        match = _PAYEE.search(fold(line.text))
        if not match:
            continue
        count = len(match[2].split())
        words = [w for w in line.words[-count:] if id(w) not in taken]
        cut = next((i + 1 for i, w in enumerate(words) if w.text.endswith((".", ","))), None)
        words = words[:cut][:6]
        if words and _name_like(" ".join(w.text for w in words).strip(".,")):
            return line, words
    return None
