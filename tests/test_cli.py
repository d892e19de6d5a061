"""The command line as a user meets it: exit codes, one-line errors, the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import DOCUMENTS, ROOT

from demo.data import DEMO_PASSWORD


def cli(
    *args: str, env: dict | None = None, timeout: int = 300, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """run_bot.py as a user runs it (from ``cwd``), with a queue database of its own."""
    queue = Path(tempfile.mkdtemp(prefix="deskhand-queue-")) / "queue.db"
    env = {"DESKHAND_DB": f"sqlite:///{queue}", **(env or {})}
    return subprocess.run(
        [sys.executable, "run_bot.py", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **env},
    )


@pytest.fixture
def run_cli(capsys, monkeypatch, tmp_path):
    """run_cli(*args, env=None): the command run in this process through the command
    registry (deskhand.cli.main) as run_bot.py runs it from the checkout, with a queue
    database of its own; a CompletedProcess (exit code, stdout, stderr), like cli()."""
    from deskhand.cli import main

    def _run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
        with monkeypatch.context() as patch:
            patch.chdir(ROOT)
            patch.setattr(sys, "path", list(sys.path))  # the CLI puts its project on the path
            patch.setattr(sys, "argv", [str(ROOT / "run_bot.py"), *args])
            patch.setenv("DESKHAND_DB", f"sqlite:///{tmp_path / 'cli-queue.db'}")
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            capsys.readouterr()
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse: a bad command line
                code = exc.code
            out, err = capsys.readouterr()
        return subprocess.CompletedProcess(["run_bot.py", *args], code, out, err)

    return _run


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_unknown_bot(run_cli):
    line = one_line_error(run_cli("run", "no_such_bot"))
    assert "unknown bot 'no_such_bot'" in line and "invoice_entry" in line


def test_missing_input_folder(tmp_path, run_cli):
    missing = tmp_path / "nowhere"
    line = one_line_error(
        run_cli("run", "invoice_entry", "--input", str(missing), "--target", "http://127.0.0.1:9/")
    )
    assert str(missing) in line and "does not exist" in line


def test_unreachable_target(run_cli):
    line = one_line_error(
        run_cli(
            "run", "invoice_entry", "--input", str(DOCUMENTS), "--target", "http://127.0.0.1:9/"
        )
    )
    assert "unreachable" in line and "http://127.0.0.1:9/" in line


def test_bad_usage_and_bad_settings(run_cli):
    assert "unknown command 'fly'; the commands: init, list, run" in one_line_error(run_cli("fly"))
    assert "unknown setting 'colour'" in one_line_error(
        run_cli("run", "invoice_entry", env={"DESKHAND_COLOUR": "blue"})
    )
    assert "has no steps.jsonl" in one_line_error(run_cli("report", "/nonexistent"))


def test_list_shows_the_bots(run_cli):
    proc = run_cli("list")
    assert proc.returncode == 0
    listed = dict(line.split(None, 1) for line in proc.stdout.splitlines())
    assert "legacy accounts-payable" in listed["invoice_entry"]
    assert "desktop_invoice_entry" in listed


def test_extract_json_one_object_per_file(tmp_path, ground_truth, run_cli):
    name = next(n for n, t in ground_truth.items() if t["form"] == "digital")
    bad = tmp_path / "bad.pdf"
    bad.write_text("not a pdf")
    proc = run_cli("extract", "--json", str(DOCUMENTS / name), str(bad))
    assert proc.returncode == 1  # one file could not be read
    good, failed = (json.loads(line) for line in proc.stdout.splitlines())
    assert good["fields"]["invoice_number"]["value"] == ground_truth[name]["invoice_number"]
    assert good["fields"]["total"]["value"] == float(ground_truth[name]["total"])
    assert good["errors"] == [] and len(good["lines"]) == len(ground_truth[name]["lines"])
    assert failed["file"] == str(bad) and "not a PDF" in failed["errors"][0]


@pytest.mark.slow
def test_run_and_report_commands(tmp_path, legacy_app, ground_truth):
    name = next(n for n, t in ground_truth.items() if t["form"] == "digital")
    env = {"DESKHAND_LOGS_DIR": str(tmp_path / "logs")}
    proc = cli(
        "run",
        "invoice_entry",
        "--input",
        str(DOCUMENTS / name),
        "--target",
        legacy_app.url,
        "--trace",
        env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 done" in proc.stdout and "[1/1] done" in proc.stdout
    report = Path(proc.stdout.split("report: ")[1].strip())
    run_dir = report.parent
    assert run_dir.parent == tmp_path / "logs" / "invoice_entry"
    assert {"steps.jsonl", "bot.log", "report.html", "trace.zip"} <= {
        p.name for p in run_dir.iterdir()
    }
    with zipfile.ZipFile(run_dir / "trace.zip") as trace:
        members = trace.namelist()
        assert any(m.endswith(".trace") for m in members)  # a real Playwright trace
        for member in members:
            assert DEMO_PASSWORD.encode() not in trace.read(member), member
        # Playwright did record the password fill: masked, not absent.
        assert any(b"********" in trace.read(m) for m in members)
    report.unlink()
    again = cli("report", str(run_dir))
    assert again.returncode == 0 and report.is_file()
    assert ground_truth[name]["invoice_number"] in report.read_text()


@pytest.mark.slow(45)
def test_demo_command_runs_the_main_job_and_prints_the_report(ground_truth, project):
    proc = cli("demo", timeout=900, cwd=project)  # a checkout's demo: its logs/ get the run
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    report = Path(proc.stdout.split("report: ")[1].strip())
    assert report.is_file() and report.parent.parent == project / "logs" / "invoice_entry"
    n = len(ground_truth)
    assert f"{n} items: {n} done, 0 needs review, 0 failed" in proc.stdout


def test_no_browser_says_what_to_install(legacy_app, ground_truth, tmp_path):
    name = next(n for n, t in ground_truth.items() if t["form"] == "digital")
    proc = cli(
        "run",
        "invoice_entry",
        "--input",
        str(DOCUMENTS / name),
        "--target",
        legacy_app.url,
        env={"DESKHAND_BROWSER": "/nonexistent/chromium", "DESKHAND_LOGS_DIR": str(tmp_path)},
    )
    line = one_line_error(proc)
    assert "DESKHAND_BROWSER=/nonexistent/chromium is not an executable file" in line


def test_bad_settings_name_the_exact_variable_and_are_found_before_queueing(tmp_path, run_cli):
    from deskhand.queue import open_store

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    docs = str(DOCUMENTS)
    line = one_line_error(
        run_cli("run", "invoice_entry", "--input", docs, "--target", "localhost:8765")
    )
    assert "--target is 'localhost:8765'" in line and "did you mean http://localhost:8765/?" in line
    line = one_line_error(run_cli("run", "invoice_entry", env={"DESKHAND_MAX_ATTEMPTS": "0"}))
    assert line.endswith("environment variable DESKHAND_MAX_ATTEMPTS is 0: it must be at least 1 "
                         "(1 = no retries)")  # fmt: skip
    line = one_line_error(run_cli("worker", "invoice_entry", "--db", url, "--retry-delay", "-1"))
    assert "--retry-delay is -1.0: it must be 0 or more seconds" in line
    line = one_line_error(run_cli("run", "invoice_entry", env={"DESKHAND_LEASE_SECONDS": "soon"}))
    assert "environment variable DESKHAND_LEASE_SECONDS has a bad value 'soon'" in line

    line = one_line_error(run_cli("run", "invoice_entry", "--input", docs, "--db", url))
    assert "bot invoice_entry needs --target URL" in line
    with open_store(url) as store:
        assert store.list() == []  # nothing was queued for a run that could not run


def test_a_closed_pipe_ends_quietly(tmp_path):
    from deskhand.queue import open_store

    url = f"sqlite:///{tmp_path / 'queue.db'}"
    with open_store(url) as store:  # more than a pipe holds, so `head` closes it mid-write
        store.add_many("q", [{"reference": f"ref-{n:05d}"} for n in range(3000)])
    proc = subprocess.run(
        f"{sys.executable} run_bot.py queue list q --limit 5000 --db {url} | head -2",
        shell=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.splitlines()[1].split()[:3] == ["1", "q", "ref-00000"]
    assert proc.stderr == ""  # no traceback, no "Exception ignored"


# -- in-process, through the command registry ---------------------------------------------


def run_main(capsys, *argv: str) -> tuple[int, str, str]:
    """deskhand.cli.main as the console script calls it: exit code, stdout, stderr."""
    from deskhand.cli import main

    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse: --version, --help, a bad command line
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_mistyped_commands_choices_and_bots_get_a_suggestion(capsys):
    code, _, err = run_main(capsys, "rnu", "invoice_entry")
    assert (code, err) == (2, "deskhand: unknown command 'rnu'; did you mean 'run'? (see --help)\n")
    code, _, err = run_main(capsys, "queue", "lst")
    assert code == 2 and err.splitlines() == [
        "deskhand queue: argument ACTION: invalid choice: 'lst'; did you mean 'list'? (see --help)"
    ]
    code, _, err = run_main(capsys, "queue", "list", "--status", "faild")
    assert code == 2 and "invalid choice: 'faild'; did you mean 'failed'?" in err
    code, _, err = run_main(capsys, "run", "invoce_entry")
    assert code == 2 and err.splitlines() == [
        "deskhand: unknown bot 'invoce_entry'; did you mean 'invoice_entry'? (bots here: "
        "desktop_invoice_entry, file_documents, invoice_entry, order_entry, reconcile_balances)"
    ]


def test_version_is_the_installed_distributions(capsys):
    from importlib.metadata import version

    code, out, _ = run_main(capsys, "--version")
    assert code == 0 and out == f"deskhand {version('deskhand')}\n"


def test_every_command_is_registered_once_with_a_run(capsys):
    from deskhand.commands import BUILTIN, load_commands

    commands = load_commands()
    assert len(commands) >= len(BUILTIN)
    for name in ("init", "list", "run", "worker", "queue", "schedule", "vault", "selectors",
                 "trace", "demo", "demo-app", "extract", "console", "report"):  # fmt: skip
        assert callable(commands[name].run), name
        code, out, _ = run_main(capsys, name, "--help")
        assert code == 0 and out.startswith(f"usage: deskhand {name}"), name


def test_a_plugin_command_that_cannot_import_says_what_to_install(capsys, monkeypatch):
    from importlib.metadata import EntryPoint

    from deskhand import commands

    missing = EntryPoint("record-screen", "no_such_module_xyz", commands.GROUP)
    broken = EntryPoint("broken", "json:no_such_command", commands.GROUP)
    monkeypatch.setattr(commands, "entry_points", lambda group: [missing, broken])
    monkeypatch.setitem(commands.EXTRAS, "no_such_module_xyz", "desktop")
    code, _, err = run_main(capsys, "record-screen", "--anything")
    assert code == 2
    assert err == (
        "deskhand: record-screen is not available (No module named 'no_such_module_xyz'): "
        "pip install 'deskhand[desktop]'\n"
    )
    code, _, err = run_main(capsys, "broken")
    assert code == 2 and err.startswith(
        "deskhand: broken is not available: its package failed to load (AttributeError: "
    )
    code, out, _ = run_main(capsys, "list", "--help")  # the other commands are unharmed
    assert code == 0 and out.startswith("usage: deskhand list")


def test_init_writes_a_project_whose_bot_runs_and_whose_test_passes(tmp_path, capsys, monkeypatch):
    project = tmp_path / "ap-bots"
    code, out, _ = run_main(capsys, "init", str(project), "--bot", "check_invoices")
    assert code == 0 and "next: cd" in out
    for path in ("bots/check_invoices.py", "tests/test_check_invoices.py", "pyproject.toml",
                 "selectors", "templates", "logs", "inputs/invoices.csv"):  # fmt: skip
        assert (project / path).exists(), path
    assert (
        '[tool.deskhand]\ninput = "inputs/invoices.csv"' in (project / "pyproject.toml").read_text()
    )
    code, _, err = run_main(capsys, "init", str(project))
    assert code == 2 and "exists already" in err  # nothing is overwritten

    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the CLI puts its project on the path
    monkeypatch.delenv("DESKHAND_DB", raising=False)
    code, out, err = run_main(capsys, "run", "check_invoices")
    assert code == 0, out + err
    assert "check_invoices: 3 items: 3 done, 0 needs review, 0 failed" in out
    ledger = project / "logs" / "check_invoices" / "ledger.csv"
    assert ledger.read_text().splitlines()[1:] == [
        "INV-1001,Acme Office Supplies,120.50",
        "INV-1002,Nordwind Logistik,89.90",
        "INV-1003,Bluepeak Software,1500.00",
    ]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", "tests"],
        cwd=project, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr
