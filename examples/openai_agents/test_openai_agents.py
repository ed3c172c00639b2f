"""Replays an openai-agents ``Runner``: a function tool, a streamed run and a handoff, with the tool's
recorded output and no run of the tool (``TOOL_RUNS`` stays empty on replay)."""

from __future__ import annotations

import asyncio

import pytest
from openai import AsyncOpenAI

import harness.strategies as hs
from examples.openai_agents import agent

QUESTION = "What is the weather in Paris?"
ANSWER = "Result: sunny and 21°C in Paris"
KEY = "sk-example-not-a-key"


@pytest.fixture
def agents(model_url):
    agent.TOOL_RUNS.clear()
    return agent.agents(AsyncOpenAI(api_key=KEY, base_url=model_url + "/v1", max_retries=0))


def check_tool_runs(n):
    # While recording the tool ran n times; on replay it must not run at all.
    assert agent.TOOL_RUNS == (["Paris"] * n if hs.is_recording() else [])


def kinds(cassette):
    return [i.kind for i in cassette.interactions]


def items(result):
    return [(item.type, item.agent.name, item.raw_item) for item in result.new_items]


@pytest.mark.cassette
def test_function_tool(cassette, agents, agent_snapshot):
    weather, _ = agents

    result = asyncio.run(agent.ask(weather, QUESTION))

    assert result.final_output == ANSWER
    assert kinds(cassette) == ["http", "tool", "http"]
    tool = cassette.interactions[1]
    assert (tool.name, tool.input, tool.result) == ("get_weather", {"city": "Paris"}, "sunny and 21°C in Paris")
    check_tool_runs(1)
    assert items(result) == agent_snapshot


@pytest.mark.cassette
def test_streamed(cassette, agents, agent_snapshot):
    weather, _ = agents

    output, names, deltas = asyncio.run(agent.ask_streamed(weather, QUESTION))

    assert output == ANSWER and "".join(deltas) == ANSWER and len(deltas) > 1
    assert names == ["tool_called", "tool_output", "message_output_created"]
    assert kinds(cassette) == ["http", "tool", "http"]
    check_tool_runs(1)
    assert (names, deltas) == agent_snapshot


@pytest.mark.cassette
def test_handoff(cassette, agents, agent_snapshot):
    _, triage = agents

    result = asyncio.run(agent.ask(triage, QUESTION))

    assert result.last_agent.name == "Weather agent"
    assert result.final_output == ANSWER
    # The transfer is the framework's own (not a recorded tool); the weather agent's tool is.
    assert kinds(cassette) == ["http", "http", "tool", "http"]
    check_tool_runs(1)
    assert (result.last_agent.name, items(result)) == agent_snapshot
