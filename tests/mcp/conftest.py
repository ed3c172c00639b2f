"""Fixtures of the MCP tests: the real MCP servers on loopback, and replay's offline conditions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Spawns
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
