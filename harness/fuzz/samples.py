"""Recorded Anthropic Messages streams built by hand, in the exact wire format the API sends.

For the benchmark, the self-tests and the docs: a stream of any length with text (multi-byte
characters included), an optional thinking block with its signature, and an optional tool call
whose JSON arguments arrive in fragments cut mid-token.
"""

from __future__ import annotations

import json
from typing import Any

from harness.cassette.model import Body, HttpInteraction, Request, Response

URL = "http://127.0.0.1/v1/messages"
MODEL = "claude-opus-4-7"


def request_body(
    prompt: str = "What is the weather in Paris?",
    *,
    max_tokens: int = 1024,
    tools: list[dict[str, Any]] | None = None,
    thinking: bool = False,
) -> dict[str, Any]:
    """The JSON body ``client.messages.stream(model=MODEL, max_tokens=..., messages=[...])`` sends."""
    body: dict[str, Any] = {
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": prompt}],
        "model": MODEL,
        "stream": True,
    }
    if tools:
        body["tools"] = tools
    if thinking:
        body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    return body


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the current weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _event(name: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": name, "data": data}


def anthropic_events(
    text_deltas: list[str],
    *,
    thinking_deltas: list[str] | None = None,
    signature: str = "EqQBCkYIBxgCKkBzaWduYXR1cmUtb2YtdGhlLXRoaW5raW5nLWJsb2Nr",
    tool: tuple[str, str, list[str]] | None = None,
    ping: bool = True,
    message_id: str = "msg_01XFDUDYJgAACzvnptvVoYEL",
) -> list[dict[str, Any]]:
    """The SSE entries of one Messages stream: [thinking], text, [tool_use], as the API orders them."""
    out_tokens = sum(len(t) for t in text_deltas) // 4 + 1
    message: dict[str, Any] = {
        "id": message_id, "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 1},
    }  # fmt: skip
    events = [_event("message_start", {"type": "message_start", "message": message})]
    index = 0
    if thinking_deltas is not None:
        events.append(
            _event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                },
            )
        )
        for t in thinking_deltas:
            events.append(
                _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": t}},
                )
            )
        events.append(
            _event(
                "content_block_delta",
                {"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": signature}},
            )
        )
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    events.append(
        _event(
            "content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
        )
    )
    if ping:
        events.append(_event("ping", {"type": "ping"}))
    for t in text_deltas:
        events.append(
            _event(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": t}}
            )
        )
    events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    stop = "end_turn"
    if tool is not None:
        index += 1
        tool_id, name, fragments = tool
        events.append(
            _event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "tool_use", "id": tool_id, "name": name, "input": {}},
                },
            )
        )
        for f in ["", *fragments]:
            events.append(
                _event(
                    "content_block_delta",
                    {"type": "content_block_delta", "index": index, "delta": {"type": "input_json_delta", "partial_json": f}},
                )
            )
        events.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        stop = "tool_use"
    events.append(
        _event(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": out_tokens},
            },
        )
    )
    events.append(_event("message_stop", {"type": "message_stop"}))
    return events


def fragments(text: str, size: int = 5) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def interaction(
    events: list[dict[str, Any]],
    body: dict[str, Any] | None = None,
    *,
    eol: str = "\n",
    url: str = URL,
    per_event_chunks: bool = True,
) -> HttpInteraction:
    """A recorded exchange: the request, and the SSE answer sent one network write per event."""
    from harness import sse

    sse_body = Body("sse", events, eol)
    chunks = (
        [[len(sse.render_entry(e, eol).encode()), round(i * 12.5, 1)] for i, e in enumerate(events)] if per_event_chunks else None
    )
    headers = {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "request-id": "req_011CSHoEeqs5C35K2UUqR7Fy",
    }
    response = Response(200, headers, sse_body, chunks, None)
    return HttpInteraction(
        Request("POST", url, {"content-type": "application/json"}, Body("json", body or request_body())), response, None, 180.0
    )


def weather_stream(*, eol: str = "\n", thinking: bool = True) -> HttpInteraction:
    """A short answer with multi-byte text, a thinking block and a tool call, like a real agent turn."""
    events = anthropic_events(
        ["Je regarde la météo ", "à Paris ☕ — ", "東京 aussi? ", "Un instant."],
        thinking_deltas=["The user wants the weather in Paris. ", "I'll call get_weather."] if thinking else None,
        tool=(
            "toolu_01A09q90qw90lq917835lq9",
            "get_weather",
            fragments(json.dumps({"city": "Paris", "unit": "celsius"}, separators=(",", ":"))),
        ),
    )
    return interaction(events, request_body(tools=[WEATHER_TOOL], thinking=thinking), eol=eol)


_WORDS = "the quick brown fox jumps over a lazy dog while café crème ☕ and 東京 rāmen wait".split()


def long_stream(n_events: int = 1000) -> HttpInteraction:
    """An Anthropic stream of exactly ``n_events`` SSE events (text deltas of multi-byte words)."""
    fixed = 6  # message_start, block start, ping, block stop, message_delta, message_stop
    deltas = [_WORDS[i % len(_WORDS)] + " " for i in range(max(1, n_events - fixed))]
    events = anthropic_events(deltas)
    assert len(events) == n_events or n_events < fixed + 1
    return interaction(events, request_body("Tell me a long story."))
