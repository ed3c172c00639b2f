"""Replays the tool runner compacting its conversation between turns (``compact_before_next_turn()``): the
tool turn, the tool, the compaction turn (``stop_reason == "compaction"``, one compaction block), and the turn
after it, which sends the compaction block back in place of the history — sync and async, streamed and not."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from examples.anthropic_compaction import agent

WEATHER = "What is the weather in Paris?"
SUMMARY = "Summary: the user asked: What is the weather in Paris? The tools answered: sunny and 21°C in Paris"
KEY = "sk-ant-example-not-a-key"


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_compacts_between_turns(cassette, model_url, agent_snapshot, stream, flavour):
    if flavour == "sync":
        messages = agent.ask(anthropic.Anthropic(api_key=KEY, base_url=model_url), WEATHER, stream=stream)
    else:
        client = anthropic.AsyncAnthropic(api_key=KEY, base_url=model_url)
        messages = asyncio.run(agent.ask_async(client, WEATHER, stream=stream))

    assert [m.stop_reason for m in messages] == ["tool_use", "compaction", "end_turn"]
    compaction = messages[1]
    assert [b.type for b in compaction.content] == ["compaction"]
    assert compaction.content[0].content == SUMMARY
    assert messages[-1].content[-1].text == "From the summary: " + SUMMARY
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http", "http"]
    asked, after = (cassette.interactions[i].request.body.value for i in (2, 3))
    assert asked["compaction"] == {"type": "summarize"} and len(asked["messages"]) == 3
    # The turn after the compaction sends the block back first, in place of the three messages it summarizes.
    # (streamed, the SDK's accumulator also sets the delta's ``encrypted_content``, null here, and sends it back)
    (sent,) = after["messages"]
    assert sent["role"] == "assistant" and [(b["type"], b["content"]) for b in sent["content"]] == [("compaction", SUMMARY)]
    assert compaction == agent_snapshot(name="compaction")
    assert messages == agent_snapshot(name="messages")
