"""Who holds what, in the console as in ``queue list``: the Runners page lists every
registered runner with its health and how many items it holds; the queue and item pages
name the holder of each item in progress as ``host:pid (state)``, the very strings the CLI
prints; a host name with markup in it stays text."""

from __future__ import annotations

import io
import re
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect
from test_console import console, log_in  # noqa: F401 (fixtures: the console, a log-in)

from deskhand.commands.queue import run as queue_cli
from deskhand.queue import open_store
from deskhand.queue import runners as runners_module

IMG = "<img src=x onerror=\"window.pwned = 'img'\">"
SCRIPT = "<script>window.pwned = 'script'</script>"


def register_as(monkeypatch, store, host: str, owner: str, **kwargs) -> None:
    """Register ``owner`` as a runner on ``host`` (the name another machine would report)."""
    monkeypatch.setattr(runners_module.socket, "gethostname", lambda: host)
    runners_module.register(store, owner, ["invoice_entry"], **kwargs)


def three_runners(store, monkeypatch) -> dict[str, list[int]]:
    """A working runner holding one item, a lost one (its beat stopped ten minutes ago, a
    host name with markup) holding two, a stopped one holding none, and one item new.
    Returns the held item ids by owner and ``"new"``."""
    now = datetime.now(UTC)
    past, earlier, stopped_at = (now - timedelta(minutes=m) for m in (10, 5, 4))
    added, _ = store.add_many("invoices", [{"reference": f"inv-{n}"} for n in range(4)])
    working, lost, stopped = "host-a:4242:run1", f"{IMG}:77:run2", "host-c:9:run3"
    register_as(monkeypatch, store, "host-a", working, lease_seconds=60)
    register_as(monkeypatch, store, IMG, lost, lease_seconds=30, now=past)
    register_as(monkeypatch, store, SCRIPT, stopped, lease_seconds=60, now=earlier)
    runners_module.stop(store, stopped, now=stopped_at)
    held = {working: [store.claim("invoices", working, lease_seconds=60).id]}
    held[lost] = [store.claim("invoices", lost, 30, now=past).id for _ in range(2)]
    held["new"] = [i.id for i in added if i.id not in held[working] + held[lost]]
    return held


def held_column(url: str) -> dict[int, str]:
    """``queue list``'s HELD BY column, by item id, as the CLI prints it."""
    out = io.StringIO()
    args = Namespace(queue_command="list", db=url, queue=None, status=None, limit=10)
    queue_cli(args, Path("."), out)
    header, *lines = out.getvalue().splitlines()
    start, end = header.index("HELD BY"), header.index("ERROR")
    return {int(line.split()[0]): line[start:end].strip() for line in lines}


def test_the_cli_and_the_console_share_one_holder_format(queue_url, monkeypatch):
    with open_store(queue_url) as store:
        held = three_runners(store, monkeypatch)
        (working,), lost = held["host-a:4242:run1"], held[f"{IMG}:77:run2"]
        old, _ = store.add("invoices", "inv-old", priority=1)  # claimed before the lost items
        store.claim("invoices", "old-host:1")  # an owner from before runners registered
        listed = {i.id: i.lease_owner for i in store.list("invoices") if i.lease_owner}
        shared = runners_module.held_by(store, listed)
        owners = ["host-a:4242:run1", f"{IMG}:77:run2", "old-host:1", "host-c:9:run3"]
        holding = runners_module.held_items(store, owners)
    expected = {working: "host-a:4242 (working)", old.id: "old-host:1"}
    expected |= {item_id: f"{IMG}:77 (lost)" for item_id in lost}
    assert shared == expected
    assert held_column(queue_url) == {**dict.fromkeys(held["new"], "-"), **expected}
    assert holding == {
        "host-a:4242:run1": [working],
        f"{IMG}:77:run2": lost,
        "old-host:1": [old.id],
    }


def test_runners_queue_and_item_pages_show_who_holds_what(console, log_in, monkeypatch):  # noqa: F811
    page = log_in("vic")  # a viewer, the least role, has the Runners page
    alerts = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    page.locator("header nav").get_by_role("link", name="Runners").click()
    expect(page.locator("#runners")).to_contain_text("No runner has registered yet")
    with console.store() as store:
        held = three_runners(store, monkeypatch)
    (working,), lost = held["host-a:4242:run1"], held[f"{IMG}:77:run2"]
    page.reload()
    rows = page.locator("#runners tr.runner")
    expect(rows).to_have_count(3)  # working or lost first, latest beat first; then stopped
    assert [rows.nth(n).get_attribute("data-state") for n in range(3)] == [
        "working",
        "lost",
        "stopped",
    ]
    assert rows.locator("td.host").all_inner_texts() == ["host-a", IMG, SCRIPT]
    assert rows.locator(".badge").all_inner_texts() == ["working", "lost", "stopped"]
    assert rows.locator("td.held").all_inner_texts() == ["1", "2", "0"]
    assert rows.nth(0).locator("td code").inner_text() == "host-a:4242:run1"
    assert rows.locator("td.items").all_inner_texts() == [str(working), f"{lost[0]} {lost[1]}", ""]
    assert re.fullmatch(r"\d+ s ago", rows.nth(0).locator("td.beat").inner_text())
    assert re.fullmatch(r"\d+ min ago", rows.nth(1).locator("td.beat").inner_text())
    assert "invoice_entry" in rows.nth(1).inner_text()
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.pwned") is None

    rows.nth(1).locator("td.held a").click()  # the lost runner's two items
    page.wait_for_url("**/queue?status=in_progress")
    items = page.locator("#items tr.item")
    expect(items).to_have_count(3)
    holders = {
        int(row.locator("td.num").first.inner_text()): row.locator("td.held").inner_text()
        for row in items.all()
    }
    assert holders == {working: "host-a:4242 (working)", **dict.fromkeys(lost, f"{IMG}:77 (lost)")}
    page.goto(console.url + "/queue")
    expect(page.locator("#items tr.item[data-status=new] td.held")).to_have_text("")

    page.goto(console.url + "/runners")
    page.locator("#runners tr.runner td.items a").first.click()  # the working runner's item
    page.wait_for_url(f"**/items/{working}")
    holder = page.locator("#holder")
    expect(holder).to_contain_text("host-a:4242 (working), runner host-a:4242:run1; lease until")
    expect(holder).to_contain_text(re.compile(r"UTC \(in \d+ s\)"))
    page.goto(f"{console.url}/items/{lost[0]}")
    expect(page.locator("#holder")).to_contain_text(f"{IMG}:77 (lost)")
    expect(page.locator("#holder")).to_contain_text(re.compile(r"\(ran out \d+ min ago\)"))
    page.goto(f"{console.url}/items/{held['new'][0]}")
    expect(page.locator("h1")).to_contain_text("new")
    expect(page.locator("#holder")).to_have_count(0)
    assert page.locator("main img, main script").count() == 0
    assert page.evaluate("window.pwned") is None and alerts == []


@pytest.mark.parametrize("queue_url", ["postgresql"], indirect=True)
def test_the_console_judges_runners_by_the_databases_clock(queue_url, monkeypatch, tmp_path):
    """A console whose host clock is an hour fast still shows a runner that beat a moment ago
    (in the database's time, as every runner writes) as working, not lost for an hour."""
    from deskhand.console.app import create_app
    from deskhand.queue import rows

    real = rows.local_now
    monkeypatch.setitem(rows.CLOCK, "offset", timedelta(0))  # restored after the test
    with open_store(queue_url) as store:  # a runner on a host with the right time
        runners_module.register(store, "host-a:1:run", ["invoice_entry"], 60, now=real())
    monkeypatch.setattr(rows, "local_now", lambda: real() + timedelta(hours=1))
    app = create_app(queue_url, tmp_path / "logs", tmp_path)
    store = app.extensions["deskhand_console"].store
    try:
        assert abs(rows.CLOCK["offset"] + timedelta(hours=1)) < timedelta(seconds=5)
        (runner,) = runners_module.list_runners(store)
        assert runner.state() == "working"
    finally:
        store.close()
