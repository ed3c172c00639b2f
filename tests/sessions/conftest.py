"""The fake managed-agents session server, on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.servers.base import ServerThread
from tests.servers.sessions_api import create_app


@pytest.fixture
def sessions_url() -> Iterator[str]:
    """A fresh server per test: its sessions start from the script's beginning."""
    with ServerThread(create_app()) as server:
        yield server.url
