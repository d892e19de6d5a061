"""Secrets by name. Every secret value handed out is registered for masking in the current
run (see :mod:`deskhand.masking`), so it never reaches steps.jsonl, bot.log, the report, a
trace, the queue, an alert or an exception message, in any encoding.

``vault.get("legacy_ap")`` looks in three places; the first that has the name wins:

1. the environment: ``DESKHAND_SECRET_LEGACY_AP``, a JSON object
   (``{"username": "clerk", "password": "..."}``) or a plain string (``{"value": ...}``);
2. the encrypted vault file ``<project>/.deskhand/vault.enc`` (or ``$DESKHAND_VAULT_FILE``),
   Fernet-encrypted with the key in ``$DESKHAND_VAULT_KEY``;
3. the system keyring (service ``deskhand``), where the machine has one.

``run_bot.py vault set|list|delete`` manages the file (or, with ``--keyring``, the keyring);
``set`` reads the secret from a prompt or from standard input, never the command line.
User names (keys ``username``, ``user``, ``login``, ``email``) are identities that a review
needs, so they are not masked; every other value is.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TextIO

from . import private
from .errors import ConfigError
from .masking import MASK, register

_IDENTITY_KEYS = {"username", "user", "login", "email"}
KEY_VAR = "DESKHAND_VAULT_KEY"
FILE_VAR = "DESKHAND_VAULT_FILE"
KEYRING_SERVICE = "deskhand"
_KEYRING_INDEX = "__deskhand_secret_names__"  # keyrings cannot list; we keep the names
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
MIN_LENGTH = 3  # shorter values cannot be masked without masking ordinary text


class Secret(Mapping[str, str]):
    """A named set of secret values; its repr never shows them."""

    def __init__(self, name: str, values: dict[str, str], source: str = "env") -> None:
        self.name = name
        self.source = source  # env, file or keyring
        self._values = values

    def __getitem__(self, key: str) -> str:
        try:
            return self._values[key]
        except KeyError:
            raise ConfigError(f"secret '{self.name}' has no '{key}'") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def __repr__(self) -> str:
        return f"Secret({self.name!r}, keys={sorted(self._values)}, values={MASK})"

    __str__ = __repr__


def env_name(name: str) -> str:
    return "DESKHAND_SECRET_" + name.upper().replace("-", "_")


def get(name: str) -> Secret:
    """The secret called ``name``; a ConfigError that says how to set it when missing."""
    found = _lookup(name)
    if found is None:
        var = env_name(name)
        hint = ""
        path = vault_file()
        if path is not None and path.exists() and not os.environ.get(KEY_VAR):
            hint = f" ({path} exists but {KEY_VAR} is not set)"
        raise ConfigError(
            f"secret '{name}' not found{hint}: run `run_bot.py vault set {name}` "
            f'or set {var}=\'{{"username": ..., "password": ...}}\''
        )
    source, data = found
    for key, value in data.items():
        if key not in _IDENTITY_KEYS:
            register(value)  # into the current run's registry (see deskhand.masking)
    return Secret(name, data, source)


def _lookup(name: str) -> tuple[str, dict[str, str]] | None:
    raw = os.environ.get(env_name(name))
    if raw is not None:
        return "env", _parse(raw, env_name(name))
    if os.environ.get(KEY_VAR) and (path := vault_file()) is not None and path.exists():
        stored = _read_file(path).get(name)
        if stored is not None:
            return "file", _checked(stored, f"{name} in {path}")
    raw = _keyring_get(name)
    if raw is not None:
        return "keyring", _parse(raw, f"{name} in the keyring")
    return None


def _parse(raw: str, where: str) -> dict[str, str]:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        data = {"value": raw}
    if not isinstance(data, dict):
        data = {"value": raw}
    return _checked(data, where)


def _checked(data: object, where: str) -> dict[str, str]:
    if not isinstance(data, dict) or not data or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{where} must be a JSON object of strings or a plain string")
    for key, value in data.items():
        if key not in _IDENTITY_KEYS and len(value) < MIN_LENGTH:
            raise ConfigError(
                f"{where}: '{key}' is shorter than {MIN_LENGTH} characters, "
                "too short to mask in the logs: use a longer secret"
            )
    return dict(data)


# -- the encrypted file -------------------------------------------------------------------


def vault_file(root: Path | None = None) -> Path | None:
    """``$DESKHAND_VAULT_FILE``, else ``<root>/.deskhand/vault.enc`` (root: the project
    folder above the current one); None outside a project."""
    if os.environ.get(FILE_VAR):
        return Path(os.environ[FILE_VAR])
    if root is None:
        from .config import find_root

        try:
            root = find_root()
        except ConfigError:
            return None
    return Path(root) / ".deskhand" / "vault.enc"


def _fernet():
    from cryptography.fernet import Fernet

    key = os.environ.get(KEY_VAR)
    if not key:
        raise ConfigError(
            f'{KEY_VAR} is not set: make a key with `python -c "from cryptography.fernet '
            f'import Fernet; print(Fernet.generate_key().decode())"` and keep it safe'
        )
    try:
        return Fernet(key.strip().encode())
    except (ValueError, TypeError):
        raise ConfigError(
            f"{KEY_VAR} is not a Fernet key (44 characters of url-safe base64): make a new one"
        ) from None


def _read_file(path: Path) -> dict[str, dict[str, str]]:
    from cryptography.fernet import InvalidToken

    if not path.exists():
        return {}
    try:
        data = json.loads(_fernet().decrypt(path.read_bytes()))
    except InvalidToken:
        raise ConfigError(
            f"{path} cannot be decrypted with {KEY_VAR}: wrong key, or the file is damaged"
        ) from None
    return data.get("secrets", {})


def _write_file(path: Path, secrets: dict[str, dict[str, str]]) -> None:
    token = _fernet().encrypt(json.dumps({"secrets": secrets}).encode())
    private.make_dirs(path.parent)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(token)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)


# -- the keyring --------------------------------------------------------------------------


def _keyring_get(name: str) -> str | None:
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, name)
    except Exception:  # no usable keyring on this machine (a server, no D-Bus): not there
        return None


def _keyring():
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.get_password(KEYRING_SERVICE, _KEYRING_INDEX)
    except KeyringError as exc:
        raise ConfigError(
            f"no system keyring here ({type(exc).__name__}): set {KEY_VAR} and use the "
            "vault file instead (without --keyring)"
        ) from None
    return keyring


def _keyring_names(keyring) -> list[str]:
    return json.loads(keyring.get_password(KEYRING_SERVICE, _KEYRING_INDEX) or "[]")


# -- managing: run_bot.py vault set|list|delete -------------------------------------------


def store(name: str, values: dict[str, str], keyring: bool = False, root: Path | None = None):
    """Save a secret in the vault file (or the keyring); it replaces one of the same name."""
    _check_name(name)
    values = _checked(values, f"secret '{name}'")
    if keyring:
        ring = _keyring()
        ring.set_password(KEYRING_SERVICE, name, json.dumps(values))
        names = sorted(set(_keyring_names(ring)) | {name})
        ring.set_password(KEYRING_SERVICE, _KEYRING_INDEX, json.dumps(names))
        return
    path = _file_for_writing(root)
    secrets = _read_file(path)
    secrets[name] = values
    _write_file(path, secrets)


def remove(name: str, keyring: bool = False, root: Path | None = None) -> None:
    """Delete a secret from the vault file (or the keyring); ConfigError when absent."""
    if keyring:
        ring = _keyring()
        if ring.get_password(KEYRING_SERVICE, name) is None:
            raise ConfigError(f"secret '{name}' is not in the keyring")
        ring.delete_password(KEYRING_SERVICE, name)
        names = [n for n in _keyring_names(ring) if n != name]
        ring.set_password(KEYRING_SERVICE, _KEYRING_INDEX, json.dumps(names))
        return
    path = _file_for_writing(root)
    secrets = _read_file(path)
    if name not in secrets:
        raise ConfigError(f"secret '{name}' is not in {path}")
    del secrets[name]
    _write_file(path, secrets)


def names(root: Path | None = None) -> list[tuple[str, str, list[str]]]:
    """Every secret this machine can hand out: (name, source, keys); values never."""
    found = []
    for var in sorted(os.environ):
        if var.startswith("DESKHAND_SECRET_"):
            data = _parse(os.environ[var], var)
            found.append((var[len("DESKHAND_SECRET_") :].lower(), "env", sorted(data)))
    path = vault_file(root)
    if os.environ.get(KEY_VAR) and path is not None:
        found += [(n, "file", sorted(v)) for n, v in sorted(_read_file(path).items())]
    try:
        import keyring

        for name in _keyring_names(keyring):
            raw = keyring.get_password(KEYRING_SERVICE, name)
            if raw is not None:
                found.append((name, "keyring", sorted(_parse(raw, name))))
    except Exception:
        pass  # no keyring on this machine
    return found


def _file_for_writing(root: Path | None) -> Path:
    path = vault_file(root)
    if path is None:
        raise ConfigError(f"no project here to keep the vault file in: set {FILE_VAR}")
    _fernet()  # the key is checked before anything is asked or written
    return path


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ConfigError(
            f"bad secret name {name!r}: use letters, digits, '_' and '-', starting with a letter"
        )


def add_arguments(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``vault`` and its actions; sub-parsers take the caller's parser class."""
    parser = subparsers.add_parser("vault", help="store secrets: set, list, delete")
    actions = parser.add_subparsers(dest="vault_command", required=True, metavar="ACTION")
    put = actions.add_parser("set", help="store a secret (asked for, or read from stdin)")
    put.add_argument("name")
    put.add_argument(
        "--keys",
        default="username,password",
        help="the keys to ask for (default username,password; 'value' for a single value)",
    )
    put.add_argument("--keyring", action="store_true", help="in the system keyring")
    actions.add_parser("list", help="the secrets' names, sources and keys (never values)")
    drop = actions.add_parser("delete", help="delete a secret")
    drop.add_argument("name")
    drop.add_argument("--keyring", action="store_true", help="from the system keyring")
    return parser


def run(
    args: argparse.Namespace, root: Path, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """Execute the parsed ``vault`` command for the project at ``root``."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    where = "the keyring" if getattr(args, "keyring", False) else None
    if args.vault_command == "set":
        _check_name(args.name)
        if not args.keyring:
            _file_for_writing(root)
        values = _ask(args.keys, stdin) if stdin.isatty() else _read_stdin(args.name, stdin)
        store(args.name, values, args.keyring, root)
        print(f"secret '{args.name}' saved in {where or vault_file(root)}", file=out)
    elif args.vault_command == "delete":
        remove(args.name, args.keyring, root)
        print(f"secret '{args.name}' deleted from {where or vault_file(root)}", file=out)
    else:
        rows = names(root)
        for name, source, keys in rows:
            print(f"{name:24} {source:8} {', '.join(keys)}", file=out)
        path = vault_file(root)
        if path is not None and path.exists() and not os.environ.get(KEY_VAR):
            print(f"({path} is there, but {KEY_VAR} is not set: its secrets are unread)", file=out)
        elif not rows:
            print("no secrets (run_bot.py vault set NAME)", file=out)
    return 0


def _read_stdin(name: str, stdin: TextIO) -> dict[str, str]:
    raw = stdin.read().strip()
    if not raw:
        raise ConfigError(
            f"no secret on standard input: pipe a JSON object, e.g. `run_bot.py vault set "
            f"{name} < secret.json`, or run it on a terminal to be asked"
        )
    return _parse(raw, f"secret '{name}'")


def _ask(keys: str, stdin: TextIO) -> dict[str, str]:
    values = {}
    for key in [k.strip() for k in keys.split(",") if k.strip()]:
        if key in _IDENTITY_KEYS:
            print(f"{key}: ", end="", flush=True)
            value = stdin.readline().strip()
        else:
            value = getpass.getpass(f"{key}: ")
            if getpass.getpass(f"{key} again: ") != value:
                raise ConfigError(f"the two {key}s differ: nothing saved")
        if value:
            values[key] = value
    return values
