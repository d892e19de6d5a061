"""``deskhand demo [JOB]``: start the demo app and run a demo bot on the samples.

The demo (the ``demo`` package: the legacy app, the sample documents, the other jobs) is
installed with deskhand; its bots run from the project around the working folder when it
has them (this repository), else from the demo project that ``deskhand demo`` writes into
``./deskhand-demo`` from the copy pip installed (see :func:`demo_root`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from ..errors import ConfigError

DEMO_FOLDER = "deskhand-demo"
SHARED = Path("share", "deskhand", "demo-project")  # pyproject.toml's data-files

HELP = "start the demo app and run invoice_entry on the samples"
JOBS = ("invoice_entry", "order_entry", "reconcile_balances", "file_documents")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``[JOB]``, ``--headed``, ``--trace``."""
    parser.add_argument("job", nargs="?", default="invoice_entry", choices=JOBS)  # demo/jobs.py
    parser.add_argument("--headed", action="store_true", help="show the browser")
    parser.add_argument("--trace", action="store_true", help="record a Playwright trace.zip")


def run(args: argparse.Namespace) -> int:
    """Run the demo job from an empty system; the run's exit code."""
    from demo.data import DEMO_PASSWORD, DEMO_USER
    from demo.server import demo_app

    from ..config import load_settings
    from ..vault import env_name
    from . import load_bot
    from .run import execute

    root = demo_root(args.job)
    if args.job != "invoice_entry":
        from demo.jobs import run_job

        return run_job(args.job, root, args.headed, args.trace)
    os.environ.setdefault(
        env_name("legacy_ap"), json.dumps({"username": DEMO_USER, "password": DEMO_PASSWORD})
    )
    bot = load_bot("invoice_entry", root)
    db = root / "logs" / "demo-app.db"
    queue = root / "logs" / "demo-queue.db"
    for old in (db, queue):  # the demo starts from an empty system every time
        for suffix in ("", "-wal", "-shm", "-journal"):  # SQLite replays a leftover WAL
            Path(f"{old}{suffix}").unlink(missing_ok=True)
    with demo_app(root, db) as url:
        print(f"demo app on {url} (database {db.relative_to(root)})", flush=True)
        cli = {
            "input": demo_data() / "documents",
            "target": url,
            "headed": args.headed or None,
            "trace": args.trace or None,
            "db": f"sqlite:///{queue}",
        }
        settings = load_settings(root, bot.settings, cli)
        return execute(bot, settings)


def demo_data() -> Path:
    """The demo package's folder: its documents, accounts, orders and filing inputs."""
    import demo

    return Path(demo.__file__).parent


def demo_root(job: str) -> Path:
    """The project to run the demo bot ``job`` in: the one around the working folder when
    it has that bot (this repository), else ``./deskhand-demo``, written from the demo
    project pip installed when it is not there yet. It goes on ``sys.path``."""
    from ..config import find_root

    try:
        root = find_root()
    except ConfigError:
        root = None
    if root is None or not (root / "bots" / f"{job}.py").is_file():
        root = Path.cwd() / DEMO_FOLDER
        if not (root / "bots" / f"{job}.py").is_file():
            _write_demo_project(root)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return root


def _write_demo_project(root: Path) -> None:
    installed = _installed_project()
    if installed is None:
        raise ConfigError(
            "the demo's bots are not installed here: run the demo from a deskhand checkout, "
            "or install deskhand from its wheel (pip install 'deskhand[demo]')"
        )
    for part in ("bots", "selectors", "templates"):
        shutil.copytree(installed / part, root / part, dirs_exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    print(f"demo project: {root} (its bots, selectors and templates)", flush=True)


def _installed_project() -> Path | None:
    """Where pip put the demo project: under the environment's data folder (a venv, the
    system) or the user's (``pip install --user``)."""
    for scheme in (None, f"{os.name}_user"):
        try:
            data = sysconfig.get_path("data", scheme) if scheme else sysconfig.get_path("data")
        except KeyError:
            continue
        if (Path(data) / SHARED / "bots").is_dir():
            return Path(data) / SHARED
    return None
