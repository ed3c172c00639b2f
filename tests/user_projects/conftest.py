"""The user-project acceptance suite: small projects shaped like real suites, recorded and replayed.

Each test builds a project with pytester (a conftest with fixtures that call the model or open MCP
sessions, subfolders, classes, parametrize with per-param marks, shared cassettes...), records it
against the loopback servers (the fake model server, a real MCP server built with the mcp SDK),
then replays it with the servers unreachable, every connection refused and every process start
refused: ``project.replay(...)`` fails the test if anything tried to reach the world.

The inner projects find the servers through ``MODEL_URL``, ``MCP_URL`` and ``MCP_CWD`` (the folder
a stdio server starts in; in replay it does not exist).
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Imported before any pytester session: an in-process run drops the modules it imported when it
# ends, and the next one would import second copies (a second `harness.active`: the session would
# set one, the seams read the other and see no test running).
import harness.session
import harness.strategies  # noqa: F401
from tests.conftest import NetworkGuard, Spawns

ROOT = Path(__file__).resolve().parents[2]


class Project:
    """A user's project in a pytester folder: ``write`` its files, ``record`` it, ``replay`` it offline."""

    def __init__(self, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, live: dict[str, str], closed: str) -> None:
        self.pytester, self.monkeypatch, self.live, self.closed = pytester, monkeypatch, live, closed
        self.path = pytester.path
        #: What the last replay tried: connections and process starts (each refused).
        self.attempts: list[Any] = []

    def write(self, files: dict[str, str]) -> None:
        """Files by path relative to the project (``tests/agents/test_x.py``), their text dedented."""
        for name, text in files.items():
            path = self.path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def _env(self, env: dict[str, str]) -> None:
        for key, value in env.items():
            self.monkeypatch.setenv(key, value)

    def run(self, *args: str, cwd: str | None = None, subprocess: bool = False) -> pytest.RunResult:
        """pytest in the project (or in its folder ``cwd``), in-process unless ``subprocess``."""
        folder = self.path / cwd if cwd else self.path
        with self.monkeypatch.context() as m:
            m.chdir(folder)
            if subprocess:
                return self.pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
            return self.pytester.runpytest(*args)

    def record(self, *args: str, mode: str = "once", **kw: Any) -> pytest.RunResult:
        """Run the project against the live servers, recording (``--record-mode=mode``)."""
        self._env(self.live)
        return self.run(f"--record-mode={mode}", *args, **kw)

    def replay(self, *args: str, offline_ok: bool = False, **kw: Any) -> pytest.RunResult:
        """Run the project with the world gone: servers unreachable, connections and process starts
        refused (and counted in ``attempts``; the outer test fails on any unless ``offline_ok``)."""
        self._env({"MODEL_URL": self.closed, "MCP_URL": self.closed + "/mcp", "MCP_CWD": "/nonexistent/harness-replay"})
        if kw.get("subprocess"):
            # The guards go into the child (and its xdist workers) as a plugin that logs to a file.
            log = self.path / ".offline-attempts.log"
            log.write_text("", encoding="utf-8")
            self.monkeypatch.setenv("HARNESS_OFFLINE_LOG", str(log))
            result = self.run("-p", "tests.user_projects.offline", *args, **kw)
            self.attempts = log.read_text(encoding="utf-8").splitlines()
        else:
            guard, spawns = NetworkGuard(), Spawns()
            with guard, spawns:
                result = self.run(*args, **kw)
            self.attempts = guard.attempts + spawns.attempts
        if not offline_ok:
            assert self.attempts == [], f"replay reached the world: {self.attempts}\n{result.stdout.str()}"
        return result

    def cassettes(self) -> dict[str, str]:
        """Every cassette file the project holds: its path relative to the project -> its text."""
        return {
            str(p.relative_to(self.path)): p.read_text(encoding="utf-8") for p in sorted(self.path.rglob("cassettes/**/*.json"))
        }


@pytest.fixture(scope="module")
def mcp_server() -> Iterator[Any]:
    from tests.servers.mcp_tools import McpHttpServer

    with McpHttpServer() as server:
        yield server


@pytest.fixture
def project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, model_server: Any, mcp_server: Any, closed_url: str
) -> Project:
    """A fresh user project; its inner tests import ``tests.servers`` from this checkout."""
    monkeypatch.syspath_prepend(str(ROOT))
    # and so do its child processes (project.run(subprocess=True)), for tests.servers and the offline guard
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    live = {"MODEL_URL": model_server.url, "MCP_URL": mcp_server.url, "MCP_CWD": str(ROOT)}
    return Project(pytester, monkeypatch, live, closed_url)
