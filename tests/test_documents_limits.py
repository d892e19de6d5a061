"""Bounded bad documents: hostile files (made here, never committed) are each their own
one-line DocumentError, within the documented memory bound, and a batch goes on past them.

Peak memory is measured in a fresh process (ru_maxrss of the reading process plus that of
its largest child, tesseract), so other tests' memory does not count.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
from PIL import Image
from reportlab.pdfgen import canvas

from deskhand.documents import limits

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"

# Reads one file in a process forked from a fresh, small one (Linux keeps the peak RSS of a
# process image across exec: a child of pytest would start with pytest's peak); prints its
# error (or fields) and its peak memory in KB, its own and its largest child's (tesseract).
READ = textwrap.dedent(
    """
    import json, os, resource, sys
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        from deskhand import documents
        from deskhand.errors import DeskhandError
        result = {}
        try:
            doc = documents.extract(sys.argv[1], templates_dir=sys.argv[2], cache_results=False)
            result["fields"] = sorted(doc.fields)
        except DeskhandError as exc:
            result["error"] = str(exc)
            result["type"] = type(exc).__name__
        result["self_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["children_kb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        os.write(w, json.dumps(result).encode())
        os._exit(0)
    os.close(w)
    data = b"".join(iter(lambda: os.read(r, 65536), b""))
    os.waitpid(pid, 0)
    print(data.decode())
    """
)


def _read_apart(path: Path) -> dict:
    """Read ``path`` in a fresh process; its result with ``peak``: bytes of the process's
    peak plus its largest child's (tesseract runs while the reader waits, holding its own)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_THREAD_LIMIT="1")
    done = subprocess.run(
        [sys.executable, "-c", READ, str(path), str(NO_TEMPLATES)],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["peak"] = (result["self_kb"] + result["children_kb"]) * 1024
    return result


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (object 1 the catalog) with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _deep_pdf(levels: int) -> bytes:
    """One page under a page tree ``levels`` deep (objects 2 .. levels+1 are /Pages)."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        number = 2 + level
        parent = b" /Parent %d 0 R" % (number - 1) if level else b""
        objects.append(b"<< /Type /Pages /Kids [%d 0 R] /Count 1%s >>" % (number + 1, parent))
    leaf = levels + 1
    content = b"BT /F1 12 Tf 72 720 Td (Invoice No. 4711 Total 12.00) Tj ET"
    objects.append(
        b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
        b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (leaf, leaf + 2, leaf + 3)
    )
    objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    return _pdf(objects)


def _huge_image_pdf(side: int) -> bytes:
    """A one-page PDF holding a ``side`` x ``side`` 1-bit image: a few hundred KB of zlib
    that decodes to side^2 pixels (made in chunks: never held whole here)."""
    compressor = zlib.compressobj(9)
    row = bytes((side + 7) // 8)
    chunk = row * 1000
    stream = b"".join(compressor.compress(chunk) for _ in range(side // 1000))
    stream += compressor.compress(row * (side % 1000)) + compressor.flush()
    content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    return _pdf(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
            b"/BitsPerComponent 1 /Filter /FlateDecode /Length %d >>\nstream\n"
            % (side, side, len(stream))
            + stream
            + b"\nendstream",
        ]
    )


def _giant_page_pdf(path: Path, points: float) -> None:
    page = canvas.Canvas(str(path), pagesize=(points, points))
    page.rect(100, 100, 50, 50, fill=1)  # a mark, no text layer: the page would go to OCR
    page.save()


def _invoice_pdf(path: Path) -> None:
    page = canvas.Canvas(str(path))
    for top, text in enumerate(
        ["Harbour Stationers Ltd", "Invoice No. 004711", "Invoice Date 2026-03-05", "Total 12.00"]
    ):
        page.drawString(72, 760 - 20 * top, text)
    page.save()


def _within_bound(result: dict) -> None:
    print(
        f"peak {result['peak'] / 2**20:.0f} MB ({result['self_kb'] // 1024} MB reader, "
        f"{result['children_kb'] // 1024} MB largest child)"
    )  # shown with pytest -s
    assert result["peak"] < limits.MEMORY_BOUND, f"peak {result['peak'] / 2**20:.0f} MB"


def test_a_page_tree_5000_levels_deep_is_the_files_own_error(tmp_path):
    deep = tmp_path / "deep.pdf"
    deep.write_bytes(_deep_pdf(5000))
    result = _read_apart(deep)
    assert result["type"] == "DocumentError", result
    assert "deep.pdf" in result["error"] and "\n" not in result["error"]
    assert "too deep" in result["error"] or "no pages" in result["error"], result["error"]
    _within_bound(result)


def test_extract_goes_on_past_a_deep_pdf(tmp_path):
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    _invoice_pdf(first)
    _invoice_pdf(second)
    (tmp_path / "deep.pdf").write_bytes(_deep_pdf(5000))
    done = subprocess.run(
        [sys.executable, "run_bot.py", "extract", "--json"]
        + [str(tmp_path / name) for name in ("a.pdf", "deep.pdf", "b.pdf")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    a, deep, b = (json.loads(line) for line in done.stdout.splitlines())
    assert a["errors"] == [] and a["fields"]["invoice_number"]["value"] == "004711"
    assert b["errors"] == [] and b["fields"]["invoice_number"]["value"] == "004711"
    assert len(deep["errors"]) == 1 and deep["errors"][0].startswith("deep.pdf")


def test_a_recursion_error_while_parsing_is_a_document_error(tmp_path, monkeypatch):
    """Whatever pdfminer's limit, a RecursionError in the parser is the file's error."""
    from deskhand import documents
    from deskhand.documents import cache, pdf
    from deskhand.errors import DocumentError

    monkeypatch.setattr(cache, "DIRECTORY", tmp_path / "cache")
    path = tmp_path / "nested.pdf"
    _invoice_pdf(path)

    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(pdf, "parse_objects", too_deep)
    with pytest.raises(DocumentError, match=r"^nested.pdf: the PDF's structure is too deep"):
        documents.extract(path, cache_results=False, templates_dir=NO_TEMPLATES)


def test_an_unexpected_parser_failure_is_the_files_own_error(tmp_path, monkeypatch):
    from deskhand import documents
    from deskhand.documents import pdf
    from deskhand.errors import DocumentError

    path = tmp_path / "odd.pdf"
    _invoice_pdf(path)

    def broken(*args, **kwargs):
        raise KeyError("Kids")

    monkeypatch.setattr(pdf, "page_sizes", broken)
    with pytest.raises(DocumentError, match=r"^odd.pdf could not be read \(KeyError: 'Kids'\)"):
        documents.extract(path, cache_results=False, templates_dir=NO_TEMPLATES)


def test_a_14400_point_page_is_refused_before_it_is_rendered(tmp_path):
    giant = tmp_path / "giant.pdf"
    _giant_page_pdf(giant, 14_400)
    assert giant.stat().st_size < 5000
    result = _read_apart(giant)
    assert result["type"] == "DocumentError", result
    assert "page 1 is 200 x 200 inches" in result["error"], result["error"]
    assert "too coarse for OCR" in result["error"]
    _within_bound(result)


def test_a_large_page_is_rendered_coarser_within_the_ocr_budget():
    assert limits.render_dpi(595, 842, 300) == 300  # A4 at 300 dpi: 8.7 MP
    dpi = limits.render_dpi(2384, 3370, 300)  # A0
    assert 72 < dpi < 300
    assert 2384 * 3370 * (dpi / 72) ** 2 <= limits.MAX_OCR_PIXELS * 1.0001
    assert limits.ocr_scale(10_000, 5_000, 2.0) ** 2 * 50e6 <= limits.MAX_OCR_PIXELS * 1.0001


def test_a_30000_pixel_embedded_image_is_refused_undecoded(tmp_path):
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(_huge_image_pdf(30_000))
    assert bomb.stat().st_size < 2_000_000
    result = _read_apart(bomb)
    assert result["type"] == "DocumentError", result
    assert "page 1 holds a 30000 x 30000 pixel image" in result["error"], result["error"]
    _within_bound(result)


def test_tiff_frames_too_large_together_are_refused_before_decoding(tmp_path):
    big = tmp_path / "frames.tif"
    frames = [Image.new("1", (7700, 7700), 1) for _ in range(10)]  # 59 MP each, 590 together
    frames[0].save(big, save_all=True, append_images=frames[1:], compression="group4")
    del frames
    assert big.stat().st_size < 200_000
    result = _read_apart(big)
    assert result["type"] == "DocumentError", result
    assert "has 10 frames of 593 MP together" in result["error"], result["error"]
    _within_bound(result)


def test_big_tiff_frames_are_read_one_at_a_time_within_the_bound(tmp_path):
    big = tmp_path / "frames.tif"
    frames = [Image.new("1", (6300, 6300), 1) for _ in range(4)]  # 40 MP each, 160 together
    frames[0].save(big, save_all=True, append_images=frames[1:], compression="group4")
    del frames
    result = _read_apart(big)
    # Blank frames: every one read (reduced to the OCR budget), none kept decoded.
    assert result["type"] == "DocumentError", result
    assert "no readable text on its 4 page(s)" in result["error"], result["error"]
    _within_bound(result)
