"""The desktop recorder: a task done once (input synthesised on Xvfb), then replayed."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys

import pytest
from conftest import ROOT, LegacyApp

from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.desktop import Desktop, DesktopSession, virtual_display
from deskhand.runner import run_bot
from recorders.desktop import Action, actions, bot_source

PROGRAM = [sys.executable, "-m", "demo.desktop_app"]
TITLE = "Invoice Entry - AP Desk"


@pytest.fixture
def screen():
    with virtual_display(virtual=True) as display:
        yield display


def do_the_task(desk: Desktop) -> None:
    """Key one invoice as a person would: move to each thing, wait, click, type."""
    gui = desk.session.gui()

    def click(target) -> None:
        x, y = target.find().region.center
        desk.settle(limit=1)
        gui.moveTo(x, y)
        desk.settle(limit=1)
        gui.click(x, y)
        desk.settle(limit=1)

    app = desk.window(TITLE)
    vendor = app.text("Vendor:")
    click(vendor.right_of(40))
    listing = vendor.offset(0, 8, origin="right", width=420, height=260)
    click(desk.text("Acme Office Supplies Ltd", region=listing))
    for label, value in (
        ("Invoice no.:", "REC-001"),
        ("Invoice date:", "03/05/2026"),
        ("Currency:", "GBP"),
        ("Amount:", "120.00"),
    ):
        click(app.text(label).right_of(40))
        desk.type(value)
    click(app.text("Net 30"))
    click(app.text("Description").below(12))
    for n, value in enumerate(("Paper", "2", "60.00", "120.00")):
        if n:
            desk.press("tab")
        desk.type(value)
    click(desk.image(ROOT / "selectors" / "desktop_ap" / "save_button.png"))
    click(desk.window("Confirm save").text("Yes"))
    record = desk.window(re.compile(r"^Invoice AP-")).region
    click(desk.at(record.center[0], record.bottom - 25, name="Close"))  # its button
    desk.settle(limit=1)
    gui.press("f12")  # the stop key: not recorded


COLUMNS = "invoice_no,date,currency,amount,description,qty,price,line_amount"
RECORDED = "REC-001,03/05/2026,GBP,120.00,Paper,2,60.00,120.00"


@pytest.mark.slow
def test_recorded_task_becomes_a_bot_that_keys_every_row(screen, tmp_path):
    project = tmp_path / "project"
    (project / "bots").mkdir(parents=True)
    recorded_db = tmp_path / "recorded.db"
    data = tmp_path / "data.csv"
    data.write_text(f"{COLUMNS}\n{RECORDED}\n")
    command = [
        sys.executable,
        "-m",
        "recorders.desktop",
        "--bot",
        "key_one_invoice",
        "--root",
        str(project),
        "--program",
        shlex.join([*PROGRAM, "--db", str(recorded_db)]),
        "--window",
        TITLE,
        "--data",
        str(data),
    ]
    recorder = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert recorder.stdout.readline().startswith(f"recording on {screen}")
        session = DesktopSession(folder=tmp_path).start()
        try:
            do_the_task(Desktop(session, timeout=15))
        finally:
            session.close()
        output = recorder.communicate(timeout=60)[0]
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    assert recorder.returncode == 0, output
    assert len(LegacyApp("", recorded_db).invoices()) == 1  # the task itself was done

    source = (project / "bots" / "key_one_invoice.py").read_text()
    pictures = sorted(p.name for p in (project / "selectors" / "key_one_invoice").iterdir())
    assert pictures == [f"click_{n:02d}.png" for n in range(1, 12)]
    typed = re.findall(r"desk\.type\(item\[\"(\w+)\"\]\)", source)
    assert typed == COLUMNS.split(",")  # every typed value found its column
    assert "REC-001" not in source and "for row in ctx.rows(COLUMNS):" in source
    assert source.count('desk.press("tab")') == 3
    assert "f12" not in source

    # Run over two rows on a fresh program (already open, so the bot uses it): both keyed.
    rows = tmp_path / "rows.csv"
    rows.write_text(f"{COLUMNS}\n{RECORDED}\nREC-002,04/05/2026,GBP,90.00,Toner,3,30.00,90.00\n")
    fresh_db = tmp_path / "fresh.db"
    session = DesktopSession(folder=tmp_path).start()
    try:
        Desktop(session).start([*PROGRAM, "--db", fresh_db], window=TITLE)
        bot = load_bot("key_one_invoice", project)
        cli = {"input": rows, "logs_dir": tmp_path / "logs"}
        cli["db"] = f"sqlite:///{tmp_path / 'queue.db'}"
        result = run_bot(bot, load_settings(project, bot.settings, cli))
    finally:
        session.close()
    assert [(i.reference, i.status, i.error) for i in result.items] == [
        ("REC-001", "done", None),
        ("REC-002", "done", None),
    ]
    saved = {s["invoice_number"]: s for s in LegacyApp("", fresh_db).invoices()}
    assert sorted(saved) == ["REC-001", "REC-002"]
    assert (saved["REC-002"]["vendor"], saved["REC-002"]["amount"]) == (
        "Acme Office Supplies Ltd",
        "90.00",
    )
    assert saved["REC-001"]["lines"] == [
        {"description": "Paper", "quantity": "2", "unit_price": "60.00", "amount": "120.00"}
    ]
    assert saved["REC-002"]["lines"] == [
        {"description": "Toner", "quantity": "3", "unit_price": "30.00", "amount": "90.00"}
    ]


def test_events_become_actions_in_order():
    """Keys and clicks arrive from two listeners; in server-time order they become steps."""
    first = Action("click", 0, "", 10, 10, image="click_01")
    second = Action("click", 0, "", 10, 11, image="click_02")
    third = Action("click", 0, "", 50, 50, image="click_03")
    events = [
        (100, 0, "click", first),
        (150, 1, "down", None, "R"),
        (160, 2, "down", None, "x"),
        (170, 3, "down", "backspace", None),
        (180, 4, "down", "space", None),
        (190, 5, "down", None, "1"),
        (200, 6, "down", "ctrl_l", None),
        (210, 7, "down", None, "\x01"),
        (220, 8, "up", "ctrl_l", None),
        (230, 9, "down", "enter", None),
        (1000, 10, "click", second),
        (1100, 11, "click", Action("click", 0, "", 11, 11, image="click_04")),
        (2000, 12, "click", third),
    ]
    steps = actions(events)
    assert [(a.kind, a.value or a.image) for a in steps] == [
        ("click", "click_01"),
        ("type", "R 1"),
        ("hotkey", ["ctrl", "a"]),
        ("press", "enter"),
        ("double_click", "click_02"),
        ("click", "click_03"),
    ]
    source = bot_source("probe", steps, None, "Probe")
    compile(source, "probe.py", "exec")
    assert 'desk.image("click_02").double_click()' in source
    assert 'desk.hotkey("ctrl", "a")' in source
    assert 'desk.type("R 1")' in source and "def once(ctx):" in source  # no --data: replay
    with_data = bot_source("probe", steps, None, "Probe", ["name", "note"], [{"name": "R 1"}])
    compile(with_data, "probe.py", "exec")
    assert 'desk.type(item["name"])' in with_data and 'COLUMNS = [\n    "name",\n]' in with_data
