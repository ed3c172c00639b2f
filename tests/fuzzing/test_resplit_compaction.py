"""The re-splitter and anthropic's assigned / whole deltas: ``compaction_delta`` and ``citations_delta``.

The beta accumulator *assigns* a compaction (``content.content = delta.content``) and *appends* a
citation whole to a list, so neither may be cut: a cut compaction would keep only its tail, a cut
citation is not a citation. Text around them is still split, and the SDK's own accumulator must give
the same final message either way.
"""

from __future__ import annotations

from typing import Any

import httpx2
from anthropic.lib.streaming._beta_messages import accumulate_event
from anthropic.types.beta import BetaRawMessageStreamEvent
from pydantic import TypeAdapter

import harness.strategies as hs

CITATION = {"type": "char_location", "cited_text": "Paris is the capital", "document_index": 0,
            "document_title": "Atlas", "start_char_index": 0, "end_char_index": 20, "file_id": None}  # fmt: skip
EVENTS: list[dict[str, Any]] = [
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 5, "output_tokens": 0},
        },
    },
    {"type": "content_block_start", "index": 0, "content_block": {"type": "compaction", "content": None}},
    {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "compaction_delta", "content": "Summary so far: the user asked about Paris."},
    },
    {"type": "content_block_stop", "index": 0},
    {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": "", "citations": []}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "Paris is the capital."}},
    {"type": "content_block_delta", "index": 1, "delta": {"type": "citations_delta", "citation": CITATION}},
    {"type": "content_block_stop", "index": 1},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 9}},
    {"type": "message_stop"},
]
ADAPTER: TypeAdapter[BetaRawMessageStreamEvent] = TypeAdapter(BetaRawMessageStreamEvent)


def final(entries: list[dict[str, Any]]) -> dict[str, Any]:
    snapshot = None
    for entry in entries:
        event = ADAPTER.validate_python(entry["data"])
        snapshot = accumulate_event(event=event, current_snapshot=snapshot, json_bufs={}, request_headers=httpx2.Headers())
    assert snapshot is not None
    return snapshot.model_dump()


def test_compaction_and_citation_deltas_are_never_cut_and_the_final_message_is_kept() -> None:
    rw = hs.rewriters()["anthropic"]
    entries = [{"event": e["type"], "data": e} for e in EVENTS]
    assert rw.slots(entries[2]) == [] and rw.slots(entries[6]) == []
    assert rw.merge(entries[2], entries[2]) is None and rw.merge(entries[6], entries[6]) is None
    assert rw.slots(entries[5]) == [("text_delta", "Paris is the capital.")]
    head, tail = rw.split(entries[5], 0, 5)
    resplit = [*entries[:5], head, tail, *entries[6:]]
    want = final(entries)
    assert want["content"][0]["content"] == "Summary so far: the user asked about Paris."
    assert want["content"][1]["citations"][0]["cited_text"] == "Paris is the capital"
    assert final(resplit) == want
    # What a cut would do: the SDK assigns a compaction, so only the tail would survive.
    cut = [dict(entries[2], data={**EVENTS[2], "delta": {"type": "compaction_delta", "content": part}})
           for part in ("Summary so far: ", "the user asked about Paris.")]  # fmt: skip
    assert final(entries[:2] + cut + entries[3:])["content"][0]["content"] == "the user asked about Paris."
