"""A user project whose tests drive ``client.responses.connect()`` against the loopback Responses
WebSocket server (``MODEL_URL``); replays run with the server gone and every connection refused."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

import harness.session  # noqa: F401  (imported before pytester's module snapshots)
from tests.user_projects.conftest import ROOT, Project


@pytest.fixture(scope="module")
def ws_server() -> Iterator[Any]:
    from tests.servers.ws_api import ResponsesWsServer

    with ResponsesWsServer() as server:
        yield server


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ws_server: Any, closed_url: str) -> Project:
    monkeypatch.syspath_prepend(str(ROOT))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p))
    return Project(pytester, monkeypatch, {"MODEL_URL": ws_server.url}, closed_url)
