"""Fixtures of the MCP tests: the real MCP servers on loopback, and replay's offline conditions."""

from __future__ import annotations

import subprocess
from typing import Any

import anyio
import pytest

from tests.mcp.helpers import ROOT
from tests.servers.base import ServerThread
from tests.servers.mcp_tools import McpHttpServer, build_server


@pytest.fixture(scope="module")
def mcp_server() -> Any:
    with McpHttpServer() as server:
        yield server


@pytest.fixture(scope="module")
def sse_server() -> Any:
    """The same tools over the legacy HTTP+SSE transport."""
    thread = ServerThread(build_server().sse_app()).start()
    yield thread
    thread.stop()


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, mcp_server: Any, sse_server: Any) -> Any:
    """Point the inner tests at the real servers."""
    monkeypatch.setenv("MCP_URL", mcp_server.url)
    monkeypatch.setenv("MCP_SSE_URL", sse_server.url + "/sse")
    monkeypatch.setenv("MCP_CWD", str(ROOT))
    return mcp_server


class Spawns:
    """Counts (and refuses) every attempt to start a process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []
        self.monkeypatch = monkeypatch

    def __enter__(self) -> Spawns:
        def refuse(what: str) -> Any:
            def spawn(*args: Any, **kwargs: Any) -> Any:
                self.attempts.append((what, args))
                raise OSError(f"no processes in replay ({what})")

            return spawn

        self.monkeypatch.setattr(anyio, "open_process", refuse("anyio.open_process"))
        self.monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
        return self


@pytest.fixture
def offline(closed_url: str, no_network: Any) -> Any:
    """``with offline:`` replay conditions: the MCP URL is a closed port, the stdio server cannot start
    (its folder does not exist), and every connection and process start is refused and counted."""

    class Offline:
        def __enter__(self) -> Offline:
            self.patch = pytest.MonkeyPatch()
            self.patch.setenv("MCP_URL", closed_url + "/mcp")
            self.patch.setenv("MCP_SSE_URL", closed_url + "/sse")
            self.patch.setenv("MODEL_URL", closed_url)
            self.patch.setenv("MCP_CWD", "/nonexistent/harness-replay")
            self.patch.setenv("MCP_REPLAYING", "1")
            self.spawns = Spawns(self.patch).__enter__()
            no_network.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            no_network.__exit__()
            self.patch.undo()

        @property
        def attempts(self) -> list[Any]:
            return no_network.attempts + self.spawns.attempts

    return Offline()
