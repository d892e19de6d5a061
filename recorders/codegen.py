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

import json
import re
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import urlsplit

from deskhand.selectors import dump_pages, element_entry

from . import forms
from .naming import Field, Names, element_base_name, identifier, page_name, variable_name
from .recording import Action, Target

MAIN = "app"
RESERVED = {MAIN, "item", "ctx", "bot", "vault", "secret", "popup", "row", "number", "COLUMNS"}
RESERVED |= {"step", "record", "log_in", "read_back", "record_in", "checkpoint", "found", "re"}
REFERENCE_WORDS = ("number", "reference", "ref", "id", "code", "no")


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
    prompts = [a for a in actions if a.dialog and a.dialog.kind == "prompt" and a.dialog.value]
    for action, source in zip(keyed, sources):
        if source.kind == "radio" and (source.column or source.default):
            _as_group(action, source)
    names = Names()
    elements = {id(a): names.element(a).name for a in actions if a.target is not None}
    writer = _Writer(bot, start_url, elements)
    free = [(elements[id(a)], forms._keyed(a)) for a, s in zip(keyed, sources) if _is_free(s)]
    free += [(identifier(a.dialog.message, "answer"), a.dialog.value) for a in prompts]
    fields: list[Field] = []
    for action, source in zip(keyed, sources):
        source.element = elements[id(action)]
        writer.sources[id(action)] = source
        if source.column:
            fields.append(Field(source.column, source.value, source.element, True))
    taken_fields = {f.name for f in fields}
    for (element, value), action in zip(
        free, [a for a, s in zip(keyed, sources) if _is_free(s)] + prompts
    ):
        name = element if element not in taken_fields else f"{element}_{len(fields) + 1}"
        taken_fields.add(name)
        fields.append(Field(name, value, element, name in columns))
        if action.dialog is not None and action.kind not in ("fill", "select", "upload"):
            writer.answers[id(action)] = name
        else:
            writer.sources[id(action)].column = name
    typed = [forms._keyed(a) for a in keyed]
    writer.key = forms.key_column(columns, rows, typed, key) if columns else None
    if key is not None and key not in columns:
        from deskhand import ConfigError

        raise ConfigError(f"--key {key}: no such column in --data ({', '.join(columns)})")
    writer.typed = {v: f.name for f in fields for v in [f.example] if len(v) >= 3}
    row = forms.recorded_row(typed, rows) or {}
    writer.key_value = row.get(writer.key, "").strip() if writer.key else ""
    for action in actions:
        if action.page_title:
            writer.titles.setdefault(action.page_id, action.page_title)
    steps = _steps(actions)
    writer.plan(steps, names, typed)
    body = writer.process(steps)
    if any(s.final for s in steps):
        body += reconcile_source(writer)
    constants = [
        (s.element, s.option_value or s.value) for s in writer.sources.values() if _constant(s)
    ]
    source = (
        _header(bot, start_url, fields, writer.uses_vault, columns, constants)
        + _source(bot, start_url, fields, writer, body)
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


def _label_like(cell: dict, typed: list[str]) -> bool:
    """A cell labelled by words (Amount), not by another value (a search result's row)."""
    hint = cell["hint"].strip().rstrip(":")
    return not re.search(r"\d", hint) and hint not in {v.strip() for v in typed}


def _keyed_kind(action: Action) -> str:
    """What kind of value an action keys (fill, select, check, radio, upload), or ''."""
    if action.target is None or _is_secret(action):
        return ""
    if action.kind in ("fill", "select", "upload"):
        return action.kind
    if action.kind in ("check", "uncheck") and action.target.kind == "checkbox":
        return "check"
    if action.kind == "check" and action.target.kind == "radio" and action.target.group:
        return "radio"
    return ""


def _is_free(source: forms.Source) -> bool:
    """A value the person typed that no column holds: it becomes a column of its own."""
    return not source.column and not source.default and source.kind in ("fill", "select", "upload")


def _constant(source: forms.Source) -> bool:
    return not source.column and source.default


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
    login: bool = False


def _creates_record(action: Action) -> bool:
    """The submit that creates a record, whatever confirms it: a JavaScript confirm the
    person accepted, an OK in a dialog drawn over the page that sent a form or left the
    page, or a posted form (not a log-in) whose next page shows a new record's number."""
    if action.target is None:
        return False
    dialog = action.dialog
    if dialog is not None and dialog.kind == "confirm" and dialog.accepted:
        return True
    form = action.form or {}
    login = any(f.get("kind") == "password" for f in form.get("fields", ()))
    if action.target.modal and (action.form or action.navigation is not None) and not login:
        return True
    posted = form.get("method") == "post" and not login
    return posted and forms.record_number(action.shown, []) is not None


def _steps(actions: list[Action]) -> list[_Step]:
    """Consecutive actions on one page form a step, named after the page; the submit that
    creates a record is a step of its own (with the click that opened its dialog), the point
    of no return; a log-in is a step of its own."""
    steps: list[_Step] = []
    pending: list[Action] = []  # gotos and closes join the step that follows them
    for action in actions:
        if action.target is None:
            pending.append(action)
            continue
        key = (action.page_id, action.page_title.lower() or "page")
        login = action.target.login or action.secret
        if _creates_record(action):
            opener = None
            last = steps[-1] if steps else None
            if action.target.modal and last and last.actions and last.actions[-1].kind == "click":
                if (
                    last.actions[-1].navigation is None
                    and last.actions[-1].page_id == action.page_id
                ):
                    opener = last.actions.pop()
            hint = (opener or action).target.hint
            steps.append(_Step(identifier(hint, "submit").replace("_", " "), key, final=True))
            if opener is not None:
                steps[-1].actions.append(opener)
        elif login and (not steps or not steps[-1].login):
            steps.append(_Step("log in", key, login=True))
        elif not steps or steps[-1].key != key or steps[-1].final:
            steps.append(_Step(page_name(key[1]).replace("_", " "), key))
        steps[-1].actions += [*pending, action]
        pending = []
    if pending:
        steps.append(_Step("finish", ("", ""), actions=pending))
    for index, step in enumerate(steps[:-1]):  # "fill claim form" before "submit claim"
        after = steps[index + 1]
        words = after.name.split()
        if after.final and step.key == after.key and not step.login and len(words) > 1:
            step.name = f"fill {' '.join(words[1:])} form"
    return [s for s in steps if s.actions]


class _Writer:
    """Writes the process function, one action at a time."""

    def __init__(self, bot: str, start_url: str, elements: dict[int, str]):
        self.bot = bot
        self.start_url = start_url
        self.elements = elements  # id(action) -> element name
        self.sources: dict[int, forms.Source] = {}  # id(action) -> where its value comes from
        self.typed: dict[str, str] = {}  # value typed -> its field (for dialog texts)
        self.answers: dict[int, str] = {}  # id(action) -> the field its prompt's answer is
        self.titles: dict[str, str] = {}  # page_id -> the title of its first page
        self.pages: dict[str, str] = {}  # page_id -> its variable
        self.taken = set(RESERVED)
        self.uses_vault = False
        self.key: str | None = None
        self.key_value = ""  # the key column's value in the row keyed while recording
        self.constants: dict[int, str] = {}  # id(action) -> its constant's name
        self.before: dict[int, list[tuple[str, str, str]]] = {}  # read back before an action
        self.after: dict[int, list[tuple[str, str, str]]] = {}  # read back after an action
        self.record: tuple[int, str] | None = None  # (id(action), element) of the number
        self.search: list[Action] = []  # the search the person did, for reconcile
        self.checked: dict[int, bool] = {}  # id(action) -> a constant check box's state
        self.record_example = ""
        self.has_login = False
        self.lines: list[str] = []

    # -- what to write where ------------------------------------------------------------
    def plan(self, steps: list[_Step], names: Names, typed: list[str]) -> None:
        """Find the constants, the read-backs, the record's number and the search."""
        every = {id(a): a for s in steps for a in s.actions}
        self.checked = {i: a.kind == "check" for i, a in every.items()}
        self.has_login = any(s.login for s in steps)
        for action_id, source in self.sources.items():
            if _constant(source):
                base = identifier(source.element).upper()
                name, n = base, 2
                while name in self.taken or name in self.constants.values():
                    name, n = f"{base}_{n}", n + 1
                self.constants[action_id] = name
        final = next((s for s in steps if s.final), None)
        if final is None:
            return
        submit = final.actions[-1]
        before = [a for s in steps if s.key == final.key and not s.login for a in s.actions]
        checks = [self._check_before(a) for a in before if id(a) in self.sources]
        self.before[id(final.actions[0])] = [c for c in checks if c]
        later = [a for s in steps[steps.index(final) :] for a in s.actions]
        number = forms.record_number(submit.shown, typed)
        if number is not None:
            element = self._shown_element(names, submit, number, "record")
            self.record = (id(submit), element)
            self.record_example = number["text"]
        self.search = self._find_search(steps, typed)
        labels_only = [a for a in later if a not in self.search]
        done: set[str] = set()
        for action in labels_only:
            cells = [c for c in action.shown if c is not number and _label_like(c, typed)]
            found = [self._check_after(names, action, cells, a) for a in before]
            found = [c for c in found if c and c[0] not in done]
            done |= {c[0] for c in found}
            if found:
                self.after.setdefault(id(action), []).extend(found)

    def _shown_element(self, names: Names, action: Action, cell: dict, fallback: str) -> str:
        target = Target(
            "other",
            cell["hint"],
            tuple(cell["target"]["candidates"]),
            tuple(cell.get("frames", ())),
        )
        shown = Action(
            "read", action.page_id, action.t, page_title=cell.get("title", ""), target=target
        )
        return names.element(shown).name

    def _check_before(self, action: Action) -> tuple[str, str, str] | None:
        source = self.sources[id(action)]
        page = self.pages.get(action.page_id, MAIN)
        element = f"{page}[{lit(self.elements[id(action)])}]"
        wanted = self._value(action)
        if source.kind == "fill":
            return (source.element, f"{element}.value()", wanted)
        if source.kind == "select":
            how = "selected_label()" if source.use_label else "value()"
            return (source.element, f"{element}.{how}", wanted)
        if source.kind == "check":
            return (source.element, f"{element}.is_checked()", self._switch(action))
        if source.kind == "radio" and (source.column or source.default):
            chosen = f"{page}.element({lit(self.elements[id(action)])}, value={wanted})"
            return (source.element, f"{chosen}.is_checked()", "True")
        return None

    def _check_after(self, names: Names, action: Action, cells: list, keyed: Action):
        source = self.sources.get(id(keyed))
        if source is None or source.kind == "upload":
            return None
        shown = (
            source.value
            if source.use_label or source.kind not in ("select", "radio")
            else source.option_value
        )
        if source.kind == "check":
            return None
        matching = [c for c in cells if c["text"] == shown.strip()]
        if len(matching) != 1 or not shown.strip():
            return None
        element = self._shown_element(names, action, matching[0], "shown")
        page = self.pages.get(action.page_id, MAIN)
        return (source.element, f"{page}[{lit(element)}].text()", self._value(keyed))

    def _find_search(self, steps: list[_Step], typed: list[str]) -> list[Action]:
        """A search the person did for the record: a field filled with a value keyed into the
        form, on a page without frames, then Enter or a click that loaded the results."""
        flat = [a for s in steps if not s.final and not s.login for a in s.actions]
        keyed_values = {self.key_value} if self.key_value else set()
        for index, action in enumerate(flat):
            if action.kind != "fill" or action.target.frames or action.default:
                continue
            if (action.value or "").strip() not in keyed_values:
                continue
            for after in flat[index + 1 : index + 3]:
                if after.kind in ("press", "click") and after.navigation == "":
                    if after.page_id == action.page_id:
                        return [action, after]
        return []

    # -- the process ----------------------------------------------------------------------
    def process(self, steps: list[_Step]) -> str:
        self.lines = [
            "",
            "",
            "@bot.process",
            "def enter_row(item, ctx):",
            f"    {MAIN} = ctx.web()",
        ]
        login_lines: list[str] = []
        record = False
        for step in steps:
            if step.login and not login_lines:
                body_start = len(self.lines)
                for action in step.actions:
                    self.action(action, "    ")
                login_lines = self.lines[body_start:]
                del self.lines[body_start:]
                self.lines += ['    with ctx.step("log in"):', f"        log_in({MAIN})"]
                continue
            options = ", point_of_no_return=True" if step.final else ""
            holder = " as step" if step.final and self.record else ""
            self.lines.append(f"    with ctx.step({lit(step.name)}{options}){holder}:")
            for action in step.actions:
                self.action(action, "        ")
            if step.final and self.record:
                record = True
        self.lines.append(
            "    return ctx.done(record=record)" if record else "    return ctx.done()"
        )
        out = "\n".join(self.lines) + "\n"
        if login_lines:
            doc = '    """Log in with the user name and password kept in the vault."""'
            out = "\n\ndef log_in(app):\n" + doc + "\n" + "\n".join(login_lines) + "\n" + out
        return out

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
        if self.before.get(id(action)):
            self._read_back(indent, "before", self.before[id(action)])
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
        if self.record and self.record[0] == id(action):
            self.lines.append(f"{indent}record = {page}[{lit(self.record[1])}].text()")
            self.lines.append(f"{indent}step.set(record=record)")
        if self.after.get(id(action)):
            self._read_back(indent, "after", self.after[id(action)])

    def _read_back(self, indent: str, when: str, checks: list[tuple[str, str, str]]) -> None:
        self.lines += [
            f"{indent}read_back(",
            f"{indent}    ctx,",
            f"{indent}    {lit(when + ' submit')},",
        ]
        for name, shown, wanted in checks:
            self.lines.append(f"{indent}    {name}=({shown}, {wanted}),")
        self.lines.append(f"{indent})")

    def _call(self, page: str, action: Action) -> str:
        element = f"{page}[{lit(self.elements[id(action)])}]"
        source = self.sources.get(id(action))
        value = self._value(action)
        if action.kind == "fill":
            return f"{element}.fill({value})"
        if action.kind == "select":
            how = "label" if source is None or source.use_label else "value"
            return f"{element}.select({how}={value})"
        if action.kind == "upload":
            return f"{element}.upload({value})"
        if source is not None and source.kind == "check" and (source.column or source.default):
            return f"{element}.check({self._switch(action)})"
        if source is not None and source.kind == "radio" and (source.column or source.default):
            return f"{page}.element({lit(self.elements[id(action)])}, value={value}).check()"
        if action.kind == "check":
            return f"{element}.check()"
        if action.kind == "uncheck":
            return f"{element}.check(False)"
        if action.kind == "press":
            return f"{element}.press({lit(action.key or 'Enter')})"
        return f"{element}.click()"

    def _switch(self, action: Action) -> str:
        source = self.sources[id(action)]
        if source.column:
            return f"yes(item[{lit(source.column)}])"
        if id(action) in self.constants:
            return self.constants[id(action)]
        return "True" if action.kind == "check" else "False"

    def _value(self, action: Action) -> str:
        if _is_secret(action):
            return 'secret["password"]' if action.secret else 'secret["username"]'
        source = self.sources.get(id(action))
        if source is None:
            return '""'
        if source.column:
            return f"item[{lit(source.column)}]"
        if id(action) in self.constants:
            return self.constants[id(action)]
        return lit(source.value)

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


def _header(bot: str, start_url: str, fields: list[Field], vault: bool, columns, constants) -> str:
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
            "The columns it reads, the values keyed when recording, the elements they set:",
        ]
        width = max(len(f.name) for f in fields) + 2
        for f in fields:
            example = f.example if len(f.example) <= 20 else f.example[:19] + "…"
            lines.append(f"    {f.name:<{width}}{example!r:<24}-> {f.element}")
        missing = [f.name for f in fields if columns and not f.in_data]
        if missing:
            lines.append(f"Not in the --data file when recorded: {', '.join(missing)}.")
    if constants:
        lines += ["", "Left at their defaults when recording (the constants below):"]
        lines += [f"    {element} = {value!r}" for element, value in constants]
    if vault:
        env = "DESKHAND_SECRET_" + bot.upper().replace("-", "_")
        lines += [
            "",
            f"The log-in comes from the vault: set {env} to",
            '{"username": ..., "password": ...}. No password is ever written down.',
        ]
    lines += ["", f"The elements are named in selectors/{bot}.yaml.", '"""', "", ""]
    return "\n".join(lines)


def _source(bot: str, start_url: str, fields: list[Field], writer: _Writer, body: str) -> str:
    used = list(dict.fromkeys(f.name for f in fields))
    names = ["Bot", "vault"]
    if "read_back(" in body or "BusinessError" in body:
        names.insert(1, "BusinessError")
    lines = [
        *(["import re", ""] if "RECORD_NUMBER" in body else []),
        f"from deskhand import {', '.join(names)}",
        *(["from deskhand.spreadsheet import yes"] if "yes(" in body else []),
        "",
        "bot = Bot(",
        f"    {lit(bot)},",
        f"    selectors={lit(bot)},",
        f'    settings={{"target": {lit(start_url)}}},  # --target overrides it',
        ")",
        "",
    ]
    if "RECORD_NUMBER" in body:
        lines += [
            f"# Record numbers as the application gives them (one was {writer.record_example}).",
            f"RECORD_NUMBER = re.compile({_raw(forms.number_pattern(writer.record_example))})",
            "",
        ]
    for action_id, name in writer.constants.items():
        source = writer.sources[action_id]
        if source.kind == "check":
            value = repr(writer.checked[action_id])
        elif source.kind in ("select", "radio") and not source.use_label:
            value = lit(source.option_value)
        else:
            value = lit(source.value)
        lines.append(f"# {source.element}: left at its default when recorded; no column follows it")
        lines.append(f"{name} = {value}")
    if writer.constants:
        lines.append("")
    lines += rows_source(used, writer.key)
    if "read_back(" in body:
        lines += [
            "",
            "",
            "def read_back(ctx, when, **values):",
            '    """Compare what the page holds (after its own scripts ran) with what the item',
            '    wants; any difference is the item\'s problem: a BusinessError, never done."""',
            '    ctx.values("read_back", {name: shown for name, (shown, _) in values.items()})',
            "    wrong = [",
            '        f"{name} holds {shown!r}, not {wanted!r}"',
            "        for name, (shown, wanted) in values.items()",
            "        if str(shown).strip() != str(wanted).strip()",
            "    ]",
            "    if wrong:",
            '        raise BusinessError(f"read back {when}: " + "; ".join(wrong))',
        ]
    return "\n".join(lines) + "\n"


def _raw(pattern: str) -> str:
    return 'r"' + pattern + '"' if '"' not in pattern else repr(pattern)


def reconcile_source(writer: _Writer) -> str:
    """``@bot.reconcile``: search for the record the way the person did, else to review."""
    lines = ["", "", "@bot.reconcile", "def find_record(item, ctx, checkpoint):"]
    key = writer.key
    if not (writer.search and writer.record and key and writer.has_login):
        lines += [
            '    """An attempt stopped after the point of no return. Whether the record was',
            '    created cannot be looked up (no search was recorded): a person checks."""',
            "    raise BusinessError(",
            "        f\"stopped during {checkpoint['step']!r}: see whether the record exists, \"",
            '        "then approve or reject the item"',
            "    )",
        ]
        return "\n".join(lines) + "\n"
    fill, submit = writer.search
    press = '.press("Enter")' if submit.kind == "press" else ".click()"
    lines += [
        '    """An attempt stopped after the point of no return: search for the record; its',
        '    number when it exists (done, not keyed again), None when not (keyed again)."""',
        f"    {MAIN} = ctx.web()",
        '    with ctx.step("log in"):',
        f"        log_in({MAIN})",
        '    with ctx.step("search for the record"):',
        f"        {MAIN}.goto({lit(writer._relative(fill.address) or '')})",
        f"        {MAIN}[{lit(writer.elements[id(fill)])}].fill(item[{lit(key)}])",
        f"        with {MAIN}.expect_navigation():",
        f"            {MAIN}[{lit(writer.elements[id(submit)])}]{press}",
        f'        for line in {MAIN}.locator("body").inner_text().splitlines():',
        f"            if item[{lit(key)}] in line and (found := RECORD_NUMBER.search(line)):",
        "                return ctx.done(record=found.group(0))",
        "    return None",
    ]
    return "\n".join(lines) + "\n"


def rows_source(columns: list[str], key: str | None = None) -> list[str]:
    """The lines of a bot's COLUMNS and its source: one work item per --input row, known by
    its ``key`` column (else a reference-like column such as an invoice number, else by all
    it holds: never by its row number, which a row inserted above shifts)."""
    reference = key or _reference(columns)
    if reference and reference not in columns:
        columns = [*columns, reference]
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
        '    """One work item per row of --input, known by all it holds."""',
        "    for row in ctx.rows(COLUMNS):",
        '        yield ctx.item(reference=" | ".join(row[c] for c in COLUMNS), **row)',
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
