"""Accuracy of the generic reader (no template) on real invoices and receipts no one here made.

    python bench/real_documents.py [--set invoices|receipts-sroie|receipts-de|all]
                                   [--limit N] [--engine tesseract|rapidocr|auto]
                                   [--corpus DIR] [--out DIR] [--workers 2] [-v]

Reads every document of the development corpus (``../shared/corpus``: real invoices and
bills, ICDAR-2019 SROIE receipts, German shop receipts, each with its ground truth), writes
one prediction per document, scores them with the corpus's own ``score.py`` rules and prints:

- per set and per field: how many fields are right (score.py's table; ``-v`` lists misses);
- seconds per page for digital (text-layer) and scanned (OCR) pages of the documents read
  afresh in this run;
- the confidence table: for each confidence band, how many fields and how many of them are
  right, and the share of fields at or above the validation threshold (the confidence at
  which a field is keyed without review) that are wrong: "confident and wrong".

The corpus is development data with its own licences: it is read where it lies, never
copied into the project. Without it the bench says so and exits 0. Prints; never fails.

Speed, side by side in one run (``--speed N`` documents of each kind, 0: none), medians per
page: digital pages, ``extract`` against plain pdfplumber ``extract_words`` (target <= 1.2 x);
scanned pages with the tesseract engine, ``extract`` against plain
``pytesseract.image_to_data`` of the same image at the resolution extract reads it at
(target <= 1.5 x). Both sides alternate page by page, so the machine's load hits both alike.

Reruns are fast: results are kept in deskhand's document cache and the pages' words (with
the OCR page images, for region re-reads) in its pages cache, keyed by the file's content
and the OCR code's version (cache.py), so a change to the field rules re-runs the rules,
not tesseract.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its queue.py would shadow the standard library's

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

os.environ["OMP_THREAD_LIMIT"] = "1"

import pytesseract  # noqa: E402

from bench.extract import plain_pdfplumber  # noqa: E402
from deskhand import documents  # noqa: E402
from deskhand.documents import engines, files  # noqa: E402
from deskhand.documents.validation import MIN_CONFIDENCE  # noqa: E402
from deskhand.errors import DeskhandError  # noqa: E402

CORPORA = [ROOT.parent / "shared" / "corpus", ROOT.parent.parent / "shared" / "corpus"]
DEFAULT_CORPUS = (
    Path(os.environ.get("DESKHAND_CORPUS", ""))
    if os.environ.get("DESKHAND_CORPUS")
    else next((c for c in CORPORA if (c / "score.py").exists()), CORPORA[0])
)
SETS = {  # set -> (folder of documents, kind read as)
    "invoices": ("invoices", "invoice"),
    "receipts-sroie": ("receipts-sroie/img", "receipt"),
    "receipts-de": ("receipts-de", "receipt"),
}
SUFFIXES = (".pdf", ".jpg", ".jpeg", ".png", ".tif", ".tiff")
BANDS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01)
_fresh_reads: list = []  # files.read_pages calls for the current document (not from a cache)


def corpus_documents(corpus: Path, chosen: str, limit: int | None) -> list[tuple[str, Path]]:
    """(set, document) pairs of the corpus, sorted; at most ``limit`` per set."""
    found = []
    for name, (folder, _) in SETS.items():
        if chosen not in ("all", name):
            continue
        paths = sorted(p for p in (corpus / folder).iterdir() if p.suffix.lower() in SUFFIXES)
        found += [(name, p) for p in paths[:limit]]
    return found


def _counting_read_pages(*args, **kwargs):
    """files.read_pages, noting that the pages were read afresh (not from deskhand's cache)."""
    _fresh_reads.append(1)
    return _read_pages(*args, **kwargs)


_read_pages = files.read_pages


def _init_worker() -> None:
    files.read_pages = _counting_read_pages


def read(job: tuple[str, str, str]) -> dict:
    """Read one document: its fields (value, confidence), pages, OCR pages, seconds."""
    setname, path, templates, fresh = job
    kind = SETS[setname][1]
    _fresh_reads.clear()
    start = time.perf_counter()
    try:
        document = documents.extract(
            path, kind=kind, templates_dir=templates, cache_results=not fresh
        )
    except DeskhandError as exc:
        return {"set": setname, "path": path, "error": str(exc), "fields": {}}
    seconds = time.perf_counter() - start
    fields = {
        name: {"value": f.to_dict()["value"], "confidence": round(f.confidence, 3)}
        for name, f in document.fields.items()
    }
    return {
        "set": setname,
        "path": path,
        "fields": fields,
        "pages": document.pages,
        "ocr_pages": len(document.ocr_pages),
        "seconds": seconds if fresh or _fresh_reads else None,
    }


def load_scorer(corpus: Path):
    """The corpus's own score.py, imported from where it lies."""
    spec = importlib.util.spec_from_file_location("corpus_score", corpus / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def truth_of(corpus: Path, setname: str, path: Path) -> dict:
    folder = corpus / ("receipts-sroie/key" if setname == "receipts-sroie" else setname)
    truth = folder / f"{path.stem}.json"
    return json.loads(truth.read_text(encoding="utf-8")) if truth.exists() else {}


def confidence_table(results: list[dict], corpus: Path, scorer) -> None:
    """Per confidence band: fields predicted (and scored), how many right; confident and
    wrong at the validation threshold."""
    bands = [[0, 0] for _ in BANDS[:-1]]
    above = [0, 0]
    wrong_above = []
    for result in results:
        truth = truth_of(corpus, result["set"], Path(result["path"]))
        for name, found in _scored_fields(result).items():
            if name not in truth or name not in scorer.FIELDS or found["value"] in (None, ""):
                continue
            ok = scorer.field_ok(name, found["value"], truth[name])
            conf = found["confidence"]
            band = next(i for i in range(len(BANDS) - 1) if conf < BANDS[i + 1])
            bands[band][0] += 1
            bands[band][1] += ok
            if conf >= MIN_CONFIDENCE:
                above[0] += 1
                above[1] += ok
                if not ok:
                    wrong_above.append(
                        f"{result['set']}/{Path(result['path']).stem} {name}: "
                        f"{found['value']!r} (conf {conf:.2f}) want {truth[name]!r}"
                    )
    print("\nconfidence band     fields   right  accuracy")
    for (lo, hi), (n, ok) in zip(zip(BANDS, BANDS[1:]), bands, strict=True):
        share = f"{ok / n:7.1%}" if n else "      -"
        print(f"[{lo:.2f}, {min(hi, 1.0):.2f}{')' if hi <= 1 else ']'}    {n:8d} {ok:7d}  {share}")
    n, ok = above
    share = (n - ok) / n if n else 0.0
    print(
        f"at or above the validation threshold {MIN_CONFIDENCE:.2f}: {n} fields, {n - ok} wrong "
        f"= {share:.1%} confident and wrong (target <= 1.0 %)"
    )
    return wrong_above


def _scored_fields(result: dict) -> dict:
    fields = dict(result["fields"])
    for alias, name in (("date", "invoice_date"), ("receipt_number", "invoice_number")):
        if alias in fields and name not in fields:
            fields[name] = fields.pop(alias)
    return fields


def speed(results: list[dict]) -> None:
    digital = [r for r in results if r.get("seconds") is not None and not r["ocr_pages"]]
    scanned = [r for r in results if r.get("seconds") is not None and r["ocr_pages"]]
    for name, group in (("digital", digital), ("scanned", scanned)):
        pages = sum(r["pages"] for r in group)
        if pages:
            per = sum(r["seconds"] for r in group) / pages
            print(f"seconds per {name} page: {per:.2f} ({len(group)} documents read afresh)")
        else:
            print(f"seconds per {name} page: - (none read afresh: all from the caches)")


def _reading_images(path: Path) -> list:
    """The scanned pages of ``path`` as plain tesseract gets them: each image (a PDF page
    rendered at extract's dpi) at the resolution extract reads it at (ocr.reading_scale)."""
    from PIL import Image

    from deskhand.documents import limits, ocr, pdf

    images = []
    if path.suffix.lower() == ".pdf":
        with pdf.open_pdf(path) as document:
            sizes = pdf.page_sizes(document)
        for number, size in enumerate(sizes, start=1):
            dpi = limits.render_dpi(*size, ocr.OCR_DPI)
            images.append((pdf.render(path, number, dpi), dpi))
    else:
        with Image.open(path) as image:
            images.append((ocr.open_image(image.copy()), ocr.image_dpi(image)))
    scaled = []
    for image, dpi in images:
        scale = ocr.reading_scale(image, dpi)
        size = (round(image.width * scale), round(image.height * scale))
        scaled.append(image if size == image.size else image.resize(size, Image.Resampling.BICUBIC))
    return scaled


def _plain_tesseract(images: list) -> float:
    start = time.perf_counter()
    for image in images:
        pytesseract.image_to_data(image)
    return time.perf_counter() - start


def _ours(path: Path, kind: str, templates: str, engine: str | None) -> float:
    start = time.perf_counter()
    documents.extract(
        path, kind=kind, templates_dir=templates, cache_results=False, ocr_engine=engine
    )
    return time.perf_counter() - start


def speed_side_by_side(results: list[dict], count: int, templates: str, rounds: int = 3) -> None:
    """Median seconds per page of extract and of the plain library on the same documents,
    read alternately, ``rounds`` times: up to ``count`` digital documents (plain pdfplumber
    extract_words) and ``count`` scanned ones (tesseract engine; plain pytesseract
    image_to_data). Prints the medians of both sides and of the rounds' ratios."""
    read = [r for r in results if "error" not in r]
    digital = [r for r in read if not r["ocr_pages"]][:count]
    scanned = [r for r in read if r["ocr_pages"] == r["pages"]][:count]
    print(
        f"\nspeed, side by side ({count} documents of each kind at most, {rounds} rounds; "
        "medians per page):"
    )
    for name, group, target in (("digital", digital, 1.2), ("scanned", scanned, 1.5)):
        if not group:
            print(f"  {name} pages: none in this run")
            continue
        engine = "tesseract" if name == "scanned" else None
        images = {}
        if name == "digital":  # first calls load fonts, templates, regexes: not timed
            _ours(Path(group[0]["path"]), SETS[group[0]["set"]][1], templates, None)
        else:  # the resolution each page is read at: found outside the timing
            images = {r["path"]: _reading_images(Path(r["path"])) for r in group}
            _ours(Path(group[0]["path"]), SETS[group[0]["set"]][1], templates, engine)
        ours, plain, ratios = [], [], []
        for _ in range(rounds):
            mine_round, theirs_round = 0.0, 0.0
            for r in group:
                path, kind = Path(r["path"]), SETS[r["set"]][1]
                if name == "digital":
                    plain_pdfplumber(path)  # warm the file into the OS cache for both sides
                    theirs = plain_pdfplumber(path) / r["pages"]
                else:
                    theirs = _plain_tesseract(images[r["path"]]) / r["pages"]
                mine = _ours(path, kind, templates, engine) / r["pages"]
                plain.append(theirs)
                ours.append(mine)
                mine_round += mine
                theirs_round += theirs
            ratios.append(mine_round / theirs_round)
        mine, theirs = statistics.median(ours), statistics.median(plain)
        library = "pdfplumber extract_words" if name == "digital" else "pytesseract image_to_data"
        shown = "" if name == "digital" else " (tesseract engine)"
        each = ", ".join(f"{x:.2f}" for x in ratios)
        print(
            f"  {name} pages: extract{shown} {mine:.3f} s, plain {library} {theirs:.3f} s: "
            f"{mine / theirs:.2f} x; by round (all documents' time) {each}, median "
            f"{statistics.median(ratios):.2f} x (target <= {target} x; {len(group)} documents)"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="all", choices=["all", *SETS])
    parser.add_argument("--limit", type=int, default=None, help="at most N documents per set")
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=None, help="keep the predictions here")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    parser.add_argument(
        "--engine",
        choices=["tesseract", "rapidocr", "auto"],
        help="the OCR engine (default: $DESKHAND_OCR_ENGINE, else deskhand's default)",
    )
    parser.add_argument(
        "--speed", type=int, default=4, help="documents of each kind timed side by side (0: none)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the speed comparison")
    parser.add_argument(
        "--fresh", action="store_true", help="read every page afresh (no cache): for timing"
    )
    args = parser.parse_args(argv)
    if args.engine:
        os.environ["DESKHAND_OCR_ENGINE"] = args.engine  # the workers read it
    corpus = args.corpus.resolve()
    if not (corpus / "score.py").exists():
        print(
            f"real-document corpus not found at {corpus} (it is not part of the project): "
            "pass --corpus DIR pointing at the folder with score.py; nothing measured"
        )
        return 0
    jobs = corpus_documents(corpus, args.set, args.limit)
    scorer = load_scorer(corpus)
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as scratch:
        start = time.perf_counter()
        with ProcessPoolExecutor(args.workers, initializer=_init_worker) as pool:
            results = list(pool.map(read, [(s, str(p), empty, args.fresh) for s, p in jobs]))
        wall = time.perf_counter() - start
        out = args.out or Path(scratch)
        for result in results:
            folder = out / result["set"]
            folder.mkdir(parents=True, exist_ok=True)
            stem = Path(result["path"]).stem
            (folder / f"{stem}.json").write_text(json.dumps({"fields": result["fields"]}))
        engine = engines.engine_name(None)
        print(
            f"corpus: {corpus}  ({len(jobs)} documents, {wall:.0f} s wall, no templates, "
            f"OCR engine {engine})"
        )
        errors = [r for r in results if "error" in r]
        for r in errors:
            print(f"  not read: {r['set']}/{Path(r['path']).name}: {r['error']}")
        scored = [s for s in SETS if any(r["set"] == s for r in results)]
        for setname in scored:
            root = corpus
            if args.limit:  # score only the documents read
                root = Path(tempfile.mkdtemp(dir=scratch))
                _limited_truth(corpus, root, setname, results)
            verbose = ["-v"] if args.verbose else []
            scorer.main([str(out), "--set", setname, "--corpus", str(root), *verbose])
        speed(results)
        wrong = confidence_table(results, corpus, scorer)
        if args.verbose and wrong:
            print("confident and wrong:")
            for line in wrong:
                print("  " + line)
        if args.speed:
            speed_side_by_side(results, args.speed, empty, args.rounds)
    return 0


def _limited_truth(corpus: Path, into: Path, setname: str, results: list[dict]) -> None:
    """A corpus folder holding only the truth of the documents read (for --limit)."""
    sub = "receipts-sroie/key" if setname == "receipts-sroie" else setname
    (into / sub).mkdir(parents=True, exist_ok=True)
    for r in results:
        if r["set"] == setname:
            stem = Path(r["path"]).stem
            truth = corpus / sub / f"{stem}.json"
            if truth.exists():
                (into / sub / f"{stem}.json").write_bytes(truth.read_bytes())


if __name__ == "__main__":
    sys.exit(main())
