"""``deskhand selectors check NAME --url URL``: which selectors of a repository still resolve on
a live page, and uniquely (the checks themselves: :func:`deskhand.selectors.check_page`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..selectors import SelectorRepository, check_page, format_checks
from . import project_root


def register(sub: Any) -> argparse.ArgumentParser:
    """``selectors`` and its actions."""
    add_arguments(sub)
    return sub.choices["selectors"]


def run(args: argparse.Namespace) -> int:
    """Execute the parsed ``selectors`` action (``check``)."""
    return run_check(args, project_root())


def add_arguments(subparsers: Any) -> None:
    """Add ``selectors check NAME --url URL`` to the command line's sub-commands."""
    parser = subparsers.add_parser("selectors", help="check a selector repository on a live page")
    commands = parser.add_subparsers(
        dest="selectors_command", required=True, parser_class=type(parser)
    )
    check = commands.add_parser(
        "check", help="which selectors of selectors/NAME.yaml still resolve, and uniquely"
    )
    check.add_argument("name", metavar="NAME", help="the repository selectors/NAME.yaml")
    check.add_argument("--url", required=True, help="the live page to check the selectors on")
    check.add_argument("--timeout", type=float, default=10.0, help="seconds to load the page")


def run_check(args: Any, root: Path, browser: Any = None) -> int:
    """``selectors check NAME --url URL``: print how each element's selectors fare on the
    live page. 0 when every element found resolves by its first choice; 1 when some element
    resolves only by a fallback or is ambiguous. An element not found is only reported: the
    page may not show it now (an error box), or it belongs to another page of the group.
    ``browser``: a started :class:`deskhand.web.Browser` to use instead of a new one."""
    from ..web import Browser

    repo = SelectorRepository.load(Path(root) / "selectors" / f"{args.name}.yaml")
    own = browser is None
    if own:
        browser = Browser(headless=True).start()
    try:
        context = browser.new_context(timeout_ms=int(args.timeout * 1000))
        try:
            page = context.new_page()
            try:
                page.goto(args.url, wait_until="load")
            except Exception as exc:
                first = str(exc).strip().splitlines()[0]
                raise ConfigError(f"cannot open {args.url}: {first}") from None
            results = check_page(repo, page)
            url = page.url
        finally:
            context.close()
    finally:
        if own:
            browser.close()
    print(f"selectors/{repo.name}.yaml on {url}")
    for line in format_checks(results, repo):
        print(line)
    statuses = [r.status for r in results]
    print(", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses)))
    return 1 if any(s in ("fallback", "ambiguous") for s in statuses) else 0
