"""Who: the issuer's address (the lines under its name) and the customer (the name under or
beside a "Bill to" label), found by layout and labels, never by knowing a party."""

from __future__ import annotations

import re

from .layout import Label, below, find_labels, phrases, right_of
from .model import Field, Line, Word, union
from .parse import fold, tokens

_CUSTOMER = (
    "bill to|billed to|invoice to|sold to|customer|client|kunde|rechnung an|"
    "rechnungsempfanger|rechnungsadresse|facture a|facturer a|factura a|destinataire|adresse client"
)
CUSTOMER = {"customer": [tokens(s) for s in _CUSTOMER.split("|")]}
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
    value = ", ".join(" ".join(w.text for w in phrase).strip(" ,") for phrase in used)
    conf = min(w.conf for w in words)
    return Field(
        "issuer_address",
        value,
        value,
        round(conf, 3),
        issuer.page,
        union(words),
        "layout:below-issuer",
    )


def customer(lines: list[Line], other_labels: list[Label]) -> Field | None:
    """The first name right of, or under, a "Bill to" / "Rechnung an" / "Client" label
    (not another field's label that happens to sit there)."""
    labels = find_labels(lines, CUSTOMER)
    taken = {id(w) for label in other_labels for w in label.words}
    for label in labels:
        for words in (right_of(label, labels), below(label, labels, lines)):
            words = [w for w in words if w.text.strip(":")]
            if not words or any(id(w) in taken for w in words):
                continue
            text = " ".join(w.text for w in words).strip(" :")
            if sum(ch.isalpha() for ch in text) >= 3 and not _NOT_ADDRESS.search(fold(text)):
                conf = min(w.conf for w in words)
                return Field(
                    "customer",
                    text,
                    text,
                    round(conf, 3),
                    words[0].page,
                    union(words),
                    f"label:{label.text}",
                )
    return None
