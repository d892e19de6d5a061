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

Reruns are fast: results are kept in deskhand's document cache, and the pages' words (with
the OCR page images, for region re-reads) in ``.deskhand/cache/real-pages/`` keyed by the
file's content and the OCR code's version, so a change to the field rules re-runs the rules,
not tesseract.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its queue.py would shadow the standard library's

import argparse  # noqa: E402
import hashlib  # noqa: E402
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

os.environ["OMP_THREAD_LIMIT"] = "1"

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
PAGES_CACHE = ROOT / ".deskhand" / "cache" / "real-pages"
_OCR_CODE = ("ocr.py", "files.py", "pdf.py", "rapid.py", "engines.py")
_last_pages: list = []  # the Pages read for the current document (kept after extraction)


def corpus_documents(corpus: Path, chosen: str, limit: int | None) -> list[tuple[str, Path]]:
    """(set, document) pairs of the corpus, sorted; at most ``limit`` per set."""
    found = []
    for name, (folder, _) in SETS.items():
        if chosen not in ("all", name):
            continue
        paths = sorted(p for p in (corpus / folder).iterdir() if p.suffix.lower() in SUFFIXES)
        found += [(name, p) for p in paths[:limit]]
    return found


def _ocr_version() -> str:
    digest = hashlib.sha256()
    here = Path(files.__file__).parent
    for name in _OCR_CODE:
        if (here / name).exists():
            digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]  # the engine is in the file's name (_cached_read_pages)


def _pages_path(data: bytes) -> Path:
    return PAGES_CACHE / f"{hashlib.sha256(data).hexdigest()[:24]}-{_ocr_version()}.pickle"


def _cached_read_pages(path, data, password, max_pages, *engine):
    """files.read_pages, answered from the bench's page cache when the same file was read
    by the same OCR code (and engine) before."""
    cached = _pages_path(data)
    if engine:
        cached = cached.with_name(f"{cached.stem}-{engine[0]}{cached.suffix}")
    if cached.exists():
        try:
            pages = pickle.loads(cached.read_bytes())
            _last_pages.append((cached, pages, True))
            return pages
        except Exception:  # noqa: BLE001 - a broken cache file is read afresh
            cached.unlink(missing_ok=True)
    pages = _read_pages(path, data, password, max_pages, *engine)
    _last_pages.append((cached, pages, False))
    return pages


_read_pages = files.read_pages


def _init_worker(fresh: bool = False) -> None:
    if not fresh:
        files.read_pages = _cached_read_pages  # the bench's page cache (see the module's doc)


def read(job: tuple[str, str, str]) -> dict:
    """Read one document: its fields (value, confidence), pages, OCR pages, seconds."""
    setname, path, templates, fresh = job
    kind = SETS[setname][1]
    _last_pages.clear()
    start = time.perf_counter()
    try:
        document = documents.extract(
            path, kind=kind, templates_dir=templates, cache_results=not fresh
        )
    except DeskhandError as exc:
        return {"set": setname, "path": path, "error": str(exc), "fields": {}}
    seconds = time.perf_counter() - start
    for cached, pages, hit in _last_pages:
        fresh = fresh or not hit
        PAGES_CACHE.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(pages))  # with the re-read regions it remembered
        tmp.replace(cached)
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
        "seconds": seconds if fresh or any(not hit for _, _, hit in _last_pages) else None,
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
        with ProcessPoolExecutor(
            args.workers, initializer=_init_worker, initargs=(args.fresh,)
        ) as pool:
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
