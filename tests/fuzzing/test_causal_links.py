"""A causal stream's links (``awaits``: chunks that came only after a client's request) survive every variant:
re-chunked, re-split, re-split then re-chunked, and the faults that keep part of the stream. The bytes that
followed the request stay after it, the bytes before it stay before it."""

from __future__ import annotations

import dataclasses

from hypothesis import given

import harness.strategies as hs
from harness import sse
from harness.fuzz import faults, samples
from tests.fuzzing.scenarios import FAST

POST = "POST /v1/sessions/s/events"
LINKED = 5  # the third text delta came only after the client's POST (and the client closed the stream)


def causal_stream() -> hs.Recorded:
    item = samples.weather_stream(thinking=False)
    assert item.response is not None
    response = dataclasses.replace(item.response, awaits=[[LINKED, POST]], client_closed=True)
    return hs.recorded(0, dataclasses.replace(item, response=response))


def linked_bytes(variant: hs.Variant) -> tuple[bytes, list[str]] | None:
    """What the variant sends from its linked chunk on, and that chunk's requests (None: no link)."""
    response = variant.response
    assert response is not None and response.chunks is not None
    if not response.awaits:
        return None
    ((chunk, *requests),) = response.awaits
    start = sum(int(c[0]) for c in response.chunks[:chunk])
    return response.body.bytes()[start:], requests


def test_rechunked_variants_keep_the_link_at_the_same_byte() -> None:
    rec = causal_stream()
    after = rec.data[rec.starts[LINKED] :]

    @FAST
    @given(hs.rechunked(source=[rec.interaction]))
    def check(variant: hs.Variant) -> None:
        assert linked_bytes(variant) == (after, [POST]), variant
        assert variant.response is not None and variant.response.client_closed

    check()
    # Everything in one chunk is cut where the stream waited, and says so
    whole = hs.rechunk(rec, [], mode="whole")
    assert whole.response is not None and [c[0] for c in whole.response.chunks or []] == [rec.starts[LINKED], len(after)]
    assert f"kept the cut at [{rec.starts[LINKED]}], where the stream waited for a request" in repr(whole)


def _text(data: bytes) -> str:
    """The text of the text block's deltas among the (whole) events of ``data``."""
    events, _ = sse.parse(data)
    deltas = [e["data"] for e in events if isinstance(e.get("data"), dict) and e["data"].get("type") == "content_block_delta"]
    return "".join(d["delta"].get("text", "") for d in deltas if d["index"] == 0)


def test_resplit_variants_keep_the_link_on_the_linked_event_and_never_merge_across_it() -> None:
    rec = causal_stream()
    before, after = _text(rec.data[: rec.starts[LINKED]]), _text(rec.data[rec.starts[LINKED] :])
    assert before and after

    def check_split(variant: hs.Variant) -> None:
        found = linked_bytes(variant)
        assert found is not None and found[1] == [POST], variant
        assert _text(found[0]) == after, variant  # the linked text all comes after the POST, and only it
        assert variant.response is not None and variant.response.client_closed

    merged = hs.resplit_ops(rec, [("merge_all",)])
    check_split(merged)  # the deltas on each side of the link merged among themselves only
    assert "merge_all" in repr(merged)

    @FAST
    @given(hs.equivalent(source=[rec.interaction]))
    def check(variant: hs.Variant) -> None:
        check_split(variant)

    check()


def test_faults_keep_the_link_when_they_keep_the_linked_bytes() -> None:
    rec = causal_stream()
    at = rec.starts[LINKED]
    kept = faults.truncate(rec, LINKED + 1)
    assert linked_bytes(kept) == (rec.parts[LINKED], [POST])
    assert kept.response is not None and not kept.response.client_closed  # the fault ends the stream its own way
    assert faults.truncate(rec, LINKED).response.awaits is None  # type: ignore[union-attr]
    dropped = faults.drop(rec, at + 3)
    assert linked_bytes(dropped) == (rec.data[at : at + 3], [POST])
    assert [c[0] for c in dropped.response.chunks] == [at, 3]  # type: ignore[union-attr]
    stalled = faults.read_timeout(rec, LINKED + 2)
    assert linked_bytes(stalled) == (b"".join(rec.parts[LINKED : LINKED + 2]), [POST])
    error = faults.error_event(rec, LINKED)  # the error comes where the linked event would have: after the POST
    found = linked_bytes(error)
    assert found is not None and found[1] == [POST] and b"overloaded" in found[0]
    assert error.response is not None and error.response.body.bytes()[:at] == b"".join(rec.parts[:LINKED])
