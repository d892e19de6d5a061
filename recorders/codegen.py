"""The code generator: recorded actions -> ``bots/NAME.py`` and ``selectors/NAME.yaml``.

The bot reads one work item per row of its --input spreadsheet, known by a key column, and
does what was recorded, one step per page visited: elements by name from the selector
repository; every field of each submitted form set from the column it follows (or from a
named constant when the person left its default); the log-in from the vault in a helper
of its own; waits for the navigations, popups, dialogs and closing windows that the
person's actions caused. The submit that creates the record is the point of no return:
every field is read back before it, the record's number is the item's output after it,
the saved record is read back when the person looked at it, and a ``reconcile`` searches
for the record when the person used a search page (else a crashed item goes to review).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from deskhand import ConfigError
from deskhand.selectors import dump_pages, element_entry

from . import forms
from .botfile import header, lit, reconcile_source, rows_source, source_lines
from .naming import Field, Names, element_base_name, identifier
from .recording import Action
from .steps import group_steps, is_secret
from .writer import Writer


@dataclass
class Generated:
    bot: str  # the bot's Python source
    selectors: str  # the repository's YAML
    fields: list[Field]
    uses_vault: bool
    followed: list[tuple[str, str]] = field(default_factory=list)  # (element, column)
    constants: list[tuple[str, str]] = field(default_factory=list)  # (element, value kept)
    key: str | None = None  # the column items are known by


def generate(
    actions: list[Action],
    bot: str,
    start_url: str,
    columns: list[str] | None = None,
    rows: list[dict[str, str]] | None = None,
    key: str | None = None,
) -> Generated:
    """Write the bot and its repository for ``actions`` (see recorders.recording)."""
    columns, rows = columns or [], rows or []
    options = forms.options_of(actions)
    actions = forms.complete(actions)
    keyed = [a for a in actions if _keyed_kind(a)]
    wanted = [(a, element_base_name(a.target), _keyed_kind(a)) for a in keyed]
    sources = forms.sources(wanted, columns, rows, options)
    # A text the page filled in itself (today's date, a number) and no column follows is left
    # to the page: a constant would freeze the day of the recording.
    left = {id(a) for a, s in zip(keyed, sources) if s.default and s.kind == "fill"}
    left -= {id(a) for a, s in zip(keyed, sources) if s.column}
    kept = [(a, s) for a, s in zip(keyed, sources) if id(a) not in left]
    actions = [a for a in actions if id(a) not in left]
    keyed, sources = [a for a, _ in kept], [s for _, s in kept]
    prompts = [a for a in actions if a.dialog and a.dialog.kind == "prompt" and a.dialog.value]
    for action, source in zip(keyed, sources):
        if source.kind == "radio" and (source.column or source.default):
            _as_group(action, source)
    names = Names()
    elements = {id(a): names.element(a).name for a in actions if a.target is not None}
    writer = Writer(bot, start_url, elements)
    free = [(elements[id(a)], forms.keyed_value(a)) for a, s in zip(keyed, sources) if s.free]
    free += [(identifier(a.dialog.message, "answer"), a.dialog.value) for a in prompts]
    fields: list[Field] = []
    for action, source in zip(keyed, sources):
        source.element = elements[id(action)]
        writer.sources[id(action)] = source
        if source.column:
            example = source.value
            if source.kind == "check":
                example = "yes" if action.kind == "check" else "no"
            fields.append(Field(source.column, example, source.element, True))
    taken_fields = {f.name for f in fields}
    for (element, value), action in zip(
        free, [a for a, s in zip(keyed, sources) if s.free] + prompts
    ):
        name = element if element not in taken_fields else f"{element}_{len(fields) + 1}"
        taken_fields.add(name)
        fields.append(Field(name, value, element, name in columns))
        if action.dialog is not None and action.kind not in ("fill", "select", "upload"):
            writer.answers[id(action)] = name
        else:
            writer.sources[id(action)].column = name
    typed = [forms.keyed_value(a) for a in keyed]
    writer.key = forms.key_column(columns, rows, typed, key) if columns else None
    if key is not None and key not in columns:
        raise ConfigError(f"--key {key}: no such column in --data ({', '.join(columns)})")
    boxes = {s.element for s in writer.sources.values() if s.kind == "check"}
    writer.typed = {f.example: f.name for f in fields if f.element not in boxes}
    writer.typed = {v: name for v, name in writer.typed.items() if len(v) >= 3}
    row = forms.recorded_row(typed, rows) or {}
    writer.key_value = row.get(writer.key, "").strip() if writer.key else ""
    for action in actions:
        if action.page_title:
            writer.titles.setdefault(action.page_id, action.page_title)
    steps = group_steps(actions)
    writer.plan(steps, names, typed)
    body = writer.process(steps)
    if any(s.final for s in steps):
        body += reconcile_source(writer)
    constants = [
        (s.element, _shown_value(s, writer.checked.get(i, False)))
        for i, s in writer.sources.items()
        if s.constant
    ]
    source = (
        header(bot, start_url, fields, writer.uses_vault, columns, constants)
        + source_lines(bot, start_url, fields, writer, body)
        + body
    )
    yaml_text = dump_pages(
        {
            page: {e.name: element_entry(e.target.candidates, e.target.frames) for e in group}
            for page, group in names.pages().items()
        },
        _YAML_HEADER.format(bot=bot, url=start_url, day=date.today().isoformat()),
    )
    followed = [(s.element, s.column) for s in writer.sources.values() if s.column and s.by]
    return Generated(source, yaml_text, fields, writer.uses_vault, followed, constants, writer.key)


def _keyed_kind(action: Action) -> str:
    """What kind of value an action keys (fill, select, check, radio, upload), or ''."""
    if action.target is None or is_secret(action):
        return ""
    if action.kind in ("fill", "select", "upload"):
        return action.kind
    if action.kind in ("check", "uncheck") and action.target.kind == "checkbox":
        return "check"
    if action.kind == "check" and action.target.kind == "radio" and action.target.group:
        return "radio"
    return ""


def _shown_value(source: forms.Source, checked: bool) -> str:
    """A constant as the report names it: a check box's state, an option's value."""
    if source.kind == "check":
        return "checked" if checked else "not checked"
    return source.option_value or source.value


def _as_group(action: Action, source: forms.Source) -> None:
    """A radio button becomes its group: the element's selector names the value to pick."""
    target = action.target
    group = target.group.replace('"', '\\"')
    if source.column and source.use_label:
        selector = "label={value}"
    else:
        selector = f'input[name="{group}"][value="{{value}}"]'
    action.target = replace(target, hint=target.group, candidates=(selector,))
    source.use_label = selector == "label={value}"


_YAML_HEADER = """\
# Named elements of the application recorded for bots/{bot}.py ({url}, {day}),
# grouped by page. Each lists its selectors best first, each unique when recorded; the first
# that matches exactly one element wins. `label=TEXT` is the field labelled TEXT.
"""


__all__ = ["Generated", "generate", "lit", "rows_source"]
