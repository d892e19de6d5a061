"""Keying benchmark: what deskhand's steps, named elements and logging cost over plain Playwright.

Three ratios, each side by side in one process (rounds alternate), medians:

1. input forms (``bench/input_forms.py``): the public-style challenge, 7 fields shuffled
   with random ids on every one of 10 rounds, found by their labels, timed by the page's
   own timer. Plain Playwright (``get_by_label().fill``) against a deskhand bot with full
   logging (a step per round, every field an action). Target <= 1.05.
2. batched fill: ``app.fill_form({...})`` (all 7 fields in one round trip, events fired,
   read back, every field logged) against one bare ``page.evaluate`` doing the same (the
   DOM's limit), on the same challenge. Target <= 1.5.
3. whole run (``bench/whole_run.py``): N invoice documents end to end, ``run_bot(invoice_entry)``
   as the CLI runs it (queue, step log, checkpoints, report) against a plain script doing
   the same (its own browser, documents read, one log-in, search, key, save, read back).
   Target <= 1.2.

    python bench/keying.py [--rounds 10] [--invoices 3] [--only forms|run]

Every run has its own temporary demo app, queue and logs, so it can be run any number of
times in the same checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.data import DEMO_PASSWORD, DEMO_USER  # noqa: E402
from deskhand.vault import env_name  # noqa: E402
from deskhand.web import Browser  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import input_forms  # noqa: E402
import whole_run  # noqa: E402


def ratio_line(title: str, a_name: str, a: list[float], b_name: str, b: list[float], target: float):
    """Print the medians of both sides and their ratio (returned); also the median of the
    ratios round by round (a[i] and b[i] ran next to each other: less swayed by a load that
    changes during the run)."""
    ma, mb = statistics.median(a), statistics.median(b)
    paired = statistics.median(y / x for x, y in zip(a, b, strict=True))
    print(f"\n{title} ({len(a)} / {len(b)} samples, alternating rounds):")
    print(f"  {a_name:24} median {ma * 1000:8.1f} ms")
    print(f"  {b_name:24} median {mb * 1000:8.1f} ms")
    print(f"  ratio {b_name.split()[0]}/{a_name.split()[0]:14} {mb / ma:.3f}  (target <= {target})")
    print(f"  median of the rounds' ratios {paired:.3f}")
    return mb / ma


CALLS: Counter = Counter()  # Playwright protocol calls, by (object type, method)


def count_protocol_calls() -> Counter:
    """Count every call the Playwright client sends to its driver (one round trip each,
    except the fire-and-forget ``__waitInfo__``) in ``CALLS``; returns it."""
    from playwright._impl.connection import Connection

    send = Connection.send_message_to_server

    def counting(self, channel_owner, method, params, options):
        if method != "__waitInfo__":
            CALLS[(channel_owner._type, method)] += 1
        return send(self, channel_owner, method, params, options)

    Connection.send_message_to_server = counting
    return CALLS


def calls_line(title: str, a_name: str, a: Counter, b_name: str, b: Counter, runs: int) -> None:
    """Protocol calls per run of each side, and the methods where they differ."""
    ta, tb = sum(a.values()) / runs, sum(b.values()) / runs
    print(f"  protocol calls per run: {a_name} {ta:.0f}, {b_name} {tb:.0f}")
    diff = {k: (b[k] - a[k]) / runs for k in set(a) | set(b) if a[k] != b[k]}
    for (kind, method), n in sorted(diff.items(), key=lambda kv: -abs(kv[1])):
        print(f"    {n:+6.1f}  {kind}.{method}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds per scenario")
    parser.add_argument("--invoices", type=int, default=3, help="invoices in each whole run")
    parser.add_argument("--only", choices=("forms", "run"), help="one scenario only")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()  # as the CLI does: each run logs to its own folder, not the console
    os.environ[env_name("legacy_ap")] = json.dumps(
        {"username": DEMO_USER, "password": DEMO_PASSWORD}
    )
    count_protocol_calls()
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "forms"):
            browser = Browser().start()
            try:
                ratios.update(
                    input_forms.bench(
                        args.rounds, browser, Path(tmp), ratio_line, calls_line, CALLS
                    )
                )
            finally:
                browser.close()
        if args.only in (None, "run"):  # each side starts its own browser, as a user's run
            ratios.update(
                whole_run.bench(
                    args.rounds, args.invoices, Path(tmp), ratio_line, calls_line, CALLS
                )
            )
    print("\nratios: " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
