"""Replays the chat-completions tool loop: two non-streamed turns, the tool calls between them (not
run again: their recorded results come back), and the streamed answer."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from openai import AsyncOpenAI

import harness
from examples.openai_chat_loop import agent

WEATHER = "What is the weather in Paris?"
TIME = "What is the current_time in Tokyo?"


def client(model_url: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-example-not-a-key", base_url=model_url + "/v1")


@pytest.mark.cassette
def test_weather_question(cassette, model_url, agent_snapshot):
    recorders = []

    def watch(manager):
        recorders.append(harness.record_callbacks(manager, exclude={"chunk"}))
        return recorders[-1]

    shown: list[str] = []
    messages, answer = asyncio.run(agent.run(client(model_url), WEATHER, watch=watch, out=shown))

    assert answer == "Result: sunny and 21°C in Paris" == "".join(shown)
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http", "http"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool", "assistant"]
    (recorder,) = recorders
    assert recorder.names[-1] == "content.done"
    assert recorder.calls == agent_snapshot(name="events")
    assert messages == agent_snapshot(name="messages")


@pytest.mark.cassette
def test_time_question_replays_the_recorded_time(cassette, model_url):
    messages, answer = asyncio.run(agent.run(client(model_url), TIME))

    (tool,) = [i for i in cassette.interactions if i.kind == "tool"]
    assert (tool.name, tool.input) == ("current_time", {"city": "Tokyo"})
    # Replay answers with the time recorded, not the time now: the same answer on every run.
    assert answer == f"Result: {tool.result}"
    assert datetime.fromisoformat(tool.result).tzinfo is not None
    assert messages[3] == {"role": "tool", "tool_call_id": messages[2]["tool_calls"][0]["id"], "content": tool.result}


@pytest.mark.cassette
def test_streamed_tool_call(model_url, agent_snapshot):
    recorders = []

    def watch(manager):
        recorders.append(harness.record_callbacks(manager, exclude={"chunk"}))
        return recorders[-1]

    final = asyncio.run(
        agent.stream_answer(client(model_url), [{"role": "user", "content": WEATHER}], tools=agent.TOOLS, watch=watch)
    )

    (call,) = final.choices[0].message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city":"Paris"}')
    (recorder,) = recorders
    assert recorder.names[-1] == "tool_calls.function.arguments.done"
    assert recorder.calls == agent_snapshot(name="events")
    assert final == agent_snapshot(name="completion")
