"""``deskhand demo-app``: serve the bundled legacy web app (see :mod:`demo.legacy_app`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError

NAME = "demo-app"
HELP = "serve the bundled legacy web app"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Where to listen, where to keep the records, what to break."""
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--db", default="logs/demo-app.db", help="SQLite file for its records")
    parser.add_argument("--faults", help="inject faults, e.g. error=0.1,lost=0.05,expire=7,seed=1")
    parser.add_argument(
        "--variant",
        default="normal",
        choices=["normal", "shifted"],
        help="shifted: the same app with other ids and classes",
    )


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from demo.legacy_app.app import serve
    from demo.legacy_app.faults import parse_faults

    if args.faults:
        try:
            parse_faults(args.faults)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    Path(args.db).parent.mkdir(parents=True, exist_ok=True)
    serve(args.port, args.db, args.host, faults=args.faults, variant=args.variant)
    return 0
