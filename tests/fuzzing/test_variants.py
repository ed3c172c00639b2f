"""The strategies' variants of recorded streams: a re-chunking keeps the bytes and describes each cut, a
re-split keeps the meaning of every format (each provider's rules), a fault says what it breaks."""

from __future__ import annotations

import collections
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import harness.strategies as hs
from harness import sse
from harness.fuzz import samples
from harness.fuzz.faults import Stall
from tests.fuzzing.scenarios import (
    FAST,
    interactions,
    meaning,
    sequence_numbers,
    variant_events,
)


def test_rechunk_keeps_the_bytes_and_describes_each_cut() -> None:
    recorded = samples.weather_stream(eol="\r\n")
    rec = hs.targets(recorded)[0]
    data = rec.data

    @FAST
    @given(hs.rechunked(source=recorded))
    def check(v: hs.Variant) -> None:
        resp = v.interaction.response
        assert resp is not None and resp.body is recorded.response.body  # rendered once, shared  # type: ignore[union-attr]
        assert sum(int(c[0]) for c in resp.chunks) == len(data) and all(c[0] > 0 for c in resp.chunks)  # type: ignore[union-attr]
        assert v.preserving and v.kind == "rechunk" and repr(v).startswith("rechunk(#0: ")

    check()

    # The interesting cuts include the middle of every multi-byte character and of every CRLF.
    cuts = set(rec.interesting_cuts())
    e_acute = data.index("é".encode())
    crlf = data.index(b"\r\n")
    assert {e_acute + 1, crlf + 1, data.index(b"data: ") + 5} <= cuts
    one = hs.rechunk(rec, [e_acute + 1])
    assert [c[0] for c in one.interaction.response.chunks] == [e_acute + 1, len(data) - e_acute - 1]  # type: ignore[union-attr]
    assert "inside 'é' (after UTF-8 byte 1 of 2)" in repr(one) and "content_block_delta" in repr(one)
    assert "between \\r and \\n" in repr(hs.rechunk(rec, [crlf + 1]))
    assert repr(hs.rechunk(rec, range(1, len(data)), mode="bytewise")) == f"rechunk(#0: one byte per chunk ({len(data)} chunks))"


# The formats, each from a real recording (OpenAI) or the hand-built Anthropic stream.
FORMATS = {
    "anthropic": ("anthropic_agent", 0),
    "openai-chat": ("chat", 1),
    "openai-responses": ("responses", 1),
    "openai-assistants": ("assistants", 1),
}


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_resplit_keeps_the_meaning_of_every_format(recordings: dict[str, Path], format_name: str) -> None:
    name, index = FORMATS[format_name]
    items = interactions(recordings, name)
    rec = hs.targets(items, index)[0]
    assert rec.format == format_name
    want = meaning(rec.events, format_name)  # type: ignore[arg-type]
    seen: collections.Counter[str] = collections.Counter()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(hs.resplit(index, source=items))
    def check(v: hs.Variant) -> None:
        events = variant_events(v)
        assert meaning(events, format_name) == want, v
        assert sse.render(events, rec.eol) == v.interaction.response.body.bytes()  # type: ignore[union-attr]
        numbers = sequence_numbers(events)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
        seen["more" if len(events) > len(rec.events) else "fewer" if len(events) < len(rec.events) else "same"] += 1  # type: ignore[arg-type]

    check()
    assert seen["more"] > 0  # splits happened (merges too, where the format's deltas allow)


def test_resplit_rules_per_provider() -> None:
    rec = hs.targets(samples.weather_stream())[0]
    anthropic_rw = hs.rewriters()["anthropic"]
    # A signature is never split (the SDKs assign it, they do not concatenate it).
    signature = next(e for e in rec.events if e["data"].get("delta", {}).get("type") == "signature_delta")  # type: ignore[union-attr]
    assert anthropic_rw.slots(signature) == []
    # Splitting a tool call's arguments mid-token, then merging back, gives the original event.
    i, event = next(
        (i, e) for i, e in enumerate(rec.events) if e["data"].get("delta", {}).get("partial_json", "").startswith('{"cit')
    )  # type: ignore[union-attr]
    head, tail = anthropic_rw.split(event, 0, 2)
    assert head["data"]["delta"]["partial_json"] == '{"' and tail["data"]["delta"]["partial_json"] == "cit"
    assert anthropic_rw.merge(head, tail) == event
    v = hs.resplit_ops(rec, [("split", i, 0, 3)])
    assert repr(v) == f"resplit(#0 anthropic: split #{i} content_block_delta input_json_delta '{{\"c|it' at char 3)"
    # OpenAI chat: the tail of a split tool call carries no id, type or name (the SDK would concatenate them).
    chat_rw = hs.rewriters()["openai-chat"]
    first = {"data": {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [
        {"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]}, "logprobs": None, "finish_reason": "tool_calls"}]}}  # fmt: skip
    head, tail = chat_rw.split(first, 0, 3)
    assert tail["data"]["choices"] == [
        {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '":1}'}}]},
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    assert head["data"]["choices"][0]["finish_reason"] is None and head["data"]["choices"][0]["delta"]["role"] == "assistant"
    assert chat_rw.merge(head, tail) == first
    # Explode cuts every delta into single characters; the text is unchanged.
    exploded = hs.resplit_ops(rec, [("explode",)])
    assert meaning(variant_events(exploded), "anthropic") == meaning(rec.events, "anthropic")  # type: ignore[arg-type]
    assert "explode: every delta cut every 1 char" in repr(exploded)


def test_fault_variants_say_what_they_break() -> None:
    rec = hs.targets(samples.weather_stream())[0]
    n = len(rec.events)  # type: ignore[arg-type]
    cut = hs.truncate(rec, 5)
    assert len(cut.interaction.response.body.value) == 5 and not cut.preserving and cut.fault == "truncate"  # type: ignore[union-attr]
    assert "after event #4 content_block_delta; 5 of 25 events kept; never sent: content_block_stop," in repr(
        cut
    ) and "message_stop)" in repr(cut)
    dropped = hs.drop(rec, 100)
    assert dropped.interaction.response.body.bytes() == rec.data[:100]  # type: ignore[union-attr]
    assert dropped.interaction.response.error["type"] == "RemoteProtocolError" and "byte 100" in repr(dropped)  # type: ignore[index,union-attr]
    error = hs.error_event(rec, 3)
    assert error.interaction.response.body.value[-1] == {
        "event": "error",
        "data": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    }  # type: ignore[union-attr]
    overloaded = hs.status(rec, 529)
    (first,) = overloaded.before
    assert (
        first.response.status == 529
        and first.response.headers["retry-after-ms"] == "1"
        and overloaded.interaction.response is rec.response
    )  # type: ignore[union-attr]
    stalled = hs.read_timeout(rec, 4)
    assert isinstance(stalled.interaction.response, Stall) and stalled.interaction.response.stall == math.inf
    assert stalled.interaction.response.body.bytes() == b"".join(rec.parts[:4])
    assert stalled.interaction.response.error["type"] == "ReadTimeout"  # type: ignore[index]
    assert "stalls for ever after event #3" in repr(stalled) and "read timeout" in repr(stalled)
    kinds: collections.Counter[str] = collections.Counter()

    @settings(max_examples=60, deadline=None)
    @given(hs.faults(source=samples.weather_stream()))
    def check(v: hs.Variant) -> None:
        kinds[v.fault or ""] += 1
        assert not v.preserving and v.kind == "fault"

    check()
    assert set(kinds) == set(hs.KINDS) and n > 10
