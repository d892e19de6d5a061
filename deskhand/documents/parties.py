"""Who: the issuer's address (the lines under its name) and the customer (the name under or
beside a "Bill to" label), found by layout and labels, never by knowing a party."""

from __future__ import annotations

import re

from . import buyer, seller
from .layout import Label, find_labels, phrases
from .model import Field, Line, Word, union
from .parse import fold, repair_digits

_NOT_ADDRESS = re.compile(
    r"@|www\.|https?:|^(tel|phone|fon|fax|mobil|vat|ust|tva|siret|siren|iban|bic|e-?mail|"
    r"company|reg|steuer|hrb|amtsgericht)\b"
)


def issuer_address(lines: list[Line], issuer: Field | None, labels: list[Label]) -> Field | None:
    """The address printed under the issuer's name: up to three lines, each with a digit or
    a comma, in the name's column, stopping at an e-mail, a phone, a tax number or a label."""
    if issuer is None or issuer.bbox is None:
        return None
    labelled = {id(w) for label in labels for w in label.words}
    x0, _, x1, bottom = issuer.bbox
    height = issuer.bbox[3] - issuer.bbox[1]
    used: list[list[Word]] = []
    last = bottom
    for line in lines:
        if line.page != issuer.page or line.top < bottom - 0.2 * height:
            continue
        if line.top - last > 2.2 * max(line.height, 6.0):
            break
        parts = phrases(line)
        first = next(
            (i for i, p in enumerate(parts) if p[0].x0 < x1 and p[-1].x1 > x0 - 0.2 * (x1 - x0)),
            None,
        )
        if first is None:
            continue
        phrase = list(parts[first])
        for part in parts[first + 1 :]:  # OCR leaves wider gaps: 'Torstrasse 12,   10115 Berlin'
            if part[0].x0 - phrase[-1].x1 > 2.5 * line.height:
                break
            phrase += part
        text = " ".join(w.text for w in phrase)
        if any(id(w) in labelled for w in phrase):
            break
        if _NOT_ADDRESS.search(fold(text)) or not any(ch.isalpha() for ch in text):
            break
        if not (any(ch.isdigit() for ch in text) or "," in text):
            break
        used.append(phrase)
        last = line.bottom
        if len(used) == 3:
            break
    if not used:
        return None
    words = [w for phrase in used for w in phrase]
    raw = ", ".join(" ".join(w.text for w in phrase).strip(" ,") for phrase in used)
    value, repaired = repair_address(raw) if words[0].ocr else (raw, False)
    conf = min(w.conf for w in words) * (REPAIRED if repaired else 1.0)
    return Field(
        "issuer_address",
        value,
        raw,
        round(conf, 3),
        issuer.page,
        union(words),
        "layout:below-issuer",
    )


REPAIRED = 0.9  # confidence factor for an address that needed an OCR repair
_LOOKS_DIGIT = str.maketrans("OoDQIl|!][iSsBZzG", "00001111111558226")
_LOOKS_LETTER = str.maketrans("01582", "OISBZ")
_PROVINCES = set("AB BC MB NB NL NS NT NU ON PE QC SK YT".split())
_UK_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_UK_INWARD = re.compile(r"[0-9][A-Z]{2}")
_CA_POSTCODE = re.compile(r"[A-Z][0-9][A-Z] [0-9][A-Z][0-9]")


def repair_address(text: str) -> tuple[str, bool]:
    """Undo OCR confusions in an address by the shape of its parts: numbers ('[015' ->
    '1015'), British postcodes ('DE! 3AA' -> 'DE1 3AA': an outward code has a digit after
    its one or two letters), Canadian ones after a province ('ON MSV IK4' -> 'ON M5V 1K4'),
    and a '!' that ends a word ('Pear!' -> 'Pearl')."""
    parts = text.split(" ")
    cores = [p.rstrip(",.;") for p in parts]
    for i, core in enumerate(cores):
        following = cores[i + 1] if i + 1 < len(cores) else ""
        if i and cores[i - 1] in _PROVINCES and len(core) == len(following) == 3:
            fixed = _shaped(core, "LDL") + " " + _shaped(following, "DLD")
            if _CA_POSTCODE.fullmatch(fixed):
                cores[i], cores[i + 1] = fixed.split(" ")
                continue
        inward = following[:1].translate(_LOOKS_DIGIT) + following[1:]
        if 2 <= len(core) <= 4 and core[0].isupper() and _UK_INWARD.fullmatch(inward):
            letters = 2 if core[:2].isalpha() and len(core) >= 3 else 1
            outward = core[:letters] + core[letters].translate(_LOOKS_DIGIT) + core[letters + 1 :]
            if _UK_OUTWARD.fullmatch(outward):
                cores[i], cores[i + 1] = outward, inward
                continue
        digits = sum(ch.isdigit() for ch in core)
        if digits and digits * 2 >= sum(ch.isalnum() for ch in core):
            cores[i] = repair_digits(core)[0]
        elif len(core) > 3 and core.endswith("!") and core[:-1].isalpha():
            cores[i] = core[:-1] + "l"
    fixed = " ".join(c + p[len(p.rstrip(",.;")) :] for c, p in zip(cores, parts, strict=True))
    return fixed, fixed != text


def _shaped(code: str, shape: str) -> str:
    """``code`` with each character turned into a letter (L) or digit (D) as ``shape`` says."""
    return "".join(
        ch.translate(_LOOKS_LETTER) if kind == "L" else ch.translate(_LOOKS_DIGIT)
        for ch, kind in zip(code, shape, strict=True)
    )


def parties(
    lines: list[Line], labels: list[Label], page_sizes: list[tuple[float, float]]
) -> tuple[Field | None, Field | None]:
    """(issuer, customer) of the document, each None when the page does not say."""
    page = [ln for ln in lines if ln.page == 1]
    if not page:
        return None, None
    height = page_sizes[0][1] if page_sizes else 842.0
    taken = {id(w) for lb in labels if lb.field != "_title_number" for w in lb.words}
    own = [lb for lb in find_labels(page, seller.LABELS) if seller._whole(lb)]
    taken |= {id(w) for lb in own for w in lb.words}
    customer_block, customer = buyer.labelled(page, own, taken)
    sender = buyer.sender_line(page)
    if sender is not None and customer is None:
        customer = buyer.under(sender, page, taken)
        if customer is not None:
            customer.cues.append("under the sender line")
    if customer is None:
        customer = buyer.after_salutation(page, taken, height)
    blocked = set(customer_block)
    if customer is not None:
        blocked |= {id(w) for w in customer.words}
    domains = seller._domains(lines)
    texts = [fold(ln.text) for ln in lines]
    candidates = []
    for index, line in enumerate(page):
        for words in seller._segments(line):
            if any(id(w) in taken or id(w) in blocked for w in words):
                continue
            words = seller._without_noise(words)
            if not words:
                continue
            if seller._legal_only(words) and index:
                # '(M) SDN BHD' under 'POPULAR BOOK CO.': the name runs over two lines
                above = [w for w in page[index - 1].words if id(w) not in taken | blocked]
                near = [w for w in above if abs(w.xc - words[0].xc) < 12 * words[0].height]
                if near:
                    words = seller._without_noise(
                        seller._phrase_at(page[index - 1], near[0]) + words
                    )
                    if not words:
                        continue
            cut = seller._registration_at(words)
            registered = 0 < cut < len(words)
            if registered:  # '99 SPEED MART S/B (519537-X)': the name and its registration
                words = words[:cut]
            name = seller.Name(words)
            if registered:
                name.cues.append("registration")
            first = line is sender and words[0] is line.words[0]
            if not seller._name_like(name.text, domain=first):
                continue
            seller._score(name, line, index, page, height, sender, domains, texts, own)
            candidates.append(name)
    paid = seller.payee(page, taken | blocked)
    if paid is not None:  # 'Please make checks payable to Muster Power.'
        line, words = paid
        name = seller.Name(words)
        seller._score(name, line, page.index(line), page, height, sender, domains, texts, own)
        name.score += 3.0
        name.cues.append("payable to")
        candidates.append(name)
    if not candidates:
        return None, seller._field("customer", customer)
    best = seller._legal_name(max(candidates, key=lambda n: n.score), candidates, page, height)
    if customer is None:
        customer = buyer.other_block(page, best, candidates, taken)
    return seller._field("issuer", best), seller._field("customer", customer)
