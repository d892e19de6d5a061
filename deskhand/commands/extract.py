"""``deskhand extract FILE... [--kind] [--template] [--json] [--password-...]``: read
documents from the command line.

With ``--json`` each file prints one object, as ``Document.to_dict()`` (see the README); a file
that cannot be read prints the same shape with ``errors`` and the batch goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import ConfigError, DeskhandError
from ..logs import mask, register_secret


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``extract``; the sub-parser takes the caller's parser class."""
    extract = subparsers.add_parser("extract", help="read documents and print their fields")
    extract.add_argument("files", nargs="+", metavar="FILE")
    extract.add_argument("--kind", default="invoice", choices=["invoice", "receipt"])
    extract.add_argument("--template", help="use templates/NAME.yaml instead of recognising one")
    extract.add_argument("--json", action="store_true", help="one JSON object per file")
    secret = extract.add_mutually_exclusive_group()  # never the password itself: ps shows it
    secret.add_argument("--password-env", metavar="NAME", help="PDF password from variable NAME")
    secret.add_argument("--password-stdin", action="store_true", help="PDF password from stdin")
    secret.add_argument("--password-secret", metavar="NAME", help="PDF password: vault secret")
    secret.add_argument("--password", nargs="?", const="", help=argparse.SUPPRESS)
    return extract


def run(args: argparse.Namespace) -> int:
    """Read every file; one JSON object (--json) or a short listing per file. Exit 1 when
    any file could not be read, 2 for a bad command line (ConfigError)."""
    from .. import documents  # not at start-up: every command builds this parser

    password = _extract_password(args)
    failed = 0
    for name in args.files:
        try:
            options = {"template": args.template} if args.template else {}
            doc = documents.extract(Path(name), kind=args.kind, password=password, **options)
            data = doc.to_dict()
        except Exception as exc:  # noqa: BLE001 - one file's failure never stops the batch
            failed += 1
            if not isinstance(exc, DeskhandError):
                exc = DeskhandError(f"{name} could not be read ({type(exc).__name__}: {exc})")
            data = {
                "file": name,
                "kind": args.kind,
                "template": None,
                "fields": {},
                "lines": [],
                "tables": [],
                "errors": [mask(str(exc))],
            }
        if args.json:
            print(json.dumps(data, ensure_ascii=False), flush=True)
        else:
            _print_document(data)
    return 1 if failed else 0


def _extract_password(args: argparse.Namespace) -> str | None:
    """The password for encrypted PDFs, from where the user said; never from the command
    line itself (ps and the shell's history would show it)."""
    if args.password is not None:
        raise ConfigError(
            "--password is not accepted: a password on the command line shows in ps and the "
            "shell's history; use --password-env NAME, --password-stdin or --password-secret NAME"
        )
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            state = "is empty" if password == "" else "is not set"
            raise ConfigError(
                f"--password-env: environment variable {args.password_env} {state}: "
                "set it to the PDF's password, or use --password-stdin"
            )
    elif args.password_stdin:
        password = _password_from_stdin()
    elif args.password_secret:
        from .. import vault

        secret = vault.get(args.password_secret)  # a ConfigError saying how to set it
        keys = set(secret)  # (not `in secret`: a Secret raises for a key it lacks)
        password = secret["value" if keys == {"value"} else "password"]
    else:
        return None
    register_secret(password)  # masked wherever it might be logged
    return password


def _password_from_stdin() -> str:
    """Asked for on a terminal (not echoed), else read from the pipe: `... < password.txt`."""
    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass("PDF password: ")
    else:
        password = sys.stdin.read().rstrip("\r\n")
    if not password:
        raise ConfigError("--password-stdin: no password on standard input")
    return password


def _print_document(data: dict) -> None:
    print(f"== {data['file']}")
    for error in data.get("errors", []):
        print(f"   error: {error}")
    for name, field in data.get("fields", {}).items():
        print(f"   {name:16} {field['value']!s:40} ({field['confidence']:.2f}, {field['rule']})")
    for n, line in enumerate(data.get("lines", []), 1):
        cells = "  ".join(str(line[k]["value"]) for k in line)
        print(f"   line {n}: {cells}")
