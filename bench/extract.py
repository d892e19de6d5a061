"""Reading speed: pages per second for digital and scanned pages, 1 core and all cores.

    python bench/extract.py [--pages 8] [--repeat 3]

Side by side on the same pages, medians over ``--repeat`` runs:

- digital pages: deskhand.documents.extract (fields, tables, checks) against plain
  pdfplumber text extraction (``page.extract_words()``) of the same files; target <= 1.2 x;
- scanned pages: extract against plain pytesseract (``image_to_data`` of the page rendered
  at 300 dpi, the resolution extract renders it at; an image file under 255 dpi enlarged
  to 300 dpi, as extract reads it); target
  <= 1.5 x (the scanned pages may be read again prepared when the plain read is unsure);
- a batch of scanned pages on one process and on one process per core
  (OMP_THREAD_LIMIT=1); target >= 1.7 x on 2 cores;
- a second read of the same file (the content-hash cache);
- peak memory (ru_maxrss) of this process and of the pool's children.
Prints; never fails.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[0] = str(ROOT)  # not bench/: its queue.py would shadow the standard library's

import argparse  # noqa: E402
import os  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402

os.environ["OMP_THREAD_LIMIT"] = "1"

import pdfplumber  # noqa: E402
import pypdfium2  # noqa: E402
import pytesseract  # noqa: E402

from demo import make_corpus  # noqa: E402
from deskhand import documents  # noqa: E402
from deskhand.documents import cache  # noqa: E402

NO_TEMPLATES = ROOT / "tests" / "assets" / "documents" / "no-templates"


def ours(path: Path) -> float:
    start = time.perf_counter()
    documents.extract(path, templates_dir=NO_TEMPLATES, cache_results=False)
    return time.perf_counter() - start


def plain_pdfplumber(path: Path) -> float:
    start = time.perf_counter()
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            page.extract_words()
    return time.perf_counter() - start


def plain_tesseract(path: Path) -> float:
    start = time.perf_counter()
    if path.suffix == ".pdf":
        pdf = pypdfium2.PdfDocument(str(path))
        image = pdf[0].render(scale=300 / 72, grayscale=True).to_pil()
        pdf.close()
    else:
        from PIL import Image

        from deskhand.documents import ocr

        image = Image.open(path)
        dpi = ocr.image_dpi(image)
        if dpi < 255:  # extract reads a coarser scan at 300 dpi: compare at the same resolution
            size = (round(image.width * 300 / dpi), round(image.height * 300 / dpi))
            image = image.resize(size, Image.Resampling.BICUBIC)
    pytesseract.image_to_data(image, config="--psm 6")
    return time.perf_counter() - start


def side_by_side(files: list[Path], a, b, repeat: int) -> tuple[float, float]:
    """Median seconds per page of ``a`` and ``b``, alternating so load hits both alike."""
    times_a, times_b = [], []
    for _ in range(repeat):
        times_a.append(sum(a(f) for f in files) / len(files))
        times_b.append(sum(b(f) for f in files) / len(files))
    return statistics.median(times_a), statistics.median(times_b)


def batch(files: list[Path], workers: int) -> float:
    start = time.perf_counter()
    if workers == 1:
        for f in files:
            ours(f)
    else:
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(ours, files))
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=8, help="pages of each kind")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        cache.DIRECTORY = out / "cache"  # not the project's cache
        truth = make_corpus.make(out / "corpus", 2 * args.pages + 4)
        out = out / "corpus"
        digital = [out / n for n, t in truth.items() if t["form"] == "digital"][: args.pages]
        scanned = [out / n for n, t in truth.items() if t["form"] != "digital"][: args.pages]
        ours(digital[0]), plain_pdfplumber(digital[0])  # warm up imports and caches

        d_ours, d_plain = side_by_side(digital, ours, plain_pdfplumber, args.repeat)
        print(
            f"digital: {1 / d_ours:7.1f} pages/s extract, {1 / d_plain:7.1f} pages/s plain "
            f"pdfplumber: {d_ours / d_plain:.2f} x (target <= 1.2 x)"
        )
        s_ours, s_plain = side_by_side(scanned, ours, plain_tesseract, max(1, args.repeat - 1))
        print(
            f"scanned: {1 / s_ours:7.2f} pages/s extract, {1 / s_plain:7.2f} pages/s plain "
            f"pytesseract: {s_ours / s_plain:.2f} x (target <= 1.5 x)"
        )

        one = statistics.median(batch(scanned, 1) for _ in range(max(1, args.repeat - 1)))
        many = statistics.median(batch(scanned, cores) for _ in range(max(1, args.repeat - 1)))
        print(
            f"batch of {len(scanned)} scanned pages: 1 core {len(scanned) / one:.2f} pages/s, "
            f"{cores} cores {len(scanned) / many:.2f} pages/s: speed-up {one / many:.2f} x "
            f"(target >= 1.7 x on 2 cores)"
        )
        one_d = statistics.median(batch(digital, 1) for _ in range(args.repeat))
        many_d = statistics.median(batch(digital, cores) for _ in range(args.repeat))
        print(
            f"batch of {len(digital)} digital pages: 1 core {len(digital) / one_d:.1f} pages/s, "
            f"{cores} cores {len(digital) / many_d:.1f} pages/s: speed-up {one_d / many_d:.2f} x"
        )

        documents.clear_cache(disk=True)  # the bench's own cache folder
        first = time.perf_counter()
        documents.extract(scanned[0], templates_dir=NO_TEMPLATES)
        first = time.perf_counter() - first
        documents.clear_cache()  # memory only: the second read comes from the disk cache
        again = time.perf_counter()
        documents.extract(scanned[0], templates_dir=NO_TEMPLATES)
        again = time.perf_counter() - again
        print(
            f"cache: first read {first * 1000:.0f} ms, same content again (disk cache) "
            f"{again * 1000:.1f} ms"
        )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MB this process, {children:.0f} MB largest child")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
