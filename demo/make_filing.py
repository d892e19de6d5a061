"""Make the filing job's inbox and its ground truth (python -m demo.make_filing).

demo/filing/inbox/ gets a mix a mail room sees: digital invoices, a scanned invoice (no
text layer), a receipt, a purchase order, a letter, an exact copy of an invoice under
another name, the same invoice re-issued with another layout (same issuer and number), and
an invoice whose total was changed afterwards by an incremental update. truth.json says
what each is and what the filing should do with it.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import re
import sys
import zlib
from pathlib import Path

from demo import make_documents as md
from demo.make_orders import order_pdf
from demo.orders_data import ORDERS

ROOT = Path(__file__).resolve().parent
DEFAULT_FOLDER = ROOT / "filing"
SAMPLES = ROOT / "documents"


def _spec(file: str) -> md.Spec:
    return next(s for s in md.SPECS if s.file == file)


def simple_pdf(title: str, lines: list[str], author: str) -> bytes:
    """A one-page text PDF (receipt, letter) as office software would print it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(title)
    c.setAuthor(author)
    y = 790
    for n, line in enumerate(lines):
        c.setFont("Helvetica-Bold" if n == 0 else "Helvetica", 13 if n == 0 else 10)
        c.drawString(70, y, line)
        y -= 24 if n == 0 else 15
    c.showPage()
    c.save()
    return buf.getvalue()


def tamper(pdf: bytes, old: str, new: str) -> bytes:
    """Append an incremental update that shows ``new`` where the page said ``old`` (the
    original revision stays inside the file, as with any incremental save)."""
    page_no = int(re.search(rb"(\d+) 0 obj\s*<<[^>]*?/Contents (\d+) 0 R", pdf).group(1))
    page = re.search(rb"%d 0 obj\s*(<<.*?>>)\s*endobj" % page_no, pdf, re.S).group(1)
    contents = int(re.search(rb"/Contents (\d+) 0 R", page).group(1))
    stream = re.search(rb"%d 0 obj\s*<<.*?>>\s*stream\r?\n(.*?)endstream" % contents, pdf, re.S)
    data = stream.group(1).strip()
    text = zlib.decompress(base64.a85decode(data[:-2] if data.endswith(b"~>") else data))
    changed = text.replace(old.encode(), new.encode())
    size = int(re.findall(rb"/Size (\d+)", pdf)[-1])
    root = re.findall(rb"/Root (\d+ 0 R)", pdf)[-1]
    prev = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    new_page = page.replace(b"/Contents %d 0 R" % contents, b"/Contents %d 0 R" % size)
    info_no = int(re.findall(rb"/Info (\d+) 0 R", pdf)[-1])
    info = re.search(rb"%d 0 obj\s*(<<.*?>>)\s*endobj" % info_no, pdf, re.S).group(1)
    info = re.sub(rb"/ModDate \([^)]*\)", b"/ModDate (D:20260320101500+00'00')", info)
    info = re.sub(
        rb"/Producer \((?:[^()\\]|\\.|\([^()]*\))*\)", b"/Producer (QuickPDF Editor 9.1)", info
    )
    body = b"\n"
    offsets = {}
    base = len(pdf)
    for number, obj in (
        (page_no, new_page),
        (info_no, info),
        (size, b"<< /Length %d >>\nstream\n" % len(changed) + changed + b"\nendstream"),
    ):
        offsets[number] = base + len(body)
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref_at = base + len(body)
    xref = b"xref\n"
    for number in sorted(offsets):
        xref += b"%d 1\n%010d 00000 n \n" % (number, offsets[number])
    trailer = (
        b"trailer\n<< /Size %d /Root %s /Info %d 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n"
        % (
            size + 1,
            root,
            info_no,
            prev,
            xref_at,
        )
    )
    return pdf + body + xref + trailer


def make(folder: Path = DEFAULT_FOLDER) -> Path:
    """Write inbox/ and truth.json into ``folder``; the inbox."""
    inbox = folder / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for old in inbox.iterdir():
        old.unlink()
    acme = (SAMPLES / "inv-01-acme.pdf").read_bytes()
    reissued = md.render_pdf(md.Invoice(dataclasses.replace(_spec("inv-01-acme.pdf"), layout="C")))
    files = {
        "inv-01-acme.pdf": acme,
        "scan-0001.pdf": acme,  # the same file again, under the scanner's name
        "reissued-acme-000482.pdf": reissued,  # same issuer and number, other layout
        "inv-02-nordwind.pdf": (SAMPLES / "inv-02-nordwind.pdf").read_bytes(),
        "inv-05-nordwind-scan.pdf": (SAMPLES / "inv-05-nordwind-scan.pdf").read_bytes(),
        "bluepeak-edited.pdf": tamper(
            (SAMPLES / "inv-03-bluepeak.pdf").read_bytes(), "$1,570.00", "$7,570.00"
        ),
        "receipt-corner-cafe.pdf": simple_pdf(
            "Receipt",
            [
                "Corner Cafe Ltd",
                "RECEIPT",
                "Receipt no.: R-88812",
                "Date: 2026-03-14",
                "2 x Flat white   7.00",
                "1 x Sandwich   6.40",
                "Total: 13.40",
                "Paid by card",
            ],
            "Corner Cafe Ltd",
        ),
        "po-kestrel.pdf": order_pdf(ORDERS[1]),
        "letter-harbor.pdf": simple_pdf(
            "Letter",
            [
                "Harbor Foods Ltd",
                "3 Quay St, Bristol",
                "Date: 2026-03-12",
                "",
                "Dear Sir or Madam,",
                "please note our new delivery address from April.",
                "Yours faithfully,",
                "J. Smith, Accounts",
            ],
            "Harbor Foods Ltd",
        ),
    }
    for name, data in files.items():
        (inbox / name).write_bytes(data)
    truth = {
        "inv-01-acme.pdf": {"kind": "invoice", "status": "filed", "number": "000482"},
        "scan-0001.pdf": {"kind": "invoice", "status": "duplicate", "of": "inv-01-acme.pdf"},
        "reissued-acme-000482.pdf": {
            "kind": "invoice",
            "status": "needs_review",
            "cause": "near duplicate",
        },
        "inv-02-nordwind.pdf": {"kind": "invoice", "status": "filed", "number": "RE-2026-0117"},
        "inv-05-nordwind-scan.pdf": {
            "kind": "invoice",
            "status": "filed",
            "searchable": True,
            "number": "RE-2026-0142",
        },
        "bluepeak-edited.pdf": {
            "kind": "invoice",
            "status": "needs_review",
            "cause": "changed after creation",
        },
        "receipt-corner-cafe.pdf": {"kind": "receipt", "status": "filed", "number": "R-88812"},
        "po-kestrel.pdf": {"kind": "order", "status": "filed", "number": "KE-0091"},
        "letter-harbor.pdf": {"kind": "letter", "status": "filed"},
    }
    (folder / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return inbox


if __name__ == "__main__":
    print(f"wrote {make(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_FOLDER)}")
