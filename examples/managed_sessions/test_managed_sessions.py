"""Replays a managed-agents session worked by ``SessionToolRunner``, with no session server running.

The session's stream sent the agent's answer only after the worker posted its tool result: the cassette
notes that (``awaits`` on the stream), and replay delivers those events only once the same post was made.
The runner then waits ``max_idle`` (3 s here; 60 s by default) of idle session before it stops; replayed, that
takes no time.

To re-record (``--record-mode=all``), the project's loopback fake of the session endpoints is started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from examples.managed_sessions import worker

NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def sessions_url(pytestconfig: pytest.Config) -> Iterator[str]:
    mode = pytestconfig.getoption("--record-mode", None) or pytestconfig.getini("harness_record_mode") or "none"
    if mode == "none":
        yield NOWHERE
        return
    from tests.servers.base import ServerThread
    from tests.servers.sessions_api import create_app

    with ServerThread(create_app()) as server:
        yield server.url


@pytest.mark.cassette
def test_worker_posts_the_tool_result_and_stops_when_idle(sessions_url, tmp_path, monkeypatch):
    monkeypatch.setattr(worker, "NOTES", tmp_path / "notes.txt")
    client = anthropic.AsyncAnthropic(api_key="sk-ant-example", base_url=sessions_url)
    t0 = time.perf_counter()
    done = asyncio.run(worker.work(client, "sesn_example", max_idle=3.0))
    took = time.perf_counter() - t0
    assert done == ["save_note: saved 'remember the milk'"]
    if sessions_url == NOWHERE:  # replay: the tool did not run, and the idle period took no time
        assert not Path(worker.NOTES).exists()
        assert took < 1.0
