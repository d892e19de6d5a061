"""Which Chromium a run starts: the headless shell for headless runs when the system has it,
the full browser otherwise and for everything a person sees; DESKHAND_BROWSER above both."""

from __future__ import annotations

import pytest

from deskhand.errors import ConfigError
from deskhand.web.browser import find_chromium


def _bin(folder, *names):
    folder.mkdir(exist_ok=True)
    for name in names:
        path = folder / name
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    return folder


def test_headless_runs_prefer_the_headless_shell(tmp_path, monkeypatch):
    monkeypatch.delenv("DESKHAND_BROWSER", raising=False)
    both = _bin(tmp_path / "both", "chromium", "chromium-headless-shell")
    monkeypatch.setenv("PATH", str(both))
    assert find_chromium(headless=True) == str(both / "chromium-headless-shell")
    assert find_chromium() == str(both / "chromium")  # headed, the recorder, the viewer

    only_full = _bin(tmp_path / "full", "chromium")
    monkeypatch.setenv("PATH", str(only_full))
    assert find_chromium(headless=True) == str(only_full / "chromium")

    monkeypatch.setenv("PATH", str(_bin(tmp_path / "none")))
    with pytest.raises(ConfigError, match="apt-get install chromium"):
        find_chromium(headless=True)


def test_deskhand_browser_overrides_both(tmp_path, monkeypatch):
    both = _bin(tmp_path / "both", "chromium", "chromium-headless-shell")
    mine = _bin(tmp_path / "mine", "my-chrome") / "my-chrome"
    monkeypatch.setenv("PATH", str(both))
    monkeypatch.setenv("DESKHAND_BROWSER", str(mine))
    assert find_chromium(headless=True) == find_chromium() == str(mine)
