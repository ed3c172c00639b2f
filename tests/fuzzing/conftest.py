"""Fixtures of the fuzzing tests: the streams, recorded once per module through the real HTTP seam against
loopback servers (the Anthropic stub and the project's fake OpenAI server), then replayed offline."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from tests.fuzzing.scenarios import (
    SCENARIOS,
    anthropic_messages,
    session_on,
)
from tests.servers.base import ServerThread
from tests.servers.openai_api import routes as openai_routes


@pytest.fixture(scope="module")
def stub_server() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/v1/messages", anthropic_messages, methods=["POST"]), *openai_routes])
    with ServerThread(app) as server:
        yield server


@pytest.fixture(scope="module")
def recordings(stub_server: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import warnings

    folder = tmp_path_factory.mktemp("cassettes")
    paths = {}
    for name, scenario in SCENARIOS.items():
        paths[name] = folder / f"{name}.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the Assistants API
            with session_on(paths[name], "all"):
                scenario(stub_server.url)
    return paths


@pytest.fixture
def replay(recordings: dict[str, Path], request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``with replay("chat") as session:`` replays a recording, offline, as a cassette test does."""
    return lambda name: session_on(recordings[name], "none", request.node.nodeid)
