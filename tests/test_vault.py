"""The vault: secrets from the environment, an encrypted file and the system keyring (an
in-memory keyring backend set programmatically), managed by `vault set|list|delete`."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys

import keyring
import pytest
from conftest import ROOT
from cryptography.fernet import Fernet
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from deskhand import vault
from deskhand.config import load_settings
from deskhand.errors import ConfigError
from deskhand.logs import mask

PASSWORD = "s3cret-Vault-pw-41"


class MemoryKeyring(KeyringBackend):
    """A keyring in a dict: no D-Bus, nothing left behind."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def ring():
    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(previous)


@pytest.fixture
def vault_file(tmp_path, monkeypatch):
    """A fresh key and vault file; no DESKHAND_SECRET_* from the outside."""
    for var in [v for v in os.environ if v.startswith("DESKHAND_SECRET_")]:
        monkeypatch.delenv(var)
    monkeypatch.setenv(vault.KEY_VAR, Fernet.generate_key().decode())
    monkeypatch.setenv(vault.FILE_VAR, str(tmp_path / "vault.enc"))
    return tmp_path / "vault.enc"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def cli(*argv: str, stdin: io.StringIO | None = None) -> str:
    parser = argparse.ArgumentParser()
    vault.add_arguments(parser.add_subparsers(dest="command"))
    out = io.StringIO()
    assert vault.run(parser.parse_args(argv), root=None, stdin=stdin or io.StringIO(), out=out) == 0
    return out.getvalue()


def test_an_environment_secret_is_masked_but_its_user_name_is_not(monkeypatch):
    value = json.dumps({"username": "clerk-7", "password": PASSWORD})
    monkeypatch.setenv(vault.env_name("env_app"), value)
    secret = vault.get("env_app")
    assert (secret["username"], secret.password, secret.source) == ("clerk-7", PASSWORD, "env")
    assert mask(f"login clerk-7 / {PASSWORD}") == "login clerk-7 / ********"
    assert PASSWORD not in repr(secret) and PASSWORD not in str(secret)
    with pytest.raises(ConfigError, match="secret 'env_app' has no 'token'"):
        secret["token"]


def test_the_encrypted_file_set_list_get_delete(vault_file):
    piped = io.StringIO(json.dumps({"username": "clerk", "password": PASSWORD}))
    assert cli("vault", "set", "legacy-file", stdin=piped).startswith("secret 'legacy-file' saved")
    cli("vault", "set", "api_token", stdin=io.StringIO("tok-file-9912\n"))

    raw = vault_file.read_bytes()
    assert PASSWORD.encode() not in raw and b"legacy-file" not in raw  # names hidden too
    assert oct(vault_file.stat().st_mode & 0o777) == "0o600"
    listing = cli("vault", "list")
    assert "legacy-file" in listing and "password, username" in listing and "file" in listing
    assert PASSWORD not in listing and "tok-file-9912" not in listing

    secret = vault.get("legacy-file")
    assert (secret["username"], secret["password"], secret.source) == ("clerk", PASSWORD, "file")
    assert vault.get("api_token")["value"] == "tok-file-9912"
    assert mask(f"pw={PASSWORD}") == "pw=********"

    cli("vault", "delete", "legacy-file")
    with pytest.raises(ConfigError, match="secret 'legacy-file' not found: run `run_bot.py"):
        vault.get("legacy-file")
    with pytest.raises(ConfigError, match="secret 'legacy-file' is not in "):
        cli("vault", "delete", "legacy-file")


def test_wrong_or_missing_keys_say_what_to_do(vault_file, monkeypatch):
    cli("vault", "set", "app", stdin=io.StringIO('{"password": "pw-12345"}'))

    monkeypatch.setenv(vault.KEY_VAR, Fernet.generate_key().decode())
    with pytest.raises(ConfigError, match="cannot be decrypted with DESKHAND_VAULT_KEY: wrong key"):
        vault.get("app")
    monkeypatch.setenv(vault.KEY_VAR, "not-a-key")
    with pytest.raises(ConfigError, match="DESKHAND_VAULT_KEY is not a Fernet key"):
        cli("vault", "set", "app", stdin=io.StringIO("pw-12345"))
    monkeypatch.delenv(vault.KEY_VAR)
    with pytest.raises(ConfigError) as error:
        vault.get("app")
    assert "vault.enc exists but DESKHAND_VAULT_KEY is not set" in str(error.value)
    with pytest.raises(ConfigError, match="DESKHAND_VAULT_KEY is not set: make a key with"):
        cli("vault", "set", "app", stdin=io.StringIO("pw-12345"))


def test_the_keyring_and_which_source_wins(vault_file, ring, monkeypatch):
    cli("vault", "set", "shared", "--keyring", stdin=io.StringIO('{"password": "from-ring"}'))
    assert json.loads(ring.entries[("deskhand", "shared")]) == {"password": "from-ring"}
    assert vault.get("shared").source == "keyring"
    assert "shared                   keyring  password" in cli("vault", "list")

    cli("vault", "set", "shared", stdin=io.StringIO('{"password": "from-file"}'))
    assert vault.get("shared")["password"] == "from-file"  # the file before the keyring
    monkeypatch.setenv(vault.env_name("shared"), '{"password": "from-env"}')
    assert vault.get("shared")["password"] == "from-env"  # the environment before both

    cli("vault", "delete", "shared", "--keyring")
    assert ("deskhand", "shared") not in ring.entries
    assert "keyring" not in cli("vault", "list")


def test_without_a_keyring_the_error_says_to_use_the_file(vault_file):
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(ConfigError, match="no system keyring here .* use the vault file"):
            cli("vault", "set", "x", "--keyring", stdin=io.StringIO("pw-12345"))
        with pytest.raises(ConfigError, match="secret 'x' not found"):
            vault.get("x")  # a missing keyring is just one place less to look
    finally:
        keyring.set_keyring(previous)


def test_set_asks_on_a_terminal_and_never_takes_the_secret_as_an_argument(
    vault_file, monkeypatch, capsys
):
    answers = iter([PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    cli("vault", "set", "asked", stdin=Terminal("clerk\n"))
    assert dict(vault.get("asked")) == {"username": "clerk", "password": PASSWORD}

    answers = iter([PASSWORD, "typo"])
    with pytest.raises(ConfigError, match="the two passwords differ: nothing saved"):
        cli("vault", "set", "asked", "--keys", "password", stdin=Terminal(""))

    with pytest.raises(SystemExit):
        cli("vault", "set", "asked", PASSWORD)  # no place for a value on the command line
    assert "unrecognized arguments" in capsys.readouterr().err


def test_secrets_too_short_to_mask_or_badly_named_are_refused(vault_file, monkeypatch):
    with pytest.raises(ConfigError, match="'password' is shorter than 3 characters"):
        cli("vault", "set", "pin", stdin=io.StringIO('{"username": "u", "password": "42"}'))
    with pytest.raises(ConfigError, match="bad secret name '../x'"):
        cli("vault", "set", "../x", stdin=io.StringIO("long-enough"))
    monkeypatch.setenv(vault.env_name("listy"), '["a", "b"]')
    assert vault.get("listy")["value"] == '["a", "b"]'  # not an object: one plain value
    monkeypatch.setenv(vault.env_name("nested"), '{"password": {"x": 1}}')
    with pytest.raises(ConfigError, match="must be a JSON object of strings"):
        vault.get("nested")


def test_run_bot_vault_through_the_cli_and_the_key_is_not_a_setting(tmp_path, monkeypatch):
    """Needs the wiring in deskhand/cli.py and DESKHAND_VAULT_* in config._ENV_SKIP."""
    env = {**os.environ, vault.KEY_VAR: Fernet.generate_key().decode()}
    env[vault.FILE_VAR] = str(tmp_path / "vault.enc")
    secret = '{"username": "svc", "password": "from-the-cli-77"}'
    command = [sys.executable, "run_bot.py", "vault"]
    options = {"env": env, "cwd": ROOT, "capture_output": True, "text": True}
    done = subprocess.run([*command, "set", "cli_app"], input=secret, **options)
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*command, "list"], **options)
    assert "cli_app                  file     password, username" in listed.stdout
    assert "from-the-cli-77" not in listed.stdout + done.stdout + done.stderr

    monkeypatch.setenv(vault.KEY_VAR, env[vault.KEY_VAR])
    monkeypatch.setenv(vault.FILE_VAR, env[vault.FILE_VAR])
    load_settings(ROOT)  # the vault's variables are not settings: no "unknown setting"
