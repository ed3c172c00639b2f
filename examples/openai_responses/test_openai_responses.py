"""Replays the Responses API: a streamed turn's events, and the ResponsesToolRunner's loop with its
registered function's recorded output (the function does not run on replay)."""

from __future__ import annotations

import asyncio

import pytest
from openai import AsyncOpenAI, OpenAI

import harness
from examples.openai_responses import agent

QUESTION = "What is the weather in Paris?"
KEY = "sk-example-not-a-key"


@pytest.fixture
def client(model_url):
    return OpenAI(api_key=KEY, base_url=model_url + "/v1")


def kinds(cassette):
    return [i.kind for i in cassette.interactions]


@pytest.mark.cassette
@pytest.mark.parametrize("tools", [None, [agent.WEATHER_TOOL]], ids=["text", "tool_call"])
def test_responses_stream(client, agent_snapshot, tools):
    recorders = []

    def watch(manager):
        recorders.append(harness.record_callbacks(manager))
        return recorders[-1]

    response = agent.stream_reply(client, QUESTION, tools=tools, watch=watch)

    (recorder,) = recorders
    assert recorder.names[0] == "response.created" and recorder.names[-1] == "response.completed"
    if tools:
        assert "response.function_call_arguments.done" in recorder.names
        assert [(o.type, o.name, o.arguments) for o in response.output] == [("function_call", "get_weather", '{"city":"Paris"}')]
    else:
        assert response.output_text == f"You said: {QUESTION}"
    assert recorder.calls == agent_snapshot(name="events")
    assert response == agent_snapshot(name="response")


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_tool_runner(cassette, client, agent_snapshot, stream):
    events = []

    response = agent.ask(client, QUESTION, stream=stream, on_event=events.append if stream else None)

    assert response.output_text == "Result: sunny and 21°C in Paris"
    # The registered function's call sits between the two model turns, with its arguments and output.
    assert kinds(cassette) == ["http", "tool", "http"]
    tool = cassette.interactions[1]
    assert (tool.name, tool.input, tool.result) == ("get_weather", {"city": "Paris"}, "sunny and 21°C in Paris")
    if stream:  # on_event saw both turns' events, in order
        assert [e.type for e in events] == agent_snapshot(name="events")
    assert response == agent_snapshot(name="response")


@pytest.mark.cassette
def test_tool_runner_turn_by_turn(client, agent_snapshot):
    turns = agent.ask_turn_by_turn(client, QUESTION)

    assert [(t.step, t.final) for t in turns] == [(1, False), (2, True)]
    assert [[o.type for o in t.response.output] for t in turns] == [["function_call"], ["message"]]
    assert [t.response for t in turns] == agent_snapshot


@pytest.mark.cassette
def test_async_tool_runner(cassette, model_url):
    async def main():
        return await agent.ask_async(AsyncOpenAI(api_key=KEY, base_url=model_url + "/v1"), QUESTION)

    response = asyncio.run(main())

    assert response.output_text == "Result: sunny and 21°C in Paris"
    assert kinds(cassette) == ["http", "tool", "http"]
