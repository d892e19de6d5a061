"""Templates: what a known issuer's or form's documents say, and where (templates/*.yaml).

A template is recognised by keywords (all must appear in the document's text, compared
without case or accents) and reads fields in one of four ways; each field it reads wins over
the generic extractor's, field by field (fields it does not read, or cannot parse, stay as
the generic extractor found them)::

    # templates/harbour-stationers.yaml
    kind: invoice                       # or receipt
    match:
      keywords: ["Harbour Stationers", "VAT Reg. No. GB 123"]
    options:
      date_order: DMY                   # DMY, MDY or YMD: how to read 03/05/2026
      decimal_mark: "."                 # "." or ",": how to read 1.234
    fields:
      issuer: {value: Harbour Stationers Ltd}                # a constant
      invoice_number: {label: ["Invoice No.", "Inv #"], type: identifier}  # right of/below
      po_number: {regex: 'PO Number\\s+(PO-\\d+)', type: identifier}   # group 1, or the match
      total: {region: [400, 480, 560, 500], page: 1, type: amount}
      # region: x0, top, x1, bottom in points from the page's top-left, as the bbox that
      # `run_bot.py extract --json` prints for a field
    lines:                              # the line items (template_lines.py), optional
      columns:                          # description and amount, quantity and unit_price
        description: {label: [Description, Item]}      # the header row's words
        quantity: {label: Qty}
        unit_price: {label: "Unit price"}
        amount: {label: Amount, x: [470, 560]}          # and/or an x-range in points
      end: [Subtotal]                   # the table stops at this label's line
      # start: a label above the table; region: [x0, top, x1, bottom] and page: 1

When the template reads line items, they replace the generic reader's whole.
Types: text, identifier (kept as printed, leading zeros too), date, amount, currency, terms.
Regexes are Python's, case-insensitive, over the document's text: one line per printed line,
words separated by one space.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from deskhand.errors import ConfigError

from . import invoice, template_lines, values
from .layout import Label, below, find_labels, group_lines, right_of
from .model import Document, Field, Line, Word, union
from .parse import (
    CURRENCY_CODES,
    CURRENCY_SIGNS,
    fold,
    parse_date,
    parse_terms,
    repair_digits,
    split_currency,
    tokens,
)

CONSTANT_CONFIDENCE = 0.99  # a constant is as sure as the keywords that recognised the issuer


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldRule(_Strict):
    """How a template reads one field: exactly one of value, regex, label, region."""

    value: Any = None
    regex: str | None = None
    label: str | list[str] | None = None
    where: Literal["right", "below", "any"] = "any"
    region: tuple[float, float, float, float] | None = None
    page: int = 1
    type: Literal["text", "identifier", "date", "amount", "currency", "terms"] = "text"

    @model_validator(mode="after")
    def _one_way(self) -> FieldRule:
        ways = [k for k in ("value", "regex", "label", "region") if getattr(self, k) is not None]
        if len(ways) != 1:
            raise ValueError(f"give exactly one of value, regex, label, region (got {ways})")
        if self.regex is not None:
            re.compile(self.regex)
        return self

    @property
    def labels(self) -> list[str]:
        return [self.label] if isinstance(self.label, str) else list(self.label or [])


class Match(_Strict):
    keywords: list[str]


class Options(_Strict):
    date_order: Literal["DMY", "MDY", "YMD"] | None = None
    decimal_mark: Literal[".", ","] | None = None


class Template(_Strict):
    """One templates/NAME.yaml."""

    name: str
    kind: Literal["invoice", "receipt"] = "invoice"
    match: Match
    options: Options = Options()
    fields: dict[str, FieldRule] = {}
    lines: template_lines.LinesRule | None = None

    @model_validator(mode="after")
    def _reads_something(self) -> Template:
        if not self.fields and self.lines is None:
            raise ValueError("give fields, lines or both: what the template reads")
        return self

    def matches(self, text: str) -> bool:
        """Whether every keyword appears in ``text``."""
        folded = _squash(text)
        return all(_squash(k) in folded for k in self.match.keywords)


def default_dir() -> Path:
    from .cache import project_root

    return project_root() / "templates"


_loaded: dict[Path, tuple[tuple, dict[str, Template]]] = {}


def load(directory: Path | None = None) -> dict[str, Template]:
    """Every template in ``directory`` (default: templates/ of the project), by name.

    ConfigError (one line naming the file and the key) for a template that is not valid.
    """
    directory = Path(directory or default_dir())
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in files)
    if directory in _loaded and _loaded[directory][0] == stamp:
        return _loaded[directory][1]
    templates = {}
    for path in files:
        template = _parse(path)
        templates[template.name] = template
    _loaded[directory] = (stamp, templates)
    return templates


def _parse(path: Path) -> Template:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ConfigError(f"template {path}: not valid YAML{line}: fix the file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"template {path}: expected a mapping with match and fields")
    data.setdefault("name", path.stem)
    try:
        return Template.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "(top)"
        raise ConfigError(f"template {path}: {where}: {error['msg']}") from None


def named(name: str, directory: Path | None = None) -> Template:
    """The template called ``name``; ConfigError naming the ones there are if none is."""
    templates = load(directory)
    if name not in templates:
        where = Path(directory or default_dir())
        known = ", ".join(sorted(templates)) or "none"
        raise ConfigError(f"unknown template {name!r}: templates in {where}: {known}")
    return templates[name]


def recognise(kind: str, text: str, directory: Path | None = None) -> Template | None:
    """The template of ``kind`` whose keywords all appear in ``text`` (the most specific)."""
    found = [t for t in load(directory).values() if t.kind == kind and t.matches(text)]
    return max(found, key=lambda t: (len(t.match.keywords), t.name), default=None)


def apply(template: Template, document: Document, words: list[Word]) -> None:
    """Read ``template``'s fields from ``words`` into ``document``, over the generic ones."""
    lines = group_lines(words)
    labels = _labels(template, lines)
    for name, rule in template.fields.items():
        field = _read(name, rule, template, words, lines, labels)
        if field is None:
            continue
        generic = document.fields.get(name)
        if generic is not None and generic.value == field.value and field.bbox is not None:
            # Two readers agree (the generic one may have confirmed an OCR reading): as sure
            # as the surer of them.
            field.confidence = max(field.confidence, generic.confidence)
        document.fields[name] = field
    if template.lines is not None:
        items = template_lines.read(
            template.lines, template.name, words, template.options.decimal_mark
        )
        if items:  # the template's table wins whole, or not at all
            template_lines.agree(items, document.lines)
            document.lines = items
    document.template = template.name


def _read(name, rule: FieldRule, template: Template, words, lines, labels) -> Field | None:
    rule_name = f"template:{template.name}"
    if rule.value is not None:
        return Field(
            name, rule.value, str(rule.value), CONSTANT_CONFIDENCE, 1, None, f"{rule_name}:value"
        )
    if rule.regex is not None:
        found = _regex(rule.regex, lines)
        candidates = [found] if found else []
        how = "regex"
    elif rule.region is not None:
        x0, top, x1, bottom = rule.region
        inside = [
            w
            for w in words
            if w.page == rule.page and x0 <= w.xc <= x1 and top <= (w.top + w.bottom) / 2 <= bottom
        ]
        candidates = [sorted(inside, key=lambda w: (round(w.top), w.x0))] if inside else []
        how = "region"
    else:
        candidates = []
        for label in (lb for lb in labels if lb.field == f"t:{name}"):
            if rule.where in ("right", "any"):
                candidates.append(right_of(label, labels))
            if rule.where in ("below", "any"):
                candidates.append(below(label, labels, lines))
        how = "label"
    for used in candidates:
        typed = _typed(rule.type, [w for w in used if w.text.strip()], template.options)
        if typed is not None:
            value, used = typed
            conf = min(w.conf for w in used)
            raw = " ".join(w.text for w in used)
            return Field(
                name, value, raw, round(conf, 3), used[0].page, union(used), f"{rule_name}:{how}"
            )
    return None


def _labels(template: Template, lines: list[Line]) -> list[Label]:
    vocabulary = {
        f"t:{name}": [tokens(s) for s in rule.labels]
        for name, rule in template.fields.items()
        if rule.label is not None
    }
    if not vocabulary:
        return []
    # Generic labels too, so that a value right of a label stops at the next label.
    vocabulary |= {f"g:{key}": spellings for key, spellings in invoice.LABELS.items()}
    return find_labels(lines, vocabulary)


def _regex(pattern: str, lines: list[Line]) -> list[Word] | None:
    text, owners = "", []
    for line in lines:
        for i, word in enumerate(line.words):
            if i:
                text += " "
                owners.append(None)
            text += word.text
            owners.extend([word] * len(word.text))
        text += "\n"
        owners.append(None)
    match = re.search(pattern, text, re.IGNORECASE | re.MULTILINE)
    if not match:
        return None
    group = 1 if match.re.groups else 0
    start, end = match.span(group)
    used: list[Word] = []
    for word in owners[start:end]:
        if word is not None and (not used or used[-1] is not word):
            used.append(word)
    return used or None


def _typed(kind: str, words: list[Word], options: Options) -> tuple[Any, list[Word]] | None:
    if not words:
        return None
    if kind == "text":
        return " ".join(w.text for w in words).strip(" :"), words
    if kind == "identifier":
        found = values.identifier(words)
        return (found.value, found.words) if found else None
    if kind == "date":
        for n in range(min(5, len(words)), 0, -1):
            text = " ".join(w.text for w in words[:n])
            if words[0].ocr:
                text, _ = repair_digits(text)
            value = parse_date(text, order=options.date_order)
            if value:
                return value, words[:n]
        return None
    if kind == "amount":
        found = values.amount(words, strict=False, decimal=options.decimal_mark)
        return (found.value, found.words) if found else None
    if kind == "currency":
        for word in words:
            code = word.text.strip(".:").upper()
            code = CURRENCY_SIGNS.get(word.text.strip(), code)
            if code not in CURRENCY_CODES:
                code = split_currency(word.text)[1] or ""
            if code in CURRENCY_CODES:
                return code, [word]
        return None
    value = parse_terms(" ".join(w.text for w in words))  # terms
    return (value, words) if value else None


def _squash(text: str) -> str:
    return " ".join(fold(text).split())
