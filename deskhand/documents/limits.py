"""The bounds on what reading one document may cost, checked on what will be decoded before
it is decoded.

Peak memory per document stays under MEMORY_BOUND (measured by tests on hostile files):

- a page image is never decoded above MAX_PIXELS (a TIFF frame, an image file, an image
  embedded in a PDF page: each checked from its header or dictionary first);
- a page is never handed to OCR above MAX_OCR_PIXELS: a PDF page is rendered at a lower dpi,
  a larger image is reduced (OCR costs tens of bytes per pixel);
- a document's pages together never exceed MAX_TOTAL_PIXELS (the frames of a TIFF, the
  scanned pages of a PDF): refused before the first is decoded; frames are decoded one at a
  time.
"""

from __future__ import annotations

import math

MEMORY_BOUND = 1024 * 1024 * 1024  # bytes of peak memory for reading one document
MAX_PIXELS = 60_000_000  # one decoded image: A4 at 600 dpi is 35 megapixels
MAX_OCR_PIXELS = 12_000_000  # one page read by OCR: A4 at 350 dpi, A3 at 250 dpi
MAX_TOTAL_PIXELS = 400_000_000  # a document's page images together: 46 A4 pages at 300 dpi
MIN_DPI = 72.0  # a PDF page rendered coarser than this cannot be read: refused


def ocr_scale(width: int, height: int, wanted: float) -> float:
    """``wanted`` (the factor OCR would like to scale a ``width`` x ``height`` image by),
    lowered so that the scaled image stays within MAX_OCR_PIXELS."""
    most = math.sqrt(MAX_OCR_PIXELS / max(1, width * height))
    return min(wanted, most)


def render_dpi(width_pt: float, height_pt: float, dpi: float) -> float:
    """The dpi at which to render a page of ``width_pt`` x ``height_pt`` points: ``dpi``,
    or lower so that the page stays within MAX_OCR_PIXELS (may fall under MIN_DPI: the
    caller refuses such a page)."""
    pixels = width_pt * height_pt * (dpi / 72) ** 2
    if pixels <= MAX_OCR_PIXELS:
        return dpi
    return dpi * math.sqrt(MAX_OCR_PIXELS / pixels)


def megapixels(pixels: float) -> str:
    """``pixels`` as '207 MP'."""
    return f"{pixels / 1_000_000:.0f} MP"
