"""The text of a recorded bot around its process function: the docstring, the imports,
the constants, the source that reads --input by a key column, the read-back helper and the
reconcile."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import TYPE_CHECKING

from . import forms
from .naming import Field

if TYPE_CHECKING:
    from .writer import Writer

MAIN = "app"
REFERENCE_WORDS = ("number", "reference", "ref", "id", "code", "no")


def header(bot: str, start_url: str, fields: list[Field], vault: bool, columns, constants) -> str:
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


def source_lines(bot: str, start_url: str, fields: list[Field], writer: Writer, body: str) -> str:
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


def reconcile_source(writer: Writer) -> str:
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


def lit(text: str) -> str:
    """A Python string literal in double quotes, as ruff formats them."""
    return json.dumps(text, ensure_ascii=False)
