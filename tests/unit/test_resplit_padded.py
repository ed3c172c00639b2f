"""harness.fuzz.resplit on a stream whose event JSON is not compact (json.dumps defaults, as real servers
send): the deltas are still re-split, and the rewritten events keep the stream's own style (issue 12, item 17)."""

from __future__ import annotations

import json

import pytest

from harness import sse
from harness.cassette.model import Body, HttpInteraction, Request, Response
from harness.fuzz.resplit import resplit
from harness.fuzz.stream import Recorded


def _padded_stream() -> bytes:
    events = [
        ("message_start", {"type": "message_start", "message": {"id": "m1", "type": "message", "role": "assistant",
          "content": [], "model": "m", "stop_reason": None, "usage": {"input_tokens": 1, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello there, world"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip
    return "".join(f"event: {name}\ndata: {json.dumps(data)}\n\n" for name, data in events).encode()


def _recorded(old: bool = False) -> Recorded:
    data = _padded_stream()
    body = Body.from_bytes(data, "text/event-stream")
    assert not any("raw" in e for e in body.value)  # not compact: kept with its style, not as exact text
    assert {e.get("style") for e in body.value} == {"padded"}
    if old:  # as harness stored such a stream before events had a style: each event's exact text
        events = [{**{k: v for k, v in e.items() if k != "style"}, "raw": sse.render_entry(e)} for e in body.value]
        body = Body("sse", events)
        assert body.bytes() == data
    request = Request("POST", "http://127.0.0.1/v1/messages", {}, Body("json", {"model": "m", "stream": True}))
    response = Response(200, {"content-type": "text/event-stream"}, body)
    return Recorded(0, HttpInteraction(request, response))


@pytest.mark.parametrize("old", [False, True])
def test_a_padded_stream_is_resplit_in_its_own_style(old: bool) -> None:
    rec = _recorded(old)
    variant = resplit(rec, [("explode", 0, None, 4)])
    out = variant.interaction.response.body.bytes().decode()
    assert out != _padded_stream().decode()  # it did vary
    texts = [json.loads(line[6:]) for line in out.splitlines() if line.startswith("data: ")]
    deltas = [t["delta"]["text"] for t in texts if t["type"] == "content_block_delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Hello there, world"
    assert all(line == f"data: {json.dumps(json.loads(line[6:]))}" for line in out.splitlines() if line.startswith("data: "))


def test_a_stream_with_nothing_to_vary_says_so() -> None:
    # A stream with no text deltas at all: every example would be the recording itself.
    from harness.fuzz.resplit import resplit_strategy

    data = b'event: message_start\ndata: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","content":[],"model":"m"}}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
    body = Body.from_bytes(data, "text/event-stream")
    request = Request("POST", "http://127.0.0.1/v1/messages", {}, Body("json", {"model": "m", "stream": True}))
    rec = Recorded(0, HttpInteraction(request, Response(200, {"content-type": "text/event-stream"}, body)))
    with pytest.warns(UserWarning, match=r"resplit cannot vary interaction #0 \(anthropic\)"):
        resplit_strategy(rec)
