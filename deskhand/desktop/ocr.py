"""Reading the screen: tesseract word boxes, lines and phrases.

Screen text is small (an x-height of 7-9 pixels), so images are enlarged before tesseract
reads them; boxes are given back in screen pixels. Tesseract runs single-threaded
(``OMP_THREAD_LIMIT=1``): on small images its threads cost more than they save, and bots
often run beside other work.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from .screen import Region

UPSCALE = 3
FIND_MODES = (11, 4)  # page segmentation modes tried in turn to find a phrase: sparse text,
# then a column of lines; each reads some UI text the other misses
READ_MODE = 4  # to read a window or region as lines of text
NOISE_CONFIDENCE = 30.0  # below this (0-100), a "word" of symbols only is a widget's edge


@dataclass(frozen=True)
class Word:
    text: str
    confidence: float
    region: Region


def words(image: np.ndarray, origin: tuple[int, int] = (0, 0), psm: int = READ_MODE) -> list[Word]:
    """The words tesseract reads in ``image`` (BGR), boxes shifted by ``origin`` (the
    image's top-left on the screen), with page segmentation mode ``psm``."""
    import cv2
    import pytesseract

    if image.size == 0:
        return []
    _check_tesseract()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    big = cv2.resize(gray, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 10, 10, 10, 10, cv2.BORDER_REPLICATE)
    data = pytesseract.image_to_data(
        big, config=f"--psm {psm}", output_type=pytesseract.Output.DICT
    )
    found = []
    for n, text in enumerate(data["text"]):
        text = text.strip()
        confidence = float(data["conf"][n])
        if not text or (confidence < NOISE_CONFIDENCE and not _norm(text)):
            continue  # a radio button or a border read as '®' or '|'; real words stay
        left = (data["left"][n] - 10) / UPSCALE
        top = (data["top"][n] - 10) / UPSCALE
        box = Region(
            origin[0] + round(left),
            origin[1] + round(top),
            max(1, round(data["width"][n] / UPSCALE)),
            max(1, round(data["height"][n] / UPSCALE)),
        )
        found.append(Word(text, confidence, box))
    return found


def lines(found: list[Word]) -> list[list[Word]]:
    """Words grouped into lines (same height on screen), each sorted left to right,
    lines top to bottom."""
    rows: list[list[Word]] = []
    for word in sorted(found, key=lambda w: w.region.top + w.region.height / 2):
        middle = word.region.top + word.region.height / 2
        if rows:
            last = rows[-1]
            ref = sum(w.region.top + w.region.height / 2 for w in last) / len(last)
            tall = max(w.region.height for w in last)
            if abs(middle - ref) <= max(tall, word.region.height) * 0.5:
                last.append(word)
                continue
        rows.append([word])
    return [sorted(row, key=lambda w: w.region.left) for row in rows]


def text_of(found: list[Word]) -> str:
    """The words as text: one line per screen line, words separated by one space."""
    return "\n".join(" ".join(w.text for w in row) for row in lines(found))


def _norm(text: str) -> str:
    return re.sub(r"[\W_]", "", text.lower())


def find_phrase(found: list[Word], phrase: str) -> list[Region]:
    """Every place where ``phrase`` reads, in reading order.

    Case, spaces and punctuation are ignored (tesseract splits and joins words at will,
    and drops or adds colons and dots). The words must follow each other closely on
    one line, the phrase starting at a word's start.
    """
    want = _norm(phrase)
    if not want:
        raise ValueError("an empty phrase matches nothing")
    matches = []
    for row in lines(found):
        for start in range(len(row)):
            if not _norm(row[start].text):
                continue  # a phrase starts at a word, not at a symbol before it
            text = ""
            for end in range(start, len(row)):
                if end > start:
                    gap = row[end].region.left - row[end - 1].region.right
                    if gap > 2 * max(row[end].region.height, row[end - 1].region.height):
                        break
                text += _norm(row[end].text)
                if text == want:
                    matches.append(_union([w.region for w in row[start : end + 1]]))
                    break
                if not want.startswith(text):
                    break
    return matches


def _union(regions: list[Region]) -> Region:
    left = min(r.left for r in regions)
    top = min(r.top for r in regions)
    right = max(r.right for r in regions)
    bottom = max(r.bottom for r in regions)
    return Region(left, top, right - left, bottom - top)


def _check_tesseract() -> None:
    if shutil.which("tesseract") is None:
        raise ConfigError("tesseract not found: apt-get install tesseract-ocr")
