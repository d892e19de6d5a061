"""A small fixed part of the synthetic corpus (demo/make_corpus.py), read by the generic
reader without templates: digital documents exactly, scanned ones nearly so.
bench/accuracy.py measures the whole corpus."""

from __future__ import annotations

import importlib.util
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from demo import make_corpus
from deskhand.documents import cache

ROOT = Path(__file__).resolve().parent.parent
SEEDS = (2, 4, 6, 8, 1, 5)  # digital layouts L01-L04; scanned L01 and L03
_spec = importlib.util.spec_from_file_location("bench_accuracy", ROOT / "bench" / "accuracy.py")


def _bench():
    module = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = module  # so that the pool can pickle its functions
    saved = sys.path[0]
    try:
        _spec.loader.exec_module(module)
    finally:
        sys.path[0] = saved
    return module


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The fixed documents, made once, each read once (two processes share the OCR)."""
    out = tmp_path_factory.mktemp("corpus")
    cache.DIRECTORY = tmp_path_factory.mktemp("corpus-cache")
    truth = dict(make_corpus.make_one(seed, out) for seed in SEEDS)
    bench = _bench()
    names = sorted(truth)
    with ProcessPoolExecutor(max_workers=2) as pool:
        got = dict(zip(names, pool.map(bench.read, [out / n for n in names]), strict=True))
    return bench, truth, got


def test_the_generator_is_varied_and_deterministic(tmp_path):
    docs = [make_corpus.Doc(seed) for seed in range(1, 41)]
    assert len({d.layout for d in docs}) == 10
    assert {d.lang for d in docs} == {"en", "de", "fr"}
    assert len({d.font for d in docs}) == 3
    scanned = [d for d in docs if d.form != "digital"]
    assert {d.dpi for d in scanned} == {200, 300} and len(scanned) == 20
    assert max(abs(d.angle) for d in scanned) <= 3 and {d.form for d in scanned} >= {"png", "jpg"}
    for layout in {d.layout for d in docs}:
        forms = {d.form == "digital" for d in docs if d.layout == layout}
        assert forms == {True, False}, layout  # every layout both digital and scanned
    a = make_corpus.make_one(7, tmp_path)
    (tmp_path / "again").mkdir()
    b = make_corpus.make_one(7, tmp_path / "again")
    assert (tmp_path / a[0]).read_bytes() == (tmp_path / "again" / b[0]).read_bytes()


@pytest.mark.slow
def test_digital_documents_read_exactly(corpus):
    bench, truth, got = corpus
    for name, expected in truth.items():
        if expected["form"] == "digital":
            misses = {f: got[name].get(f) for f in bench.FIELDS if got[name].get(f) != expected[f]}
            assert misses == {}, name


@pytest.mark.slow
def test_scanned_documents_read_nearly_exactly(corpus):
    bench, truth, got = corpus
    scanned = [n for n, t in truth.items() if t["form"] != "digital"]
    right = sum(got[n].get(f) == truth[n][f] for n in scanned for f in bench.FIELDS)
    total = len(scanned) * len(bench.FIELDS)
    assert right / total >= 0.95, json.dumps({n: got[n] for n in scanned}, default=str)[:2000]
    for name in scanned:  # the money that gets keyed is right on every one
        assert got[name]["total"] == truth[name]["total"], name
