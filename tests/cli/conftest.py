"""Fixtures of the CLI tests: two agent runs recorded through harness (Paris and Lyon)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import (
    fake_api,
    record_agent_run,
)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    from tests.servers.base import ServerThread

    folder = tmp_path_factory.mktemp("recorded")
    with ServerThread(fake_api()) as server:
        paths = {city: folder / f"{city.lower()}.json" for city in ("Paris", "Lyon")}
        for city, path in paths.items():
            record_agent_run(server.url, path, city)
    yield paths
