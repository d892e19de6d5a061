"""Word boxes built in tests, as a text layer or OCR gives them, for the field-rule tests."""

from __future__ import annotations

from deskhand.documents.model import Word


def words(
    rows,
    *,
    left: float,
    height: float = 10.0,
    conf: float = 0.99,
    ocr: bool = False,
    fixed: bool = False,
) -> list[Word]:
    """Words of a page: each row is (top, text or [(x, text), ...], optional height); a plain
    text starts at ``left``. A character is half the row's height wide and words are 0.3 of
    it apart (5 and 3 points at height 10; always 5 and 3 when ``fixed``), so cells far
    apart read as columns."""
    found = []
    for row in rows:
        top, cells = row[0], row[1]
        tall = row[2] if len(row) > 2 else height
        char, gap = (5.0, 3.0) if fixed else (0.5 * tall, 0.3 * tall)
        if isinstance(cells, str):
            cells = [(left, cells)]
        for x, text in cells:
            start = x
            for token in text.split():
                width = char * len(token)
                found.append(Word(token, start, top, start + width, top + tall, 1, conf, ocr))
                start += width + gap
    return found
