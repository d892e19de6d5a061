"""The OCR engine switch: tesseract, rapidocr, auto (default); chosen by extract(...,
ocr_engine=) or DESKHAND_OCR_ENGINE; every engine gives words with boxes and confidences."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from deskhand import documents
from deskhand.documents import cache, engines, limits, ocr
from deskhand.errors import ConfigError

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
ROOT = Path(__file__).resolve().parent.parent
ROWS = (
    "Harbour Stationers Ltd",
    "Invoice No. HS-20417",
    "Invoice Date 2026-03-05",
    "Subtotal 100.00",
    "VAT 20.00",
    "Total 120.00",
)


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    """A private documents cache per test: nothing read here is served to another test."""
    monkeypatch.setattr(cache, "DIRECTORY", tmp_path / "cache")
    monkeypatch.delenv("DESKHAND_OCR_ENGINE", raising=False)
    cache.clear()
    yield
    cache.clear()


def _scan(path=None) -> Image.Image:
    """A clean A4 page at 200 dpi with an invoice's lines (x, y of each row in ``_AT``)."""
    image = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 34)
    for i, row in enumerate(ROWS):
        draw.text(_AT(i), row, fill=0, font=font)
    if path is not None:
        image.save(path, dpi=(200, 200))
    return image


def _AT(i: int) -> tuple[int, int]:
    return 150, 200 + 120 * i


def test_the_engine_setting_is_checked_and_defaults_to_auto(monkeypatch):
    monkeypatch.delenv("DESKHAND_OCR_ENGINE", raising=False)
    assert engines.engine_name(None) == "auto"
    assert engines.engine_name("RapidOCR") == "rapidocr"
    monkeypatch.setenv("DESKHAND_OCR_ENGINE", "tesseract")
    assert engines.engine_name(None) == "tesseract"
    assert engines.engine_name("rapidocr") == "rapidocr"  # the keyword wins
    with pytest.raises(ConfigError, match="unknown OCR engine 'easyocr': set ocr_engine"):
        engines.engine_name("easyocr")


def test_rapidocr_gives_words_with_boxes_and_confidences():
    page = ocr.read_page(_scan(), 200, 1, engine="rapidocr")
    assert page.engine == "rapidocr"
    words = {w.text: w for w in page.words}
    assert {"HS-20417", "120.00", "Stationers"} <= set(words), sorted(words)
    number = words["HS-20417"]
    assert number.ocr and 0.5 < number.conf <= 1.0 and number.page == 1
    x, y = _AT(1)
    to_pt = 72 / 200
    assert number.x0 > x * to_pt and number.top > (y - 10) * to_pt  # in points, right of the label
    assert number.bottom < (y + 60) * to_pt and number.x1 < 1000 * to_pt


@pytest.mark.parametrize("engine", ["tesseract", "rapidocr", "auto"])
def test_every_engine_reads_the_invoice_fields(tmp_path, engine):
    path = tmp_path / "scan.png"
    _scan(path)
    doc = documents.extract(path, templates_dir=tmp_path / "none", ocr_engine=engine)
    assert doc.fields["invoice_number"].value == "HS-20417"
    assert str(doc.fields["total"].value) == "120.00"
    assert doc.ocr_pages == [1]


def test_auto_keeps_a_sure_tesseract_read_and_escalates_an_unsure_one(monkeypatch):
    sure = ocr.read_page(_scan(), 200, 1, engine="auto")
    assert sure.engine == "tesseract"  # a clean page: tesseract is sure of it
    assert engines.mean_confidence(sure.words) >= ocr.ESCALATE
    monkeypatch.setattr(ocr, "ESCALATE", 1.01)  # as if tesseract were unsure of every page
    reads = []
    real = engines.tesseract
    monkeypatch.setattr(engines, "tesseract", lambda *a: reads.append(1) or real(*a))
    unsure = ocr.read_page(_scan(), 200, 1, engine="auto")
    assert unsure.engine == "rapidocr"
    assert "HS-20417" in {w.text for w in unsure.words}
    assert len(reads) == 2  # plain, and thresholded (nearly sure): no further variant
    monkeypatch.setattr(ocr, "NEAR", 1.01)  # an unsure plain read goes straight to RapidOCR
    reads.clear()
    assert ocr.read_page(_scan(), 200, 1, engine="auto").engine == "rapidocr"
    assert len(reads) == 1


def test_the_engine_setting_reaches_extract_from_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "scan.png"
    _scan(path)
    used = []
    real = engines.rapidocr
    monkeypatch.setattr(engines, "rapidocr", lambda *a: used.append(1) or real(*a))
    monkeypatch.setenv("DESKHAND_OCR_ENGINE", "rapidocr")
    documents.extract(path, templates_dir=tmp_path / "none")
    assert used == [1]
    monkeypatch.setenv("DESKHAND_OCR_ENGINE", "tesseract")
    documents.extract(path, templates_dir=tmp_path / "none")  # not served from rapidocr's read
    assert used == [1]
    with pytest.raises(ConfigError, match="unknown OCR engine"):
        documents.extract(path, ocr_engine="paddle")


def test_a_bot_run_accepts_the_engine_variable(monkeypatch):
    from deskhand.config import find_root, load_settings

    monkeypatch.setenv("DESKHAND_OCR_ENGINE", "auto")
    load_settings(find_root(), {}, {})  # read by the documents layer, not refused
    monkeypatch.setenv("DESKHAND_OCR_ENGIN", "auto")  # a misspelt one still is
    with pytest.raises(ConfigError, match="DESKHAND_OCR_ENGIN"):
        load_settings(find_root(), {}, {})


# Reads one file with RapidOCR in a process forked from a fresh, small one (Linux keeps a
# process image's peak RSS across exec); prints the words read and its peak memory in KB.
_READ_APART = textwrap.dedent(
    """
    import json, os, resource, sys
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        from deskhand import documents
        doc = documents.extract(
            sys.argv[1], templates_dir=sys.argv[2], cache_results=False, ocr_engine="rapidocr"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        os.write(w, json.dumps({"words": [x.text for x in doc.words], "kb": peak}).encode())
        os._exit(0)
    os.close(w)
    data = b"".join(iter(lambda: os.read(r, 65536), b""))
    os.waitpid(pid, 0)
    print(data.decode())
    """
)


def test_rapidocr_reads_a_full_300_dpi_page_within_the_memory_bound(tmp_path):
    """An A4 page at 300 dpi (the largest a PDF page is rendered at) read by RapidOCR stays
    under a document's memory bound (~0.9 GB measured)."""
    image = Image.new("L", (2481, 3508), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 40)
    for i in range(40):
        draw.text((150, 150 + 80 * i), f"Line {i} Harbour Stationers HS-{20417 + i}", font=font)
    path = tmp_path / "a4.png"
    image.save(path, dpi=(300, 300))
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_THREAD_LIMIT="1")
    done = subprocess.run(
        [sys.executable, "-c", _READ_APART, str(path), str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"HS-20417", "HS-20456", "Stationers"} <= set(result["words"])
    assert result["kb"] * 1024 < limits.MEMORY_BOUND, f"peak {result['kb'] // 1024} MB"
