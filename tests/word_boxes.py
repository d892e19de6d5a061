"""Word boxes built in tests, as a text layer or OCR gives them, for the field-rule tests."""

from __future__ import annotations

from deskhand.documents.model import Word


def words(
    rows, *, left: float, height: float = 10.0, conf: float = 0.99, ocr: bool = False
) -> list[Word]:
    """Words of a page: each row is (top, text or [(x, text), ...], optional height); a plain
    text starts at ``left``. A character is half the row's height wide and words are 0.3 of
    it apart (5 and 3 points at height 10), so cells far apart read as columns."""
    found = []
    for row in rows:
        top, cells = row[0], row[1]
        tall = row[2] if len(row) > 2 else height
        if isinstance(cells, str):
            cells = [(left, cells)]
        for x, text in cells:
            start = x
            for token in text.split():
                width = 0.5 * tall * len(token)
                found.append(Word(token, start, top, start + width, top + tall, 1, conf, ocr))
                start += width + 0.3 * tall
    return found
