"""Document filing end to end on the generated inbox: the archive's files, their text layer,
the index workbook read back with openpyxl, what went to review, and a rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pdfplumber
import pytest

from demo import make_filing
from tests.test_reconcile_balances import finish_queue

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def inbox(tmp_path) -> tuple[Path, Path, dict]:
    folder = make_filing.make(tmp_path / "filing")
    archive = tmp_path / "archive"
    (folder / "file_documents.toml").write_text(f'archive = "{archive}"\n')
    return folder, archive, json.loads((tmp_path / "filing" / "truth.json").read_text())


def archive_files(archive: Path) -> dict[str, bytes]:
    return {str(p.relative_to(archive)): p.read_bytes() for p in sorted(archive.rglob("*.pdf"))}


def test_documents_classified_checked_named_filed_and_indexed(run, inbox, private_cache):
    folder, archive, truth = inbox
    result = run("file_documents", input=folder)
    by_name = {r.label: r for r in result.items}
    for name, t in truth.items():
        item = by_name[name]
        want = "done" if t["status"] in ("filed", "duplicate") else "needs_review"
        assert item.status == want, (name, item.error)
        if want == "done":
            assert item.output["status"] == t["status"] and item.output["kind"] == t["kind"], name
        else:
            assert t["cause"] in item.error["message"], (name, item.error)

    files = archive_files(archive)
    filed = [n for n, t in truth.items() if t["status"] == "filed"]
    assert len(files) == len(filed)  # the duplicate and the reviewed ones are not filed
    for name in filed:
        archived = by_name[name].output["archived"]
        kind = truth[name]["kind"]
        assert archived.startswith(f"{kind}/") and f"_{kind}_" in Path(archived).name
        if "number" in truth[name]:
            assert Path(archived).name.endswith(f"_{truth[name]['number']}.pdf")
        assert not (folder / name).exists()  # left the inbox once filed
    scan = by_name["inv-05-nordwind-scan.pdf"].output["archived"]
    with pdfplumber.open(archive / scan) as pdf:
        assert "RE-2026-0142" in pdf.pages[0].extract_text()  # searchable now
    assert (
        by_name["scan-0001.pdf"].output["duplicate_of"]
        == by_name["inv-01-acme.pdf"].output["archived"]
    )
    for name in ("bluepeak-edited.pdf", "reissued-acme-000482.pdf", "scan-0001.pdf"):
        assert (folder / name).exists()  # not filed: still in the inbox

    ws = openpyxl.load_workbook(archive / "index.xlsx")["Index"]
    rows = list(ws.iter_rows(min_row=2))
    assert len(rows) == len(truth)
    linked = {r[0].hyperlink.target for r in rows if r[0].hyperlink}
    assert set(files) <= linked
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    notes = " ".join(str(r[8].value) for r in rows)
    assert "changed after creation" in notes and "near duplicate" in notes
    assert "QuickPDF Editor" in notes  # the metadata says which program changed it

    index_before = (archive / "index.jsonl").read_text()
    again = run("file_documents", input=folder)
    assert again.items == []
    assert archive_files(archive) == files
    assert (archive / "index.jsonl").read_text() == index_before


def test_a_rerun_with_a_new_queue_files_nothing_twice(run, inbox, tmp_path, private_cache):
    folder, archive, truth = inbox
    run("file_documents", input=folder)
    files = archive_files(archive)
    copy = folder / "inv-02-again.pdf"  # the same file dropped into the inbox once more
    copy.write_bytes((ROOT / "demo" / "documents" / "inv-02-nordwind.pdf").read_bytes())
    result = run("file_documents", input=folder, db=f"sqlite:///{tmp_path / 'other-queue.db'}")
    again = {r.label: r for r in result.items}
    assert again["inv-02-again.pdf"].output["status"] == "duplicate"
    assert archive_files(archive) == files


@pytest.mark.slow
def test_killed_while_filing_files_each_document_once(inbox, tmp_path):
    folder, archive, truth = inbox
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DESKHAND_")},
        "PYTHONPATH": str(ROOT),
        "DESKHAND_LOGS_DIR": str(tmp_path / "logs"),
        "DESKHAND_LEASE_SECONDS": "2",
        "DESKHAND_RETRY_DELAY": "0",
        "DESKHAND_MAX_ATTEMPTS": "20",
        "DESKHAND_DB": f"sqlite:///{tmp_path / 'queue.db'}",
    }
    args = [sys.executable, "run_bot.py", "run", "file_documents", "--input", str(folder)]
    kills = 0
    for _ in range(4):
        before = len(archive_files(archive)) if archive.exists() else 0
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while (
            proc.poll() is None
            and (len(archive_files(archive)) if archive.exists() else 0) == before
        ):
            time.sleep(0.02)
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)  # a copy just took its name
        proc.wait()
        kills += 1
    assert kills >= 2
    final = finish_queue(args, env, "filing")
    assert final.returncode in (0, 1), final.stderr[-1500:]
    filed = [json.loads(x) for x in (archive / "index.jsonl").read_text().splitlines()]
    filed = [e for e in filed if e["status"] == "filed"]
    assert len({e["source_sha256"] for e in filed}) == len(filed)  # recorded once each
    assert (
        len(archive_files(archive))
        == len(filed)
        == sum(t["status"] == "filed" for t in truth.values())
    )
    assert not list(archive.rglob("*.part"))


def test_demo_command_runs_the_job_from_a_clean_slate(tmp_path, private_cache, monkeypatch):
    """run_bot.py demo file_documents, in a project folder of its own."""
    from deskhand.cli import build_parser, main

    root = tmp_path / "project"
    root.mkdir()
    for name in ("bots", "demo", "selectors"):
        (root / name).symlink_to(ROOT / name)
    assert build_parser().parse_args(["demo", "reconcile_balances"]).job == "reconcile_balances"
    monkeypatch.chdir(root)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the CLI puts its project on the path
    code = main(["demo", "file_documents"])
    assert code == 1  # two documents need review
    work = root / "logs" / "demo-file_documents"
    truth = json.loads((ROOT / "demo" / "filing" / "truth.json").read_text())
    assert len(archive_files(work / "archive")) == sum(
        t["status"] == "filed" for t in truth.values()
    )
    assert (work / "archive" / "index.xlsx").is_file()
    assert (ROOT / "demo" / "filing" / "inbox" / "inv-01-acme.pdf").is_file()  # a copy was filed
