"""The fake Anthropic server's compaction (``compaction`` on the request, beta ``compact-2026-09-04``) and citations
(a ``document`` with ``citations.enabled``), against the real ``anthropic`` SDK: the compaction block and its
``compaction_delta``, the turn after it answered from the summary, and text carrying a ``citations_delta``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from anthropic import Anthropic, beta_tool

from tests.servers.anthropic_api import COMPACT_BETA
from tests.servers.model_server import ModelServer

MODEL = "claude-opus-4-7"
QUESTION = "What is the weather in Paris?"
DOC = "Paris is the capital of France. It is sunny."


@beta_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


@pytest.fixture
def client(server: ModelServer) -> Iterator[Anthropic]:
    server.requests.clear()
    with Anthropic(base_url=server.url, api_key="sk-ant-test") as c:
        yield c


def bodies(server: ModelServer) -> list[Any]:
    return [r["json"] for r in server.requests if r["path"] == "/v1/messages"]


HISTORY: Any = [
    {"role": "user", "content": QUESTION},
    {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]},
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny in Paris"}]},
]
SUMMARY = "Summary: the user asked: What is the weather in Paris? The tools answered: sunny in Paris"


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_compaction_block(client: Anthropic, stream: bool) -> None:
    kwargs: Any = {"model": MODEL, "max_tokens": 100, "messages": HISTORY, "compaction": {"type": "summarize"}}
    if stream:
        with client.beta.messages.stream(**kwargs, betas=[COMPACT_BETA]) as s:
            events = list(s)
            message = s.get_final_message()
        starts = [e.content_block.type for e in events if e.type == "content_block_start"]
        deltas = [e.delta for e in events if e.type == "content_block_delta"]
        assert starts == ["compaction"] and [d.type for d in deltas] == ["compaction_delta"]
    else:
        message = client.beta.messages.create(**kwargs, betas=[COMPACT_BETA])
    assert message.stop_reason == "compaction"
    assert [b.type for b in message.content] == ["compaction"]
    assert message.content[0].content == SUMMARY  # type: ignore[union-attr]


def test_compaction_needs_the_beta(client: Anthropic) -> None:
    with pytest.raises(Exception, match="compaction"):
        client.beta.messages.create(model=MODEL, max_tokens=100, messages=HISTORY, compaction={"type": "summarize"})


def test_the_turn_after_compaction_answers_from_the_summary(client: Anthropic) -> None:
    compacted: Any = [{"role": "assistant", "content": [{"type": "compaction", "content": SUMMARY}]}]
    message = client.beta.messages.create(
        model=MODEL, max_tokens=100, messages=compacted, tools=[get_weather.to_dict()], betas=[COMPACT_BETA]
    )
    assert message.stop_reason == "end_turn"
    assert message.content[0].text == "From the summary: " + SUMMARY  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", ["plain", "stream"])
def test_tool_runner_compacts_between_turns(client: Anthropic, server: ModelServer, stream: str) -> None:
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": QUESTION}],
        tools=[get_weather],
        betas=[COMPACT_BETA],
        stream=stream == "stream",
    )
    reasons = []
    for item in runner:
        message = item.get_final_message() if stream == "stream" else item
        reasons.append(message.stop_reason)
        if message.stop_reason == "tool_use":
            runner.compact_before_next_turn()
    assert reasons == ["tool_use", "compaction", "end_turn"]
    _, compaction, after = bodies(server)
    assert compaction["compaction"] == {"type": "summarize"} and len(compaction["messages"]) == 3
    assert after["messages"][0]["content"][0]["type"] == "compaction"
    assert runner.until_done().content[0].text == "From the summary: " + SUMMARY  # type: ignore[union-attr]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_text_with_citations(client: Anthropic, stream: bool) -> None:
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": DOC},
        "title": "Paris",
        "citations": {"enabled": True},
    }
    content: Any = [document, {"type": "text", "text": "What is the capital of France?"}]
    kwargs: Any = {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": content}]}
    if stream:
        with client.messages.stream(**kwargs) as s:
            types = [e.delta.type for e in s if e.type == "content_block_delta"]
            message = s.get_final_message()
        assert "citations_delta" in types and "text_delta" in types
    else:
        message = client.messages.create(**kwargs)
    block = message.content[0]
    assert block.type == "text" and block.text == "Paris is the capital of France."
    citation = block.citations[0]  # type: ignore[index]
    assert citation.type == "char_location" and citation.cited_text == "Paris is the capital of France."
    assert (citation.document_index, citation.start_char_index, citation.end_char_index) == (0, 0, 31)
    assert citation.document_title == "Paris"
