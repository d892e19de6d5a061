"""The whole form, not only the touches: what a recorded submit sent, and where each value
comes from.

At each submit the recorder captured every field of the form (recorders/recorder.js,
``snapshot``). :func:`complete` turns the fields the person left alone into actions of
their own (``default=True``), so that a bot sets them too; :func:`sources` says for each
keyed field which --data column it follows (by name, label, option or value) or that it
stays a constant; :func:`key_column` picks the column that tells items apart;
:func:`record_number` finds the number a confirmation page gave the new record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import PureWindowsPath

from deskhand.spreadsheet import NO, YES

from .recording import Action, Target, target_of

REFERENCE_WORDS = ("number", "reference", "ref", "id", "code", "no", "nr")


@dataclass
class Source:
    """Where a keyed field's value comes from: a column, or a constant."""

    element: str
    kind: str  # fill, select, check, radio, upload
    value: str  # what the recording keyed (the option's label for a select or radio)
    column: str | None = None  # the --data column it follows
    by: str = ""  # name, label, option, value, file
    option_value: str = ""  # a select's or radio's option value when recorded
    use_label: bool = True  # a select: choose by label (else by value)
    default: bool = False  # the person left it as the page had it

    @property
    def constant(self) -> bool:
        """Left at its default and followed by no column: a named constant."""
        return not self.column and self.default

    @property
    def free(self) -> bool:
        """Typed by the person, held by no column: it becomes a column of its own."""
        return not self.column and not self.default and self.kind in ("fill", "select", "upload")


# -- the form ---------------------------------------------------------------------------
def complete(actions: list[Action]) -> list[Action]:
    """``actions`` with, before each action that submitted a form, an action for every field
    of that form the person did not touch since the page's last submit (its default)."""
    out: list[Action] = []
    touched: set[tuple] = set()
    for action in actions:
        if action.target is not None and action.kind in ("fill", "select", "check", "uncheck"):
            touched.add(field_key(action.target))
        if action.kind == "upload" and action.target is not None:
            touched.add(field_key(action.target))
        if action.form:
            at = len(out)  # before the click that opened a confirming overlay, if any
            if action.target and action.target.modal and out and out[-1].kind == "click":
                if out[-1].navigation is None and out[-1].page_id == action.page_id:
                    at -= 1
            for field in action.form.get("fields", ()):
                default = _default_action(action, field, touched)
                if default is not None:
                    out.insert(at, default)
                    at += 1
            touched = set()
        out.append(action)
    return out


def field_key(target: Target) -> tuple:
    """What identifies a form field across events: its frames and name (a radio: its group)."""
    if target.kind == "radio" and target.group:
        return (target.frames, "radio", target.group)
    return (target.frames, target.name or target.candidates[:1])


def _default_action(submit: Action, field: dict, touched: set[tuple]) -> Action | None:
    raw = field.get("target")
    if not raw:
        return None
    target = target_of(
        {"target": raw, "frames": list(submit.target.frames) if submit.target else []}
    )
    if target is None or field_key(target) in touched or field.get("secret"):
        return None
    if field.get("changed"):  # not by the person: the page's own script set it (a lookup)
        return None
    kind = field.get("kind")
    common = {"page_id": submit.page_id, "t": submit.t, "page_title": submit.page_title}
    if kind == "select":
        return Action("select", target=target, value=field.get("value", ""),
                      label=field.get("label", ""), default=True, **common)  # fmt: skip
    if kind == "checkbox":
        kind = "check" if field.get("checked") else "uncheck"
        return Action(kind, target=target, default=True, **common)
    if kind == "radio" and field.get("value"):
        chosen = replace(target, value=field["value"], hint=field.get("label") or target.hint)
        return Action("check", target=chosen, default=True, **common)
    if kind == "textbox" and field.get("value"):
        return Action("fill", target=target, value=field["value"], default=True, **common)
    return None


def options_of(actions: list[Action]) -> dict[tuple, list[dict]]:
    """The options of every select and radio group that a submit captured, by field key."""
    found: dict[tuple, list[dict]] = {}
    for action in actions:
        for field in (action.form or {}).get("fields", ()):
            if field.get("options") and field.get("target"):
                frames = list(action.target.frames) if action.target else []
                target = target_of({"target": field["target"], "frames": frames})
                found[field_key(target)] = field["options"]
    return found


# -- the columns ------------------------------------------------------------------------
def recorded_row(typed: list[str], rows: list[dict[str, str]]) -> dict[str, str] | None:
    """The --data row the person keyed: the one holding most of the values typed."""
    wanted = {v.strip() for v in typed if v.strip()}
    best, score = None, 0
    for row in rows:
        hits = sum(1 for cell in row.values() if cell.strip() and cell.strip() in wanted)
        if hits > score:
            best, score = row, hits
    return best


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _named_like(column: str, *names: str) -> bool:
    """The column is named like the field: every word of it begins a word of the field's
    name or label (``Amount`` ~ ``Amount claimed:``, ``Acknowledgement letter`` ~ ``Send
    acknowledgement letter``)."""
    words = _words(column)
    for name in names:
        theirs = _words(name)
        if words and theirs and all(any(t.startswith(w) for t in theirs) for w in words):
            return True
    return False


def sources(
    wanted: list[tuple[Action, str, str]],
    columns: list[str],
    rows: list[dict[str, str]],
    options: dict[tuple, list[dict]],
) -> list[Source]:
    """For each (action, element name, kind) keyed, the column it follows or its constant."""
    row = recorded_row([keyed_value(a) for a, _, _ in wanted], rows) or {}
    found: list[Source] = []
    used: set[str] = set()
    for action, element, kind in wanted:
        target = action.target
        value = keyed_value(action)
        source = Source(element, kind, value, default=action.default)
        choices = options.get(field_key(target), [])
        if kind in ("select", "radio"):
            source.option_value = action.value or target.value
        names = (target.name, target.label, target.group, element)
        ranked = []
        for column in columns:
            cells = [r.get(column, "").strip() for r in rows]
            cell = row.get(column, "").strip()
            how = ""
            if kind == "check":
                if (
                    _named_like(column, *names)
                    and cells
                    and all(c.lower() in YES + NO for c in cells)
                ):
                    how = "name"
            elif kind == "upload":
                if value and cell and PureWindowsPath(cell).name == value:
                    how = "file"
            elif kind in ("select", "radio") and choices:
                labels = {o["label"] for o in choices} | {o["value"] for o in choices}
                if (
                    cells
                    and all(c in labels for c in cells if c)
                    and (_named_like(column, *names) or (cell == value and not action.default))
                ):
                    how = "option"
            elif _named_like(column, *names):
                how = "name"
            elif value.strip() and cell == value.strip():
                how = "value"
            if how:
                ranked.append((how not in ("file", "option", "name"), column in used, column, how))
        if not ranked and kind in ("select", "radio") and not choices:
            for column in columns:  # no options captured: a column holding the value
                cell = row.get(column, "").strip()
                if cell and cell in (value.strip(), source.option_value):
                    ranked.append((True, column in used, column, "value"))
        if ranked:
            ranked.sort(key=lambda r: r[:2])
            source.column, source.by = ranked[0][2], ranked[0][3]
            used.add(source.column)
            if kind in ("select", "radio"):
                values = {o["value"] for o in choices} or {source.option_value}
                labels = {o["label"] for o in choices} or {value}
                cells = {r.get(source.column, "").strip() for r in rows} - {""}
                source.use_label = not (cells <= values and not cells <= labels)
        found.append(source)
    return found


def keyed_value(action: Action) -> str:
    """What an action keyed, as a --data cell would hold it: the text typed, an option's
    label, a file's name, a radio button's label."""
    if action.kind == "select":
        return action.label if action.label is not None else action.value or ""
    if action.kind == "upload":
        return action.files[0] if action.files else ""
    if action.kind in ("check", "uncheck") and action.target.kind == "radio":
        return action.target.hint
    return action.value or ""


def key_column(
    columns: list[str], rows: list[dict[str, str]], typed: list[str], key: str | None = None
) -> str | None:
    """The column that tells items apart: ``key`` when given, else a column whose values are
    all present and all different, preferring one named like a reference and one typed."""
    if key is not None:
        return key
    typed_values = {v.strip() for v in typed}
    unique = []
    for index, column in enumerate(columns):
        cells = [r.get(column, "").strip() for r in rows]
        yes_no = all(c.lower() in YES + NO for c in cells)
        if rows and all(cells) and len(set(cells)) == len(cells) and not yes_no:
            named = any(w in REFERENCE_WORDS for w in _words(column))
            unique.append((not named, not (set(cells) & typed_values), index, column))
    return min(unique)[3] if unique else None


# -- what the record became -------------------------------------------------------------
def record_number(shown: list[dict], typed: list[str]) -> dict | None:
    """The cell of a confirmation page that holds the new record's number: a single token
    with digits that the person did not type, labelled like a number (or shaped like one)."""
    typed_values = {v.strip() for v in typed}
    best = None
    for cell in shown:
        text = cell["text"]
        if " " in text or not 3 <= len(text) <= 24 or not re.search(r"\d", text):
            continue
        if text in typed_values:
            continue
        labelled = any(w in REFERENCE_WORDS for w in _words(cell["hint"]))
        shaped = re.fullmatch(r"[A-Za-z]{1,6}[-/]?\d{3,}", text) is not None
        if labelled or shaped:
            score = (labelled, shaped)
            if best is None or score > best[0]:
                best = (score, cell)
    return best[1] if best else None


def number_pattern(number: str) -> str:
    """A regular expression for record numbers shaped like ``number`` (``CLM-\\d+``)."""
    prefix = re.match(r"[A-Za-z]*[-/]?", number).group(0)
    return re.escape(prefix) + r"\d+" if prefix else r"\d+"
