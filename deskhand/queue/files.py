"""Documents that travel with their work items, for runners on other machines.

When a source queues an item with a file (``ctx.item(ref, file=path)`` or ``files=[...]``),
its content goes into the queue database, once per content (the table ``deskhand_files``,
keyed by sha256: a BLOB on SQLite, ``bytea`` on PostgreSQL), and ``deskhand_item_files``
records which item holds which content under which original name. A runner on any host
that claims the item writes a read-only copy into its own run folder
(``<run>/files/<item id>/<name>``) and the bot's ``item.file`` is that copy::

    added, existing = queue_items(store, "invoices", work_items, settings, by="host-1")
    item = local_copy(store, claimed, run_dir / "files")     # payload["file"] is local now

A file larger than ``max_file_mb`` (or unreadable) is not stored: its item is queued with
the error, and ``item.file`` raises it (the item goes to review, the batch goes on).
``store_files = false`` keeps plain local paths (one machine, or a shared folder).
``prune`` forgets the content of items done (or cancelled) longer than the retention period.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, bindparam, delete, exc, exists, func, insert, select, update

from .. import private
from . import rows as q
from .models import CANCELLED, DONE, Item
from .schema import files, item_files, items

MB = 1024 * 1024
BATCH_BYTES = 32 * MB  # contents stored per transaction while a source queues
# A content stored this recently is never deleted as unreferenced: its item may be being
# queued right now (stored first, linked in the item's own transaction).
ORPHAN_GRACE = timedelta(hours=1)


@dataclass(frozen=True)
class Pruned:
    """What ``prune`` removed."""

    items: int  # items whose files were forgotten
    files: int  # contents deleted
    bytes: int


def queue_items(
    store: Any,
    queue: str,
    work_items: Iterable[Any],
    settings: Any,
    *,
    by: str | None = None,
    priority: int = 0,
) -> tuple[list[Item], list[Item]]:
    """Queue a source's work items (``WorkItem``: reference, payload with ``file`` and/or
    ``files``); with ``settings.store_files`` their files' content goes with them.
    Returns ``(added, existing)`` as ``Store.add_many``."""
    work_items = list(work_items)
    specs = [_spec(i) | ({"priority": priority} if priority else {}) for i in work_items]
    if not getattr(settings, "store_files", True):
        return store.add_many(queue, specs, by=by)
    with store._read() as conn:
        known = q.existing(conn, queue, [s["reference"] for s in specs])
    limit = float(getattr(settings, "max_file_mb", 25.0))
    links: dict[str, list[dict]] = {}
    pending: dict[str, bytes] = {}  # contents read, stored in batches
    for spec in specs:
        if spec["reference"] in known or spec["reference"] in links:
            continue  # already queued: its files were stored then
        payload = spec["payload"]
        if payload.get("input_error"):
            continue  # refused by the source already (a link out of the input folder)
        try:
            links[spec["reference"]] = [
                {"position": pos, "source": path, **_read(path, limit, pending)}
                for pos, path in _paths(payload)
            ]
        except FileRefused as error:
            spec["payload"] = {**payload, "input_error": str(error)}
        if sum(map(len, pending.values())) > BATCH_BYTES:
            _store(store, pending)
    _store(store, pending)

    def link(conn: Any, ids: Mapping[str, int]) -> None:
        rows = [
            {"item_id": ids[ref], **entry}
            for ref, entries in links.items()
            if ref in ids
            for entry in entries
        ]
        if rows:
            conn.execute(insert(item_files), rows)

    return store.add_many(queue, specs, by=by, on_added=link)


class FileRefused(Exception):
    """A file that cannot travel with its item (too large, unreadable)."""


def _spec(item: Any) -> dict:
    payload = dict(item.payload or {})
    paths = [path for _, path in _paths(payload)] if not payload.get("input_error") else []
    return {"reference": item.reference, "payload": payload, "files": paths}


def _paths(payload: Mapping[str, Any]) -> list[tuple[int, str]]:
    """The item's files as (position, path): -1 for ``file``, n for ``files[n]``."""
    found = [(-1, str(payload["file"]))] if payload.get("file") else []
    listed = payload.get("files") or []
    if isinstance(listed, str | os.PathLike):
        listed = [listed]
    return found + [(n, str(path)) for n, path in enumerate(listed) if path]


def _read(path: str, limit_mb: float, pending: dict[str, bytes]) -> dict:
    """Read one file for the queue (into ``pending``, by sha256); its link fields."""
    source = Path(path)
    name = source.name
    try:
        size = source.stat().st_size
        if size > limit_mb * MB:
            raise FileRefused(
                f"{name} is {size / MB:.1f} MB, over the {limit_mb:g} MB limit per queued file: "
                "raise max_file_mb (DESKHAND_MAX_FILE_MB) or split the document"
            )
        content = source.read_bytes()
    except OSError as error:
        raise FileRefused(
            f"cannot read {name} to queue it ({error.strerror or error}): check the input folder"
        ) from None
    digest = hashlib.sha256(content).hexdigest()
    pending[digest] = content
    return {"name": name, "sha256": digest, "size": len(content)}


def _store(store: Any, pending: dict[str, bytes]) -> None:
    """Store each content once, in one transaction (made durable by the items' own, which
    follows it); ``pending`` is emptied."""
    if not pending:
        return
    now = q.utc(None)
    for attempt in range(3):
        try:
            with store._write() as conn:
                for digest, content in pending.items():
                    # Storing it again marks it recent: a prune now keeps it (ORPHAN_GRACE).
                    touched = conn.execute(
                        update(files).where(files.c.sha256 == digest).values(created_at=now)
                    ).rowcount
                    if not touched:
                        row = {"sha256": digest, "content": content, "size": len(content)}
                        conn.execute(insert(files), row | {"created_at": now})
            break
        except exc.IntegrityError:  # another source stored one of them first: again
            if attempt == 2:
                raise
    pending.clear()


_LINKS = (
    select(item_files)
    .where(item_files.c.item_id == bindparam("item_id"))
    .order_by(item_files.c.position)
)
_CONTENT = select(files.c.content).where(files.c.sha256 == bindparam("sha256"))


def local_copy(store: Any, item: Item, folder: Path) -> Item:
    """The item with its stored files copied (read-only) under ``folder/<item id>/`` and its
    payload's ``file``/``files`` pointing at the copies. An item without stored files is
    returned as it is; a content gone (pruned) sets the payload's ``input_error``."""
    with store._read() as conn:
        links = conn.execute(_LINKS, {"item_id": item.id}).all()
    if not links:
        return item
    payload = dict(item.payload or {})
    listed = list(payload.get("files") or [])
    used: set[str] = set()
    for link in links:
        if link.sha256 is None:
            payload["input_error"] = (
                f"{link.name} is no longer in the queue database (its files were pruned "
                "after the retention period): queue the document again"
            )
            continue
        name = _safe_name(link.name, link.position)
        target = folder / str(item.id) / (name if name not in used else f"{link.position}-{name}")
        used.add(target.name)
        try:
            _write_copy(store, link.sha256, target)
        except FileRefused as error:
            payload["input_error"] = f"{error}: queue the document again"
            continue
        if link.position < 0:
            payload["file"] = str(target)
        elif link.position < len(listed):
            listed[link.position] = str(target)
    if listed:
        payload["files"] = listed
    return replace(item, payload=payload)


def _write_copy(store: Any, digest: str, target: Path) -> None:
    if target.is_file() and _sha256(target) == digest:
        return  # an earlier attempt in this run copied it already
    with store._read() as conn:
        content = conn.execute(_CONTENT, {"sha256": digest}).scalar()
    if content is None or hashlib.sha256(content).hexdigest() != digest:
        raise FileRefused(f"the stored content of {target.name} is missing or damaged")
    private.make_dirs(target.parent)
    if target.exists():
        target.chmod(stat.S_IRUSR | stat.S_IWUSR)
        target.unlink()
    private.create(target)
    target.write_bytes(content)
    target.chmod(stat.S_IRUSR if private.enabled() else 0o444)  # a copy to read, not to edit


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _safe_name(name: str, position: int) -> str:
    """The original name as a plain file name (no folders, no '..')."""
    cleaned = Path(str(name).replace("\\", "/")).name.strip()
    if cleaned in ("", ".", ".."):
        return f"file-{position + 1}"
    return cleaned


def prune(store: Any, older_than_days: float, now: datetime | None = None) -> Pruned:
    """Forget the files of items done or cancelled more than ``older_than_days`` ago, and
    delete every stored content no item holds any more."""
    now = q.utc(now)
    cutoff = now - timedelta(days=older_than_days)
    finished = select(items.c.id).where(
        items.c.status.in_((DONE, CANCELLED)), items.c.updated_at < cutoff
    )
    held = and_(item_files.c.item_id.in_(finished), item_files.c.sha256.is_not(None))
    unused = and_(
        ~exists().where(item_files.c.sha256 == files.c.sha256),
        files.c.created_at < now - ORPHAN_GRACE,
    )
    with store._write(durable=True) as conn:
        count = conn.execute(select(func.count(func.distinct(item_files.c.item_id))).where(held))
        pruned_items = count.scalar() or 0
        conn.execute(update(item_files).where(held).values(sha256=None))
        size = conn.execute(select(func.count(), func.sum(files.c.size)).where(unused)).one()
        conn.execute(delete(files).where(unused))
    return Pruned(pruned_items, size[0] or 0, int(size[1] or 0))
