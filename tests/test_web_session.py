"""One session per run: ``@bot.setup`` / ``@bot.teardown`` and the browser session model,
against the real demo app in real Chromium (its own log-in counter, its own database) and a
real SQLite queue."""

from __future__ import annotations

import json
import shutil
import urllib.request

import pytest
from conftest import DOCUMENTS, ROOT

from bots._legacy_app import open_app
from demo.server import demo_app
from deskhand import ApplicationError, Bot, ConfigError
from deskhand.config import load_settings
from deskhand.logs import read_events
from deskhand.queue import open_store
from deskhand.runner import run_bot


def logins(url: str) -> int:
    """The log-ins the demo app accepted since it started."""
    with urllib.request.urlopen(url + "_logins") as response:
        return json.load(response)["logins"]


def settings_for(tmp_path, url: str | None = None, **cli):
    cli = {"logs_dir": tmp_path / "logs", "db": f"sqlite:///{tmp_path / 'queue.db'}", **cli}
    if url:
        cli["target"] = url
    cli.setdefault("retry_delay", 0)
    return load_settings(ROOT, {}, cli)


def queued(tmp_path, queue: str) -> list:
    store = open_store(f"sqlite:///{tmp_path / 'queue.db'}", ROOT)
    try:
        return store.list(queue, limit=100)
    finally:
        store.close()


def test_invoice_run_of_three_logs_in_once(run, legacy_app, ground_truth, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = [n for n, t in ground_truth.items() if t["form"] == "digital"][:3]
    for name in names:
        shutil.copy(DOCUMENTS / name, inbox / name)

    result = run("invoice_entry", input=inbox, target=legacy_app.url)

    assert [i.status for i in result.items] == ["done"] * 3, [i.error for i in result.items]
    assert logins(legacy_app.url) == 1
    assert {r["invoice_number"] for r in legacy_app.invoices()} == {
        ground_truth[n]["invoice_number"] for n in names
    }
    events = read_events(result.dir)
    opened = [e for e in events if e["event"] == "step_end" and e["step"] == "open app"]
    logged_in = [e for e in events if e["event"] == "step_end" and e["step"] == "log in"]
    assert [e["status"] for e in opened] == ["ok"] * 3
    assert [(e["item"], e["status"]) for e in logged_in] == [(result.items[0].reference, "ok")]
    # The session's cookies are kept in memory only: no log line holds the cookie's value.
    assert "APSESSIONID" not in (result.dir / "steps.jsonl").read_text()


def session_bot(seen: list) -> Bot:
    """A bot whose first attempt of each item leaves a cookie behind and then fails like a
    system does; its retry reports what its context holds."""
    bot = Bot("session_test", selectors="legacy_ap", max_attempts=2)

    @bot.source
    def _items(ctx):
        yield ctx.item(reference="only")

    @bot.process
    def _process(item, ctx):
        app = open_app(ctx)
        cookies = {c["name"] for c in app.raw.context.cookies()}
        seen.append((ctx.attempt, sorted(cookies), ctx.run.session.contexts))
        if ctx.attempt == 1:
            app.raw.context.add_cookies([{"name": "left_behind", "value": "1", "url": app.url}])
            raise ApplicationError("the app hiccuped")
        return ctx.done(shown=app["nav_search"].text())

    return bot


def test_a_retry_gets_a_clean_context_still_logged_in(tmp_path, browser, legacy_app):
    seen: list = []
    result = run_bot(session_bot(seen), settings_for(tmp_path, legacy_app.url), browser=browser)

    assert [(i.status, i.attempts) for i in result.items] == [("done", 2)]
    assert result.items[0].output["shown"] == "Search invoices"
    # Attempt 2 ran in a second context: the failed attempt's cookie is gone, the saved
    # session is there, and the app was not asked for a second log-in.
    assert [(a, "left_behind" in c, "APSESSIONID" in c, n) for a, c, n in seen] == [
        (1, False, True, 1),
        (2, False, True, 2),
    ]
    assert logins(legacy_app.url) == 1


def test_a_retry_logs_in_again_when_the_saved_session_has_ended(tmp_path, browser):
    # The app ends a session after three pages (main, nav, welcome): the saved state is
    # stale by the retry, whose clean context meets the log-in page and logs in again.
    with demo_app(ROOT, tmp_path / "legacy.db", faults="expire=3") as url:
        seen: list = []
        result = run_bot(session_bot(seen), settings_for(tmp_path, url), browser=browser)
        count = logins(url)

    assert [(i.status, i.attempts) for i in result.items] == [("done", 2)]
    assert [(a, n) for a, _, n in seen] == [(1, 1), (2, 2)]
    assert count == 2
    events = read_events(result.dir)
    logged_in = [e["attempt"] for e in events if e["event"] == "step_end" and e["step"] == "log in"]
    assert logged_in == [1, 2]


def test_a_setup_that_logs_in_serves_every_item(tmp_path, browser, legacy_app):
    bot = Bot("setup_login_test", selectors="legacy_ap")

    @bot.source
    def _items(ctx):
        yield from (ctx.item(reference=ref) for ref in ("first", "second"))

    @bot.setup
    def _log_in(ctx):
        open_app(ctx)  # the app asks for a log-in: the run's one

    @bot.process
    def _process(item, ctx):
        return ctx.done(menu=open_app(ctx)["nav_search"].text())

    result = run_bot(bot, settings_for(tmp_path, legacy_app.url), browser=browser)

    assert [(i.status, i.output["menu"]) for i in result.items] == [("done", "Search invoices")] * 2
    assert logins(legacy_app.url) == 1
    events = read_events(result.dir)
    logged_in = [e for e in events if e["event"] == "step_end" and e["step"] == "log in"]
    assert [(e.get("item"), e["status"]) for e in logged_in] == [(None, "ok")]  # in the setup
    assert [e["status"] for e in events if e["event"] == "setup"] == ["ok"]


def lifecycle_bot(calls: list, fail: dict) -> Bot:
    """A bot that records the order of its setup, items and teardown; ``fail`` says where
    to raise (``setup``, ``teardown``, or an item reference: the exception to raise)."""
    bot = Bot("lifecycle_test", max_attempts=1)

    @bot.source
    def _items(ctx):
        for ref in ("a", "b", "c"):
            yield ctx.item(reference=ref)

    @bot.setup
    def _setup(ctx):
        calls.append("setup")
        if "setup" in fail:
            raise fail["setup"]

    @bot.process
    def _process(item, ctx):
        calls.append(item.reference)
        if item.reference in fail:
            raise fail[item.reference]
        return ctx.done()

    @bot.teardown
    def _teardown(ctx):
        calls.append("teardown")
        if "teardown" in fail:
            raise fail["teardown"]

    return bot


def test_setup_runs_once_before_the_items_and_teardown_once_after(tmp_path):
    calls: list = []
    fail = {"b": ApplicationError("the app is down"), "teardown": RuntimeError("no log-out")}
    result = run_bot(lifecycle_bot(calls, fail), settings_for(tmp_path))

    assert calls == ["setup", "a", "b", "c", "teardown"]
    assert [i.status for i in result.items] == ["done", "failed", "done"]
    events = read_events(result.dir)
    setup = [e for e in events if e["event"] == "setup"]
    teardown = [e for e in events if e["event"] == "teardown"]
    assert [e["status"] for e in setup] == ["ok"]
    assert [e["status"] for e in teardown] == ["failed"]
    assert "RuntimeError: no log-out" in teardown[0]["message"]

    # Nothing left to do: the next run neither sets up nor tears down.
    again: list = []
    assert run_bot(lifecycle_bot(again, {}), settings_for(tmp_path)).items == []
    assert again == []


def test_a_failed_setup_processes_nothing_and_loses_nothing(tmp_path):
    calls: list = []
    fail = {"setup": ApplicationError("the legacy app refused the log-in")}
    with pytest.raises(ApplicationError) as raised:
        run_bot(lifecycle_bot(calls, fail), settings_for(tmp_path))

    message = str(raised.value)
    assert message.startswith("setup of bot lifecycle_test failed (ApplicationError: the legacy")
    assert "no item was processed, 3 item(s) stay queued" in message
    assert calls == ["setup"]  # no item, and no teardown of a setup that did not happen
    assert [(i.reference, i.status, i.attempts) for i in queued(tmp_path, "lifecycle_test")] == [
        ("a", "new", 0),
        ("b", "new", 0),
        ("c", "new", 0),
    ]

    # A set-up mistake stays a ConfigError (the command exits 2 with its line).
    with pytest.raises(ConfigError, match="setup of bot lifecycle_test failed"):
        run_bot(lifecycle_bot([], {"setup": ConfigError("no such vault secret")}),
                settings_for(tmp_path))  # fmt: skip

    # Fixed, the next run does all three, once each.
    calls.clear()
    result = run_bot(lifecycle_bot(calls, {}), settings_for(tmp_path))
    assert calls == ["setup", "a", "b", "c", "teardown"]
    assert [(i.status, i.attempts) for i in result.items] == [("done", 1)] * 3


def test_teardown_runs_when_the_run_is_interrupted(tmp_path):
    calls: list = []
    with pytest.raises(KeyboardInterrupt):
        run_bot(lifecycle_bot(calls, {"b": KeyboardInterrupt()}), settings_for(tmp_path))

    assert calls == ["setup", "a", "b", "teardown"]
    states = {i.reference: i.status for i in queued(tmp_path, "lifecycle_test")}
    assert states == {"a": "done", "b": "new", "c": "new"}  # b given back, c never claimed


def test_the_browser_starts_while_the_first_documents_are_read(tmp_path, browser):
    # WebSession.start: the context and first page open on this thread while the other
    # work runs on a worker thread, in this thread's contextvars (the run's document cache);
    # the page it opened is the next one handed out; an error of the work is left for the
    # step doing the same work.
    import contextvars
    import threading

    from deskhand.web.session import WebSession

    where = contextvars.ContextVar("where", default="elsewhere")
    where.set("the run")
    seen: list = []
    session = WebSession(lambda: browser)
    try:
        session.start(lambda: seen.append((where.get(), threading.current_thread().name)))
        spare = session.context.pages[0]
        assert seen == [("the run", "deskhand-alongside")]
        assert session.new_page() is spare
        assert session.new_page() is not spare

        def fails():
            raise ValueError("a bad document")

        session.close_context()
        session.start(fails)  # nothing raised: the document's own step reports it
        assert len(session.context.pages) == 1
    finally:
        session.close()


def test_a_bot_that_reads_documents_gets_the_first_one_read_ahead(tmp_path, browser, legacy_app):
    # Bot(reads="invoice"): the first item's document is read while the browser starts; its
    # step takes the result from the run's document cache (one read of the file's pages).
    import dataclasses

    from demo import make_documents
    from deskhand.documents import reader

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    spec = next(s for s in make_documents.SPECS if s.form == "digital")
    spec = dataclasses.replace(spec, number=f"{spec.number}{tmp_path.name[-6:]}")  # never cached
    (inbox / "invoice.pdf").write_bytes(make_documents.render_pdf(make_documents.Invoice(spec)))
    bot = Bot("read_ahead_test", selectors="legacy_ap", reads="invoice")
    reads: list = []

    @bot.source
    def _items(ctx):
        for path in sorted(ctx.input.iterdir()):
            yield ctx.item(reference=path.name, file=str(path))

    @bot.process
    def _process(item, ctx):
        with ctx.step("read document"):
            invoice = reader.extract(item.file, kind="invoice")
        ctx.web()
        return ctx.done(number=invoice.invoice_number)

    original = reader.files.read_pages

    def counted(*args, **kwargs):
        reads.append(__import__("threading").current_thread().name)
        return original(*args, **kwargs)

    reader.files.read_pages = counted
    try:
        settings = settings_for(tmp_path, legacy_app.url, input=inbox)
        result = run_bot(bot, settings, browser=browser)
    finally:
        reader.files.read_pages = original
    assert [i.status for i in result.items] == ["done"]
    assert reads == ["deskhand-alongside"]
