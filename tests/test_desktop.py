"""Desktop bots for real: Xvfb, the Tk demo program, tesseract, pyautogui and XTest input."""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from conftest import ASSETS, DOCUMENTS, ROOT, LegacyApp
from test_invoice_entry import as_keyed, saved_as

from deskhand.bot import load_bot
from deskhand.config import load_settings
from deskhand.desktop import Desktop, DesktopSession, virtual_display
from deskhand.logs import read_events
from deskhand.runner import run_bot

PROGRAM = [sys.executable, "-m", "demo.desktop_app"]
TITLE = "Invoice Entry - AP Desk"


@pytest.fixture(scope="module")
def screen():
    """One Xvfb for the module; $DISPLAY points at it meanwhile."""
    with virtual_display(virtual=True) as display:
        yield display


@pytest.fixture
def desk(screen, tmp_path):
    """A desktop on the module's Xvfb; what it starts is stopped after the test."""
    session = DesktopSession(folder=tmp_path).start()
    yield Desktop(session, images=ROOT / "selectors" / "desktop_ap", timeout=10)
    session.close()


def run(name: str, tmp_path: Path, root: Path = ROOT, **cli):
    """Run a bot as the CLI does (no browser), into tmp_path."""
    bot = load_bot(name, root)
    cli.setdefault("logs_dir", tmp_path / "logs")
    cli.setdefault("retry_delay", 0)
    cli.setdefault("db", f"sqlite:///{tmp_path / 'queue.db'}")
    return run_bot(bot, load_settings(root, bot.settings, cli))


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.mark.slow
def test_bot_keys_the_documents_on_a_machine_with_no_screen(tmp_path, monkeypatch, ground_truth):
    monkeypatch.delenv("DISPLAY", raising=False)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    # Four of the six digital samples: a PO number, recurring ones, one without a due date,
    # three currencies (the main job's test keys every sample through the web app).
    digital = [name for name, truth in ground_truth.items() if truth["form"] == "digital"][:4]
    for name in digital:
        shutil.copy(DOCUMENTS / name, inbox / name)

    result = run("desktop_invoice_entry", tmp_path, input=inbox)

    assert [(i.status, i.error) for i in result.items] == [("done", None)] * len(digital)
    program = LegacyApp("", tmp_path / "logs" / "desktop-app.db")
    saved = {(r["vendor"], r["invoice_number"]): r for r in program.invoices()}
    assert len(saved) == len(digital)
    for name in digital:
        truth = ground_truth[name]
        assert as_keyed(saved[(truth["vendor"], truth["invoice_number"])]) == saved_as(truth, name)
    assert sorted(i.output["record"] for i in result.items) == sorted(
        r["record_no"] for r in saved.values()
    )
    # Every action is in the step log; the run's own Xvfb and program are gone after it.
    events = read_events(result.dir)
    actions = [e for e in events if e["event"] == "action"]
    display = next(e for e in actions if e["action"] == "display")
    start = next(e for e in actions if e["action"] == "start")
    assert display["data"]["virtual"] and gone(display["data"]["xvfb_pid"])
    assert gone(start["data"]["pid"])
    assert {"click", "type", "press", "hotkey", "window", "read"} <= {e["action"] for e in actions}
    read_back = [e["data"] for e in events if e["event"] == "values" and e["kind"] == "read_back"]
    keyed = [e["data"] for e in events if e["event"] == "values" and e["kind"] == "keyed"]
    assert read_back == keyed
    assert "DISPLAY" not in os.environ

    # Queued again (a new queue), nothing is keyed twice: each is found and checked instead.
    queue = f"sqlite:///{tmp_path / 'queue-2.db'}"
    again = run("desktop_invoice_entry", tmp_path, input=inbox / digital[0], db=queue)
    assert [(i.status, i.output.get("already_entered")) for i in again.items] == [("done", True)]
    assert len(program.invoices()) == len(digital)


def test_image_target_finds_its_button_at_125_percent(desk, tmp_path):
    app = desk.start([*PROGRAM, "--db", tmp_path / "a.db", "--scale", "1.25"], window=TITLE)
    button = desk.image("save_button")  # cropped from the program at 100 %
    found = button.find()

    assert 1.15 <= found.scale <= 1.35
    assert found.region.width > 100  # the 88-pixel picture, enlarged
    assert desk.read_text(found.region) == "Save"
    assert app.region.width > 840  # the window is drawn larger too (730 pixels at 100 %)
    button.click()
    assert desk.window("Confirm save").read_text().startswith("Save invoice")


def test_missing_target_fails_with_a_marked_screenshot_and_a_clear_message(screen, tmp_path):
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "selectors" / "probe").mkdir(parents=True)
    picture = np.zeros((30, 80, 3), np.uint8)
    picture[::4, :] = (0, 200, 255)  # stripes nothing on the screen has
    cv2.imwrite(str(root / "selectors" / "probe" / "absent.png"), picture)
    (root / "bots" / "click_absent.py").write_text(
        "from deskhand import Bot\n"
        "from deskhand.desktop import open_desktop\n\n"
        'bot = Bot("click_absent", max_attempts=1)\n\n\n'
        "@bot.source\n"
        "def one(ctx):\n"
        '    yield ctx.item(reference="only")\n\n\n'
        "@bot.process\n"
        "def click(item, ctx):\n"
        '    desk = open_desktop(ctx, images="probe")\n'
        '    with ctx.step("click the absent button"):\n'
        '        desk.image("absent").click()\n'
    )

    result = run("click_absent", tmp_path, root=root, timeout_ms=1500)

    [item] = result.items
    assert item.status == "failed"
    assert item.error["kind"] == "SelectorNotFound"
    message = item.error["message"]
    assert message.startswith("image target absent not found within 1.5 s (searched 1280x1024")
    assert "selectors/probe/" in message and "screenshot" in message
    step = next(e for e in read_events(result.dir) if e["event"] == "step_end")
    assert step["status"] == "failed"
    shot = result.dir / step["screenshot"]
    assert shot.is_file() and str(shot) in message
    image = cv2.imread(str(shot))
    red = (image[:, :, 2] > 200) & (image[:, :, 1] < 60) & (image[:, :, 0] < 60)
    assert red[:3, :].mean() > 0.9 and red[:, :3].mean() > 0.9  # the searched region: all


def test_typing_unicode_keys_and_double_click(desk, tmp_path):
    out = tmp_path / "probe.txt"
    window = desk.start([sys.executable, ASSETS / "desktop" / "probe_app.py", out], window="Probe")
    field = window.text("Name:").right_of(30)
    field.fill("first")
    text = "Zoë Ñandú €42 – Łódź 東京"
    field.fill(text)  # Ctrl+A, then typed over
    desk.press("enter")
    window.text("Double-click here").double_click()

    deadline = time.monotonic() + 10
    while (lines := out.read_text(encoding="utf-8").splitlines() if out.exists() else []) != [
        f"enter:{text}",
        "double",
    ] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines == [f"enter:{text}", "double"]
    with pytest.raises(ValueError, match="unknown key 'entr'"):
        desk.press("entr")


def test_virtual_display_is_stopped_after_its_block(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    with virtual_display() as display:
        assert os.environ["DISPLAY"] == display
        session = DesktopSession().start()
        assert session.display == display and not session.is_virtual  # it uses $DISPLAY
        assert session.screen.region[2:] == (1280, 1024)
        session.close()
    assert "DISPLAY" not in os.environ
    with pytest.raises(Exception):  # noqa: B017 - Xlib's error for a display that is gone
        from Xlib.display import Display

        Display(display)
