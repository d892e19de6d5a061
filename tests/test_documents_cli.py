"""`run_bot.py extract` on encrypted PDFs: the password comes from an environment variable,
standard input or the vault, never from the command line, and never shows in the output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Harbour-Lock-7731"


@pytest.fixture
def locked(tmp_path) -> Path:
    """An invoice PDF that opens only with PASSWORD."""
    buf = io.BytesIO()
    page = canvas.Canvas(buf, encrypt=StandardEncryption(PASSWORD))
    for top, text in enumerate(
        ["Harbour Stationers Ltd", "Invoice No. 004711", "Invoice Date 2026-03-05", "Total £12.00"]
    ):
        page.drawString(72, 760 - 20 * top, text)
    page.save()
    path = tmp_path / "locked.pdf"
    path.write_bytes(buf.getvalue())
    return path


def _extract(
    tmp_path: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """run_bot.py extract --json in a folder of its own (its own cache, no templates)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DESKHAND_SECRET_")}
    environment.pop("PDF_PASSWORD", None)
    environment |= env or {}
    return subprocess.run(
        [sys.executable, str(ROOT / "run_bot.py"), "extract", "--json", *args],
        cwd=tmp_path,
        input=stdin,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _read(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr
    (data,) = (json.loads(line) for line in done.stdout.splitlines())
    assert data["errors"] == []
    return data


def _check_invoice(data: dict) -> None:
    assert data["fields"]["invoice_number"]["value"] == "004711"
    assert data["fields"]["total"]["value"] == 12.0
    assert data["fields"]["currency"]["value"] == "GBP"


def test_password_from_an_environment_variable(tmp_path, locked):
    done = _extract(
        tmp_path, "--password-env", "PDF_PASSWORD", str(locked), env={"PDF_PASSWORD": PASSWORD}
    )
    _check_invoice(_read(done))


def test_password_from_standard_input(tmp_path, locked):
    done = _extract(tmp_path, "--password-stdin", str(locked), stdin=PASSWORD + "\n")
    _check_invoice(_read(done))


@pytest.mark.parametrize(
    "secret",
    [json.dumps({"password": PASSWORD}), PASSWORD],  # a JSON object, or a plain string
)
def test_password_from_the_vault(tmp_path, locked, secret):
    done = _extract(
        tmp_path,
        "--password-secret",
        "supplier_pdfs",
        str(locked),
        env={"DESKHAND_SECRET_SUPPLIER_PDFS": secret},
    )
    _check_invoice(_read(done))


def test_missing_environment_variable_is_one_line_and_exit_2(tmp_path, locked):
    done = _extract(tmp_path, "--password-env", "PDF_PASSWORD", str(locked))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "run_bot.py: --password-env: environment variable PDF_PASSWORD is not set: "
        "set it to the PDF's password, or use --password-stdin\n"
    )


def test_missing_vault_secret_says_how_to_set_it(tmp_path, locked):
    done = _extract(tmp_path, "--password-secret", "supplier_pdfs", str(locked))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "secret 'supplier_pdfs' not found" in done.stderr
    assert "run_bot.py vault set supplier_pdfs" in done.stderr


def test_empty_standard_input_is_a_usage_error(tmp_path, locked):
    done = _extract(tmp_path, "--password-stdin", str(locked), stdin="")
    assert done.returncode == 2
    assert done.stderr == "run_bot.py: --password-stdin: no password on standard input\n"


def test_a_password_on_the_command_line_is_refused_and_not_echoed(tmp_path, locked):
    done = _extract(tmp_path, "--password", PASSWORD, str(locked))
    assert done.returncode == 2 and done.stdout == ""
    assert "--password is not accepted" in done.stderr and "--password-env NAME" in done.stderr
    assert PASSWORD not in done.stderr


def test_a_wrong_password_is_reported_without_showing_it(tmp_path, locked):
    wrong = "Harbour-Guess-1234"
    done = _extract(
        tmp_path, "--password-env", "PDF_PASSWORD", str(locked), env={"PDF_PASSWORD": wrong}
    )
    assert done.returncode == 1
    assert wrong not in done.stdout + done.stderr
    (data,) = (json.loads(line) for line in done.stdout.splitlines())
    assert data["fields"] == {}
    assert data["errors"] == [
        "locked.pdf is an encrypted PDF and the password given does not open it: "
        "check the password (extract(path, password=...))"
    ]


def test_without_a_password_the_locked_file_says_it_needs_one(tmp_path, locked):
    done = _extract(tmp_path, str(locked))
    assert done.returncode == 1
    (data,) = (json.loads(line) for line in done.stdout.splitlines())
    assert "needs a password" in data["errors"][0]


def test_the_password_options_exclude_each_other(tmp_path, locked):
    done = _extract(
        tmp_path, "--password-env", "PDF_PASSWORD", "--password-stdin", str(locked), stdin="x"
    )
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr
