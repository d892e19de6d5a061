"""The input-forms scenario of bench/keying.py: 10 rounds of a 7-field form whose fields
are shuffled and given new random ids on every round (as public RPA challenges do), found by
their labels, timed by the page's own timer (Start to the 10th Submit).

The page is served by the browser context's router (no server); it re-renders the form in
place after each Submit and checks every submitted value, so a side that keys wrongly fails.
"""

from __future__ import annotations

import random
import statistics
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deskhand import Bot  # noqa: E402
from deskhand.config import load_settings  # noqa: E402
from deskhand.runner import run_bot  # noqa: E402
from deskhand.selectors import SelectorRepository  # noqa: E402
from deskhand.web import WebPage  # noqa: E402

URL = "http://input-forms.bench/"
LABELS = {
    "first_name": "First Name",
    "last_name": "Last Name",
    "company": "Company Name",
    "role": "Role in Company",
    "address": "Address",
    "email": "Email",
    "phone": "Phone Number",
}
_rng = random.Random(7)
ROWS = [
    {
        "first_name": f"Ann{n}",
        "last_name": f"Smith{n}",
        "company": f"Company {n} Ltd",
        "role": _rng.choice(["Clerk", "Manager", "Analyst"]),
        "address": f"{n} Harbour Road, Leeds",
        "email": f"ann{n}@example.com",
        "phone": f"0113 555 {n:04d}",
    }
    for n in range(10)
]
PAGE = """<!DOCTYPE html><html><head><title>Input forms</title></head><body>
<h1>Input forms</h1><button id="start">Start</button>
<form id="form" onsubmit="return submitRound()"></form><p id="result"></p>
<script>
var LABELS = %(labels)s, ROWS = %(rows)s, round = 0, started = 0;
function rid() { return 'f' + Math.random().toString(36).slice(2, 9); }
function render() {
  var keys = Object.keys(LABELS), form = document.getElementById('form');
  keys.sort(function () { return Math.random() - 0.5; });
  form.innerHTML = '';
  keys.forEach(function (key) {
    var id = rid(), p = document.createElement('p'), label = document.createElement('label');
    label.htmlFor = id; label.textContent = LABELS[key];
    var input = document.createElement('input');
    input.id = id; input.name = rid(); input.setAttribute('data-key', key);
    input.addEventListener('input', function () { input.setAttribute('data-typed', '1'); });
    p.appendChild(label); p.appendChild(input); form.appendChild(p);
  });
  var submit = document.createElement('input');
  submit.type = 'submit'; submit.value = 'Submit'; form.appendChild(submit);
}
function submitRound() {
  var inputs = document.querySelectorAll('#form input[data-key]'), wrong = [];
  inputs.forEach(function (i) {
    var key = i.getAttribute('data-key');
    if (i.value !== ROWS[round][key] || !i.getAttribute('data-typed')) wrong.push(key);
  });
  var result = document.getElementById('result');
  if (wrong.length) { result.textContent = 'wrong: ' + wrong; return false; }
  round += 1;
  if (round === ROWS.length) {
    document.getElementById('result').textContent = 'done in ' +
      (performance.now() - started).toFixed(1) + ' ms';
    document.getElementById('form').innerHTML = '';
  } else { render(); }
  return false;
}
document.getElementById('start').onclick = function () { started = performance.now(); render(); };
</script></body></html>"""
REPOSITORY = (
    "input_forms:\n"
    + "".join(f'  {key}: ["label={label}"]\n' for key, label in LABELS.items())
    + '  start: ["#start"]\n  submit: ["#form input[type=submit]"]\n  result: ["#result"]\n'
)
EVALUATE = """(values) => {
  const out = {};
  for (const label of document.querySelectorAll('#form label')) {
    const el = label.control, v = values[label.textContent.trim()];
    el.focus();
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(el, v);
    el.dispatchEvent(new Event('input', {bubbles: true}));
    el.dispatchEvent(new Event('change', {bubbles: true}));
    out[label.textContent.trim()] = el.value;
  }
  return out;
}"""


def serve(context) -> None:
    """Answer URL from the router of ``context`` (a browser context or a page)."""
    import json

    html = PAGE % {"labels": json.dumps(LABELS), "rows": json.dumps(ROWS)}
    context.route(URL + "**", lambda route: route.fulfill(body=html, content_type="text/html"))


def page_ms(text: str) -> float:
    if not text.startswith("done in "):
        raise AssertionError(f"the challenge failed: {text}")
    return float(text.split()[2]) / 1000


def plain(page, batched: bool) -> float:
    """One challenge with bare Playwright calls on ``page``; the page timer's seconds."""
    page.goto(URL)
    page.click("#start")
    for row in ROWS:
        if batched:
            page.evaluate(EVALUATE, {LABELS[k]: v for k, v in row.items()})
        else:
            for key, value in row.items():
                page.get_by_label(LABELS[key], exact=True).fill(value)
        page.click("#form input[type=submit]")
    return page_ms(page.locator("#result").inner_text())


def ours(app: WebPage, batched: bool) -> float:
    """One challenge through deskhand: named elements, a logged step per round."""
    ctx = app.ctx
    with ctx.step("open"):
        app.goto(URL)
        app["start"].click()
    for n, row in enumerate(ROWS, 1):
        with ctx.step("fill round", round=n):
            if batched:
                app.fill_form(row)
            else:
                for key, value in row.items():
                    app[key].fill(value)
            app["submit"].click()
    return page_ms(app["result"].text())


SIDES = ("plain", "ours", "evaluate", "batch")
bot = Bot("input_forms_bench", max_attempts=1)
_plan: list[str] = []  # this run's item references
_samples: dict[str, list[float]] = {side: [] for side in SIDES}
_calls: dict[str, Counter] = {side: Counter() for side in SIDES}
_counter: list[Counter] = []  # bench.keying's count of protocol calls
_repo: list[SelectorRepository] = []


@bot.source
def _items(ctx):
    for reference in _plan:
        yield ctx.item(reference=reference)


@bot.process
def _challenge(item, ctx):
    """Each item runs all four sides, in an order rotated per item, and then again in the
    reverse order (a load that grows or falls during the item weighs on every side alike),
    each on a new page of the run's browser context: the same browser, process and moment
    for all of them."""
    k = _plan.index(item.reference)
    order = SIDES[k % 4 :] + SIDES[: k % 4]
    for side in order + order[::-1]:
        page = ctx.run.new_page()
        serve(page)
        before = _counter[0].copy()
        if side in ("plain", "evaluate"):
            seconds = plain(page, batched=side == "evaluate")
        else:
            app = WebPage(page, ctx, _repo[0], URL)
            seconds = ours(app, batched=side == "batch")
        if k:  # the first item warms everything up
            _samples[side].append(seconds)
            _calls[side].update(_counter[0] - before)
        page.close()
    return ctx.done()


def bench(
    rounds: int, browser, tmp: Path, ratio_line, calls_line, counter: Counter
) -> dict[str, float]:
    """Run the four sides twice in each of ``rounds`` items (plus a warm-up item) in one
    deskhand run with full logging and its own queue; print and return the two ratios."""
    path = tmp / "input_forms.yaml"
    path.write_text(REPOSITORY, encoding="utf-8")
    _repo[:] = [SelectorRepository.load(path)]
    _counter[:] = [counter]
    _plan[:] = [f"forms-{tmp.name}-{n}" for n in range(rounds + 1)]
    settings = load_settings(
        ROOT, {}, {"logs_dir": tmp / "logs", "db": f"sqlite:///{tmp / 'forms-queue.db'}"}
    )
    result = run_bot(bot, settings, browser=browser)
    assert all(i.status == "done" for i in result.items), result.items
    medians = (f"{k} {statistics.median(v) * 1000:.1f} ms" for k, v in _samples.items())
    print("input forms: " + ", ".join(medians), flush=True)
    for side, values in _samples.items():
        print(f"  {side:8} " + " ".join(f"{v * 1000:7.1f}" for v in values))
    title = "input forms, 10 rounds x 7 fields by label (page timer)"
    forms = ratio_line(
        title, "plain Playwright", _samples["plain"], "deskhand (logged)", _samples["ours"], 1.05
    )
    calls_line(title, "plain", _calls["plain"], "deskhand", _calls["ours"], 2 * rounds)
    title = "batched fill, 10 rounds x 7 fields (page timer)"
    batch = ratio_line(
        title, "page.evaluate", _samples["evaluate"], "fill_form (logged)", _samples["batch"], 1.5
    )
    calls_line(title, "evaluate", _calls["evaluate"], "fill_form", _calls["batch"], 2 * rounds)
    return {"input forms": forms, "fill_form": batch}
