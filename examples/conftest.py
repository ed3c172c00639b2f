"""Where the examples' model and MCP servers are.

In replay (the default), nothing is started: the SDKs are pointed at a loopback port where nothing
listens, and every answer comes from the cassettes. To re-record (``--record-mode=all``), the
project's loopback fake model server is started instead — or set ``MODEL_URL`` to a real API.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def model_url(pytestconfig: pytest.Config) -> Iterator[str]:
    if os.environ.get("MODEL_URL"):
        yield os.environ["MODEL_URL"]
        return
    mode = pytestconfig.getoption("--record-mode", None) or pytestconfig.getini("harness_record_mode") or "none"
    if mode == "none":
        yield NOWHERE
        return
    from tests.servers.model_server import ModelServer

    with ModelServer() as server:
        yield server.url
