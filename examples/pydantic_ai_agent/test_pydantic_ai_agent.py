"""Replays a pydantic-ai ``Agent``: a tool with a ``RunContext``, a plain tool, and a streamed run,
with the tools' recorded results and no run of them (``TOOL_RUNS`` stays empty on replay)."""

from __future__ import annotations

import asyncio

import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

import harness.strategies as hs
from examples.pydantic_ai_agent import agent

KEY = "sk-example-not-a-key"


@pytest.fixture
def weather(model_url):
    agent.TOOL_RUNS.clear()
    return agent.weather_agent(AsyncOpenAI(api_key=KEY, base_url=model_url + "/v1", max_retries=0))


def check_tool_runs(expected):
    # While recording the tools ran; on replay they must not run at all.
    assert agent.TOOL_RUNS == (expected if hs.is_recording() else [])


def kinds(cassette):
    return [i.kind for i in cassette.interactions]


def parts(messages):
    return [
        (m.kind, [(p.part_kind, getattr(p, "tool_name", None), getattr(p, "content", None)) for p in m.parts]) for m in messages
    ]


@pytest.mark.cassette
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_tool_with_run_context(cassette, model_url, agent_snapshot, provider):
    agent.TOOL_RUNS.clear()
    if provider == "anthropic":
        client = AsyncAnthropic(api_key="sk-ant-example-not-a-key", base_url=model_url, max_retries=0)
    else:
        client = AsyncOpenAI(api_key=KEY, base_url=model_url + "/v1", max_retries=0)

    output, messages = asyncio.run(agent.ask(agent.weather_agent(client), "What is the get_weather in Paris?"))

    assert output == "Result: sunny and 21°C in Paris"
    assert kinds(cassette) == ["http", "tool", "http"]
    tool = cassette.interactions[1]
    assert (tool.name, tool.input, tool.result) == ("get_weather", {"city": "Paris"}, "sunny and 21°C in Paris")
    check_tool_runs(["get_weather Paris"])
    assert parts(messages) == agent_snapshot


@pytest.mark.cassette
def test_plain_tool(cassette, weather, agent_snapshot):
    output, messages = asyncio.run(agent.ask(weather, "What does get_forecast say for Lyon?"))

    assert output == "Result: rain tomorrow in Lyon"
    assert kinds(cassette) == ["http", "tool", "http"]
    check_tool_runs(["get_forecast Lyon"])
    assert parts(messages) == agent_snapshot


@pytest.mark.cassette
def test_streamed(cassette, weather, agent_snapshot):
    deltas = asyncio.run(agent.ask_streamed(weather, "What is the get_weather in Paris?"))

    assert "".join(deltas) == "Result: sunny and 21°C in Paris" and len(deltas) > 1
    assert kinds(cassette) == ["http", "tool", "http"]
    check_tool_runs(["get_weather Paris"])
    assert deltas == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_streamed_run_with_a_tool_call(cassette, model_url, agent_snapshot, provider):
    agent.TOOL_RUNS.clear()
    if provider == "anthropic":
        client = AsyncAnthropic(api_key="sk-ant-example-not-a-key", base_url=model_url, max_retries=0)
    else:
        client = AsyncOpenAI(api_key=KEY, base_url=model_url + "/v1", max_retries=0)

    output, deltas = asyncio.run(agent.ask_streamed_events(agent.weather_agent(client), "What is the get_weather in Paris?"))

    # The whole run streamed: the tool ran (recording) or was replayed, then the final answer streamed in deltas.
    assert output == "Result: sunny and 21°C in Paris"
    assert "".join(deltas).endswith(output) and len(deltas) > 2
    assert kinds(cassette) == ["http", "tool", "http"]
    check_tool_runs(["get_weather Paris"])
    assert deltas == agent_snapshot


@pytest.mark.cassette
def test_run_stream_on_anthropic_ends_at_the_first_text(cassette, model_url, agent_snapshot):
    # pydantic-ai's run_stream takes the first str output as final, by design: Claude's "Let me check." before
    # its tool call. The tool call in that reply still runs (recorded, and replayed unrun), the answer after it
    # is never asked for; ask_streamed_events above streams the whole run.
    agent.TOOL_RUNS.clear()
    client = AsyncAnthropic(api_key="sk-ant-example-not-a-key", base_url=model_url, max_retries=0)

    deltas = asyncio.run(agent.ask_streamed(agent.weather_agent(client), "What is the get_weather in Paris?"))

    assert "".join(deltas) == "Let me check."
    assert kinds(cassette) == ["http", "tool"]
    check_tool_runs(["get_weather Paris"])
    assert deltas == agent_snapshot


@pytest.mark.cassette
def test_model_retry(cassette, weather, agent_snapshot):
    output, messages = asyncio.run(agent.ask(weather, 'What does get_forecast say for "lyon"?'))

    # The tool's ModelRetry went back to the model as a retry prompt; on replay it is raised again.
    assert output.startswith("Result: ") and "Give the city's name capitalised." in output
    assert kinds(cassette) == ["http", "tool", "http"]
    assert cassette.interactions[1].error["type"] == "pydantic_ai.exceptions.ModelRetry"
    check_tool_runs(["get_forecast lyon"])
    assert parts(messages) == agent_snapshot
