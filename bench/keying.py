"""Keying benchmark: what deskhand's steps, named elements and logging cost over plain Playwright.

Both sides key the same invoice form of the demo app the same way: a new page, log in, open
the form, choose the vendor in the lookup popup, fill every field and three line items,
accept the confirmation, save, read the record number. The plain side is the floor: bare
Playwright calls with hard-coded selectors. The deskhand side is a bot with full step
logging (steps.jsonl, bot.log, report). They alternate in rounds in one process, sharing
one browser and one demo app, so machine noise hits both alike.

    python bench/keying.py [--rounds 5] [--per-round 6]

Prints the median seconds per invoice of each side and their ratio (target: <= 1.15).
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
from deskhand import Bot, vault  # noqa: E402
from deskhand.cli import demo_app  # noqa: E402
from deskhand.config import load_settings  # noqa: E402
from deskhand.runner import run_bot  # noqa: E402
from deskhand.vault import env_name  # noqa: E402
from deskhand.web import Browser  # noqa: E402

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
    settings = load_settings(ROOT, {}, {"target": url, "logs_dir": logs})
    result = run_bot(bench_bot, settings, browser=browser)
    assert all(i.status == "done" for i in result.items), result.items
    return [i.duration_ms / 1000 for i in result.items]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--per-round", type=int, default=6)
    args = parser.parse_args()
    os.environ[env_name("legacy_ap")] = json.dumps(
        {"username": DEMO_USER, "password": DEMO_PASSWORD}
    )
    with tempfile.TemporaryDirectory() as tmp, demo_app(ROOT, Path(tmp) / "bench.db") as url:
        browser = Browser().start()
        context = browser.new_context()
        try:
            plain_playwright(context, url)  # warm up both paths once
            deskhand_bot(browser, url, 1, Path(tmp) / "logs")
            plain: list[float] = []
            ours: list[float] = []
            for round_no in range(1, args.rounds + 1):
                plain += [plain_playwright(context, url) for _ in range(args.per_round)]
                ours += deskhand_bot(browser, url, args.per_round, Path(tmp) / "logs")
                print(
                    f"round {round_no}: plain {statistics.median(plain):.3f} s, "
                    f"deskhand {statistics.median(ours):.3f} s",
                    flush=True,
                )
        finally:
            context.close()
            browser.close()
    p, d = statistics.median(plain), statistics.median(ours)
    print(f"\nkeying one invoice ({len(plain)} each, alternating rounds):")
    print(f"  plain Playwright     median {p * 1000:7.1f} ms")
    print(f"  deskhand bot (steps) median {d * 1000:7.1f} ms")
    print(f"  ratio deskhand/plain {d / p:.3f}  (target <= 1.15)")


if __name__ == "__main__":
    main()
