"""Bot definition and discovery.

A bot is a module in ``bots/`` holding one :class:`Bot`; the file name is the bot's name::

    bot = Bot("invoice_entry", selectors="legacy_ap", max_attempts=3)

    @bot.source
    def incoming(ctx): ...          # yields work items

    @bot.process
    def key_invoice(item, ctx): ... # runs one item through its steps

    @bot.setup
    def log_in(ctx): ...            # once a run, before its first item (optional)

    @bot.teardown
    def log_out(ctx): ...           # once a run, after its last item, even a failed one
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BusinessError, ConfigError


class _Resume:
    """What a reconcile returns when the target holds some of an item's records but not all
    (a bot with several points of no return: an order saved, its mails not yet sent)."""

    def __repr__(self) -> str:
        return "RESUME"


RESUME = _Resume()
"""``return RESUME`` from a ``@bot.reconcile``: the records found so far are confirmed and the
process runs again to do the rest (its steps look in the target before acting)."""


@dataclass
class WorkItem:
    """One unit of work: a reference unique within the bot's queue, and its payload."""

    reference: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def file(self) -> Path | None:
        """The item's document, when it has one; a BusinessError (the item goes to review)
        when its source found it to be a link out of the input folder."""
        if self.payload.get("input_error"):
            raise BusinessError(self.payload["input_error"])
        value = self.payload.get("file")
        return Path(value) if value else None

    @property
    def files(self) -> list[Path]:
        """All the item's documents (``file`` first, then ``files``): on a runner, the local
        read-only copies of what the source queued (deskhand.queue.files)."""
        first = self.file
        listed = self.payload.get("files") or []
        listed = [listed] if isinstance(listed, str) else listed
        return ([first] if first else []) + [Path(p) for p in listed if p]

    @property
    def label(self) -> str:
        """What a person calls this item: its name or file name, else its reference."""
        value = self.payload.get("file")
        name = self.payload.get("name") or (Path(value).name if value else None)
        return str(name or self.reference)

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.payload.get(key, default)


@dataclass
class Bot:
    """A bot: where its work comes from (source) and what it does with each item (process)."""

    name: str
    queue: str | None = None
    selectors: str | None = None
    max_attempts: int = 3
    retry_delay: float = 2.0
    description: str = ""
    settings: dict[str, Any] = field(default_factory=dict)
    requires: tuple[str, ...] = ()  # settings it cannot run without ("input", "target"):
    # checked before anything is queued or claimed
    reads: str | None = None  # the kind of document its items' files are ("invoice"): a web
    # bot's first item has them read (cached) while the browser starts (deskhand.web.session)
    _source: Callable[..., Iterable[WorkItem]] | None = field(default=None, repr=False)
    _process: Callable[..., Any] | None = field(default=None, repr=False)
    _reconcile: Callable[..., Any] | None = field(default=None, repr=False)
    _setup: Callable[..., Any] | None = field(default=None, repr=False)
    _teardown: Callable[..., Any] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.queue = self.queue or self.name
        self.requires = (self.requires,) if isinstance(self.requires, str) else self.requires
        if self.max_attempts < 1:
            raise ConfigError(f"bot {self.name}: max_attempts must be at least 1")

    def source(self, fn: Callable[..., Iterable[WorkItem]]) -> Callable[..., Iterable[WorkItem]]:
        """Decorator: the function that yields this bot's work items from ``ctx``."""
        self._source = fn
        return fn

    def process(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: the function that runs one item, ``fn(item, ctx)``."""
        self._process = fn
        return fn

    def reconcile(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``fn(item, ctx, checkpoint)`` asks the target whether an earlier
        attempt's point of no return already happened (``checkpoint["data"]`` is what the
        step was given). Return the output (e.g. ``ctx.done(record=...)``) when it did, None
        when it did not (then the item is processed again).

        It also confirms an outcome an earlier attempt recorded (``checkpoint["outcome"]``)
        before the item is completed with it; None then sends the item to review. A bot with
        several points of no return returns ``deskhand.RESUME`` when the target holds some of
        the item's records but not all: the process runs again and does the rest."""
        self._reconcile = fn
        return fn

    def setup(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``fn(ctx)`` runs once a run, right before its first item is processed
        (a run with nothing to do never calls it): log in, open a program. If it raises, the
        run ends with that error and no item is processed: the item claimed for it goes back
        to the queue untouched (its attempt undone), as do all the others."""
        self._setup = fn
        return fn

    def teardown(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Decorator: ``fn(ctx)`` runs once a run, after its last item, whenever the run got
        as far as its setup: also when an item failed, the run was stopped or interrupted
        (Ctrl-C), or a later step of the runner failed. Not after a setup that raised. An
        error in it is logged and does not change any item's outcome."""
        self._teardown = fn
        return fn

    @property
    def summary(self) -> str:
        return self.description.strip().splitlines()[0] if self.description.strip() else ""


def bots_dir(root: Path) -> Path:
    return Path(root) / "bots"


def list_bots(root: Path) -> list[str]:
    """Names of the bots in ``root/bots`` (every module not starting with '_')."""
    folder = bots_dir(root)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.py") if not p.stem.startswith("_"))


def load_bot(name: str, root: Path) -> Bot:
    """Import ``bots/<name>.py`` and return its Bot; a ConfigError says what is wrong."""
    path = bots_dir(root) / f"{name}.py"
    if not name.isidentifier() or not path.is_file():
        known = ", ".join(list_bots(root)) or "none"
        raise ConfigError(f"unknown bot '{name}': no bots/{name}.py (bots here: {known})")
    module_name = f"deskhand_bots.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    found = [v for v in vars(module).values() if isinstance(v, Bot)]
    if len(found) != 1:
        raise ConfigError(f"bots/{name}.py must define exactly one Bot (found {len(found)})")
    bot = found[0]
    if bot._process is None:
        raise ConfigError(f"bot {bot.name} has no @bot.process function")
    if not bot.description and module.__doc__:
        bot.description = module.__doc__
    return bot
