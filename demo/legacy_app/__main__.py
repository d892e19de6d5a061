"""python -m demo.legacy_app --port 8765 --db PATH"""

import argparse

from demo.legacy_app.app import serve


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.legacy_app", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="port to listen on (8765)")
    parser.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    args = parser.parse_args()
    serve(args.port, args.db, args.host)


if __name__ == "__main__":
    main()
