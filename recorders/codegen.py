"""The code generator: recorded actions -> ``bots/NAME.py`` and ``selectors/NAME.yaml``.

The bot reads one work item per row of its --input spreadsheet and does what was recorded,
one step per page visited: elements by name from the selector repository, typed values
(and radio choices the --data holds) from the item's fields, the log-in from the vault,
waits for the navigations, popups, dialogs and closing windows that the person's actions
caused.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlsplit

from deskhand.selectors import dump_pages, element_entry
from deskhand.spreadsheet import NO, YES

from .naming import Field, Names, identifier, match_fields, variable_name
from .recording import Action

MAIN = "app"
RESERVED = {MAIN, "item", "ctx", "bot", "vault", "secret", "popup", "row", "number", "COLUMNS"}
REFERENCE_WORDS = ("number", "reference", "ref", "id", "code", "no")


@dataclass
class Generated:
    bot: str  # the bot's Python source
    selectors: str  # the repository's YAML
    fields: list[Field]
    uses_vault: bool


def generate(
    actions: list[Action],
    bot: str,
    start_url: str,
    columns: list[str] | None = None,
    rows: list[dict[str, str]] | None = None,
) -> Generated:
    """Write the bot and its repository for ``actions`` (see recorders.recording)."""
    names = Names()
    choices = _choices(actions, rows or [])
    elements = {id(a): names.element(a).name for a in actions if a.target is not None}
    keyed = [a for a in actions if a.kind in ("fill", "select", "upload") and not _is_secret(a)]
    keyed += choices
    prompts = [a for a in actions if a.dialog and a.dialog.kind == "prompt" and a.dialog.value]
    wanted = [(elements[id(a)], _typed(a)) for a in keyed]
    wanted += [(identifier(a.dialog.message, "answer"), a.dialog.value) for a in prompts]
    fields = match_fields(wanted, columns or [], rows or [])
    writer = _Writer(bot, start_url, elements)
    writer.fields = {id(a): f.name for a, f in zip(keyed, fields)}
    writer.answers = {id(a): f.name for a, f in zip(prompts, fields[len(keyed) :])}
    writer.choices = {id(a) for a in choices}
    writer.switches = _switches(actions, elements, columns or [], rows or [])
    writer.typed = {_typed(a): f.name for a, f in zip(keyed, fields) if len(_typed(a)) >= 3}
    for action in actions:
        if action.page_title:
            writer.titles.setdefault(action.page_id, action.page_title)
    body = writer.process(_steps(actions))
    source = (
        _header(bot, start_url, fields, writer.uses_vault, columns)
        + _source(bot, start_url, fields, list(writer.switches.values()))
        + body
    )
    yaml_text = dump_pages(
        {
            page: {e.name: element_entry(e.target.candidates, e.target.frames) for e in group}
            for page, group in names.pages().items()
        },
        _YAML_HEADER.format(bot=bot, url=start_url, day=date.today().isoformat()),
    )
    return Generated(source, yaml_text, fields, writer.uses_vault)


def _choices(actions: list[Action], rows: list[dict[str, str]]) -> list[Action]:
    """The radio buttons chosen whose value (or label) a --data column holds: the bot picks
    the button of the item's value in that group. Their target becomes the group's
    element, a selector with a ``{value}`` placeholder; ``action.value`` the chosen value."""
    cells = {cell.strip() for row in rows for cell in row.values()}
    found = []
    for action in actions:
        target = action.target
        if action.kind != "check" or target is None or target.kind != "radio" or not target.group:
            continue
        group = target.group.replace('"', '\\"')
        if target.value and target.value in cells:
            selector, action.value = f'input[name="{group}"][value="{{value}}"]', target.value
        elif target.hint in cells:
            selector, action.value = "label={value}", target.hint
        else:
            continue
        action.target = replace(target, hint=target.group, candidates=(selector,))
        found.append(action)
    return found


def _switches(
    actions: list[Action], elements: dict[int, str], columns: list[str], rows: list[dict]
) -> dict[int, str]:
    """Check boxes ticked or cleared whose element a --data column names and holds yes/no
    values: the bot sets each from the item's column (id(action) -> column)."""
    by_name = {identifier(c, "column"): c for c in columns}
    found = {}
    for action in actions:
        if action.kind not in ("check", "uncheck") or action.target is None:
            continue
        column = by_name.get(elements[id(action)])
        if action.target.kind == "checkbox" and column and _yes_no(rows, column):
            found[id(action)] = column
    return found


def _yes_no(rows: list[dict[str, str]], column: str) -> bool:
    return bool(rows) and all(r.get(column, "").strip().lower() in YES + NO for r in rows)


def _typed(action: Action) -> str:
    if action.kind == "select":
        return action.label if action.label is not None else action.value or ""
    if action.kind == "upload":
        return action.files[0] if action.files else ""
    return action.value or ""


def _is_secret(action: Action) -> bool:
    """Passwords, and the user name typed in the same log-in form, come from the vault."""
    if action.kind != "fill" or action.target is None:
        return False
    return action.secret or (action.target.login and action.target.kind == "textbox")


@dataclass
class _Step:
    name: str
    key: tuple
    final: bool = False  # the point of no return
    actions: list[Action] = field(default_factory=list)


def _steps(actions: list[Action]) -> list[_Step]:
    """Consecutive actions on one page form a step, named after the page; an action that a
    person confirmed in a dialog is a step of its own, the point of no return."""
    steps: list[_Step] = []
    pending: list[Action] = []  # gotos and closes join the step that follows them
    for action in actions:
        if action.target is None:
            pending.append(action)
            continue
        key = (action.page_id, action.page_title.lower() or "page")
        dialog = action.dialog
        if dialog is not None and dialog.kind == "confirm" and dialog.accepted:
            name = identifier(action.target.hint, "submit").replace("_", " ")
            steps.append(_Step(name, key, final=True))
        elif not steps or steps[-1].key != key or steps[-1].final:
            steps.append(_Step(key[1], key))
        steps[-1].actions += [*pending, action]
        pending = []
    if pending:
        steps.append(_Step("finish", ("", ""), actions=pending))
    return steps


class _Writer:
    """Writes the process function, one action at a time."""

    def __init__(self, bot: str, start_url: str, elements: dict[int, str]):
        self.bot = bot
        self.start_url = start_url
        self.elements = elements  # id(action) -> element name
        self.fields: dict[int, str] = {}  # id(action) -> the item field it keys
        self.typed: dict[str, str] = {}  # value typed -> its field (for dialog texts)
        self.answers: dict[int, str] = {}  # id(action) -> the field its prompt's answer is
        self.choices: set[int] = set()  # radio buttons picked by an item's field
        self.switches: dict[int, str] = {}  # check boxes set by an item's yes/no column
        self.titles: dict[str, str] = {}  # page_id -> the title of its first page
        self.pages: dict[str, str] = {}  # page_id -> its variable
        self.taken = set(RESERVED)
        self.uses_vault = False
        self.lines: list[str] = []

    def process(self, steps: list[_Step]) -> str:
        self.lines = [
            "",
            "",
            "@bot.process",
            "def enter_row(item, ctx):",
            f"    {MAIN} = ctx.web()",
        ]
        for step in steps:
            options = ", point_of_no_return=True" if step.final else ""
            self.lines.append(f"    with ctx.step({lit(step.name)}{options}):")
            for action in step.actions:
                self.action(action, "        ")
        self.lines.append("    return ctx.done()")
        return "\n".join(self.lines) + "\n"

    def action(self, action: Action, indent: str) -> None:
        page = self.pages.setdefault(action.page_id, MAIN if not self.pages else "popup_page")
        if action.kind == "goto":
            where = self._relative(action.url)
            self.lines.append(f"{indent}{page}.goto({lit(where) if where else ''})")
            return
        if action.kind == "close":
            self.lines.append(f"{indent}{page}.close()")
            return
        if _is_secret(action) and not self.uses_vault:
            self.uses_vault = True
            self.lines.append(f"{indent}secret = vault.get({lit(self.bot)})")
        wrappers = []
        if action.navigation is not None:
            where = f"frame={lit(action.navigation)}" if action.navigation else ""
            wrappers.append(f"{page}.expect_navigation({where})")
        if action.dialog is not None:
            wrappers.append(self._dialog(page, action))
        if action.popup is not None:
            wrappers.append(f"{page}.expect_popup() as popup")
        if action.closes:
            wrappers.append(f"{page}.expect_close()")
        for depth, wrapper in enumerate(wrappers):
            self.lines.append(f"{indent}{'    ' * depth}with {wrapper}:")
        self.lines.append(f"{indent}{'    ' * len(wrappers)}{self._call(page, action)}")
        if action.popup is not None:
            variable = variable_name(self.titles.get(action.popup, "popup"), self.taken)
            self.pages[action.popup] = variable
            self.lines.append(f"{indent}{variable} = popup.value")

    def _call(self, page: str, action: Action) -> str:
        element = f"{page}[{lit(self.elements[id(action)])}]"
        value = self._value(action)
        if action.kind == "fill":
            return f"{element}.fill({value})"
        if action.kind == "select":
            return f"{element}.select(label={value})"
        if action.kind == "upload":
            return f"{element}.upload({value})"
        if id(action) in self.switches:
            return f"{element}.check(yes(item[{lit(self.switches[id(action)])}]))"
        if action.kind == "check" and id(action) in self.choices:
            return f"{page}.element({lit(self.elements[id(action)])}, value={value}).check()"
        if action.kind == "check":
            return f"{element}.check()"
        if action.kind == "uncheck":
            return f"{element}.check(False)"
        if action.kind == "press":
            return f"{element}.press({lit(action.key or 'Enter')})"
        return f"{element}.click()"

    def _value(self, action: Action) -> str:
        if _is_secret(action):
            return 'secret["password"]' if action.secret else 'secret["username"]'
        field_name = self.fields.get(id(action))
        return f"item[{lit(field_name)}]" if field_name else '""'

    def _dialog(self, page: str, action: Action) -> str:
        dialog = action.dialog
        expect = self._expect(dialog.message)
        if not dialog.accepted:
            return f"{page}.dismiss_dialog(expect={expect})"
        if id(action) in self.answers:
            answer = f"item[{lit(self.answers[id(action)])}]"
            return f"{page}.accept_dialog(expect={expect}, text={answer})"
        return f"{page}.accept_dialog(expect={expect})"

    def _expect(self, message: str) -> str:
        """The dialog's text with the typed values in it as the item's fields, cut before
        the first number that no field explains (a total, a count: it changes per item)."""
        values = sorted(self.typed, key=len, reverse=True)
        parts = (
            re.split("(" + "|".join(map(re.escape, values)) + ")", message) if values else [message]
        )
        out, uses_fields = "", False
        for index, part in enumerate(parts):
            if index % 2:  # a typed value
                out += "{item[" + repr(self.typed[part]) + "]}"
                uses_fields = True
                continue
            digit = re.search(r"\d", part)
            literal = part[: digit.start()] if digit else part
            out += literal.replace("{", "{{").replace("}", "}}") if uses_fields else literal
            if digit:
                out = out.rstrip()
                break
        if not uses_fields:
            out = out.replace("{{", "{").replace("}}", "}")
        return ("f" + lit(out)) if uses_fields else lit(out)

    def _relative(self, url: str | None) -> str:
        """A URL as the bot opens it: relative to --target when on the same site."""
        if not url or url == self.start_url:
            return ""
        start, there = urlsplit(self.start_url), urlsplit(url)
        if (start.scheme, start.netloc) != (there.scheme, there.netloc):
            return url
        return there.path + (f"?{there.query}" if there.query else "")


def _header(bot: str, start_url: str, fields: list[Field], vault: bool, columns) -> str:
    lines = [
        f'"""Recorded bot {bot}: keys one row of the --input spreadsheet per item.',
        "",
        f"Recorded with `run_bot.py record` on {date.today().isoformat()} from",
        f"{start_url}. Run it over a spreadsheet (CSV or XLSX, one header row):",
        f"    python run_bot.py run {bot} --input ROWS.csv [--target URL]",
    ]
    if fields:
        lines += [
            "",
            "The columns it reads, the values typed when recording, the elements they fill:",
        ]
        width = max(len(f.name) for f in fields) + 2
        for f in fields:
            example = f.example if len(f.example) <= 20 else f.example[:19] + "…"
            lines.append(f"    {f.name:<{width}}{example!r:<24}-> {f.element}")
        missing = [f.name for f in fields if columns and not f.in_data]
        if missing:
            lines.append(f"Not in the --data file when recorded: {', '.join(missing)}.")
    if vault:
        env = "DESKHAND_SECRET_" + bot.upper().replace("-", "_")
        lines += [
            "",
            f"The log-in comes from the vault: set {env} to",
            '{"username": ..., "password": ...}. No password is ever written down.',
        ]
    lines += ["", f"The elements are named in selectors/{bot}.yaml.", '"""', "", ""]
    return "\n".join(lines)


def _source(bot: str, start_url: str, fields: list[Field], switches: list[str]) -> str:
    columns = list(dict.fromkeys([*(f.name for f in fields), *switches]))
    lines = [
        "from deskhand import Bot, vault",
        *(["from deskhand.spreadsheet import yes"] if switches else []),
        "",
        "bot = Bot(",
        f"    {lit(bot)},",
        f"    selectors={lit(bot)},",
        f'    settings={{"target": {lit(start_url)}}},  # --target overrides it',
        ")",
        "",
        *rows_source(columns),
    ]
    return "\n".join(lines) + "\n"


def rows_source(columns: list[str]) -> list[str]:
    """The lines of a bot's COLUMNS and its source: one work item per --input row, known by
    its reference-like column (an invoice number) or else by its row number."""
    reference = _reference(columns)
    lines = [
        "# The --input columns this bot reads.",
        "COLUMNS = [",
        *(f"    {lit(c)}," for c in columns),
        "]",
        "",
        "",
        "@bot.source",
        "def rows(ctx):",
    ]
    if reference:
        return lines + [
            f'    """One work item per row of --input, known by its {reference}."""',
            "    for row in ctx.rows(COLUMNS):",
            f"        yield ctx.item(reference=row[{lit(reference)}], **row)",
        ]
    return lines + [
        '    """One work item per row of --input, known by its row number."""',
        "    for number, row in enumerate(ctx.rows(COLUMNS), 1):",
        '        yield ctx.item(reference=f"row {number}", **row)',
    ]


def _reference(columns: list[str]) -> str | None:
    for word in REFERENCE_WORDS:
        for column in columns:
            if word in re.findall(r"[a-z0-9]+", column.lower()):
                return column
    return None


_YAML_HEADER = """\
# Named elements of the application recorded for bots/{bot}.py ({url}, {day}),
# grouped by page. Each lists its selectors best first, each unique when recorded; the first
# that matches exactly one element wins. `label=TEXT` is the field labelled TEXT.
"""


def lit(text: str) -> str:
    """A Python string literal in double quotes, as ruff formats them."""
    return json.dumps(text, ensure_ascii=False)
