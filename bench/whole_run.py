"""The whole-run scenario of bench/keying.py: N invoice documents end to end, as a user runs
them, against a plain script doing the same work.

Both sides start their own browser, read and validate every document with
``deskhand.documents``, log in once, and for each invoice search the app for it, open the
form, choose the vendor in the lookup popup, fill every field and line, accept the
confirmation, save, and read the saved record back. The deskhand side is
``run_bot(invoice_entry)`` exactly as ``run_bot.py run`` runs it: its queue, step log,
checkpoints, evidence-ready steps and the HTML report at the end. Each side keys its own
freshly made documents (new invoice numbers every round), so neither finds the other's.
"""

from __future__ import annotations

import dataclasses
import itertools
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo import make_documents as md  # noqa: E402
from demo.data import DEMO_PASSWORD, DEMO_USER  # noqa: E402
from demo.server import demo_app  # noqa: E402
from deskhand import documents  # noqa: E402
from deskhand.bot import load_bot  # noqa: E402
from deskhand.config import load_settings  # noqa: E402
from deskhand.documents import cache as documents_cache  # noqa: E402
from deskhand.runner import run_bot  # noqa: E402
from deskhand.web.browser import LAUNCH_ARGS, find_chromium  # noqa: E402

_batches = itertools.count(1)
VIEW = ("invoice_number", "invoice_date", "due_date", "currency", "amount", "tax")
VIEW += ("po_number", "terms", "recurring", "notes")
LINES = """rows => rows.map(r => Object.fromEntries(
  ['description', 'quantity', 'unit_price', 'amount'].map(
    c => [c, r.querySelector('.' + c).innerText.trim()])))"""


def make_inbox(folder: Path, count: int) -> Path:
    """``count`` distinct digital invoices (new numbers) in a new folder under ``folder``."""
    batch = next(_batches)
    inbox = folder / f"inbox-{batch}"
    inbox.mkdir(parents=True)
    digital = [s for s in md.SPECS if s.form == "digital"]
    for i in range(count):
        spec = digital[i % len(digital)]
        spec = dataclasses.replace(
            spec, file=f"b{batch}-{i}.pdf", number=f"{spec.number}{batch}{i}"
        )
        (inbox / spec.file).write_bytes(md.render_pdf(md.Invoice(spec)))
    return inbox


def plain_script(inbox: Path, url: str) -> float:
    """The same run as a plain Playwright script; seconds from start to browser closed."""
    started = time.perf_counter()
    with documents_cache.scope():  # as a run reads its documents (deskhand.runner)
        _plain(inbox, url)
    return time.perf_counter() - started


def _plain(inbox: Path, url: str) -> None:
    from playwright.sync_api import sync_playwright

    from bots.invoice_entry import compare, entry_for

    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=find_chromium(headless=True), headless=True, args=LAUNCH_ARGS
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    logged_in = False
    for path in sorted(inbox.iterdir()):
        invoice = documents.extract(path, kind="invoice")
        documents.validate(invoice)
        entry = entry_for(invoice, note=f"Keyed by deskhand from {path.name}")
        page = context.new_page()
        if logged_in:
            page.goto(url + "main", wait_until="domcontentloaded")
        else:
            page.goto(url + "login", wait_until="domcontentloaded")
            page.fill("#username", DEMO_USER)
            page.fill("#password", DEMO_PASSWORD)
            with page.expect_navigation():
                page.click("#login-button")
            logged_in = True
        nav = page.frame_locator("iframe[name='nav']")
        form = page.frame_locator("iframe[name='content']")
        nav.locator("#nav-search").click()
        content = page.frame(name="content")
        content.wait_for_url("**/invoices/search*")
        form.locator("#search-q").fill(entry["invoice_number"])
        with content.expect_navigation():
            form.locator("#search-button").click()
        found = form.locator("#results tr.result").evaluate_all(
            "rows => rows.map(r => [r.querySelector('.vendor').innerText.trim(),"
            " r.querySelector('.invoice-number').innerText.trim()])"
        )
        assert [entry["vendor"], entry["invoice_number"]] not in found
        nav.locator("#nav-new-invoice").click()
        with page.expect_popup() as info:
            form.locator("#vendor-lookup").click()
        popup = info.value
        popup.fill("#vendor-q", entry["vendor"])
        with popup.expect_navigation():
            popup.click("#vendor-search")
        with popup.expect_event("close"):
            popup.click(f"a.select-vendor[data-name='{entry['vendor']}']")
        assert form.locator("#vendor-name-display").inner_text().strip() == entry["vendor"]
        for name in ("invoice_number", "invoice_date", "due_date", "amount", "tax", "po_number"):
            form.locator(f"#{name}").fill(entry[name])
        form.locator("#currency").select_option(value=entry["currency"])
        form.locator(f"#terms_{entry['terms']}").check()
        form.locator("#recurring").set_checked(entry["recurring"] == "Yes")
        form.locator("#notes").fill(entry["notes"])
        for n, line in enumerate(entry["lines"], 1):
            if n > 1:
                form.locator("#add-line").click()
            for name in ("description", "quantity", "unit_price", "amount"):
                form.locator(f"#line_{name}_{n}").fill(line[name])
        page.once("dialog", lambda dialog: dialog.accept())
        content = page.frame(name="content")
        with content.expect_navigation():
            form.locator("#save-button").click()
        record = form.locator("#record-number").inner_text().strip()
        content.goto(url + f"invoices/{record}", wait_until="domcontentloaded")
        saved = {name: form.locator(f"#view-{name}").inner_text().strip() for name in VIEW}
        saved = {"vendor": form.locator("#view-vendor").inner_text().strip(), **saved}
        saved["lines"] = form.locator("#view-lines tr.line").evaluate_all(LINES)
        compare(entry, saved, record)
        page.close()
    context.close()
    browser.close()
    pw.stop()


def deskhand_run(inbox: Path, url: str, tmp: Path) -> float:
    """``run_bot.py run invoice_entry`` on ``inbox``, in this process; seconds it took."""
    bot = load_bot("invoice_entry", ROOT)
    cli = {"input": inbox, "target": url, "logs_dir": tmp / "logs"}
    cli["db"] = f"sqlite:///{tmp / 'run-queue.db'}"  # this benchmark's own queue
    settings = load_settings(ROOT, bot.settings, cli)
    started = time.perf_counter()
    result = run_bot(bot, settings)
    seconds = time.perf_counter() - started
    assert [i.status for i in result.items] == ["done"] * len(result.items), result.items
    return seconds


def bench(
    rounds: int, invoices: int, tmp: Path, ratio_line, calls_line, counter: Counter
) -> dict[str, float]:
    """``rounds`` alternating runs of ``invoices`` documents a side (after a warm-up of
    each); print and return the whole-run ratio."""
    plain: list[float] = []
    ours: list[float] = []
    calls = {"plain": Counter(), "ours": Counter()}
    documents_cache.DIRECTORY = tmp / "documents-cache"  # not the checkout's cache
    with demo_app(ROOT, tmp / "run-app.db") as url:
        for round_no in range(rounds + 1):
            seconds, used = {}, {}
            sides = ("plain", "ours") if round_no % 2 else ("ours", "plain")  # either first
            for side in sides:
                before = counter.copy()
                if side == "plain":
                    seconds[side] = plain_script(make_inbox(tmp, invoices), url)
                else:
                    seconds[side] = deskhand_run(make_inbox(tmp, invoices), url, tmp)
                used[side] = counter - before
            a, b = seconds["plain"], seconds["ours"]
            if round_no:  # round 0 warms up both (imports, the documents layer, the app)
                calls["plain"].update(used["plain"])
                calls["ours"].update(used["ours"])
                plain.append(a)
                ours.append(b)
                print(
                    f"whole run, round {round_no}: plain {a:.3f} s, deskhand {b:.3f} s", flush=True
                )
    title = f"whole run, {invoices} invoices from documents to read-back"
    ratio = ratio_line(title, "plain script", plain, "deskhand run", ours, 1.2)
    print(f"  per invoice: plain {statistics.median(plain) / invoices:.3f} s, "
          f"deskhand {statistics.median(ours) / invoices:.3f} s")  # fmt: skip
    calls_line(title, "plain", calls["plain"], "deskhand", calls["ours"], rounds)
    return {"whole run": ratio}
