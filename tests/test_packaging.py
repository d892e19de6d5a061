"""deskhand as a user gets it: a wheel installed into a fresh virtualenv, used from a folder
outside this checkout (no PYTHONPATH, no project around it).

The wheel is built from a copy of the sources (nothing is written into the checkout) with
this environment's setuptools (the dev extra's) and installed without its dependencies; a
``.pth`` file lends the test environment's site-packages for those (the distribution there
is shadowed by the wheel's, which comes first on the path).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

SOURCES = ("pyproject.toml", "README.md", "LICENSE", "deskhand", "demo", "recorders", "bots",
           "selectors", "templates")  # fmt: skip
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build")


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without what points into the checkout or at its queue."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DESKHAND_DB")}
    return {**env, **extra}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """deskhand's wheel, built from a copy of the sources."""
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=JUNK)
        else:
            shutil.copy2(path, source / name)
    wheels = base / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(wheels), str(source)],
        capture_output=True, text=True, timeout=600, env=clean_env(),
    )  # fmt: skip
    assert build.returncode == 0, build.stdout + build.stderr
    (built,) = wheels.glob("deskhand-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The bin/ folder of a fresh virtualenv holding only the deskhand wheel."""
    env_dir = tmp_path_factory.mktemp("packaging") / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        capture_output=True, text=True, timeout=600, env=clean_env(),
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    (Path(site) / "shared-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return env_dir / "bin"


def deskhand(bin_dir: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The installed console script, as a user runs it: no PYTHONPATH, no checkout."""
    env = clean_env(PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run(
        [str(bin_dir / "deskhand"), *args],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def test_the_wheel_gives_a_deskhand_that_inits_and_runs_a_project_anywhere(installed, tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    version = deskhand(installed, "--version", cwd=outside)
    assert (version.returncode, version.stdout) == (0, "deskhand 0.1.0\n"), version.stderr

    where = deskhand(installed, "list", cwd=outside)  # no project here: one line, exit 2
    assert where.returncode == 2 and where.stderr.startswith("deskhand: no bots/ folder in ")
    assert "Traceback" not in where.stderr

    init = deskhand(installed, "init", "payables", cwd=outside)
    assert init.returncode == 0, init.stdout + init.stderr
    project = outside / "payables"
    assert (project / "bots" / "first_bot.py").is_file()

    run = deskhand(installed, "run", "first_bot", cwd=project)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "first_bot: 3 items: 3 done, 0 needs review, 0 failed" in run.stdout
    report = Path(run.stdout.split("report: ")[1].split()[0])
    assert report.is_file() and report.is_relative_to(project / "logs" / "first_bot")
    assert (project / ".deskhand" / "queue.db").is_file()  # the project's own queue

    # The code that ran is the wheel's, not this checkout's.
    code = subprocess.run(
        [str(installed / "python"), "-c", "import deskhand, demo, recorders; "
         "print(deskhand.__file__, demo.__file__, recorders.__file__)"],
        cwd=project, capture_output=True, text=True,
        env=clean_env(),
    )  # fmt: skip
    assert code.returncode == 0, code.stderr
    assert all(str(ROOT) not in path for path in code.stdout.split()), code.stdout

    record = deskhand(installed, "record", "--help", cwd=project)  # the recorders' entry point
    assert record.returncode == 0 and record.stdout.startswith("usage: deskhand record [-h] --bot")
    typo = deskhand(installed, "rnu", "first_bot", cwd=project)
    assert typo.stderr == "deskhand: unknown command 'rnu'; did you mean 'run'? (see --help)\n"

    tests = subprocess.run(
        [str(installed / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"],
        cwd=project, capture_output=True, text=True, timeout=600,
        env=clean_env(),
    )  # fmt: skip
    assert tests.returncode == 0 and "1 passed" in tests.stdout, tests.stdout + tests.stderr


def test_the_wheel_holds_every_file_of_the_packages_and_the_demo_project(wheel):
    """A file added to a package (a template, a page, a sample) is installed too."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        path.relative_to(ROOT).as_posix()
        for package in ("deskhand", "demo", "recorders")
        for path in (ROOT / package).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected - names == set()
    shared = "deskhand-0.1.0.data/data/share/deskhand/demo-project/"
    for part in ("bots", "selectors", "templates"):
        for path in (ROOT / part).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.name[0] != ".":
                assert shared + path.relative_to(ROOT).as_posix() in names, path
