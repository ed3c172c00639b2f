"""Replays an openai-agents ``Runner`` over the Responses WebSocket: a ``@function_tool`` run with
``OpenAIResponsesWSModel``, and a streamed run in ``responses_websocket_session``, with no socket opened
and no run of the tool (``TOOL_RUNS`` stays empty on replay).

To re-record (``--record-mode=all``), the project's loopback Responses WebSocket server is started.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from openai import AsyncOpenAI

import harness.strategies as hs
from examples.openai_agents_ws import agent

QUESTION = "What is the weather in Paris?"
ANSWER = "It is sunny in Paris."
KEY = "sk-example-not-a-key"
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture
def ws_url(pytestconfig: pytest.Config) -> Iterator[str]:
    agent.TOOL_RUNS.clear()
    mode = pytestconfig.getoption("--record-mode", None) or pytestconfig.getini("harness_record_mode") or "none"
    if mode == "none":
        yield NOWHERE
        return
    from tests.servers.ws_api import ResponsesWsServer

    with ResponsesWsServer() as server:
        yield server.url


def check_tool_runs():
    # While recording the tool ran once; on replay it must not run at all.
    assert agent.TOOL_RUNS == (["Paris"] if hs.is_recording() else [])


def frame_types(session, side):
    return [f["json"]["type"] for f in session.frames if f["from"] == side]


@pytest.mark.cassette
def test_function_tool_over_the_websocket(cassette, ws_url, agent_snapshot):
    client = AsyncOpenAI(api_key=KEY, base_url=ws_url + "/v1", max_retries=0)

    result = asyncio.run(agent.ask(client, QUESTION))

    assert result.final_output == ANSWER
    # One socket for both model turns, then the tool, on the test's timeline
    assert [i.kind for i in cassette.interactions] == ["websocket", "tool"]
    session, tool = cassette.interactions
    assert frame_types(session, "client") == ["response.create", "response.create"]
    assert frame_types(session, "server").count("response.completed") == 2
    assert (tool.name, tool.input, tool.result) == ("get_weather", {"city": "Paris"}, "sunny")
    check_tool_runs()
    assert [(item.type, item.raw_item) for item in result.new_items] == agent_snapshot


@pytest.mark.cassette
def test_streamed_run_in_a_websocket_session(cassette, ws_url, agent_snapshot):
    output, names, deltas = asyncio.run(agent.ask_streamed(ws_url + "/v1", KEY, QUESTION))

    assert output == ANSWER == "".join(deltas) and len(deltas) > 1
    assert names == ["tool_called", "tool_output", "message_output_created"]
    assert [i.kind for i in cassette.interactions] == ["websocket", "tool"]
    check_tool_runs()
    assert (names, deltas) == agent_snapshot
