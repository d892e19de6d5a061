"""python -m demo.legacy_app --port 8765 --db PATH [--faults SPEC] [--variant shifted]"""

import argparse

from demo.legacy_app.app import serve
from demo.legacy_app.faults import parse_faults
from demo.legacy_app.variants import VARIANTS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.legacy_app", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (8765)")
    parser.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument(
        "--faults",
        metavar="SPEC",
        help="inject faults, e.g. error=0.1,lost=0.1,latency=0.2:1.5,expire=7,modal=0.2,"
        "slow=0.5,seed=42 (see demo/legacy_app/faults.py)",
    )
    parser.add_argument(
        "--variant",
        choices=VARIANTS,
        default="normal",
        help="shifted: every id and class renamed, names and texts kept (normal)",
    )
    args = parser.parse_args()
    try:
        parse_faults(args.faults)
    except ValueError as exc:
        parser.error(str(exc))  # exit 2, one line
    serve(args.port, args.db, args.host, faults=args.faults, variant=args.variant)


if __name__ == "__main__":
    main()
