"""Templates (templates/*.yaml): recognised by keywords, read fields by value, regex, label
and region and line items by their table's columns, win over the generic reader, and can be
forced by name."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from deskhand import documents
from deskhand.documents import template
from deskhand.errors import BusinessError, ConfigError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())
ASSETS = ROOT / "tests" / "assets" / "documents"
TEST_TEMPLATES = ASSETS / "templates"
NO_TEMPLATES = ASSETS / "no-templates"


pytestmark = pytest.mark.usefixtures("private_cache")


def _harbour(path: Path, keywords: bool = True) -> Path:
    """An invoice the generic reader gets partly wrong: an unknown label, a US-style date."""
    c = canvas.Canvas(str(path), pagesize=A4)
    height = A4[1]

    def text(x, top, s, size=10, font="Helvetica"):
        c.setFont(font, size)
        c.drawString(x, height - top - size * 0.8, s)

    text(50, 50, "Harbour Stationers Ltd" if keywords else "Harbour Paper Co", 18, "Helvetica-Bold")
    text(50, 74, "Quayside 5, Bristol BS1 4RN" if keywords else "Dockside 9, Bristol")
    text(380, 110, "Our ref: 00917")
    text(380, 126, "Invoice Date 03/04/2026")
    text(50, 150, "Deliver to: Brightwater Retail Ltd")
    text(50, 190, "Description")
    text(300, 190, "Qty")
    text(380, 190, "Unit price")
    text(480, 190, "Amount")
    text(50, 210, "Envelopes C5 (box)")
    text(300, 210, "4")
    text(380, 210, "25.00")
    text(480, 210, "100.00")
    text(380, 250, "Subtotal")
    text(480, 250, "£100.00")
    text(380, 266, "VAT 20%")
    text(480, 266, "£20.00")
    text(300, 300, "Amount payable:")
    text(450, 300, "£120.00", 12, "Helvetica-Bold")
    c.showPage()
    c.save()
    return path


def test_a_matching_template_wins_field_by_field(tmp_path):
    pdf = _harbour(tmp_path / "harbour.pdf")
    generic = documents.extract(pdf, templates_dir=NO_TEMPLATES)
    assert generic.template is None
    assert generic.invoice_date == date(2026, 4, 3)  # day first: the generic reading of a £ invoice
    assert generic.fields["customer"].rule.startswith(("label:", "layout:"))

    document = documents.extract(pdf, templates_dir=TEST_TEMPLATES)
    assert document.template == "harbour-stationers"
    assert document.to_dict()["template"] == "harbour-stationers"
    fields = document.fields
    assert fields["invoice_number"].value == "00917"  # a string, leading zeros kept
    assert fields["invoice_number"].rule == "template:harbour-stationers:label"
    assert fields["invoice_date"].value == date(2026, 3, 4)  # the template's MDY order
    assert fields["customer"].value == "Brightwater Retail Ltd"
    assert fields["customer"].rule == "template:harbour-stationers:regex"
    assert fields["total"].value == Decimal("120.00")
    assert fields["total"].rule == "template:harbour-stationers:region"
    x0, top, x1, bottom = fields["total"].bbox
    assert 440 < x0 < x1 < 520 and 295 < top < bottom < 320
    # What the template does not read stays as the generic reader found it.
    assert fields["tax"].value == Decimal("20.00") and fields["tax"].rule.startswith("label:")
    assert fields["currency"].value == "GBP"
    documents.validate(document)


KRANICH_ITEMS = [  # description (with a wrapped second line), quantity, unit price, amount
    ("Schraubendreher-Set 6-tlg.", "", "2", "12,50", "25,00"),
    ("Akku-Bohrschrauber 18V", "inkl. 2 Akkus und Ladegerät", "1", "149,00", "149,00"),
    ("Bits 25 mm (10er Pack)", "", "3", "4,90", "14,70"),
    ("Werkzeugkoffer", "", "1", "1.249,00", "1.249,00"),
]


def _kranich(path: Path) -> Path:
    """An invoice whose item table the generic reader cannot read: a header it does not
    know (Ware, Stück, Je, Wert), decimal commas, a wrapped description, and a table that
    ends at 'Warenwert'."""
    c = canvas.Canvas(str(path), pagesize=A4)
    height = A4[1]

    def text(x, top, s, size=10, font="Helvetica", right=False):
        c.setFont(font, size)
        draw = c.drawRightString if right else c.drawString
        draw(x, height - top - size * 0.8, s)

    text(50, 50, "Kranich Werkzeuge KG", 18, "Helvetica-Bold")
    text(50, 74, "Mühlenweg 3, 28195 Bremen")
    text(380, 110, "Rechnungsnr. KW-2026-117")
    text(380, 126, "Datum 05.03.2026")
    text(50, 190, "Ware", font="Helvetica-Bold")
    for x, label in ((330, "Stück"), (430, "Je"), (540, "Wert")):
        text(x, 190, label, font="Helvetica-Bold", right=True)
    top = 190
    for description, wrapped, qty, price, amount in KRANICH_ITEMS:
        top += 20
        text(50, top, description)
        for x, value in ((330, qty), (430, price), (540, amount)):
            text(x, top, value, right=True)
        if wrapped:
            top += 12
            text(50, top, wrapped)
    text(380, top + 40, "Warenwert")
    text(540, top + 40, "1.437,70", right=True)
    text(380, top + 56, "MwSt 19%")
    text(540, top + 56, "273,16", right=True)
    text(380, top + 72, "Gesamtbetrag", font="Helvetica-Bold")
    text(540, top + 72, "1.710,86 €", font="Helvetica-Bold", right=True)
    text(50, 790, "Seite 1 von 1")
    c.showPage()
    c.save()
    return path


KRANICH_LINES = [
    ("Schraubendreher-Set 6-tlg.", Decimal(2), Decimal("12.50"), Decimal("25.00")),
    (
        "Akku-Bohrschrauber 18V inkl. 2 Akkus und Ladegerät",
        Decimal(1),
        Decimal("149.00"),
        Decimal("149.00"),
    ),
    ("Bits 25 mm (10er Pack)", Decimal(3), Decimal("4.90"), Decimal("14.70")),
    ("Werkzeugkoffer", Decimal(1), Decimal("1249.00"), Decimal("1249.00")),
]


def _items(document) -> list[tuple]:
    keys = ("description", "quantity", "unit_price", "amount")
    return [tuple(line[k].value for k in keys) for line in document.lines]


def test_a_template_reads_line_items_the_generic_reader_cannot(tmp_path):
    pdf = _kranich(tmp_path / "kranich.pdf")
    generic = documents.extract(pdf, templates_dir=NO_TEMPLATES)
    assert generic.lines == []
    with pytest.raises(BusinessError, match="lines missing"):
        documents.validate(generic)

    document = documents.extract(pdf, templates_dir=TEST_TEMPLATES)
    assert document.template == "kranich-werkzeuge"
    assert _items(document) == KRANICH_LINES
    rules = {f.rule for line in document.lines for f in line.values()}
    assert rules == {"template:kranich-werkzeuge:lines"}
    wrapped = document.lines[1]["description"]
    x0, top, x1, bottom = wrapped.bbox  # both printed lines of the description
    assert 45 < x0 < 55 and 225 < top < 235 and 245 < bottom < 258, wrapped.bbox
    amount = document.lines[3]["amount"]
    assert amount.raw == "1.249,00" and amount.page == 1 and amount.confidence > 0.9
    assert document.subtotal == Decimal("1437.70") and document.total == Decimal("1710.86")
    documents.validate(document)  # the lines add up to the subtotal
    dumped = document.to_dict()["lines"][3]["amount"]
    assert dumped["value"] == 1249.0 and dumped["rule"] == "template:kranich-werkzeuge:lines"


@pytest.mark.parametrize(
    "where",
    [
        "start: Ware\nend: [Warenwert]",  # below the header, by its first label
        "region: [40, 200, 560, 300]\npage: 1",  # a box around the rows alone
    ],
)
def test_line_item_columns_by_x_range_alone(tmp_path, where):
    pdf = _kranich(tmp_path / "kranich.pdf")
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "kranich-by-x.yaml").write_text(
        "match: {keywords: [Kranich Werkzeuge KG]}\n"
        "options: {decimal_mark: ','}\n"
        "lines:\n"
        "  columns:\n"
        "    description: {x: [40, 250]}\n"
        "    quantity: {x: [280, 340]}\n"
        "    unit_price: {x: [360, 440]}\n"
        "    amount: {x: [470, 560]}\n" + "".join(f"  {part}\n" for part in where.split("\n"))
    )
    document = documents.extract(pdf, templates_dir=folder)
    assert document.template == "kranich-by-x"
    assert _items(document) == KRANICH_LINES
    assert document.lines[0]["amount"].rule == "template:kranich-by-x:lines"


def test_a_template_whose_table_is_not_there_leaves_the_generic_lines():
    unforced = documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=TEST_TEMPLATES)
    assert unforced.template is None  # its keywords are not in Acme's invoice
    document = documents.extract(
        SAMPLES / "inv-01-acme.pdf", template="kranich-werkzeuge", templates_dir=TEST_TEMPLATES
    )
    assert document.template == "kranich-werkzeuge"  # its header (Ware, Stück...) is not there
    assert _lines(document) == TRUTH["inv-01-acme.pdf"]["lines"]
    assert {f.rule for line in document.lines for f in line.values()} == {"table"}


def test_a_broken_lines_section_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("match: {keywords: [X]}\nlines:\n  columns:\n    description: {label: A}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: lines: .*need description and amount"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)
    bad.write_text(
        "match: {keywords: [X]}\nlines:\n  columns:\n"
        "    description: {x: [0, 200]}\n    amount: {}\n"
    )
    with pytest.raises(ConfigError, match=r"bad.yaml: lines.columns.amount: .*give label"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)
    bad.write_text(
        "match: {keywords: [X]}\nlines:\n  columns:\n"
        "    description: {x: [0, 200]}\n    amount: {x: [400, 500]}\n"
    )
    with pytest.raises(ConfigError, match=r"bad.yaml: lines: .*give start .* or region"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)


def test_a_template_is_not_used_without_its_keywords(tmp_path):
    pdf = _harbour(tmp_path / "other.pdf", keywords=False)
    document = documents.extract(pdf, templates_dir=TEST_TEMPLATES)
    assert document.template is None and document.invoice_date == date(2026, 4, 3)


def test_a_template_can_be_forced_by_name(tmp_path):
    pdf = _harbour(tmp_path / "other.pdf", keywords=False)
    document = documents.extract(pdf, template="harbour-stationers", templates_dir=TEST_TEMPLATES)
    assert document.template == "harbour-stationers"
    assert document.invoice_number == "00917" and document.invoice_date == date(2026, 3, 4)


def test_unknown_template_names_the_ones_there_are(tmp_path):
    with pytest.raises(ConfigError) as caught:
        documents.extract(
            SAMPLES / "inv-01-acme.pdf", template="nope", templates_dir=TEST_TEMPLATES
        )
    assert str(caught.value) == (
        f"unknown template 'nope': templates in {TEST_TEMPLATES}: "
        "corner-cafe, harbour-stationers, kranich-werkzeuge"
    )


def test_a_broken_template_is_a_config_error_naming_file_and_key(tmp_path):
    (tmp_path / "bad.yaml").write_text("match: {keywords: [X]}\nfields:\n  total: {regx: 'T'}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: fields.total.regx: Extra inputs"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)
    (tmp_path / "bad.yaml").write_text("match: {keywords: [X]}\nfields:\n  total: {}\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: fields.total: .*exactly one of value"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)
    (tmp_path / "bad.yaml").write_text("match: [\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: not valid YAML at line 2"):
        documents.extract(SAMPLES / "inv-01-acme.pdf", templates_dir=tmp_path)


def test_the_shipped_templates_are_valid_and_name_real_vendors():
    shipped = template.load(ROOT / "templates")
    assert {"acme-office-supplies", "nordwind-logistik"} <= set(shipped)
    for found in shipped.values():
        assert found.fields and found.match.keywords


def _lines(document) -> list[dict]:
    """The line items as ground_truth.json writes them."""

    def text(value) -> str:
        if isinstance(value, Decimal) and value == value.to_integral():
            return str(value.quantize(Decimal(1)))
        return str(value.normalize() if isinstance(value, Decimal) else value)

    return [
        {
            "description": line["description"].value,
            "quantity": text(line["quantity"].value),
            "unit_price": str(line["unit_price"].value),
            "amount": str(line["amount"].value),
        }
        for line in document.lines
    ]


def _truth_fields(document) -> dict:
    return {
        "vendor": document.issuer,
        "invoice_number": document.invoice_number,
        "invoice_date": document.invoice_date.isoformat(),
        "due_date": document.due_date.isoformat() if document.due_date else None,
        "currency": document.currency,
        "po_number": document.po_number,
        "subtotal": str(document.subtotal),
        "total": str(document.total),
    }


@pytest.mark.parametrize(
    "name, expected",
    [
        ("inv-01-acme.pdf", "acme-office-supplies"),
        ("inv-02-nordwind.pdf", "nordwind-logistik"),
        ("inv-12-nordwind.pdf", "nordwind-logistik"),
        pytest.param("inv-05-nordwind-scan.pdf", "nordwind-logistik", marks=pytest.mark.slow),
        pytest.param("inv-07-acme-scan.pdf", "acme-office-supplies", marks=pytest.mark.slow),
        ("inv-03-bluepeak.pdf", None),
    ],
)
def test_shipped_templates_read_their_vendors_documents(name, expected):
    document = documents.extract(SAMPLES / name, templates_dir=ROOT / "templates")
    assert document.template == expected
    truth = TRUTH[name]
    assert _truth_fields(document) == {k: truth[k] for k in _truth_fields(document)}
    assert _lines(document) == truth["lines"]
    rules = [f.rule for f in document.fields.values()]
    line_rules = {f.rule for line in document.lines for f in line.values()}
    if expected:
        assert sum(r.startswith(f"template:{expected}:") for r in rules) >= 5, rules
        assert document.fields["issuer_address"].value.startswith(("12 Harbour", "Hafenstrasse"))
        assert line_rules == {f"template:{expected}:lines"}  # the template read every cell
    else:
        assert not any(r.startswith("template:") for r in rules)
        assert line_rules == {"table"}
    documents.validate(document)


def test_cli_template_option_forces_one():
    done = subprocess.run(
        [
            sys.executable,
            "run_bot.py",
            "extract",
            "--json",
            "--template",
            "nordwind-logistik",
            str(SAMPLES / "inv-12-nordwind.pdf"),
            str(SAMPLES / "inv-03-bluepeak.pdf"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    nordwind, bluepeak = (json.loads(line) for line in done.stdout.splitlines())
    assert nordwind["template"] == bluepeak["template"] == "nordwind-logistik"
    assert nordwind["fields"]["invoice_date"]["rule"] == "template:nordwind-logistik:label"
    assert nordwind["fields"]["invoice_date"]["value"] == "2026-02-20"
    # Forced onto another vendor's invoice, its constants say what the user asked for.
    assert bluepeak["fields"]["currency"]["value"] == "EUR"


def test_cli_unknown_template():
    done = subprocess.run(
        [
            sys.executable,
            "run_bot.py",
            "extract",
            "--json",
            "--template",
            "nope",
            str(SAMPLES / "inv-01-acme.pdf"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "unknown template 'nope'" in done.stdout + done.stderr
    assert "acme-office-supplies, nordwind-logistik" in done.stdout + done.stderr
