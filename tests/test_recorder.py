"""The web recorder: a person (this test) does the task once in a headed Chromium on a
virtual screen; the bot it writes keys every row of a spreadsheet into the real legacy app,
and still does on the re-skinned app (--variant shifted), proposing new selector rankings."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ASSETS, ROOT

from demo.data import DEMO_PASSWORD, DEMO_USER, TERMS
from demo.server import demo_app
from deskhand import ConfigError
from deskhand.logs import read_events
from deskhand.selectors import SelectorRepository, check_page
from deskhand.spreadsheet import read_rows, yes
from recorders.codegen import generate
from recorders.recording import actions
from recorders.web import Recorder

pytestmark = pytest.mark.slow

BOT = "recorded_invoices"
COLUMNS = [
    "invoice_no", "vendor", "invoice_date", "due_date", "currency", "total", "tax", "po",
    "desc1", "qty1", "price1", "amount1",
    "line_description_2", "line_quantity_2", "line_unit_price_2", "line_amount_2", "terms",
    "recurring",
]  # fmt: skip
ROWS = [
    ["REC-1001", "Nordwind", "11/02/2026", "12/02/2026", "EUR", "130.00", "10.00", "PO-77",
     "Pallets", "2", "50.00", "100.00", "Straps", "4", "5.00", "20.00", "Net 30", "Yes"],
    ["REC-1002", "Bluepeak", "11/05/2026", "12/05/2026", "USD", "1210.00", "110.00", "PO-78",
     "Licence renewal", "1", "1000.00", "1000.00", "Support hours", "2", "50.00", "100.00",
     "Net 15", "No"],
    ["REC-1003", "Cascade", "11/09/2026", "12/09/2026", "USD", "265.50", "15.50", "PO-79",
     "Office cleaning", "1", "200.00", "200.00", "Window cleaning", "2", "25.00", "50.00",
     "Net 60", "x"],
]  # fmt: skip
VENDORS = {
    "Nordwind": "Nordwind Logistik GmbH",
    "Bluepeak": "Bluepeak Software Inc.",
    "Cascade": "Cascade Janitorial Services",
}


def as_saved(row: list[str]) -> dict:
    """How the legacy app's database holds a row keyed by the recorded bot."""
    r = dict(zip(COLUMNS, row))

    def iso(us: str) -> str:
        month, day, year = us.split("/")
        return f"{year}-{month}-{day}"

    return {
        "vendor": VENDORS[r["vendor"]],
        "invoice_number": r["invoice_no"],
        "invoice_date": iso(r["invoice_date"]),
        "due_date": iso(r["due_date"]),
        "currency": r["currency"],
        "amount": r["total"],
        "tax": r["tax"],
        "po_number": r["po"],
        "terms": {label: code for code, label in TERMS.items()}[r["terms"]],
        "recurring": int(yes(r["recurring"])),
        "lines": [
            {"description": r["desc1"], "quantity": r["qty1"], "unit_price": r["price1"],
             "amount": r["amount1"]},
            {"description": r["line_description_2"], "quantity": r["line_quantity_2"],
             "unit_price": r["line_unit_price_2"], "amount": r["line_amount_2"]},
        ],
    }  # fmt: skip


def saved(app) -> list[dict]:
    keys = ("vendor", "invoice_number", "invoice_date", "due_date", "currency", "amount")
    keys += ("tax", "po_number", "terms", "recurring", "lines")
    return sorted(({k: inv[k] for k in keys} for inv in app.invoices()), key=lambda i: i["amount"])


def act_as_the_person(page, row: dict) -> None:
    """Log in, open a new invoice, pick the vendor in the lookup popup (Enter to search),
    fill the header and two lines, and accept the save confirmation."""

    def type_into(where, selector: str, text: str) -> None:
        where.locator(selector).click()
        page.keyboard.type(text)

    type_into(page, "#username", DEMO_USER)
    type_into(page, "#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")
    content = page.frame(name="content")
    with content.expect_navigation():
        page.frame_locator("iframe[name=nav]").get_by_text("New invoice").click()
    form = page.frame_locator("iframe[name=content]")

    with page.expect_popup() as info:
        form.locator("#vendor-lookup").click()
    lookup = info.value
    lookup.wait_for_load_state()
    lookup.locator("#vendor-q").click()
    lookup.keyboard.type(row["vendor"])
    with lookup.expect_navigation():
        lookup.keyboard.press("Enter")
    with lookup.expect_event("close"):
        lookup.get_by_role("link", name="Select").click()

    for selector, column in [
        ("#invoice_number", "invoice_no"),
        ("#invoice_date", "invoice_date"),
        ("#due_date", "due_date"),
        ("#amount", "total"),
        ("#tax", "tax"),
        ("#po_number", "po"),
    ]:
        type_into(form, selector, row[column])
    form.locator("#currency").select_option(row["currency"])
    form.get_by_text("Net 30").click()  # the radio button's label
    form.locator("#recurring").click()
    line_columns = {
        1: ["desc1", "qty1", "price1", "amount1"],
        2: ["line_description_2", "line_quantity_2", "line_unit_price_2", "line_amount_2"],
    }
    for n, columns in line_columns.items():
        if n == 2:
            form.get_by_role("button", name="Add line").click()
        for name, column in zip(["description", "quantity", "unit_price", "amount"], columns):
            type_into(form, f"#line_{name}_{n}", row[column])

    page.once("dialog", lambda dialog: dialog.accept())  # the person clicks OK
    with content.expect_navigation():
        form.locator("#save-button").click()


@pytest.fixture(scope="module")
def chromium_type(browser):
    """Only one sync Playwright may run per thread: the recorder launches its headed browser
    through the session's (it starts its own when used from the command line)."""
    probe = browser.new_context()
    yield probe.browser.browser_type
    probe.close()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, chromium_type):
    """Record the task once: a project folder with the generated bot and its repository."""
    root = tmp_path_factory.mktemp("recorded")
    data = root / "invoices.csv"
    with data.open("w", newline="") as out:
        csv.writer(out).writerows([COLUMNS, *ROWS])
    with demo_app(ROOT, root / "recording.db") as url:
        recorder = Recorder(
            url, BOT, data=data, root=root, virtual_display=True, browser_type=chromium_type
        )
        page = recorder.start()
        act_as_the_person(page, dict(zip(COLUMNS, ROWS[0])))
        saved_while_recording = page.frame(name="content").url
        recorder.stop()
    return {"root": root, "data": data, "url": url, "saved": saved_while_recording}


@pytest.fixture
def project(recorded, tmp_path) -> Path:
    """A copy of the recorded project, so that each test's proposals are its own."""
    root = tmp_path / "project"
    for folder in ("bots", "selectors"):
        shutil.copytree(recorded["root"] / folder, root / folder)
    return root


@pytest.fixture(autouse=True)
def recorded_secret(monkeypatch):
    value = f'{{"username": "{DEMO_USER}", "password": "{DEMO_PASSWORD}"}}'
    monkeypatch.setenv("DESKHAND_SECRET_RECORDED_INVOICES", value)


def test_recording_writes_a_bot_that_reads_like_the_task(recorded):
    assert "/invoices/AP-" in recorded["saved"]  # the person's own invoice was saved
    bot = (recorded["root"] / "bots" / f"{BOT}.py").read_text()
    repo_text = (recorded["root"] / "selectors" / f"{BOT}.yaml").read_text()

    for text in (bot, repo_text):
        assert DEMO_PASSWORD not in text and f'"{DEMO_USER}"' not in text
    expected = [
        'bot = Bot(\n    "recorded_invoices",\n    selectors="recorded_invoices",',
        "for row in ctx.rows(COLUMNS):",
        'yield ctx.item(reference=row["invoice_no"], **row)',
        'secret = vault.get("recorded_invoices")',
        'app["user_name"].fill(secret["username"])',
        'app["password"].fill(secret["password"])',
        'with ctx.step("open new invoice"):\n        open_new_invoice(app)',  # a helper per page
        'def open_new_invoice(app):\n    """The page of the step "open new invoice"."""\n'
        '    with app.expect_navigation(frame="content"):\n        app["new_invoice_link"].click()',
        'with ctx.step("new supplier invoice"):\n        new_supplier_invoice(app, item)',
        'with app.expect_popup() as popup:\n            app["lookup_button"].click()',
        "vendor_lookup = popup.value",
        'vendor_lookup["name_or_code"].fill(item["vendor"])',
        "with vendor_lookup.expect_navigation():\n"
        '            vendor_lookup["name_or_code"].press("Enter")',
        'with vendor_lookup.expect_close():\n            vendor_lookup["select_link"].click()',
        'app["invoice_number"].fill(item["invoice_no"])',
        'app["invoice_total"].fill(item["total"])',
        'app["currency"].select(label=item["currency"])',
        'app.element("terms", value=item["terms"]).check()',  # the radio its label names
        'app["recurring"].check(yes(item["recurring"]))',  # a yes/no column of that name
        'app["line_description_2"].fill(item["line_description_2"])',
        'with ctx.step("save", point_of_no_return=True) as step:',
        'currency=(app["currency"].selected_label(), item["currency"]),',  # read back first
        'record = app["record_number"].text()',  # the confirmation's number is the output
        "return ctx.done(record=record)",
        'with ctx.step("log in"):\n        log_in(app)',
        "@bot.reconcile",
        "with app.accept_dialog(expect=f\"Save invoice {item['invoice_no']}?\"):",
    ]
    for line in expected:
        assert line in bot, line
    assert bot.count(".fill(") == 2 + 1 + 6 + 8  # log-in, vendor search, header, two lines
    assert 'app["vendor"]' not in bot  # the lookup's script chose it: no constant vendor
    for tool in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *tool, "--config", str(ROOT / "pyproject.toml"),
             "--no-cache", str(recorded["root"] / "bots" / f"{BOT}.py")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr


def test_recorded_repository_names_elements_by_label_grouped_by_page(recorded):
    repo = SelectorRepository.load(recorded["root"] / "selectors" / f"{BOT}.yaml")

    assert list(repo.pages) == [
        "log_in", "nav", "new_supplier_invoice", "vendor_lookup", "invoice_saved"
    ]  # fmt: skip
    pages = {page: [e.name for e in specs] for page, specs in repo.pages.items()}
    assert pages["log_in"] == ["user_name", "password", "log_in_button"]
    assert pages["invoice_saved"] == ["record_number"]  # the output, read after saving
    assert pages["vendor_lookup"] == ["name_or_code", "select_link"]
    assert {"invoice_number", "invoice_total", "terms", "save_button"} <= set(
        pages["new_supplier_invoice"]
    )
    number = repo["invoice_number"]
    assert number.frames == ("content",)
    assert number.candidates[:4] == (  # a field: its role and name, its label first
        'role=textbox[name="Invoice number:"]',
        "label=Invoice number:",
        "#invoice_number",
        'input[name="invoice_number"]',
    )
    assert number.candidates[-1].startswith("xpath=/html/body/")
    assert repo["new_invoice_link"].frames == ("nav",)
    assert repo["terms"].candidates == ("label={value}",)  # the group, by the chosen label
    assert repo["save_button"].candidates[:2] == ("#save-button", 'role=button[name="Save"]')
    assert repo["select_link"].frames == ()  # the popup is a page of its own
    assert repo["password"].candidates[0] == "label=Password:"


def test_recorded_bot_keys_every_row_of_the_spreadsheet(recorded, project, run, legacy_app):
    result = run(BOT, root=project, input=recorded["data"], target=legacy_app.url)

    assert [(i.reference, i.status, i.error) for i in result.items] == [
        (row[0], "done", None) for row in ROWS
    ]
    assert saved(legacy_app) == sorted((as_saved(r) for r in ROWS), key=lambda i: i["amount"])
    warnings = [e for e in read_events(result.dir) if e["event"] in ("warning", "healing")]
    assert warnings == []
    assert not (project / "selectors" / f"{BOT}.proposed.yaml").exists()


def test_shifted_app_is_keyed_through_fallbacks_with_a_healing_proposal(
    recorded, project, run, tmp_path
):
    repository = project / "selectors" / f"{BOT}.yaml"
    before = repository.read_bytes()
    with demo_app(ROOT, tmp_path / "shifted.db", variant="shifted") as url:
        from conftest import LegacyApp

        app = LegacyApp(url, tmp_path / "shifted.db")
        result = run(BOT, root=project, input=recorded["data"], target=url)
        assert [i.status for i in result.items] == ["done"] * 3
        assert saved(app) == sorted((as_saved(r) for r in ROWS), key=lambda i: i["amount"])

    assert repository.read_bytes() == before  # never rewritten
    proposal = project / "selectors" / f"{BOT}.proposed.yaml"
    text = proposal.read_text()
    assert text.startswith(f"# Healing proposal for selectors/{BOT}.yaml")
    proposed = SelectorRepository.load(proposal)
    healed = set(proposed.elements)
    assert {"log_in_button", "new_invoice_link", "save_button"} <= healed
    assert "select_link" not in healed  # its first choice (role and name) still holds
    assert not {"user_name", "invoice_number", "currency"} & healed  # fields: label first
    save = proposed["save_button"]
    assert save.page == "new_supplier_invoice" and save.frames == ("content",)
    assert save.candidates[-1] == "#save-button"  # demoted, kept: the app may come back
    assert proposed["new_invoice_link"].frames == ("nav",)
    assert proposed["new_invoice_link"].candidates[0] == 'role=link[name="New invoice"]'
    assert proposed["save_button"].candidates[:2] == (
        'role=button[name="Save"]',
        'input:text-is("Save")',
    )
    assert "#save-button matched 0" in text

    events = read_events(result.dir)
    healing = [e for e in events if e["event"] == "healing"]
    assert {e["element"] for e in healing} == healed  # each once per run
    warnings = [e["message"] for e in events if e["event"] == "warning"]
    assert any("fallback selector 'role=button[name=\"Save\"]'" in w for w in warnings)
    report = result.report.read_text()
    assert "Selector healing proposals" in report
    assert str(proposal) in report and "role=link[name=&#34;New invoice&#34;]" in report


def test_recorder_captures_uploads_unchecks_prompts_and_unnamed_frames(
    chromium_type, browser, tmp_path
):
    start = (ASSETS / "recorder" / "claim.html").as_uri()
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 a receipt")
    recorder = Recorder(
        start, "claims", root=tmp_path, virtual_display=True, browser_type=chromium_type
    )
    page = recorder.start()
    page.locator("#receipt").set_input_files(scan)
    page.get_by_text("Notify me").click()  # its label: it was checked
    page.once("dialog", lambda dialog: dialog.accept("Taxi to the airport"))
    page.get_by_role("button", name="Add comment").click()
    page.frame_locator("#cost-frame").locator("input").click()
    page.keyboard.type("CC-204")
    bot_file, repo_file = recorder.stop()

    bot = bot_file.read_text()
    for line in [
        'app["receipt"].upload(item["receipt"])',
        'app["notify_me"].check(False)',
        'with app.accept_dialog(expect="Comment for this claim?", '
        'text=item["comment_for_this_claim"]):',
        'with ctx.step("cost centre"):\n        cost_centre(app, item)',
        'def cost_centre(app, item):\n    """The page of the step "cost centre"."""\n'
        '    app["cost_centre"].fill(item["cost_centre"])',
    ]:
        assert line in bot, line
    assert "Taxi to the airport" not in bot.split('"""', 2)[2]  # only in the docstring
    repo = SelectorRepository.load(repo_file)
    assert repo["cost_centre"].frames == ("cost-frame",)  # no name: Playwright goes by id
    assert '[data-testid="cost-centre"]' in repo["cost_centre"].candidates
    context = browser.new_context()
    try:
        replay = context.new_page()
        replay.goto(start)
        checks = {c.element: c.status for c in check_page(repo, replay)}
    finally:
        context.close()
    assert checks == dict.fromkeys(repo.elements, "ok")


def test_recording_ends_when_the_person_closes_the_browser(chromium_type, tmp_path):
    start = (ASSETS / "recorder" / "claim.html").as_uri()
    recorder = Recorder(
        start, "closed", root=tmp_path, virtual_display=True, browser_type=chromium_type
    )
    page = recorder.start()
    page.get_by_text("Notify me").click()
    page.close()  # the person closes the window
    recorder.wait()  # returns at once: nothing is left open
    bot_file, _ = recorder.stop()
    assert 'app["notify_me"].check(False)' in bot_file.read_text()

    empty = Recorder(
        start, "empty", root=tmp_path, virtual_display=True, browser_type=chromium_type
    )
    empty.start().close()
    with pytest.raises(ConfigError, match="nothing was recorded"):
        empty.stop()
    assert not (tmp_path / "bots" / "empty.py").exists()


# -- without a browser: the generator on recorded events ------------------------------------
def target(kind: str, hint: str, *candidates: str, **extra) -> dict:
    return {"kind": kind, "hint": hint, "candidates": list(candidates), **extra}


def event(t: int, what: str, page: str = "p1", title: str = "Orders", **data) -> dict:
    return {"type": what, "t": t, "page_id": page, "page": {"title": title}, **data}


def test_typing_is_coalesced_and_unmatched_values_become_fields():
    notes = target("textbox", "Notes:", "#notes")
    events = [
        {"type": "goto", "t": 0, "page_id": "p1", "url": "http://app/orders"},
        *(event(10 + i, "fill", target=notes, value="abc"[: i + 1]) for i in range(3)),
        event(20, "click", target=target("button", "Approve", "#approve")),
        event(21, "dialog", kind="confirm", message="Approve order 42 (3 items)?", accepted=False),
        event(30, "fill", target=notes, value="abc"),  # the change event: nothing new
        event(40, "upload", target=target("file", "Attachment:", "#file"), files=["scan.pdf"]),
        event(50, "press", target=notes, key="Enter"),
        {"type": "navigation", "t": 60, "page_id": "p1", "frame": "", "url": "http://app/done"},
        {"type": "navigation", "t": 9000, "page_id": "p1", "frame": "", "url": "http://app/list"},
    ]
    recorded = actions(events)
    assert [a.kind for a in recorded] == ["goto", "fill", "click", "upload", "press", "goto"]
    assert recorded[1].value == "abc" and recorded[4].navigation == ""

    out = generate(recorded, "approve", "http://app/orders")
    assert [(f.name, f.example) for f in out.fields] == [
        ("notes", "abc"),
        ("attachment", "scan.pdf"),
    ]
    assert "app.goto()\n" in out.bot and 'app.goto("/list")' in out.bot
    assert 'with app.dismiss_dialog(expect="Approve order"):' in out.bot  # cut before 42
    assert 'app["attachment"].upload(item["attachment"])' in out.bot
    assert '"""One work item per row of --input, known by all it holds."""' in out.bot
    assert "row number" not in out.bot and "enumerate(" not in out.bot  # rows shift
    assert "vault.get" not in out.bot and not out.uses_vault


def test_radio_choices_found_in_the_data_become_item_fields():
    def radio(hint: str, value: str) -> dict:
        return target("radio", hint, f"#terms_{value}", group="terms", value=value)

    def recorded():
        return actions(
            [
                event(10, "check", target=radio("Net 30", "NET30")),
                event(20, "check", target=target("radio", "Express", "#express", group="ship")),
                event(30, "click", target=target("button", "Save", "#save")),
            ]
        )

    by_value = generate(recorded(), "orders", "http://app/", ["terms"], [{"terms": "NET30"}])
    assert 'app.element("terms", value=item["terms"]).check()' in by_value.bot
    assert 'app["ship_express"].check()' in by_value.bot  # not in the data: as recorded
    assert 'input[name="terms"][value="{value}"]' in by_value.selectors
    assert [f.name for f in by_value.fields] == ["terms"]

    by_label = generate(recorded(), "orders", "http://app/", ["Terms"], [{"Terms": "Net 30"}])
    assert 'app.element("terms", value=item["Terms"]).check()' in by_label.bot
    assert "label={value}" in by_label.selectors
    alone = generate(recorded(), "orders", "http://app/")
    assert 'app["terms_net_30"].check()' in alone.bot and "item[" not in alone.bot


def test_check_boxes_follow_a_yes_no_column_of_their_name():
    recorded = actions(
        [
            event(10, "check", target=target("checkbox", "Recurring", "#recurring")),
            event(20, "check", target=target("checkbox", "Urgent", "#urgent")),
        ]
    )
    rows = [{"recurring": "Yes", "urgent": "maybe"}, {"recurring": "", "urgent": "no"}]
    out = generate(recorded, "orders", "http://app/", ["recurring", "urgent"], rows)
    assert 'app["recurring"].check(yes(item["recurring"]))' in out.bot
    assert "from deskhand.spreadsheet import yes" in out.bot
    assert 'app["urgent"].check()' in out.bot  # 'maybe' is no yes/no column: as recorded
    assert [yes(v) for v in ("Yes", " x ", "TRUE", "1", "No", "", "0")] == [True] * 4 + [False] * 3
    with pytest.raises(ConfigError, match="'maybe' is not a yes/no value"):
        yes("maybe")


def test_read_rows_reads_csv_and_xlsx_and_names_missing_columns(tmp_path):
    from openpyxl import Workbook

    (tmp_path / "rows.csv").write_text("number;amount\nA-1;12.50\n;\nA-2;3\n", encoding="utf-8")
    assert read_rows(tmp_path / "rows.csv") == [
        {"number": "A-1", "amount": "12.50"},
        {"number": "A-2", "amount": "3"},
    ]
    book = Workbook()
    book.active.append(["number", "amount", "quantity"])
    book.active.append(["A-1", 12.5, 3.0])
    book.save(tmp_path / "rows.xlsx")
    assert read_rows(tmp_path / "rows.xlsx", ["number"]) == [
        {"number": "A-1", "amount": "12.5", "quantity": "3"}
    ]
    with pytest.raises(ConfigError, match="rows.csv has no column 'vendor'"):
        read_rows(tmp_path / "rows.csv", ["number", "vendor"])


def test_a_value_the_page_cuts_short_is_caught_before_saving(recorded, project, run, legacy_app):
    """The invoice date field takes 10 characters: '11/02/20266' would be saved as
    11/02/2026. The read-back before the point of no return sees it; nothing is saved."""
    sheet = project / "typo.csv"
    row = dict(zip(COLUMNS, ROWS[0]), invoice_date="11/02/20266")
    with sheet.open("w", newline="") as out:
        csv.writer(out).writerows([COLUMNS, list(row.values())])
    result = run(BOT, root=project, input=sheet, target=legacy_app.url)

    [item] = result.items
    assert item.status == "needs_review"
    assert "invoice_date holds '11/02/2026', not '11/02/20266'" in item.error["message"]
    assert legacy_app.invoices() == []
