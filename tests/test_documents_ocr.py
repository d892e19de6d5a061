"""OCR preparation and the repairs made to what OCR read: deskew, ruled boxes, batched
re-reads, address shapes and summary figures completed from the other two."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from deskhand.documents import engines, ocr, prepare, summary, values
from deskhand.documents.layout import group_lines
from deskhand.documents.model import Field, Word, union
from deskhand.documents.parties import repair_address

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _page(size=(1240, 1754), rows=("Invoice No: RE-030030", "Total due 1,234.50")):
    image = Image.new("L", size, 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 34)
    for i in range(14):
        draw.text((80, 120 + 90 * i), f"Line {i} of some printed text 12.50", fill=0, font=font)
    for i, row in enumerate(rows):
        draw.text((80, 1450 + 90 * i), row, fill=0, font=font)
    return image


@pytest.mark.parametrize("angle", [-2.6, -1.5, 0.0, 0.8, 2.9])
@pytest.mark.parametrize("size", [(1240, 1754), (959, 1751)])  # odd height: a till receipt
def test_skew_angle_finds_the_tilt(angle, size):
    tilted = _page(size).rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    found = ocr.skew_angle(np.asarray(tilted))
    assert abs(found + angle) <= 0.15, (angle, found)


def test_text_inside_a_ruled_box_is_read():
    image = Image.new("L", (2400, 700), 255)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 42)
    draw.rectangle((60, 100, 2300, 400), outline=0, width=4)
    for x in (620, 1180, 1740):
        draw.line((x, 100, x, 400), fill=0, width=4)
    for x, label, value in (
        (90, "Invoice No:", "RE-030030"),
        (650, "Issue date", "April 12, 2026"),
        (1210, "Due by", "April 26, 2026"),
        (1770, "PO No.", "PO-94807"),
    ):
        draw.text((x, 150), label, fill=0, font=font)
        draw.text((x, 280), value, fill=0, font=font)
    cleaned = ocr.without_rules(ocr.binarize(image))
    assert np.asarray(cleaned)[100:104, 60:2300].min() == 255  # the top rule is gone
    words = {w.text for w in ocr.OcrPage(image, 300, 1).words}
    assert {"RE-030030", "PO-94807", "12,", "26,"} <= words


@pytest.mark.parametrize("in_process", [True, False])
def test_rereads_of_a_pass_are_batched_and_remembered(monkeypatch, in_process):
    """In-process (libtesseract) each crop is one call of the loaded engine; through the
    tesseract program (no library) all crops of a pass are one run. Either way a region
    asked again is answered from memory, and the words are those of a crop read alone."""
    if not in_process:
        monkeypatch.setattr(engines.tessapi, "available", lambda: False)
    elif not engines.tessapi.available():
        pytest.fail("libtesseract cannot be loaded: apt-get install libtesseract5")
    page = ocr.OcrPage(_page(), 300, 1)
    regions = [
        (w.x0 - 2, w.top - 2, w.x1 + 2, w.bottom + 2)
        for w in page.words
        if w.text in ("RE-030030", "1,234.50", "Total")
    ]
    assert len(regions) == 3
    alone = [ocr.OcrPage(_page(), 300, 1).reread(r, "--psm 7") for r in regions]
    runs, reads = [], []
    real, read = pytesseract.image_to_data, engines._image_to_data
    monkeypatch.setattr(
        pytesseract, "image_to_data", lambda *a, **k: runs.append(1) or real(*a, **k)
    )
    monkeypatch.setattr(engines, "_image_to_data", lambda *a: reads.append(1) or read(*a))
    together = page.reread_many(regions, "--psm 7")
    assert [[w.text for w in ws] for ws in together] == [[w.text for w in ws] for ws in alone]
    assert [ws[0].text for ws in together] == ["RE-030030", "Total", "1,234.50"]
    assert all(abs(ws[0].x0 - r[0]) < 6 for ws, r in zip(together, regions, strict=True))
    assert (len(runs), len(reads)) == ((0, 3) if in_process else (1, 1))
    assert page.reread(regions[1], "--psm 7") == together[1]
    assert len(reads) == (3 if in_process else 1)  # remembered: not read again


@pytest.mark.parametrize(
    ("options", "crop"),
    [
        ("--psm 6", None),
        ("--psm 7", (60, 1440, 900, 1500)),
        ("--psm 8", (60, 1530, 300, 1590)),
        ("--psm 7 -c tessedit_char_whitelist=0123456789.,", (180, 1530, 700, 1595)),
    ],
)
def test_the_in_process_read_is_the_programs(options, crop):
    """libtesseract called in-process gives what the tesseract program gives through
    pytesseract: the same words, boxes and confidences."""
    assert engines.tessapi.available(), (
        "libtesseract cannot be loaded: apt-get install libtesseract5"
    )
    image = _page() if crop is None else _page().crop(crop)
    program = pytesseract.image_to_data(
        image, lang=engines.LANGUAGE, config=f"{options} --dpi 300", output_type="dict"
    )
    mine = engines.tessapi.image_to_data(np.asarray(image), 300, options, engines.LANGUAGE)
    keys = ("text", "conf", "left", "top", "width", "height", "line_num", "word_num")
    assert [[float(v) if k == "conf" else v for v in program[k]] for k in keys] == [
        [float(v) if k == "conf" else v for v in mine[k]] for k in keys
    ]
    assert any(t.strip() for t in mine["text"])


def test_options_the_library_is_not_given_go_to_the_program(monkeypatch):
    runs = []
    real = pytesseract.image_to_data
    monkeypatch.setattr(
        pytesseract, "image_to_data", lambda *a, **k: runs.append(k["config"]) or real(*a, **k)
    )
    words = engines.tesseract(_page().crop((60, 1440, 900, 1500)), 300, 1, "--psm 7 --oem 1")
    assert runs == ["--psm 7 --oem 1 --dpi 300"]
    assert "RE-030030" in [w.text for w in words]
    with pytest.raises(engines.tessapi.OptionsError):
        engines.tessapi.parse_options("--psm 7 -c tessedit_write_images=1", 300)


def test_printed_signs_are_kept_and_specks_dropped():
    """A lone ':' or '=' read surely is text ('Total : 9.00'); a lone '.', '|' or an unsure
    ':' is a speck."""
    texts = ["Total", ":", "9.00", "=", ".", "|", ":", "@"]
    conf = [96, 91, 95, 88, 93, 90, 30, 75]
    data = {
        "page_num": [1] * len(texts),
        "text": texts,
        "conf": conf,
        "left": [10 + 60 * i for i in range(len(texts))],
        "top": [10] * len(texts),
        "width": [40] * len(texts),
        "height": [12] * len(texts),
    }
    assert [w.text for w in engines._words(data, 300, 1)] == ["Total", ":", "9.00", "=", "@"]


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("7 Mill Lane, Derby DE! 3AA", "7 Mill Lane, Derby DE1 3AA"),
        ("7 Mill Lane, Derby DEI 3AA", "7 Mill Lane, Derby DE1 3AA"),
        ("40 Canal Street, Manchester MI 3WD", "40 Canal Street, Manchester M1 3WD"),
        ("410 King Street West, Toronto, ON MSV IK4", "410 King Street West, Toronto, ON M5V 1K4"),
        ("Keizersgracht 101, [015 CJ Amsterdam", "Keizersgracht 101, 1015 CJ Amsterdam"),
        ("1200 Pear! Street, Boulder, CO 80302", "1200 Pearl Street, Boulder, CO 80302"),
    ],
)
def test_address_repairs_by_shape(read, meant):
    assert repair_address(read) == (meant, True)


@pytest.mark.parametrize(
    "right",
    [
        "London SW1A 1AA",
        "12 Harbour Road, Leeds LS1 4AB",
        "Torstrasse 12, 10115 Berlin",
        "DECO Studio, 3 Rue Bonaparte, 75006 Paris",
    ],
)
def test_right_addresses_are_left_alone(right):
    assert repair_address(right) == (right, False)


def _summary(rows, ocr_read=True):
    words = []
    for top, texts in rows:
        x = 300.0
        for text in texts:
            words.append(Word(text, x, top, x + 8 * len(text), top + 10, 1, 0.9, ocr=ocr_read))
            x += 8 * len(text) + 6
    lines = group_lines(words)

    def field(name, value, line):
        found = [w for w in lines[line].words if any(c.isdigit() for c in w.text)][-1:]
        return Field(name, Decimal(value), found[0].text, 0.9, 1, union(found), "label")

    return lines, field


def test_a_tax_under_a_misread_label_is_completed_from_the_others():
    lines, field = _summary(
        [
            (400, ["Zwischensumme", "26'807.99", "EUR"]),
            (420, ["MwsSt", "2E+1%", "5'361.60", "EUR"]),
            (440, ["Gesamtbetrag", "32'169.59", "EUR"]),
        ]
    )
    fields = {"subtotal": field("subtotal", "26807.99", 0), "total": field("total", "32169.59", 2)}
    summary.complete(fields, lines)
    tax = fields["tax"]
    assert tax.value == Decimal("5361.60") and tax.rule == "sum:total-subtotal"
    assert tax.raw == "5'361.60" and tax.confidence == pytest.approx(0.81)


def test_a_tax_that_lost_its_comma_is_corrected_and_a_missing_total_found():
    lines, field = _summary(
        [
            (400, ["Sous-total", "9", "487,90", "€"]),
            (420, ["TVA", "20%", "1", "897", "58", "€"]),
            (440, ["Net", "4", "payer", "11", "385,48", "€"]),
        ]
    )
    fields = {
        "subtotal": field("subtotal", "9487.90", 0),
        "tax": field("tax", "58.00", 1),
        "total": field("total", "11385.48", 2),
    }
    summary.complete(fields, lines)
    assert fields["tax"].value == Decimal("1897.58")
    del fields["total"]
    fields["tax"] = field("tax", "1897.58", 1)
    summary.complete(fields, lines)
    assert fields["total"].value == Decimal("11385.48") and fields["total"].rule.startswith("sum:")


def test_sums_are_not_completed_from_digits_that_differ_or_from_a_text_layer():
    rows = [(400, ["Subtotal", "100.00"]), (420, ["VAT", "19.00"]), (440, ["Total", "120.00"])]
    lines, field = _summary(rows)
    fields = {"subtotal": field("subtotal", "100.00", 0), "total": field("total", "120.00", 2)}
    summary.complete(fields, lines)
    assert "tax" not in fields  # the page says 19.00, the sum 20.00: left for review
    rows = [(400, ["Subtotal", "100.00"]), (420, ["VAT", "20.00"]), (440, ["Zu", "120.00"])]
    lines, field = _summary(rows, ocr_read=False)  # a text layer's labels are all read
    fields = {"subtotal": field("subtotal", "100.00", 0), "tax": field("tax", "20.00", 1)}
    summary.complete(fields, lines)
    assert "total" not in fields


def test_unsure_whole_words_are_kept_and_unsure_specks_dropped():
    data = {
        "page_num": [1] * 5,
        "text": ["Item", "Quantity", "~", "ab", "Désignation"],
        "conf": [11, 95, 5, 10, 2],
        "left": [10, 300, 500, 600, 700],
        "top": [10] * 5,
        "width": [40] * 5,
        "height": [12] * 5,
    }
    words = engines._words(data, 300, 1)
    assert [(w.text, w.conf) for w in words] == [
        ("Item", 0.11),
        ("Quantity", 0.95),
        ("Désignation", 0.02),
    ]


@pytest.mark.parametrize(
    ("texts", "value"),
    [
        (["£7", ",402.44"], "7402.44"),  # OCR cut the number at its comma
        (["29", "103,18", "€"], "29103.18"),  # a space for thousands, monospaced
        (["1,480.49"], "1480.49"),
    ],
)
def test_amounts_cut_by_ocr_are_joined(texts, value):
    words, x = [], 400.0
    for text in texts:
        words.append(Word(text, x, 100, x + 6 * len(text), 108, 1, 0.6, ocr=True))
        x += 6 * len(text) + 7
    assert values.amount(words, strict=True).value == Decimal(value)


# -- OCR that adapts to the page ------------------------------------------------------------


def _low_resolution_invoice(tmp_path, dpi: int = 70):
    """A demo invoice printed and scanned at ``dpi`` (the ~70 dpi scans the old fixed
    preparation lost), as a PNG that says its resolution; with its truth."""
    import pypdfium2

    from demo import make_corpus

    doc = make_corpus.Doc(2)
    pdf = pypdfium2.PdfDocument(doc.render())
    image = pdf[0].render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
    pdf.close()
    path = tmp_path / "low-resolution.png"
    image.save(path, dpi=(dpi, dpi))
    return path, image, doc.truth()


def _old_preparation(image: Image.Image, dpi: float) -> Image.Image:
    """What deskhand did before (kept here as the reference the fix is measured against):
    despeckle at the scan's own resolution, scale to 300 dpi, threshold."""
    import cv2

    gray = cv2.medianBlur(np.asarray(image.convert("L")), 3)
    scale = 300 / dpi
    gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return ocr.binarize(Image.fromarray(gray))


def test_a_70_dpi_scan_is_enlarged_and_read(tmp_path):
    path, image, truth = _low_resolution_invoice(tmp_path)
    page = ocr.read_page(image, 70, 1)
    assert page.scale > 2.5 and page.dpi == pytest.approx(70 * page.scale)
    texts = {w.text for w in page.words}
    assert truth["invoice_number"] in texts
    plain = pytesseract.image_to_string(image)
    old = pytesseract.image_to_string(_old_preparation(image, 70), config="--psm 6")
    ours = " ".join(w.text for w in page.words)
    assert truth["invoice_number"] not in old  # the old preparation lost it
    found = [t for t in texts if t.replace(",", "").replace(".", "").isdigit() and len(t) > 4]
    assert len(found) >= sum(
        t.replace(",", "").replace(".", "").isdigit() and len(t) > 4 for t in plain.split()
    ), (ours, plain)  # at least every long number plain tesseract reads


@pytest.mark.parametrize(
    ("dpi", "fields"),
    [
        (70, ("issuer", "customer", "subtotal", "tax", "total")),
        (100, ("issuer", "customer", "invoice_number", "invoice_date", "po_number", "total")),
    ],
)
def test_a_low_resolution_scan_gives_the_invoice_fields(tmp_path, private_cache, dpi, fields):
    from deskhand import documents

    path, _, truth = _low_resolution_invoice(tmp_path, dpi)
    doc = documents.extract(path, templates_dir=tmp_path / "no-templates")
    for name in fields:
        assert str(doc.fields[name].value) == str(truth[name]), name


def test_a_clear_page_is_read_once_as_it_is(monkeypatch):
    calls = []
    real = engines._image_to_data
    monkeypatch.setattr(engines, "_image_to_data", lambda *a: calls.append(1) or real(*a))
    page = ocr.read_page(_page(), 300, 1)
    assert page.variant == "plain" and page.scale == 1.0 and page.engine == "tesseract"
    assert len(calls) == 1
    assert {"RE-030030", "1,234.50"} <= {w.text for w in page.words}


def test_a_prepared_variant_is_kept_only_when_it_reads_surer(monkeypatch):
    """A faint, grainy page: plain is unsure, so the variants are read; the one kept is the
    read with the highest mean confidence, and never one lower than plain's."""
    rng = np.random.default_rng(3)
    faint = np.asarray(_page()).astype(np.float64) * 0.25 + 150  # grey ink on grey paper
    faint += rng.normal(0, 6, faint.shape)
    image = Image.fromarray(np.clip(faint, 0, 255).astype(np.uint8))
    reads = []
    real = engines.tesseract
    monkeypatch.setattr(engines, "tesseract", lambda *a: reads.append(real(*a)) or reads[-1])
    monkeypatch.setattr(ocr, "UNSURE", 1.01)  # try every variant
    page = ocr.read_page(image, 300, 1)
    plain = engines.mean_confidence(reads[0])
    assert len(reads) >= 2  # plain, threshold (and contrast for a page still poor)
    assert any(page.words is words for words in reads)
    mine = engines.mean_confidence(page.words)
    assert mine >= plain
    if page.variant != "plain":
        assert mine > plain + ocr.GAIN
    tried = reads[1:3]  # the variants (a later read is the page turned upright)
    assert all(not ocr._better(w, page.words) for w in tried if w is not page.words)


def test_print_size_is_measured_whatever_the_file_says():
    small = _page().resize((413, 585))  # the page at a third of its size: ~100 dpi
    found = prepare.measure(np.asarray(small))
    assert found.char_height is not None and found.char_height < prepare.SMALL_HEIGHT
    assert prepare.scale_for(found, 300) > 1.8  # enlarged although the file says 300 dpi
    normal = prepare.measure(np.asarray(_page()))
    assert prepare.scale_for(normal, 300) == 1.0
    assert prepare.scale_for(prepare.Measure(None, 0.0), 300) == 1.0  # a blank page


def test_the_ocr_pixel_budget_bounds_enlarging():
    from deskhand.documents import limits

    assert limits.ocr_scale(1000, 1000, 3.0) == 3.0
    wanted = limits.ocr_scale(3000, 4000, 3.0)
    assert (3000 * wanted) * (4000 * wanted) <= limits.MAX_OCR_PIXELS * 1.0001


def test_a_missing_tesseract_is_found_out_after_a_read(monkeypatch):
    """In-process reads do not run the program: pointing pytesseract at a missing program
    after a page was read is still 'tesseract not found', not a blank page."""
    from deskhand.errors import ApplicationError

    ocr.read_page(_page((400, 300), rows=()), 300, 1)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    with pytest.raises(ApplicationError, match="tesseract not found: apt-get install"):
        ocr.read_page(_page((400, 300), rows=()), 300, 1)
