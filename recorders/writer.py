"""Writes a recorded bot's process function, one recorded action at a time: elements by
name, values from the item's columns or named constants, waits for what each action caused,
the read-backs around the point of no return and the record's number after it."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import forms
from .botfile import MAIN, lit
from .naming import Names, identifier, variable_name
from .recording import Action, Target, target_of
from .steps import Step, is_secret

RESERVED = {MAIN, "item", "ctx", "bot", "vault", "secret", "popup", "row", "number", "COLUMNS"}
LINE_LENGTH = 100  # the project's ruff line length
RESERVED |= {
    "rows",
    "enter_row",
    "find_record",
    "step",
    "record",
    "log_in",
    "read_back",
    "checkpoint",
    "found",
    "re",
    "yes",
}


def _kept(action: Action, sent: dict | None) -> bool:
    """The form still held what the person keyed when it was sent: no script of the page
    rewrote it (a reformatted amount would fail every read-back; it is not compared)."""
    if sent is None or action.kind not in ("fill", "select"):
        return True
    if action.kind == "select":
        return sent.get("value") == action.value or sent.get("label") == action.label
    return (sent.get("value") or "").strip() == (action.value or "").strip()


def _label_like(cell: dict, typed: list[str]) -> bool:
    """A cell labelled by words (Amount), not by another value (a search result's row)."""
    hint = cell["hint"].strip().rstrip(":")
    return not re.search(r"\d", hint) and hint not in {v.strip() for v in typed}


class Writer:
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
    def plan(self, steps: list[Step], names: Names, typed: list[str]) -> None:
        """Find the constants, the read-backs, the record's number and the search."""
        every = {id(a): a for s in steps for a in s.actions}
        self.checked = {i: a.kind == "check" for i, a in every.items()}
        self.has_login = any(s.login for s in steps)
        for action_id, source in self.sources.items():
            if source.constant:
                base = identifier(source.element).upper()
                name, n = base, 2
                while name in self.taken or name in self.constants.values():
                    name, n = f"{base}_{n}", n + 1
                self.constants[action_id] = name
        final = next((s for s in steps if s.final), None)
        if final is None:
            return
        submit = final.actions[-1]
        earlier = steps[: steps.index(final)]
        before = [a for s in earlier if s.key == final.key and not s.login for a in s.actions]
        sent = {}  # what the form held when the person submitted it, after the page's scripts
        for field in (submit.form or {}).get("fields", ()):
            if field.get("target"):
                target = target_of({"target": field["target"], "frames": submit.target.frames})
                sent[forms.field_key(target)] = field
        checks = [
            self._check_before(a)
            for a in before
            if id(a) in self.sources and _kept(a, sent.get(forms.field_key(a.target)))
        ]
        self.before[id(final.actions[0])] = [c for c in checks if c]
        later = [a for s in steps[steps.index(final) :] for a in s.actions]
        number = forms.record_number(submit.shown, typed)
        if number is not None:
            element = self._shown_element(names, submit, number)
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

    def _shown_element(self, names: Names, action: Action, cell: dict) -> str:
        """The element of the repository for a text a page shows (a number, a saved value)."""
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
        element = self._shown_element(names, action, matching[0])
        page = self.pages.get(action.page_id, MAIN)
        return (source.element, f"{page}[{lit(element)}].text()", self._value(keyed))

    def _find_search(self, steps: list[Step], typed: list[str]) -> list[Action]:
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
    def process(self, steps: list[Step]) -> str:
        """The helpers (the log-in, one per page the bot works on) and the process."""
        self.lines = []
        process = ["", "", "@bot.process", "def enter_row(item, ctx):", f"    {MAIN} = ctx.web()"]
        helpers: list[str] = []
        logged_in = record = False
        for step in steps:
            body_start = len(self.lines)
            for action in step.actions:
                self.action(action, "    ")
            body = self.lines[body_start:]
            del self.lines[body_start:]
            if step.login and not logged_in:
                logged_in = True
                doc = '    """Log in with the user name and password kept in the vault."""'
                helpers += ["", "", f"def log_in({MAIN}):", doc, *body]
                process += ['    with ctx.step("log in"):', f"        log_in({MAIN})"]
                continue
            options = ", point_of_no_return=True" if step.final else ""
            holder = " as step" if step.final and self.record else ""
            process.append(f"    with ctx.step({lit(step.name)}{options}){holder}:")
            if self._own_helper(step, body):
                text = "\n".join(body)
                params = [MAIN] + [p for p in ("item", "ctx") if re.search(rf"\b{p}\b", text)]
                name = self._helper_name(step.name)
                doc = f'    """The page of the step "{step.name}"."""'
                helpers += ["", "", f"def {name}({', '.join(params)}):", doc, *body]
                process.append(f"        {name}({', '.join(params)})")
            else:
                process += ["    " + line for line in body]
            record = record or (step.final and self.record is not None)
        process.append("    return ctx.done(record=record)" if record else "    return ctx.done()")
        self.lines = process
        return "\n".join(helpers + process) + "\n"

    def _own_helper(self, step: Step, body: list[str]) -> bool:
        """A step on the bot's main page that makes and needs no other page or value."""
        if step.final or step.login:
            return False
        own = all(self.pages.get(a.page_id) == MAIN and a.popup is None for a in step.actions)
        return own and not any(re.search(r"\b(step|record|secret)\b", line) for line in body)

    def _helper_name(self, step_name: str) -> str:
        base = identifier(step_name, "page")
        name, number = base, 2
        while name in self.taken:
            name, number = f"{base}_{number}", number + 1
        self.taken.add(name)
        return name

    def action(self, action: Action, indent: str) -> None:
        page = self.pages.setdefault(action.page_id, MAIN if not self.pages else "popup_page")
        if action.kind == "goto":
            where = self._relative(action.url)
            self.lines.append(f"{indent}{page}.goto({lit(where) if where else ''})")
            return
        if action.kind == "close":
            self.lines.append(f"{indent}{page}.close()")
            return
        if is_secret(action) and not self.uses_vault:
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
            line = f"{indent}    {name}=({shown}, {wanted}),"
            if len(line) <= LINE_LENGTH:
                self.lines.append(line)
            else:  # as ruff formats it
                inner = indent + " " * 8
                self.lines += [f"{indent}    {name}=(", f"{inner}{shown},", f"{inner}{wanted},"]
                self.lines.append(f"{indent}    ),")
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
        if is_secret(action):
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
