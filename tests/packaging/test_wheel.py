"""The wheel, as users install it: built from the sources, installed (not editable) in a fresh venv
outside the checkout, and a user's recorded test replayed with it offline.

The venv gets the wheel itself with pip (``--no-deps --no-index``); its dependencies come from this
checkout's venv through a ``.pth`` line appended after the venv's own site-packages. That keeps the
test offline and about a second long (installing anthropic and its tree from the index took ~25 s),
and the installed wheel still comes first on ``sys.path``: the inner test checks that ``harness`` and
its distribution are the wheel's. The editable install's own ``.pth`` is not processed there (only a
site directory's ``.pth`` files are), so the checkout is not importable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = Path(__file__).parent / "project"


def _run(*args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def build_wheel(tmp_path: Path) -> tuple[Path, str]:
    """The wheel built from a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "harness", src / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    built = _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "-v",
        "--no-deps",
        "--no-build-isolation",
        "--no-index",
        "-w",
        tmp_path / "dist",
        src,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    return wheel, built.stdout + built.stderr


def test_the_wheel_installs_and_replays_a_users_test_offline(tmp_path):
    # Given the wheel built from the sources
    wheel, log = build_wheel(tmp_path)

    # Then the build says nothing deprecated, and the wheel is named and described as on the index
    assert "SetuptoolsDeprecationWarning" not in log and "deprecated" not in log.lower(), log
    assert wheel.name == "pytest_agent_harness-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read("pytest_agent_harness-0.1.0.dist-info/METADATA").decode()
        entry_points = zf.read("pytest_agent_harness-0.1.0.dist-info/entry_points.txt").decode()
    headers = [line for line in meta.split("\n\n", 1)[0].splitlines()]
    assert "Name: pytest-agent-harness" in headers and "License-Expression: MIT" in headers
    for classifier in ("Framework :: Pytest", "Typing :: Typed", "Programming Language :: Python :: 3.11"):
        assert f"Classifier: {classifier}" in headers
    assert not [h for h in headers if h.startswith("Classifier: License ::")]
    assert "harness/py.typed" in names and "pytest_agent_harness-0.1.0.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith(("tests/", "examples/", "bench/"))]
    assert (
        "[pytest11]\nharness = harness.plugin" in entry_points and "[console_scripts]\nharness = harness.cli:main" in entry_points
    )

    # When it is installed, not editable, in a fresh venv outside the checkout
    venv = tmp_path / "venv"
    assert _run(sys.executable, "-m", "venv", "--without-pip", venv).returncode == 0
    python = venv / "bin" / "python"
    installed = _run(sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", "--no-index", wheel)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    (site / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    # And a user's project (a recorded test, its cassette committed) runs there with every socket refused
    user = tmp_path / "user"
    shutil.copytree(PROJECT, user, ignore=shutil.ignore_patterns("__pycache__"))
    cassette = user / "cassettes/tests/test_weather/test_asks_the_model.json"
    before = cassette.read_text(encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MODEL_URL", "PYTEST_ADDOPTS")}
    env["EXPECTED_SITE"] = str(site)
    result = _run(python, "-m", "pytest", "-p", "no:cacheprovider", "-q", cwd=user, env=env)

    # Then both tests pass: the recorded one replayed, and the plugin is the wheel's
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout and "harness: 1 cassette(s) replayed, 0 recorded." in result.stdout
    assert cassette.read_text(encoding="utf-8") == before

    # And the harness command is installed with it
    command = _run(venv / "bin" / "harness", "show", cassette, env=env)
    assert command.returncode == 0, command.stderr
    assert "POST /v1/messages" in command.stdout
