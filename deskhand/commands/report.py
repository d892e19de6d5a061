"""``deskhand report RUN_DIR``: render a run's report.html again from its log."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..errors import ConfigError

HELP = "render a run's report.html again from its log"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``RUN_DIR``: the run folder."""
    parser.add_argument("run_dir", metavar="RUN_DIR")


def run(args: argparse.Namespace) -> int:
    """Write the report; print its path."""
    from ..report import render_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "steps.jsonl").is_file():
        raise ConfigError(f"{run_dir} has no steps.jsonl: pass a run folder logs/<bot>/<run-id>")
    print(render_report(run_dir))
    return 0
