"""deskhand.documents on what arrives in a real inbox: locked, broken, huge, misnamed, not
documents at all; multi-page scans; the same file again in another process."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc
from pathlib import Path

import pypdfium2
import pytest
from PIL import Image
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from deskhand import documents
from deskhand.errors import DocumentError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"


pytestmark = pytest.mark.usefixtures("private_cache")


def _invoice_pdf(encrypt: str | None = None) -> bytes:
    buf = io.BytesIO()
    page = canvas.Canvas(buf, encrypt=StandardEncryption(encrypt) if encrypt else None)
    for top, text in enumerate(
        ["Harbour Stationers Ltd", "Invoice No. 004711", "Invoice Date 2026-03-05", "Total £12.00"]
    ):
        page.drawString(72, 760 - 20 * top, text)
    page.save()
    return buf.getvalue()


def _refused(path: Path, *fragments: str, **options) -> str:
    tracemalloc.start()
    try:
        with pytest.raises(DocumentError) as caught:
            documents.extract(path, templates_dir=NO_TEMPLATES, **options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert peak < 300 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    assert "\n" not in message and path.name in message, message
    for fragment in fragments:
        assert fragment in message, message
    return message


def test_encrypted_pdf_without_password(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(_invoice_pdf(encrypt="s3cret"))
    _refused(tmp_path / "locked.pdf", "encrypted", "needs a password", "password=")


def test_encrypted_pdf_with_wrong_password(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(_invoice_pdf(encrypt="s3cret"))
    _refused(tmp_path / "locked.pdf", "password given does not open it", password="guess")


def test_encrypted_pdf_with_its_password(tmp_path):
    (tmp_path / "locked.pdf").write_bytes(_invoice_pdf(encrypt="s3cret"))
    document = documents.extract(tmp_path / "locked.pdf", password="s3cret")
    assert document.invoice_number == "004711"
    assert str(document.total) == "12.00" and document.currency == "GBP"
    # The cached reading is not served to a caller without the password.
    _refused(tmp_path / "locked.pdf", "needs a password")


def test_two_thousand_page_pdf_is_refused_before_reading_its_pages(tmp_path):
    pdf = pypdfium2.PdfDocument.new()
    for _ in range(2000):
        pdf.new_page(595, 842)
    pdf.save(tmp_path / "ledger.pdf")
    pdf.close()
    _refused(tmp_path / "ledger.pdf", "has 2000 pages", "over the limit of 200", "max_pages=2000")


def test_multi_page_tiff_over_the_limit(tmp_path):
    frames = [Image.new("L", (60, 60), 255) for _ in range(5)]
    frames[0].save(tmp_path / "stack.tiff", save_all=True, append_images=frames[1:])
    _refused(tmp_path / "stack.tiff", "has 5 pages", "over the limit of 3", max_pages=3)


def test_zero_byte_image(tmp_path):
    (tmp_path / "scan.jpg").write_bytes(b"")
    _refused(tmp_path / "scan.jpg", "is empty (0 bytes)")


def test_corrupt_pdf_body(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\n" + os.urandom(4000))
    _refused(tmp_path / "broken.pdf", "corrupt PDF", "re-export")


def test_truncated_jpeg(tmp_path):
    data = (SAMPLES / "inv-10-lumiere.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[:2000])
    _refused(tmp_path / "cut.jpg", "damaged image")


def test_not_a_document_a_blank_scan(tmp_path):
    Image.new("L", (1700, 2200), 250).save(tmp_path / "blank.png", dpi=(200, 200))
    _refused(tmp_path / "blank.png", "no readable text", "not a document")


def test_not_a_document_a_program(tmp_path):
    (tmp_path / "setup.exe").write_bytes(b"MZ\x90\x00" + bytes(500))
    _refused(tmp_path / "setup.exe", "unsupported file type .exe")


def test_tiff_decompression_bomb(tmp_path):
    bomb = tmp_path / "bomb.tif"
    Image.new("1", (12000, 12000), 1).save(bomb, compression="group4")
    assert bomb.stat().st_size < 100_000
    _refused(bomb, "too large to open safely", "megapixels")


def test_wrong_extension_is_read_by_content(tmp_path):
    """A PDF saved as .png (or with no extension) is read as the PDF it is."""
    for name in ("invoice.png", "invoice"):
        (tmp_path / name).write_bytes((SAMPLES / "inv-01-acme.pdf").read_bytes())
        document = documents.extract(tmp_path / name, templates_dir=NO_TEMPLATES)
        assert document.invoice_number == "000482" and document.ocr_pages == []


def test_a_text_file_named_pdf(tmp_path):
    (tmp_path / "inv.pdf").write_text("<html>Login required</html>")
    _refused(tmp_path / "inv.pdf", "is not a PDF (it starts with '<html>Log')")


@pytest.mark.slow
def test_multi_page_tiff_is_read_page_by_page(tmp_path):
    pages = []
    for name in ("inv-01-acme.pdf", "inv-03-bluepeak.pdf"):
        pdf = pypdfium2.PdfDocument(SAMPLES / name)
        pages.append(pdf[0].render(scale=200 / 72, grayscale=True).to_pil().convert("L"))
        pdf.close()
    path = tmp_path / "two.tiff"
    pages[0].save(
        path, save_all=True, append_images=pages[1:], compression="tiff_lzw", dpi=(200, 200)
    )
    document = documents.extract(path, templates_dir=NO_TEMPLATES)
    assert document.pages == 2 and document.ocr_pages == [1, 2]
    assert document.invoice_number == "000482"  # from page 1, the first invoice
    assert "Bluepeak Software Inc." in document.text  # page 2 was read too, and its items
    assert [line["amount"].page for line in document.lines] == [1, 1, 1, 1, 2, 2, 2]
    assert {w.page for w in document.words} == {1, 2} and all(w.ocr for w in document.words)
    bluepeak = [w for w in document.words if w.text == "Bluepeak"]
    assert bluepeak and bluepeak[0].page == 2 and 0 < bluepeak[0].conf <= 1
    assert 0 <= bluepeak[0].x0 < bluepeak[0].x1 <= 612 and "words" not in document.to_dict()


def test_cached_result_serves_another_process(tmp_path):
    """A retried item in a new process is not read again: the disk cache answers."""
    project = tmp_path / "project"
    (project / "templates").mkdir(parents=True)
    sample = project / "inv.pdf"
    sample.write_bytes((SAMPLES / "inv-02-nordwind.pdf").read_bytes())
    script = textwrap.dedent(
        """
        import sys
        from deskhand import documents
        from deskhand.documents import files
        if sys.argv[1] == "again":
            def refuse(*args, **kwargs):
                raise SystemExit("read the file again")
            files.read_pages = refuse
        document = documents.extract("inv.pdf")
        print(document.invoice_number, document.total, document.fields["total"].rule)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs = []
    for run in ("first", "again"):
        done = subprocess.run(
            [sys.executable, "-c", script, run],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip())
    assert outputs[0] == outputs[1] == "RE-2026-0117 2480.67 label:Gesamtbetrag"
    assert len(list((project / ".deskhand" / "cache" / "documents").glob("*.json"))) == 1


def test_cli_batch_goes_on_after_a_bad_file(tmp_path):
    (tmp_path / "empty.pdf").write_bytes(b"")
    good = SAMPLES / "inv-03-bluepeak.pdf"
    done = subprocess.run(
        [sys.executable, "run_bot.py", "extract", "--json", str(tmp_path / "empty.pdf"), str(good)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1, done.stderr
    bad, read = (json.loads(line) for line in done.stdout.splitlines())
    assert bad["errors"] == [
        "empty.pdf is empty (0 bytes): the download or scan did not finish; fetch it again"
    ]
    assert read["errors"] == [] and read["fields"]["invoice_number"]["value"] == "BP-10233"
    assert len(read["fields"]["total"]["bbox"]) == 4 and read["fields"]["total"]["page"] == 1
    assert read["fields"]["total"]["value"] == 1570.0 and read["template"] is None


# -- the documents cache belongs to its run ---------------------------------------------------


def test_a_cache_scope_is_its_own_memory_and_folder(tmp_path):
    from deskhand.documents import cache

    path = tmp_path / "invoice.pdf"
    path.write_bytes(_invoice_pdf())
    with cache.scope(tmp_path / "run-1") as first:
        documents.extract(path, templates_dir=NO_TEMPLATES)
        assert len(first.memory) == 1
        assert len(list((tmp_path / "run-1").glob("*.json"))) == 1
        assert (tmp_path / "run-1").stat().st_mode & 0o777 == 0o700
        assert next((tmp_path / "run-1").glob("*.json")).stat().st_mode & 0o777 == 0o600
    with cache.scope(tmp_path / "run-2", disk=False) as second:
        assert cache.current() is second and not second.memory  # nothing of run-1 is seen
        documents.extract(path, templates_dir=NO_TEMPLATES)
        assert len(second.memory) == 1 and not (tmp_path / "run-2").exists()
    assert cache.current() is not first and cache.current() is not second
    assert not any(key in cache.current().memory for key in first.memory)


def test_a_thread_started_outside_a_scope_does_not_use_it(tmp_path):
    import threading

    from deskhand.documents import cache

    seen = []
    with cache.scope(tmp_path / "run") as mine:
        worker = threading.Thread(target=lambda: seen.append(cache.current()))
        worker.start()
        worker.join()
        assert cache.current() is mine
    assert seen and seen[0] is not mine
