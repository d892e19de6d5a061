"""Reading documents: invoices from digital PDFs, scanned PDFs and images.

    from deskhand import documents

    invoice = documents.extract("scans/invoice.pdf")      # kind="invoice" by default
    invoice.invoice_number, invoice.total                 # values (None when absent)
    invoice.fields["total"].confidence                    # 0..1, with page, bbox and rule
    documents.validate(invoice)                           # BusinessError if unsure or wrong
    documents.fingerprint("scans/invoice.pdf")           # sha256: the work item's reference

Text-layer pages are read with pdfplumber; pages without one, and image files, with
tesseract (300 dpi, despeckled, deskewed). Fields are found generically, by labels in several
languages and by the line-item table's header, never by knowing the vendor.
"""

from .model import Document, Field
from .reader import clear_cache, extract, fingerprint
from .schema import SCHEMAS, to_model
from .validation import validate

__all__ = [
    "SCHEMAS",
    "Document",
    "Field",
    "clear_cache",
    "extract",
    "fingerprint",
    "to_model",
    "validate",
]
