"""OCR quality: character error rate of deskhand's OCR against plain tesseract, on real receipts.

    python bench/ocr_quality.py [--limit 40] [--engine tesseract|rapidocr|auto|all] [-v]

Reads the SROIE receipts of the development corpus (``../shared/corpus/receipts-sroie``: its
``img/*.jpg`` and, as the truth, the text lines of ``box/*.csv``). For every receipt, side by
side:

- plain tesseract: ``pytesseract.image_to_string(image)`` at its defaults, the text as
  tesseract orders it; and plain ``pytesseract.image_to_data`` words put in lines the way
  deskhand does (so that only recognition differs, not reading order);
- deskhand: ``deskhand.documents.ocr.read_page`` with the chosen engine (the words extraction
  works on), put in lines.

Character error rate = Levenshtein distance / length of the truth text, both texts with
their lines top to bottom, words left to right, runs of white space as one space. Prints
the corpus-wide rate (total distance / total length), the same with letter case ignored
(SROIE's true lines are upper case, "Receipt No." on the paper is "RECEIPT NO." in the
truth), the median per receipt, the receipts where deskhand is worse than plain, and median
seconds per page. Prints; never fails. Says
so and exits 0 when the corpus is not there.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its queue.py would shadow the standard library's

import argparse  # noqa: E402
import csv  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

os.environ.setdefault("OMP_THREAD_LIMIT", "1")

import pytesseract  # noqa: E402
from PIL import Image  # noqa: E402

from deskhand.documents import ocr  # noqa: E402
from deskhand.documents.layout import group_lines  # noqa: E402
from deskhand.documents.model import Word  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "receipts-sroie"
if not CORPUS.is_dir():  # a worktree under /work/wt/NAME: the corpus sits beside /work/main
    CORPUS = Path("/work/shared/corpus/receipts-sroie")


def levenshtein(a: str, b: str) -> int:
    """Edit distance of ``a`` and ``b`` (insertions, deletions, substitutions), by Hyyrö's
    bit-vector algorithm: one pass over ``b`` with ``len(a)``-bit integers."""
    if not a or not b:
        return len(a) + len(b)
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    last = 1 << (len(a) - 1)
    pv, mv, score = full, 0, len(a)
    for ch in b:
        eq = masks.get(ch, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = mv | ~(xh | pv)
        mh = pv & xh
        if ph & last:
            score += 1
        elif mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & full
        mh = (mh << 1) & full
        pv = (mh | ~(xv | ph)) & full
        mv = ph & xv
    return score


def normal(text: str) -> str:
    """Runs of white space (line breaks too) as one space."""
    return " ".join(text.split())


def words_text(words: list[Word]) -> str:
    """Words as lines top to bottom, each left to right."""
    return "\n".join(line.text for line in group_lines(words))


def truth_text(path: Path) -> str:
    """The true text lines of a SROIE ``box/*.csv`` file, in the same order as words_text."""
    words = []
    with path.open(encoding="utf-8", errors="replace") as f:
        for row in csv.reader(f):
            if len(row) < 9:
                continue
            xs, ys = [float(v) for v in row[0:8:2]], [float(v) for v in row[1:8:2]]
            text = ",".join(row[8:]).strip()
            if text:
                words.append(Word(text, min(xs), min(ys), max(xs), max(ys), 1))
    return words_text(words)


def cer(found: str, truth: str) -> tuple[int, int]:
    """(edit distance, truth length) of the normalised texts."""
    found, truth = normal(found), normal(truth)
    return levenshtein(found, truth), len(truth)


def plain_string(path: Path) -> tuple[str, float]:
    start = time.perf_counter()
    text = pytesseract.image_to_string(Image.open(path))
    return text, time.perf_counter() - start


def plain_words(path: Path) -> tuple[str, float]:
    start = time.perf_counter()
    data = pytesseract.image_to_data(Image.open(path), output_type=pytesseract.Output.DICT)
    elapsed = time.perf_counter() - start
    words = [
        Word(t.strip(), left, top, left + w, top + h, 1)
        for t, c, left, top, w, h in zip(
            data["text"],
            data["conf"],
            data["left"],
            data["top"],
            data["width"],
            data["height"],
            strict=True,
        )
        if t.strip() and float(c) >= 0
    ]
    return words_text(words), elapsed


HOW: dict[str, str] = {}  # how deskhand read the last page, by engine setting


def deskhand_words(path: Path, engine: str) -> tuple[str, float]:
    start = time.perf_counter()
    with Image.open(path) as image:
        dpi = ocr.image_dpi(image)
        page = ocr.read_page(ocr.open_image(image), dpi, 1, engine=engine)
    elapsed = time.perf_counter() - start
    HOW[engine] = f"{page.engine}/{page.variant} x{page.scale:.1f}"
    to_px = dpi / 72  # back to the image's pixels, as the other readers' words and the truth
    words = [
        Word(w.text, w.x0 * to_px, w.top * to_px, w.x1 * to_px, w.bottom * to_px, 1)
        for w in page.words
    ]
    return words_text(words), elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=40, help="receipts to read (0: all)")
    parser.add_argument(
        "--engine", default="tesseract", choices=["tesseract", "rapidocr", "auto", "all"]
    )
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("-v", action="store_true", help="print every receipt's figures")
    args = parser.parse_args(argv)
    images = sorted((args.corpus / "img").glob("*.jpg")) if args.corpus.is_dir() else []
    if not images:
        print(f"SROIE corpus not found at {args.corpus}: nothing measured (see the README)")
        return 0
    if args.limit:
        images = images[: args.limit]
    engines = ["tesseract", "rapidocr", "auto"] if args.engine == "all" else [args.engine]
    readers = {"plain image_to_string": plain_string, "plain image_to_data": plain_words}
    for engine in engines:
        readers[f"deskhand {engine}"] = lambda p, e=engine: deskhand_words(p, e)
    errors = {name: 0 for name in readers}
    caseless = {name: 0 for name in readers}
    rates: dict[str, list[float]] = {name: [] for name in readers}
    seconds: dict[str, list[float]] = {name: [] for name in readers}
    worse: dict[str, list[str]] = {name: [] for name in readers}
    total = 0
    for path in images:
        truth = truth_text(args.corpus / "box" / f"{path.stem}.csv")
        row = []
        for name, read in readers.items():
            text, elapsed = read(path)
            distance, length = cer(text, truth)
            errors[name] += distance
            caseless[name] += cer(text.upper(), truth.upper())[0]
            rates[name].append(distance / max(length, 1))
            seconds[name].append(elapsed)
            how = f" ({HOW[name.split()[-1]]})" if name.startswith("deskhand") else ""
            row.append(f"{name.split()[-1]} {distance / max(length, 1):.3f} {elapsed:.2f}s{how}")
        total += len(normal(truth))
        plain = rates["plain image_to_string"][-1]
        for name in readers:
            if name.startswith("deskhand") and rates[name][-1] > plain + 1e-9:
                worse[name].append(path.stem)
        if args.v:
            print(f"{path.stem}: " + " | ".join(row), flush=True)
    print(f"SROIE receipts: {len(images)} images, {total} characters of truth ({args.corpus})")
    print(f"{'reader':28} {'CER':>7} {'no case':>7} {'median':>7} {'s/page':>7}")
    for name in readers:
        print(
            f"{name:28} {errors[name] / total:7.3f} {caseless[name] / total:7.3f} "
            f"{statistics.median(rates[name]):7.3f} {statistics.median(seconds[name]):7.2f}"
        )
    plain_time = statistics.median(seconds["plain image_to_data"])
    for name in readers:
        if name.startswith("deskhand"):
            print(
                f"{name}: worse than plain image_to_string on {len(worse[name])} of "
                f"{len(images)} receipts; {statistics.median(seconds[name]) / plain_time:.2f} x "
                "the time of plain image_to_data"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
