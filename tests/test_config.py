"""Settings (deskhand.config): a pydantic-settings model merged from pyproject's
[tool.deskhand], the bot's settings, DESKHAND_* variables and the command line, in that
order; a bad value is one line that names the exact variable, key or option."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from deskhand.cli import main
from deskhand.config import Settings, load_settings, validate
from deskhand.errors import ConfigError


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in list(os.environ):
        if name.startswith("DESKHAND_"):
            monkeypatch.delenv(name)
    root = tmp_path / "project"
    (root / "bots").mkdir(parents=True)
    return root


def pyproject(root: Path, table: str) -> None:
    (root / "pyproject.toml").write_text("[tool.deskhand]\n" + textwrap.dedent(table))


def error(root: Path, bot: dict | None = None, cli: dict | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(root, bot, cli)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_each_layer_overrides_the_one_below(project, monkeypatch):
    pyproject(project, """
        timeout-ms = 5000
        lease_seconds = 30
        max_attempts = 5
        retry_delay = 2.5
        headed = true
    """)  # fmt: skip
    bot = {"lease_seconds": 20, "max_attempts": 4, "retry_delay": 1}
    monkeypatch.setenv("DESKHAND_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("DESKHAND_RETRY_DELAY", "0.5")
    monkeypatch.setenv("DESKHAND_HEADED", "no")
    settings = load_settings(project, bot, {"retry_delay": 0, "headed": None, "input": "in"})
    assert settings.timeout_ms == 5000  # pyproject (a dashed key)
    assert settings.lease_seconds == 20.0  # the bot's
    assert settings.max_attempts == 3  # the environment's, text made a number
    assert settings.retry_delay == 0.0  # the command line's
    assert settings.headed is False  # None on the command line: not given
    assert settings.input == Path("in") and settings.resolve(settings.input) == project / "in"
    assert settings.root == project and settings.store_files is True  # a default


def test_settings_given_directly_read_no_environment(project, monkeypatch):
    monkeypatch.setenv("DESKHAND_LEASE_SECONDS", "5")
    assert Settings().lease_seconds == 60.0 and Settings(max_file_mb=0.5).max_file_mb == 0.5
    with pytest.raises(AttributeError):
        Settings().nothing  # noqa: B018
    with pytest.raises(ValueError):  # frozen
        Settings().headed = True  # type: ignore[misc]


def test_a_bad_type_names_the_variable_key_or_option_that_set_it(project, monkeypatch):
    monkeypatch.setenv("DESKHAND_LEASE_SECONDS", "soon")
    assert error(project) == (
        "environment variable DESKHAND_LEASE_SECONDS has a bad value 'soon': expected a number"
    )
    monkeypatch.delenv("DESKHAND_LEASE_SECONDS")
    pyproject(project, 'headed = "maybe"\n')
    assert error(project) == (
        "headed in [tool.deskhand] of pyproject.toml has a bad value 'maybe': "
        "expected true or false"
    )
    pyproject(project, "")
    assert error(project, {"max_attempts": 2.5}) == (
        "max_attempts in the bot's settings has a bad value 2.5: expected a whole number"
    )
    assert error(project, cli={"timeout_ms": "soon"}) == (
        "--timeout-ms has a bad value 'soon': expected a whole number"
    )


def test_a_value_out_of_range_names_its_origin_and_the_range(project, monkeypatch):
    monkeypatch.setenv("DESKHAND_MAX_ATTEMPTS", "0")
    assert error(project) == (
        "environment variable DESKHAND_MAX_ATTEMPTS is 0: it must be at least 1 (1 = no retries)"
    )
    monkeypatch.delenv("DESKHAND_MAX_ATTEMPTS")
    assert error(project, cli={"retry_delay": -1.0}) == (
        "--retry-delay is -1.0: it must be 0 or more seconds"
    )
    for key, shown in (
        ("timeout_ms", "0"),
        ("lease_seconds", "0.0"),  # the value as the setting holds it
        ("max_file_mb", "0.0"),
        ("file_retention_days", "0.0"),
    ):
        pyproject(project, f"{key} = 0\n")
        assert error(project) == (
            f"{key} in [tool.deskhand] of pyproject.toml is {shown}: it must be more than 0"
        )
    pyproject(project, "")
    assert error(project, {"lease_seconds": -3}) == (
        "lease_seconds in the bot's settings is -3.0: it must be more than 0"
    )
    assert error(project, cli={"target": "localhost:8765"}) == (
        "--target is 'localhost:8765': a URL needs http:// or https://: "
        "did you mean http://localhost:8765/?"
    )
    assert load_settings(project, cli={"target": "https://ap.example/"}).target == (
        "https://ap.example/"
    )


def test_unknown_keys_and_broken_toml_are_refused(project, monkeypatch):
    monkeypatch.setenv("DESKHAND_COLOUR", "blue")
    message = error(project)
    assert message.startswith(
        "environment DESKHAND_* (environment variable DESKHAND_COLOUR): unknown setting 'colour'"
    )
    assert "lease_seconds" in message  # the known ones listed
    monkeypatch.delenv("DESKHAND_COLOUR")
    monkeypatch.setenv("DESKHAND_BROWSER", "/usr/bin/chromium")  # read where it is used
    monkeypatch.setenv("DESKHAND_SECRET_TOKEN", "x")
    pyproject(project, "time_out = 3\n")
    assert error(project).startswith("[tool.deskhand]: unknown setting 'time_out'")
    assert error(project, {"colour": 1}).startswith(  # the lowest layer is read first
        "[tool.deskhand]: unknown setting 'time_out'"
    )
    pyproject(project, "")
    assert error(project, {"colour": 1}).startswith("the bot's settings: unknown setting 'colour'")
    (project / "pyproject.toml").write_text("[tool.deskhand\n")
    assert error(project).startswith(f"{project / 'pyproject.toml'} is not valid TOML: ")


def test_validate_checks_merged_settings_again(project):
    settings = load_settings(project)
    validate(settings)  # a good one passes
    with pytest.raises(ConfigError, match=r"^--max-attempts is 0: it must be at least 1"):
        validate(
            settings.model_copy(update={"max_attempts": 0}), {"max_attempts": "--max-attempts"}
        )


def test_the_command_line_says_it_in_one_line_and_exits_2(project, monkeypatch, capsys):
    (project / "bots" / "quiet.py").write_text(
        "from deskhand import Bot\nbot = Bot('quiet')\n"
        "@bot.source\ndef items(ctx):\n    return []\n"
        "@bot.process\ndef process(item, ctx):\n    return ctx.done()\n"
    )
    monkeypatch.chdir(project)
    monkeypatch.setenv("DESKHAND_TIMEOUT_MS", "-5")
    assert main(["run", "quiet", "--db", f"sqlite:///{project / 'q.db'}"]) == 2
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "environment variable DESKHAND_TIMEOUT_MS is -5: it must be more than 0" in err
    assert not (project / "q.db").exists()  # found before anything was queued
