"""Files that travel with their items (deskhand.queue.files) and runners' health
(deskhand.queue.runners), on SQLite and PostgreSQL.

A document queued from a folder is read by a runner after that folder is gone: the runner's
``item.file`` is a read-only copy in its own run folder, byte for byte the queued one.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
from argparse import Namespace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deskhand.bot import WorkItem, load_bot
from deskhand.commands.queue import run as queue_cli
from deskhand.config import Settings, load_settings
from deskhand.errors import BusinessError
from deskhand.logs import RunLog
from deskhand.queue import open_store
from deskhand.queue import runners as runners_module
from deskhand.queue.files import local_copy, prune, queue_items
from deskhand.queue.schema import files as files_table
from deskhand.queue.schema import item_files
from deskhand.runner import Run, enqueue, run_bot

READER_BOT = '''
"""Test bot: reads each item's documents and reports what it read."""
import hashlib
from deskhand import Bot

bot = Bot("reader", queue="docs")

@bot.source
def documents(ctx):
    for path in sorted(ctx.input.iterdir()):
        yield ctx.item(reference=path.name, file=str(path), name=path.name)

@bot.process
def read(item, ctx):
    return ctx.done(
        path=str(item.file),
        sha256=[hashlib.sha256(p.read_bytes()).hexdigest() for p in item.files],
    )
'''


@pytest.fixture
def inbox(tmp_path) -> Path:
    """Three documents, two of them with the same content."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.pdf").write_bytes(b"%PDF-1.4 first document " + os.urandom(2000))
    (folder / "b.pdf").write_bytes(b"%PDF-1.4 second document " + os.urandom(3000))
    shutil.copy(folder / "a.pdf", folder / "a-again.pdf")
    return folder


def work(folder: Path) -> list[WorkItem]:
    return [WorkItem(p.name, {"file": str(p), "name": p.name}) for p in sorted(folder.iterdir())]


def stored(store) -> list[tuple[str, int]]:
    with store._read() as conn:
        return conn.execute(files_table.select().with_only_columns(
            files_table.c.sha256, files_table.c.size)).all()  # fmt: skip


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_files_travel_in_the_queue_deduplicated_and_come_back_read_only(queue_url, inbox, tmp_path):
    contents = {p.name: p.read_bytes() for p in inbox.iterdir()}
    with open_store(queue_url) as store:
        added, existing = queue_items(store, "docs", work(inbox), Settings(), by="source-host")
        assert (len(added), len(existing)) == (3, 0)
        # Two documents with one content: stored once.
        assert sorted(stored(store)) == sorted({(sha(c), len(c)) for c in contents.values()})
        shutil.rmtree(inbox)  # the runner's host cannot see the source's folder
        item = store.claim("docs", "runner-host:1")
        copy = local_copy(store, item, tmp_path / "run" / "files")
        path = Path(copy.payload["file"])
        assert path.parent == tmp_path / "run" / "files" / str(item.id)
        assert path.name == item.reference  # the original name
        assert path.read_bytes() == contents[item.reference]
        assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        assert WorkItem(copy.reference, copy.payload).files == [path]
        # The database keeps the source's own path; only the runner's copy is local.
        assert store.get(item.id).payload["file"] == str(inbox / item.reference)
        # Queued again: nothing added, nothing stored again.
        again = [WorkItem(i.reference, i.payload) for i in added]
        added_again, existing_again = queue_items(store, "docs", again, Settings())
        assert (len(added_again), len(existing_again)) == (0, 3)


def test_a_file_over_the_limit_fails_its_own_item_only(queue_url, tmp_path, inbox):
    (inbox / "huge.pdf").write_bytes(b"%PDF" + b"0" * 200_000)
    with open_store(queue_url) as store:
        added, _ = queue_items(store, "docs", work(inbox), Settings(max_file_mb=0.1))
        assert len(added) == 4
        assert len(stored(store)) == 2  # the others are stored, the huge one is not
        huge = store.find("docs", "huge.pdf")
        with pytest.raises(BusinessError) as refused:
            _ = WorkItem(huge.reference, huge.payload).file
        assert str(refused.value) == (
            "huge.pdf is 0.2 MB, over the 0.1 MB limit per queued file: "
            "raise max_file_mb (DESKHAND_MAX_FILE_MB) or split the document"
        )


def test_local_path_mode_stores_no_content(queue_url, inbox):
    with open_store(queue_url) as store:
        added, _ = queue_items(store, "docs", work(inbox), Settings(store_files=False))
        assert stored(store) == []
        item = store.claim("docs", "one-machine")
        assert local_copy(store, item, inbox / "unused") == item
        assert item.payload["file"] == str(inbox / item.reference)
        assert item.files == [str(inbox / item.reference)]


def test_prune_forgets_the_files_of_items_done_long_ago(queue_url, inbox, tmp_path):
    now = datetime.now(UTC)
    with open_store(queue_url) as store:
        by_name = {i.reference: i for i in work(inbox)}
        order = [by_name[n] for n in ("a.pdf", "b.pdf", "a-again.pdf")]
        queue_items(store, "docs", order, Settings())
        long_ago = now - timedelta(days=40)
        done = []
        for name in ("a.pdf", "b.pdf"):  # a.pdf's content is also a-again.pdf's (still new)
            item = store.find("docs", name)
            claimed = store.claim("docs", "r", now=long_ago)
            assert claimed.id == item.id
            store.complete(item.id, "r", {"ok": True}, now=long_ago)
            done.append(item.id)
        # A prune with a retention longer than their age changes nothing.
        assert prune(store, 60, now=now).items == 0
        result = prune(store, 30, now=now + timedelta(hours=2))
        assert (result.items, result.files) == (2, 1)  # b.pdf's content; a.pdf's is shared
        with store._read() as conn:
            links = {r.item_id: r.sha256 for r in conn.execute(item_files.select())}
        assert [links[i] for i in done] == [None, None]
        assert len(stored(store)) == 1
        # The item keeps its name; a runner that would need the content says what to do.
        b = store.get(done[1])
        copy = local_copy(store, b, tmp_path / "files")
        with pytest.raises(BusinessError, match="b.pdf is no longer in the queue database"):
            _ = WorkItem(copy.reference, copy.payload).file


def test_queue_prune_command(tmp_path, inbox):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    with open_store(url) as store:
        queue_items(store, "docs", work(inbox)[:1], Settings())
        nine_days_ago = datetime.now(UTC) - timedelta(days=9)
        item = store.claim("docs", "r", now=nine_days_ago)
        store.complete(item.id, "r", now=nine_days_ago)
        with store._write() as conn:  # its content was stored then too
            conn.execute(files_table.update().values(created_at=nine_days_ago))
    out = io.StringIO()
    args = Namespace(queue_command="prune", db=url, older_than=7.0)
    assert queue_cli(args, tmp_path, out) == 0
    assert out.getvalue().startswith("pruned the files of 1 item(s) done before ")
    assert "; 1 stored file(s) deleted (0.0 MB); 0 runner record(s)" in out.getvalue()


def test_prune_forgets_runners_silent_longer_than_the_retention(queue_url):
    """Every run registers: prune forgets the runs stopped or lost longer ago than the
    retention, never a runner still holding an item (its lease may come back to it)."""
    now = datetime.now(UTC)
    long_ago = now - timedelta(days=40)
    with open_store(queue_url) as store:
        store.add("docs", "held")
        for owner, at in (("old:1:stopped", long_ago), ("old:2:lost", long_ago),
                          ("old:3:holding", long_ago), ("new:4:working", now)):  # fmt: skip
            runners_module.register(store, owner, ["reader"], 30, now=at)
        runners_module.stop(store, "old:1:stopped", now=long_ago)
        store.claim("docs", "old:3:holding", lease_seconds=30, now=long_ago)
        assert runners_module.forget(store, now - timedelta(days=30)) == 2
        left = {r.id for r in runners_module.list_runners(store)}
    assert left == {"old:3:holding", "new:4:working"}


def test_a_runner_reads_a_queued_document_after_its_folder_is_gone(queue_url, inbox, tmp_path):
    """End to end: the source's run queues; another run (another host) keys from the queue."""
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    (root / "bots" / "reader.py").write_text(READER_BOT)
    bot = load_bot("reader", root)
    cli = {"db": queue_url, "input": inbox, "logs_dir": tmp_path / "source-logs"}
    contents = {p.name: p.read_bytes() for p in inbox.iterdir()}
    source = load_settings(root, bot.settings, cli)
    with open_store(queue_url) as store, RunLog(source.logs_dir, "reader") as log:
        enqueue(Run(bot, source, log, store=store))  # what `run` does before it works
    shutil.rmtree(inbox)
    cli = {"db": queue_url, "logs_dir": tmp_path / "runner-logs"}
    result = run_bot(bot, load_settings(root, bot.settings, cli), from_source=False)
    assert [i.status for i in result.items] == ["done"] * 3
    for item in result.items:
        path = Path(item.output["path"])
        assert path.is_relative_to(result.dir / "files")
        assert item.output["sha256"] == [sha(contents[item.reference])]
    with open_store(queue_url) as store:
        (runner,) = runners_module.list_runners(store)
    assert runner.id.endswith(result.run_id) and runner.bots == ["reader"]
    assert runner.state() == "stopped"


def test_runners_register_beat_and_are_lost_when_silent(queue_url):
    start = datetime.now(UTC) - timedelta(minutes=5)
    with open_store(queue_url) as store:
        store.add("docs", "one")
        runners_module.register(store, "host-a:1:r1", ["reader"], 30, now=start)
        runners_module.register(store, "host-b:2:r2", ["reader"], 30, now=start)
        item = store.claim("docs", "host-b:2:r2", lease_seconds=30, now=start)
        # An item's lease renewal is the runner's heartbeat too.
        assert store.heartbeat(item.id, "host-b:2:r2", 30, token=item.lease_token)
        found = {r.id: r for r in runners_module.list_runners(store)}
        assert found["host-a:1:r1"].state() == "lost"  # silent for 5 minutes
        assert found["host-b:2:r2"].state() == "working"
        out = io.StringIO()
        queue_cli(Namespace(queue_command="list", db=queue_url, queue=None, status=None,
                            limit=10), Path("."), out)  # fmt: skip
        assert "host-b:2 (working)" in out.getvalue()
        out = io.StringIO()
        queue_cli(Namespace(queue_command="runners", db=queue_url, limit=10), Path("."), out)
        lines = out.getvalue().splitlines()
        assert lines[0].split()[:3] == ["RUNNER", "HOST", "PID"]
        assert any("host-a:1:r1" in line and "lost" in line for line in lines)


def test_a_host_whose_clock_is_behind_leases_in_the_database_time(pg_cluster, monkeypatch):
    """A runner whose clock runs 90 s behind still gives its claim a full lease in the
    database's time (uncorrected, the lease would have run out before it began)."""
    from deskhand.queue import rows

    url = pg_cluster.empty_database()
    monkeypatch.setitem(rows.CLOCK, "offset", timedelta(0))
    monkeypatch.setattr(rows, "local_now", lambda: datetime.now(UTC) - timedelta(seconds=90))
    with open_store(url) as store:
        store.add("docs", "one")
        item = store.claim("docs", "host-behind:1", lease_seconds=60)
    now = datetime.now(UTC)
    assert now + timedelta(seconds=50) < item.lease_expires <= now + timedelta(seconds=61)


def add_args(url: str, reference: str, *files: Path, payload: str | None = None) -> Namespace:
    """``queue add docs REFERENCE --file F ... --db URL`` as the parser gives it."""
    listed = [str(f) for f in files] or None
    return Namespace(queue_command="add", db=url, queue="docs", reference=reference,
                     payload=payload, priority=3, files=listed)  # fmt: skip


def test_queue_add_file_stores_the_content_as_a_source_does(tmp_path, inbox, monkeypatch):
    url = f"sqlite:///{tmp_path / 'q.db'}"
    root = tmp_path / "project"
    root.mkdir()
    monkeypatch.chdir(inbox)  # a relative --file is the shell's: this folder's
    contents = {p.name: p.read_bytes() for p in inbox.iterdir()}
    out = io.StringIO()
    args = add_args(url, "INV-1", Path("a.pdf"), Path("b.pdf"), payload='{"vendor": "Acme"}')
    assert queue_cli(args, root, out) == 0
    assert out.getvalue().startswith("added item 1 (docs / INV-1)")
    shutil.rmtree(inbox)  # the runner's host cannot see the folder the file was added from
    with open_store(url) as store:
        queued = store.get(1)
        assert queued.payload == {"vendor": "Acme", "file": str(inbox / "a.pdf"),
                                  "files": [str(inbox / "b.pdf")]}  # fmt: skip
        assert queued.priority == 3
        assert sorted(stored(store)) == sorted((sha(c), len(c)) for n, c in contents.items()
                                               if n in ("a.pdf", "b.pdf"))  # fmt: skip
        item = store.claim("docs", "runner-host:1")
        copy = WorkItem(item.reference, local_copy(store, item, tmp_path / "run").payload)
        assert [p.read_bytes() for p in copy.files] == [contents["a.pdf"], contents["b.pdf"]]
        assert copy.file.parent == tmp_path / "run" / "1" and copy.payload["vendor"] == "Acme"


def test_queue_add_file_refusals_and_the_local_path_mode(tmp_path, inbox):
    from deskhand.errors import ConfigError

    url = f"sqlite:///{tmp_path / 'q.db'}"
    root = tmp_path / "project"
    root.mkdir()
    with pytest.raises(ConfigError, match=r"^--file .*missing.pdf: no such file: check the path$"):
        queue_cli(add_args(url, "X", inbox / "missing.pdf"), root, io.StringIO())
    with pytest.raises(ConfigError, match="--payload must be a JSON object"):
        queue_cli(add_args(url, "X", inbox / "a.pdf", payload="[1, 2]"), root, io.StringIO())
    (inbox / "huge.pdf").write_bytes(b"%PDF" + b"0" * 200_000)
    (root / "pyproject.toml").write_text("[tool.deskhand]\nmax_file_mb = 0.1\n")
    out = io.StringIO()
    assert queue_cli(add_args(url, "HUGE", inbox / "huge.pdf"), root, out) == 1
    assert "its file was not stored (huge.pdf is 0.2 MB, over the 0.1 MB limit" in out.getvalue()
    assert "`queue cancel 1` drops it" in out.getvalue()
    (root / "pyproject.toml").write_text("[tool.deskhand]\nstore_files = false\n")
    assert queue_cli(add_args(url, "LOCAL", inbox / "b.pdf"), root, io.StringIO()) == 0
    with open_store(url) as store:
        assert stored(store) == []  # neither the refused one nor the local path's
        local = store.find("docs", "LOCAL")
        assert local.payload == {"file": str(inbox / "b.pdf")}
        assert local_copy(store, local, tmp_path / "unused") == local  # read where it lies
