"""Keying benchmark: what deskhand's steps, named elements and logging cost over plain Playwright.

Three ratios, each side by side in one process (rounds alternate, one browser), medians:

1. input forms (``bench/input_forms.py``): the public-style challenge, 7 fields shuffled
   with random ids on every one of 10 rounds, found by their labels, timed by the page's
   own timer. Plain Playwright (``get_by_label().fill``) against a deskhand bot with full
   logging (a step per round, every field an action). Target <= 1.05.
2. batched fill: ``app.fill_form({...})`` (all 7 fields in one round trip, events fired,
   read back, every field logged) against one bare ``page.evaluate`` doing the same (the
   DOM's limit), on the same challenge. Target <= 1.5.
3. invoice: both key the demo app's invoice form the same way: log in, open the form,
   choose the vendor in the lookup popup, fill every field and three lines, accept the
   confirmation, save, read the record number. Target <= 1.15.

    python bench/keying.py [--rounds 5] [--per-round 6] [--only forms|invoice]

Every run has its own temporary demo app, queue and logs, so it can be run any number of
times in the same checkout.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.data import DEMO_PASSWORD, DEMO_USER  # noqa: E402
from demo.server import demo_app  # noqa: E402
from deskhand import Bot, vault  # noqa: E402
from deskhand.config import load_settings  # noqa: E402
from deskhand.runner import run_bot  # noqa: E402
from deskhand.vault import env_name  # noqa: E402
from deskhand.web import Browser  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
import input_forms  # noqa: E402

VENDOR = "Bluepeak Software Inc."
LINES = [
    ("Licence seat", "3", "120.00", "360.00"),
    ("Support hours", "7.5", "85.00", "637.50"),
    ("Setup fee", "1", "250.00", "250.00"),
]
HEADER = {
    "invoice_date": "03/05/2026",
    "due_date": "04/04/2026",
    "amount": "1247.50",
    "tax": "0.00",
    "po_number": "PO-1",
}
_numbers = itertools.count(1)


def plain_playwright(context, url: str) -> float:
    """Key one invoice with bare Playwright; return the seconds it took."""
    number = f"P-{next(_numbers):05d}"
    started = time.perf_counter()
    page = context.new_page()
    page.goto(url + "login", wait_until="domcontentloaded")
    page.fill("#username", DEMO_USER)
    page.fill("#password", DEMO_PASSWORD)
    with page.expect_navigation():
        page.click("#login-button")
    page.frame_locator("iframe[name='nav']").locator("#nav-new-invoice").click()
    form = page.frame_locator("iframe[name='content']")
    with page.expect_popup() as info:
        form.locator("#vendor-lookup").click()
    popup = info.value
    popup.fill("#vendor-q", VENDOR)
    with popup.expect_navigation():
        popup.click("#vendor-search")
    with popup.expect_event("close"):
        popup.click(f"a.select-vendor[data-name='{VENDOR}']")
    form.locator("#invoice_number").fill(number)
    for name, value in HEADER.items():
        form.locator(f"#{name}").fill(value)
    form.locator("#currency").select_option(value="USD")
    form.locator("#terms_NET30").check()
    form.locator("#notes").fill("benchmark")
    for n, line in enumerate(LINES, 1):
        if n > 1:
            form.locator("#add-line").click()
        for name, value in zip(("description", "quantity", "unit_price", "amount"), line):
            form.locator(f"#line_{name}_{n}").fill(value)
    page.once("dialog", lambda dialog: dialog.accept())
    content = page.frame(name="content")
    with content.expect_navigation():
        form.locator("#save-button").click()
    record = form.locator("#record-number").inner_text()
    page.close()
    assert record.startswith("AP-")
    return time.perf_counter() - started


bench_bot = Bot("keying_bench", selectors="legacy_ap", max_attempts=1)
_this_round: list[str] = []  # the invoice numbers the bot's source yields this round


@bench_bot.source
def _items(ctx):
    for number in _this_round:
        yield ctx.item(reference=number)


@bench_bot.process
def _key(item, ctx):
    from bots.invoice_entry import fill_lines, log_in, save

    app = ctx.web()
    with ctx.step("log in"):
        log_in(app, vault.get("legacy_ap"))
    with ctx.step("open invoice form"):
        app["nav_new_invoice"].click()
    with ctx.step("choose vendor", vendor=VENDOR):
        with app.expect_popup() as popup:
            app["vendor_lookup"].click()
        lookup = popup.value
        lookup["vendor_search_query"].fill(VENDOR)
        with lookup.raw.expect_navigation():
            lookup["vendor_search_button"].click()
        with lookup.raw.expect_event("close"):
            lookup.raw.click(f"a.select-vendor[data-name='{VENDOR}']")
    with ctx.step("fill invoice form", invoice=item.reference):
        app["invoice_number"].fill(item.reference)
        for name, value in HEADER.items():
            app[name].fill(value)
        app["currency"].select(value="USD")
        app.element("terms", code="NET30").check()
        app["notes"].fill("benchmark")
    with ctx.step("fill line items", lines=len(LINES)):
        fill_lines(
            app,
            [
                dict(zip(("description", "quantity", "unit_price", "amount"), line))
                for line in LINES
            ],
        )
    with ctx.step("save", point_of_no_return=True):
        record = save(app, item.reference)
    return ctx.done(record=record)


def deskhand_bot(browser, url: str, count: int, logs: Path) -> list[float]:
    """Key ``count`` invoices with the deskhand bot; return seconds per invoice."""
    _this_round[:] = [f"D-{next(_numbers):05d}" for _ in range(count)]
    queue = f"sqlite:///{logs.parent / 'queue.db'}"  # this run's own queue
    settings = load_settings(ROOT, {}, {"target": url, "logs_dir": logs, "db": queue})
    result = run_bot(bench_bot, settings, browser=browser)
    assert all(i.status == "done" for i in result.items), result.items
    return [i.duration_ms / 1000 for i in result.items]


def ratio_line(title: str, a_name: str, a: list[float], b_name: str, b: list[float], target: float):
    ma, mb = statistics.median(a), statistics.median(b)
    print(f"\n{title} ({len(a)} / {len(b)} samples, alternating rounds):")
    print(f"  {a_name:24} median {ma * 1000:8.1f} ms")
    print(f"  {b_name:24} median {mb * 1000:8.1f} ms")
    print(f"  ratio {b_name.split()[0]}/{a_name.split()[0]:14} {mb / ma:.3f}  (target <= {target})")
    return mb / ma


def bench_invoice(args, browser, tmp: Path) -> float:
    with demo_app(ROOT, tmp / "bench.db") as url:
        context = browser.new_context()
        try:
            plain_playwright(context, url)  # warm up both paths once
            deskhand_bot(browser, url, 1, tmp / "logs")
            plain: list[float] = []
            ours: list[float] = []
            for round_no in range(1, args.rounds + 1):
                plain += [plain_playwright(context, url) for _ in range(args.per_round)]
                ours += deskhand_bot(browser, url, args.per_round, tmp / "logs")
                print(
                    f"invoice round {round_no}: plain {statistics.median(plain):.3f} s, "
                    f"deskhand {statistics.median(ours):.3f} s",
                    flush=True,
                )
        finally:
            context.close()
    return ratio_line(
        "keying one invoice", "plain Playwright", plain, "deskhand bot (steps)", ours, 1.15
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per scenario")
    parser.add_argument("--per-round", type=int, default=6, help="invoices per side per round")
    parser.add_argument("--only", choices=("forms", "invoice"), help="one scenario only")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()  # as the CLI does: each run logs to its own folder, not the console
    os.environ[env_name("legacy_ap")] = json.dumps(
        {"username": DEMO_USER, "password": DEMO_PASSWORD}
    )
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        browser = Browser().start()
        try:
            if args.only in (None, "forms"):
                ratios.update(input_forms.bench(args.rounds, browser, Path(tmp), ratio_line))
            if args.only in (None, "invoice"):
                ratios["invoice"] = bench_invoice(args, browser, Path(tmp))
        finally:
            browser.close()
    print("\nratios: " + ", ".join(f"{k} {v:.3f}" for k, v in ratios.items()))


if __name__ == "__main__":
    main()
