"""The recorder on an application built to trip it (demo --variant claims): ids and classes
generated anew on every page load, the sign-in form begun inside a table, a modal overlay
instead of confirm(), and defaults the person never touches. A person (this test) keys one
claim, opens it and searches for it; the bot keys a sheet whose rows differ in every field,
defaults too, right the first time, with no fallback selector and no healing proposal."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from demo.data import DEMO_PASSWORD, DEMO_USER
from demo.server import demo_app
from deskhand.logs import read_events
from deskhand.selectors import SelectorRepository
from recorders.web import Recorder

pytestmark = pytest.mark.slow

BOT = "recorded_claims"
COLUMNS = ["Policy", "Claimant", "Loss type", "Date of loss", "Amount", "Currency",
           "Acknowledgement letter", "Receipt", "Details"]  # fmt: skip
RECORDED = ["POL-3001", "Anna Berg", "Theft", "03.02.2026", "420.00", "EUR", "yes",
            "receipt-3001.pdf", "Bicycle stolen from the yard"]  # fmt: skip
OTHERS = [
    ["POL-3002", "Ben Okafor", "Water damage", "14.01.2026", "1250.50", "GBP", "no",
     "receipt-3002.pdf", "Pipe burst in the kitchen"],
    ["POL-3003", "Chloé Martin", "Accident", "28.12.2025", "89.90", "CHF", "yes",
     "receipt-3003.pdf", "Broken glasses"],
    ["POL-3004", "Dario Rossi", "Fire", "05.11.2025", "3000.00", "USD", "no",
     "receipt-3004.pdf", "Kitchen fire"],
]  # fmt: skip
LOSS = {"Theft": "THF", "Water damage": "WTR", "Accident": "ACC", "Fire": "FIR"}


@pytest.fixture(scope="module")
def chromium_type(browser):
    probe = browser.new_context()
    yield probe.browser.browser_type
    probe.close()


def write_sheet(path: Path, rows: list[list[str]], folder: Path) -> Path:
    with path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(COLUMNS)
        for row in rows:
            receipt = folder / row[7]
            receipt.write_bytes(b"%PDF-1.4 " + row[0].encode())
            writer.writerow([*row[:7], str(receipt), row[8]])
    return path


def act_as_the_person(page, row: list[str], receipt: Path) -> None:
    """Sign in, register the claim (currency and letter left as they are), confirm it in
    the overlay, open the registered claim, then search for it by its policy number."""
    r = dict(zip(COLUMNS, row))

    def type_into(label: str, text: str) -> None:
        page.get_by_label(label).click()
        page.keyboard.type(text)

    type_into("User:", DEMO_USER)
    type_into("Password:", DEMO_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Register a claim").click()
    type_into("Policy number:", r["Policy"])
    type_into("Claimant name:", r["Claimant"])
    page.get_by_text(r["Loss type"], exact=True).click()
    type_into("Date of loss:", r["Date of loss"])
    type_into("Amount claimed:", r["Amount"])
    page.get_by_label("Receipt (scan):").set_input_files(receipt)
    type_into("What happened:", r["Details"])
    page.get_by_role("button", name="Submit claim").click()
    with page.expect_navigation():
        page.get_by_role("button", name="OK").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Open claim").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Find a claim").click()
    type_into("Policy number or claimant:", r["Policy"])
    with page.expect_navigation():
        page.get_by_role("button", name="Find").click()


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, chromium_type):
    root = tmp_path_factory.mktemp("claims")
    files = root / "files"
    files.mkdir()
    data = write_sheet(root / "claims.csv", [OTHERS[0], RECORDED, OTHERS[1]], files)
    with demo_app(ROOT, root / "recording.db", variant="claims") as url:
        recorder = Recorder(
            url + "login", BOT, data=data, root=root, virtual_display=True,
            browser_type=chromium_type,
        )  # fmt: skip
        page = recorder.start()
        act_as_the_person(page, RECORDED, files / RECORDED[7])
        recorder.stop()
    return {"root": root, "generated": recorder.generated, "files": files}


@pytest.fixture(autouse=True)
def claims_secret(monkeypatch):
    value = json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD})
    monkeypatch.setenv("DESKHAND_SECRET_RECORDED_CLAIMS", value)


def claims(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        found = conn.execute(
            "SELECT policy_no, claimant_name, loss_type, loss_date, amount_claimed, currency,"
            " send_ack, receipt, description FROM claims ORDER BY policy_no"
        ).fetchall()
    conn.close()
    return found


def as_saved(row: list[str]) -> tuple:
    ack = int(row[6] == "yes")
    return (row[0], row[1], LOSS[row[2]], row[3], row[4], row[5], ack, row[7], row[8])


def test_recording_makes_defaults_explicit_and_reads_back(recorded):
    bot = (recorded["root"] / "bots" / f"{BOT}.py").read_text()
    generated = recorded["generated"]
    for line in [
        'yield ctx.item(reference=row["Policy"], **row)',  # the key column, not a row number
        "def log_in(app):",
        'app["user"].fill(secret["username"])',  # the log-in in a table: from the vault
        'with ctx.step("fill claim form"):',
        'with ctx.step("submit claim", point_of_no_return=True) as step:',
        'app["currency"].select(label=item["Currency"])',  # an untouched default, explicit
        'app["send_acknowledgement_letter"].check(yes(item["Acknowledgement letter"]))',
        'app.element("loss_type", value=item["Loss type"]).check()',
        'app["receipt_scan"].upload(item["Receipt"])',  # a path column found by file name
        'app["what_happened"].fill(item["Details"])',  # matched by value
        'currency=(app["currency"].selected_label(), item["Currency"]),',  # before submit
        "record = app[",
        "return ctx.done(record=record)",
        '"after submit",',  # the person opened the saved claim: it is read back
        "@bot.reconcile",
        'app["policy_number_or_claimant"].fill(item["Policy"])',  # the recorded search
    ]:
        assert line in bot, line
    assert DEMO_PASSWORD not in bot and f'"{DEMO_USER}"' not in bot
    for tool in (["check"], ["format", "--check"]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *tool, "--config", str(ROOT / "pyproject.toml"),
             "--no-cache", str(recorded["root"] / "bots" / f"{BOT}.py")],
            capture_output=True, text=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
    followed = dict(generated.followed)
    assert followed["currency"] == "Currency" and followed["policy_number"] == "Policy"
    assert generated.key == "Policy"
    repo_text = (recorded["root"] / "selectors" / f"{BOT}.yaml").read_text()
    repo = SelectorRepository.load(recorded["root"] / "selectors" / f"{BOT}.yaml")
    for spec in repo.elements.values():  # no generated id or class survived
        assert not any(c.startswith("#f") or ".c" in c for c in spec.candidates), spec
    assert "Sign in" in repo_text


def test_recorded_bot_keys_every_field_of_every_row_then_only_new_rows(recorded, run, tmp_path):
    project = tmp_path / "project"
    for folder in ("bots", "selectors"):
        shutil.copytree(recorded["root"] / folder, project / folder)
    files = tmp_path / "files"
    files.mkdir()
    rows = [OTHERS[2], OTHERS[0], RECORDED, OTHERS[1]][:3]  # another order, other values
    sheet = write_sheet(tmp_path / "sheet.csv", rows, files)
    db = tmp_path / "claims.db"
    with demo_app(ROOT, db, variant="claims") as url:
        result = run(BOT, root=project, input=sheet, target=url + "login")
        assert [(i.reference, i.status, i.error) for i in result.items] == [
            (r[0], "done", None) for r in rows
        ]
        assert all(i.output["record"].startswith("CLM-") for i in result.items)
        assert claims(db) == sorted(as_saved(r) for r in rows)
        events = read_events(result.dir)
        assert [e for e in events if e["event"] in ("warning", "healing")] == []
        assert not (project / "selectors" / f"{BOT}.proposed.yaml").exists()

        new = ["POL-3000", "Eva Lind", "Accident", "01.03.2026", "15.00", "GBP", "no",
               "receipt-3000.pdf", "Scratched car door"]  # fmt: skip
        sheet = write_sheet(tmp_path / "sheet.csv", [new, *rows], files)
        again = run(BOT, root=project, input=sheet, target=url + "login")
        assert [(i.reference, i.status) for i in again.items] == [("POL-3000", "done")]
        assert claims(db) == sorted(as_saved(r) for r in [new, *rows])


def test_reconcile_finds_a_claim_registered_before_a_crash(recorded, run, tmp_path):
    """A runner died after 'submit claim' (intent, no outcome): the next run searches for the
    claim the way the person did; it completes the item with the number it finds when the
    claim exists, and keys the claim (once) when it does not."""
    from deskhand.queue import open_store

    project = tmp_path / "project"
    for folder in ("bots", "selectors"):
        shutil.copytree(recorded["root"] / folder, project / folder)
    files = tmp_path / "files"
    files.mkdir()
    saved, lost = OTHERS[0], OTHERS[1]
    db = tmp_path / "claims.db"
    with demo_app(ROOT, db, variant="claims") as url:
        first = write_sheet(tmp_path / "first.csv", [saved], files)
        done = run(BOT, root=project, input=first, target=url + "login")
        number = done.items[0].output["record"]

        queue = f"sqlite:///{tmp_path / 'crashed.db'}"
        sheet = write_sheet(tmp_path / "sheet.csv", [saved, lost], files)
        store = open_store(queue, project)
        with sheet.open() as rows:
            payloads = list(csv.DictReader(rows))
        store.add_many(BOT, [{"reference": p["Policy"], "payload": p} for p in payloads])
        for _ in payloads:  # each crashed after its intent: lease expired, no outcome
            item = store.claim(BOT, "crashed-runner", lease_seconds=0)
            store.record_intent(item.id, "crashed-runner", "submit claim", {})
        store.close()

        result = run(BOT, root=project, input=sheet, target=url + "login", db=queue)
        outcome = {i.reference: (i.status, i.output.get("reconciled")) for i in result.items}
        assert outcome == {saved[0]: ("done", True), lost[0]: ("done", None)}
        found = next(i for i in result.items if i.reference == saved[0])
        assert found.output["record"] == number
        assert claims(db) == sorted(as_saved(r) for r in [saved, lost])  # each exactly once


def test_a_log_in_without_a_form_inside_a_frame_comes_from_the_vault(chromium_type, tmp_path):
    """The log-in is known by its password field wherever it sits: here in a frame, in a
    table, with no <form> at all (the button posts by script)."""
    (tmp_path / "signin.html").write_text(
        "<table><tr><td>Operator</td><td><input id='op' type='text'></td></tr>"
        "<tr><td>Secret word</td><td><input id='pw' type='password'></td></tr>"
        "<tr><td></td><td><button onclick=\"document.body.innerHTML='<h1>Hello</h1>'\">Go"
        "</button></td></tr></table>"
    )
    (tmp_path / "start.html").write_text("<h1>Portal</h1><iframe name='signin' src='signin.html'>")
    recorder = Recorder(
        (tmp_path / "start.html").as_uri(), "framed", root=tmp_path, virtual_display=True,
        browser_type=chromium_type,
    )  # fmt: skip
    page = recorder.start()
    frame = page.frame_locator("iframe[name=signin]")
    frame.locator("#op").click()
    page.keyboard.type("operator-7")
    frame.locator("#pw").click()
    page.keyboard.type("s3cret-word")
    frame.get_by_role("button", name="Go").click()
    bot_file, repo_file = recorder.stop()

    bot = bot_file.read_text()
    assert "operator-7" not in bot and "s3cret-word" not in bot
    assert 'app["operator"].fill(secret["username"])' in bot
    assert 'app["secret_word"].fill(secret["password"])' in bot
    assert 'with ctx.step("log in"):\n        log_in(app)' in bot
    assert SelectorRepository.load(repo_file)["operator"].frames == ("signin",)
