"""Fixtures shared by the test suite: real loopback servers, and a guard that proves replay is offline."""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Imported before any in-process pytester run: such a run drops the modules first imported during it,
# and the next one would import a second harness (the session sets one `harness.active`, the seams
# read another and see no test running). Every test module is safe, run alone or in the suite.
import harness.callbacks
import harness.session
import harness.snapshot
import harness.strategies  # noqa: F401


@pytest.fixture(autouse=True)
def _pytester_asyncio_scope(request: pytest.FixtureRequest) -> None:
    """pytester sessions get pytest-asyncio's loop scope set (it warns when unset), in the lowest-
    ranked configuration file pytest reads, so a test's own pytest.ini or pyproject.toml wins."""
    if "pytester" in request.fixturenames:
        pytester = request.getfixturevalue("pytester")
        (pytester.path / "tox.ini").write_text("[pytest]\nasyncio_default_fixture_loop_scope = function\n", encoding="utf-8")


@pytest.fixture(scope="session")
def model_server() -> Iterator[Any]:
    """The fake model server (real Anthropic and OpenAI wire formats) on a free loopback port."""
    from tests.servers.model_server import ModelServer

    with ModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """A small loopback app (one JSON endpoint, one SSE endpoint): the xdist and atomic-write tests' server."""
    from tests.servers.base import ServerThread
    from tests.servers.echo_app import app

    with ServerThread(app()) as server:
        yield server.url


@pytest.fixture
def agents(pytester: pytest.Pytester) -> pytest.Pytester:
    """A pytester folder holding the real SDK agents of tests/agents_inner.py (as test_agents.py)."""
    from tests.helpers import INNER

    pytester.makepyfile(test_agents=INNER)
    return pytester


@pytest.fixture
def closed_url() -> str:
    """A loopback URL where nothing listens: replay must not need a server."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class NetworkGuard:
    """While active, counts every outgoing TCP connection attempt and refuses it."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []
        self._real = socket.socket.connect

    def _refuse(self, sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            self.attempts.append(address)
            raise ConnectionRefusedError(f"no network in replay (tried {address})")
        return self._real(sock, address)

    def __enter__(self) -> NetworkGuard:
        guard = self

        def connect(sock: socket.socket, address: Any) -> Any:
            return guard._refuse(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            try:
                guard._refuse(sock, address)
            except ConnectionRefusedError:
                return 111
            return 0

        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        del socket.socket.connect  # back to the inherited C methods
        del socket.socket.connect_ex


class Spawns:
    """While active, counts (and refuses) every attempt to start a process (``anyio.open_process``, how
    MCP starts a stdio server, and ``subprocess.Popen``). Patches through ``monkeypatch`` when given
    (undone with it), else through its own, undone on exit."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch | None = None) -> None:
        self.attempts: list[Any] = []
        self._own = monkeypatch is None
        self.monkeypatch = monkeypatch or pytest.MonkeyPatch()

    def __enter__(self) -> Spawns:
        import anyio

        def refuse(what: str) -> Any:
            def spawn(*args: Any, **kwargs: Any) -> Any:
                self.attempts.append((what, args))
                raise OSError(f"no processes in replay ({what})")

            return spawn

        self.monkeypatch.setattr(anyio, "open_process", refuse("anyio.open_process"))
        self.monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
        return self

    def __exit__(self, *exc: object) -> None:
        if self._own:
            self.monkeypatch.undo()


@pytest.fixture
def no_network() -> NetworkGuard:
    """``with no_network: ...`` refuses and counts connections (replay must make none)."""
    return NetworkGuard()


def load_cassette(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))
