"""Replays Anthropic's tool runner and message stream from their cassettes: every model turn, every
tool call and its result, with no server and no tool run."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

import harness
from examples.anthropic_runners import agent

CITY = "Paris"
WEATHER = f"What is the weather in {CITY}?"
STOCK = 'What does get_stock_price say for "ACME"?'
KEY = "sk-ant-example-not-a-key"


@pytest.fixture
def client(model_url):
    return anthropic.Anthropic(api_key=KEY, base_url=model_url)


def kinds(cassette):
    return [i.kind for i in cassette.interactions]


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_until_done(cassette, client, agent_snapshot, stream):
    final = agent.ask(client, WEATHER, stream=stream)

    assert final.content[-1].text == f"Result: sunny and 21°C in {CITY}"
    assert kinds(cassette) == ["http", "tool", "http"]  # the tool's result sits between the two turns
    assert final == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("thread", [True, False], ids=["thread", "no_thread"])
def test_turn_by_turn(cassette, client, agent_snapshot, thread):
    messages = agent.ask_turn_by_turn(client, WEATHER, thread=thread)

    assert [m.stop_reason for m in messages] == ["tool_use", "end_turn"]
    second = cassette.interactions[2].request.body.value
    if thread:  # the second turn sends only the tool result, on the thread
        assert second["thread"]["type"] == "continue" and len(second["messages"]) == 1
    else:  # the whole history again
        assert "thread" not in second and len(second["messages"]) == 3
    assert messages == agent_snapshot


@pytest.mark.cassette
def test_max_iterations(cassette, client, agent_snapshot):
    messages = agent.ask_turn_by_turn(client, WEATHER, max_iterations=1)

    assert [m.stop_reason for m in messages] == ["tool_use"]
    # One model turn only: the runner still answers the tool call it got, but asks the model no more.
    assert kinds(cassette) == ["http", "tool"]
    assert messages == agent_snapshot


@pytest.mark.cassette
def test_a_tool_that_raises(cassette, client, agent_snapshot):
    final = agent.ask(client, STOCK, thread=False)

    # The exception was recorded; on replay it is raised again (the tool does not run), and the
    # runner sends it to the model as an is_error tool result.
    tool = cassette.interactions[1]
    assert tool.error == {
        "type": "examples.anthropic_runners.agent.MarketClosed",
        "message": "no quote for ACME: the market is closed",
    }
    result = cassette.interactions[2].request.body.value["messages"][-1]["content"][0]
    assert result["is_error"] is True
    assert final.content[-1].text == "The tool failed: MarketClosed('no quote for ACME: the market is closed')"
    assert final == agent_snapshot


@pytest.mark.cassette
def test_streaming_turns(client, agent_snapshot):
    recorders = []

    def watch(stream):
        recorders.append(harness.record_callbacks(stream))
        return recorders[-1]

    shown: list[str] = []
    messages = agent.ask_streaming(client, WEATHER, watch=watch, out=shown)

    assert "".join(shown) == f"Let me check.Result: sunny and 21°C in {CITY}"
    assert [m.stop_reason for m in messages] == ["tool_use", "end_turn"]
    assert [r.calls for r in recorders] == agent_snapshot(name="events")
    assert messages == agent_snapshot(name="messages")


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_async_runner(cassette, model_url, agent_snapshot, stream):
    async def main():
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=model_url)
        return await agent.ask_async(client, WEATHER, stream=stream)

    messages = asyncio.run(main())

    assert messages[-1].content[-1].text == f"Result: sunny and 21°C in {CITY}"
    assert kinds(cassette) == ["http", "tool", "http"]
    assert messages == agent_snapshot


@pytest.mark.cassette
def test_messages_stream(client, agent_snapshot):
    recorders = []

    def watch(manager):
        recorders.append(harness.record_callbacks(manager))
        return recorders[-1]

    final = agent.stream_reply(client, WEATHER, watch=watch)

    (recorder,) = recorders
    names = recorder.names
    # The accumulator's own events follow each raw event they derive from.
    assert names[:2] == ["message_start", "content_block_start"]
    assert names.index("text") == names.index("content_block_delta") + 1
    assert "input_json" in names and names[-1] == "message_stop"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert recorder.calls == agent_snapshot(name="events")
    assert final == agent_snapshot(name="message")


# The async runner, the same ways: to the end (``await runner.until_done()``), a tool that raises,
# ``max_iterations=1``, and each turn's stream recorded as it goes.


@pytest.fixture
def async_client(model_url):
    return anthropic.AsyncAnthropic(api_key=KEY, base_url=model_url)


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_async_runner_to_the_end(cassette, async_client, agent_snapshot, stream):
    final = asyncio.run(agent.ask_async_until_done(async_client, WEATHER, stream=stream))

    assert final.content[-1].text == f"Result: sunny and 21°C in {CITY}"
    assert kinds(cassette) == ["http", "tool", "http"]
    assert final == agent_snapshot


@pytest.mark.cassette
def test_async_tool_that_raises(cassette, async_client, agent_snapshot):
    final = asyncio.run(agent.ask_async_until_done(async_client, STOCK, thread=False))

    # As with the sync runner: recorded, raised again on replay without running the async tool
    assert cassette.interactions[1].error == {
        "type": "examples.anthropic_runners.agent.MarketClosed",
        "message": "no quote for ACME: the market is closed",
    }
    assert cassette.interactions[2].request.body.value["messages"][-1]["content"][0]["is_error"] is True
    assert final.content[-1].text == "The tool failed: MarketClosed('no quote for ACME: the market is closed')"
    assert final == agent_snapshot


@pytest.mark.cassette
def test_async_max_iterations(cassette, async_client):
    messages = asyncio.run(agent.ask_async_turn_by_turn(async_client, WEATHER, max_iterations=1))

    assert [m.stop_reason for m in messages] == ["tool_use"]
    assert kinds(cassette) == ["http", "tool"]


@pytest.mark.cassette
def test_async_streaming_turns(cassette, async_client, agent_snapshot):
    recorders = []

    def watch(stream):
        recorders.append(harness.record_callbacks(stream))
        return recorders[-1]

    shown: list[str] = []
    messages = asyncio.run(agent.ask_async_streaming(async_client, WEATHER, watch=watch, out=shown))

    assert "".join(shown) == f"Let me check.Result: sunny and 21°C in {CITY}"
    assert kinds(cassette) == ["http", "tool", "http"]
    # Each turn's events, the async tool running between the first turn's message_stop and the next
    assert [r.names[-1] for r in recorders] == ["message_stop", "message_stop"]
    assert [r.calls for r in recorders] == agent_snapshot(name="events")
    assert messages == agent_snapshot(name="messages")
