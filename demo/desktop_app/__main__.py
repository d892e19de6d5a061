"""python -m demo.desktop_app --db PATH [--scale 1.25] [--position 0,0]"""

import argparse

from demo.desktop_app.app import main as run_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m demo.desktop_app", description=__doc__)
    parser.add_argument("--db", required=True, help="SQLite database file (created if missing)")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="enlarge fonts and widgets, e.g. 1.25 (1.0)"
    )
    parser.add_argument("--position", default="0,0", help="x,y of the window on screen (0,0)")
    args = parser.parse_args()
    if not 0.5 <= args.scale <= 3:
        parser.error("--scale must be between 0.5 and 3")
    try:
        x, y = (int(v) for v in args.position.split(","))
    except ValueError:
        parser.error("--position must be x,y, e.g. 0,0")
    run_app(args.db, args.scale, (x, y))


if __name__ == "__main__":
    main()
