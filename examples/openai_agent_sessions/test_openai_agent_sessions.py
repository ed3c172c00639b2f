"""Replays an openai agents session turn with a local tool handler: the same answer, and the handler not run."""

from __future__ import annotations

import os
from collections.abc import Iterator

import openai
import pytest

from examples.openai_agent_sessions import agent

KEY = "sk-example-not-a-key"
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def agents_url(pytestconfig: pytest.Config) -> Iterator[str]:
    """In replay nothing listens; to re-record, the loopback fake of the agents sessions endpoints."""
    if os.environ.get("AGENTS_URL"):
        yield os.environ["AGENTS_URL"]
        return
    mode = pytestconfig.getoption("--record-mode", None) or pytestconfig.getini("harness_record_mode") or "none"
    if mode == "none":
        yield NOWHERE
        return
    from tests.servers.agents_sessions_api import create_app
    from tests.servers.base import ServerThread

    with ServerThread(create_app()) as server:
        yield server.url


@pytest.mark.cassette
def test_the_tool_handler_does_not_run_on_replay(cassette, agents_url, tmp_path):
    calls = tmp_path / "calls.txt"
    client = openai.OpenAI(api_key=KEY, base_url=agents_url + "/v1", max_retries=0)

    answer = agent.ask(client, "sesn_weather", "Weather in Paris?", calls)

    assert answer == "Answer: sunny in Paris"
    assert "tool" in [i.kind for i in cassette.interactions]
    ran = calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []
    assert ran == ([] if cassette.mode == "none" else ["Paris"])
