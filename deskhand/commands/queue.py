"""``deskhand queue add|list|show|retry|cancel|export|prune|runners``: manage work items.

The database is ``--db URL``, else ``$DESKHAND_DB``, else ``<root>/.deskhand/queue.db``.
Errors are ConfigError (one line, exit 2). ``retry`` and ``cancel`` take one id or a whole
``--status`` (optionally of one ``--bot``'s queue), asking first on a terminal (``--yes``
does not ask).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from ..errors import ConfigError
from ..queue.models import QueueError
from ..status import QUEUE_STATUSES
from . import load_bot, project_root

STATUS_CHOICES = tuple(str(s) for s in QUEUE_STATUSES)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``queue`` and its actions; sub-parsers take the caller's parser class."""
    parser = subparsers.add_parser("queue", help="manage work items (add, list, show, ...)")
    actions = parser.add_subparsers(dest="queue_command", required=True, metavar="ACTION")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--db", help="queue database URL (default: $DESKHAND_DB or .deskhand/queue.db)")

    def action(name: str, **kwargs) -> argparse.ArgumentParser:
        return actions.add_parser(name, parents=[db], **kwargs)

    add = action("add", help="queue one item (nothing happens if already queued)")
    add.add_argument("queue")
    add.add_argument("reference", help="unique within the queue (invoice number, file hash)")
    add.add_argument("--payload", help='JSON object, e.g. \'{"file": "in/a.pdf"}\'')
    add.add_argument("--priority", type=int, default=0, help="higher goes first (default 0)")
    add.add_argument("--file", action="append", dest="files", metavar="PATH", help="repeatable")

    listing = action("list", help="items as a table, oldest first")
    listing.add_argument("queue", nargs="?")
    listing.add_argument("--status", choices=STATUS_CHOICES)
    listing.add_argument("--limit", type=int, default=100, help="at most N items (default 100)")

    show = action("show", help="an item's fields and history")
    show.add_argument("id", type=int)

    retry = action("retry", help="queue failed, reviewed or cancelled items again")
    cancel = action("cancel", help="cancel new, failed or reviewed items")
    for bulk in (retry, cancel):
        bulk.add_argument("id", type=int, nargs="?", help="one item (see `queue list`)")
        bulk.add_argument("--status", choices=STATUS_CHOICES, help="every item with it")
        bulk.add_argument("--bot", help="only this bot's queue (with --status)")
        bulk.add_argument("--queue", help="only this queue (with --status)")
        bulk.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    prune = action(
        "prune", help="forget the stored files of items done long ago, and old runner records"
    )
    prune.add_argument("--older-than", type=float, metavar="DAYS",
                       help="default: file_retention_days (30)")  # fmt: skip
    watch = action("runners", help="the runners (hosts) working the queues, and their health")
    watch.add_argument("--limit", type=int, default=50, help="at most N runners (default 50)")

    export = action("export", help="write a queue's items as CSV or JSON")
    export.add_argument("queue")
    export.add_argument("--format", choices=("csv", "json"), default="csv")
    export.add_argument("--output", metavar="FILE", help="default: standard output")
    return parser


def run(args: argparse.Namespace, root: Path | None = None, out: TextIO | None = None) -> int:
    """Execute the parsed ``queue`` command against ``open_store(root=root)`` (the project's
    root when not given)."""
    from ..queue.store import open_store

    root = root or project_root()
    out = out or sys.stdout
    store = open_store(getattr(args, "db", None), root=root)
    try:
        return _ACTIONS[args.queue_command](store, args, out, root)
    except QueueError as exc:
        raise ConfigError(str(exc)) from None
    finally:
        store.close()


def _add(store, args, out, root) -> int:
    from ..bot import WorkItem
    from ..config import load_settings
    from ..queue.files import queue_items

    payload = {}
    if args.payload is not None:
        try:
            payload = json.loads(args.payload)
        except ValueError as exc:
            raise ConfigError(
                f'--payload is not JSON ({exc}): pass e.g. \'{{"file": "in/a.pdf"}}\''
            ) from None
        if not isinstance(payload, dict):
            raise ConfigError('--payload must be a JSON object, e.g. \'{"file": "in/a.pdf"}\'')
    # The files go with the item as a source's do: the first is its ``file``, the others its
    # ``files``; their content into the queue database (unless store_files = false).
    paths = [Path(f).resolve() for f in args.files or ()]
    for path in paths:
        if not path.is_file():
            raise ConfigError(f"--file {path}: no such file: check the path")
    if paths and "file" not in payload:
        payload["file"] = str(paths.pop(0))
    if paths:
        listed = payload.get("files") or []
        payload["files"] = [*([listed] if isinstance(listed, str) else listed), *map(str, paths)]
    settings = load_settings(root)
    work = WorkItem(args.reference, payload)
    added, existing = queue_items(
        store, args.queue, [work], settings, by="cli", priority=args.priority
    )
    if not added:
        item = existing[0]
        print(f"already queued: item {item.id} ({item.status}), nothing changed", file=out)
        return 0
    item = added[0]
    print(f"added item {item.id} ({item.queue} / {item.reference})", file=out)
    if item.payload.get("input_error"):  # too large or unreadable: the item goes to review
        print(f"its file was not stored ({item.payload['input_error']}): the item will go "
              f"to review; `queue cancel {item.id}` drops it", file=out)  # fmt: skip
        return 1
    return 0


def _list(store, args, out, root) -> int:
    items = store.list(args.queue, args.status, args.limit)
    header = (
        "ID", "QUEUE", "REFERENCE", "ITEM", "STATUS", "TRIES", "PRIO", "UPDATED (UTC)",
        "HELD BY", "ERROR",
    )  # fmt: skip
    held = _holders(store, items)
    rows = [
        (
            str(i.id),
            i.queue,
            _clip(i.reference, 20),
            _clip(i.label if i.label != i.reference else "-", 40),
            i.status,
            str(i.attempts),
            str(i.priority),
            i.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
            held.get(i.id, "-"),
            _clip(f"{i.error_kind}: {i.error_message}" if i.error_kind else "", 50),
        )
        for i in items
    ]
    widths = [max(len(r[n]) for r in [header, *rows]) for n in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
    if not rows:
        print("(no items)", file=out)
    return 0


def _holders(store, items) -> dict[int, str]:
    """Who holds each in-progress item: host:pid and that runner's health."""
    from ..queue.runners import held_by

    return held_by(store, {i.id: i.lease_owner for i in items if i.status == "in_progress"})


def _runners(store, args, out, root) -> int:
    from ..queue.runners import list_runners

    found = list_runners(store, args.limit)
    header = ("RUNNER", "HOST", "PID", "VERSION", "BOTS", "STARTED (UTC)", "LAST BEAT", "STATE")
    rows = [
        (
            r.id,
            r.host,
            str(r.pid),
            r.version,
            ",".join(r.bots),
            r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            r.heartbeat_at.strftime("%H:%M:%S"),
            r.state(),
        )  # fmt: skip
        for r in found
    ]
    widths = [max(len(r[n]) for r in [header, *rows]) for n in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip(), file=out)
    if not rows:
        print("(no runners yet)", file=out)
    return 0


def _prune(store, args, out, root) -> int:
    from datetime import UTC, datetime, timedelta

    from ..config import load_settings
    from ..queue.files import prune
    from ..queue.runners import forget

    days = args.older_than
    if days is None:
        days = load_settings(root).file_retention_days
    if days < 0:
        raise ConfigError(f"--older-than {days:g}: give 0 or more days")
    done = prune(store, days)
    cutoff = datetime.now(UTC) - timedelta(days=days)
    runners = forget(store, cutoff)
    before = cutoff.strftime("%Y-%m-%d %H:%M")
    print(
        f"pruned the files of {done.items} item(s) done before {before} UTC; "
        f"{done.files} stored file(s) deleted ({done.bytes / 1024 / 1024:.1f} MB); "
        f"{runners} runner record(s) silent since then forgotten",
        file=out,
    )
    return 0


def _show(store, args, out, root) -> int:
    item = store.get(args.id)
    if item is None:
        raise ConfigError(f"no item {args.id}: see `queue list`")
    for name, value in item.to_dict().items():
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        print(f"{name + ':':15} {'' if value is None else value}", file=out)
    print("history:", file=out)
    for entry in store.history(item.id):
        detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
        line = f"  {entry.at.isoformat(timespec='seconds')}  {entry.event:16} "
        print(f"{line}{entry.runner or '-':16} {detail}".rstrip(), file=out)
    return 0


def _retry(store, args, out, root) -> int:
    return _change(store, args, out, store.retry, "queued again")


def _cancel(store, args, out, root) -> int:
    return _change(store, args, out, store.cancel, "cancelled")


def _change(store, args, out, change, done: str) -> int:
    """One item by id, or every item of ``--status`` (of one queue), after a confirmation
    on a terminal."""
    verb = args.queue_command
    if (args.id is None) == (args.status is None):
        raise ConfigError(f"queue {verb}: give an item id or --status STATUS (not both)")
    if args.id is not None:
        if args.bot or args.queue:
            raise ConfigError(f"queue {verb}: --bot and --queue go with --status, not an id")
        item = change(args.id, by="cli")
        print(f"item {item.id} ({item.label}) {done}", file=out)
        return 0
    queue = args.queue or (_bot_queue(args.bot) if args.bot else None)
    items = store.list(queue, args.status, limit=None)
    where = f" in queue {queue}" if queue else ""
    if not items:
        print(f"no {args.status} items{where}: nothing to {verb}", file=out)
        return 0
    if not args.yes and sys.stdin.isatty():
        answer = input(f"{verb} {len(items)} {args.status} items{where}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing changed", file=out)
            return 1
    changed = 0
    for item in items:
        try:
            change(item.id, by="cli")
            changed += 1
        except QueueError as exc:  # changed by a runner meanwhile: say so, go on
            print(f"item {item.id}: {exc}", file=out)
    print(f"{changed} {args.status} items{where} {done}", file=out)
    return 0 if changed == len(items) else 1


def _bot_queue(name: str) -> str:
    """The queue of the bot ``name`` in this project."""
    return load_bot(name, project_root()).queue


def _export(store, args, out, root) -> int:
    if args.output is None:
        store.export(args.queue, args.format, out)
        return 0
    path = Path(args.output)
    try:
        with path.open("w", newline="", encoding="utf-8") as f:
            count = store.export(args.queue, args.format, f)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}: check --output") from None
    print(f"exported {count} items of {args.queue} to {path}", file=out)
    return 0


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


_ACTIONS = {
    "add": _add,
    "list": _list,
    "show": _show,
    "retry": _retry,
    "cancel": _cancel,
    "export": _export,
    "prune": _prune,
    "runners": _runners,
}
