"""Templates (templates/*.yaml): recognised by keywords, read fields by value, regex, label
and region, win over the generic reader field by field, and can be forced by name."""

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
from deskhand.documents import cache, template
from deskhand.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "demo" / "documents"
TRUTH = json.loads((SAMPLES / "ground_truth.json").read_text())
ASSETS = ROOT / "tests" / "assets" / "documents"
TEST_TEMPLATES = ASSETS / "templates"
NO_TEMPLATES = ASSETS / "no-templates"


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "DIRECTORY", tmp_path / "cache")
    cache.clear()
    yield
    cache.clear()


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
    assert generic.customer != "Brightwater Retail Ltd"

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
        f"unknown template 'nope': templates in {TEST_TEMPLATES}: corner-cafe, harbour-stationers"
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
    rules = [f.rule for f in document.fields.values()]
    if expected:
        assert sum(r.startswith(f"template:{expected}:") for r in rules) >= 5, rules
        assert document.fields["issuer_address"].value.startswith(("12 Harbour", "Hafenstrasse"))
    else:
        assert not any(r.startswith("template:") for r in rules)
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
