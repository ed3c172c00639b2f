"""The WebSocket strategies' variants of a recorded session: a re-split keeps each response's text and
numbering (``sequence_number`` per response, as the Responses API sends it) and never moves a server frame
across a client frame; a fault says where it breaks the session and cuts it there."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

import harness.strategies as hs
from harness.cassette.model import WebSocketInteraction
from tests.fuzzing.scenarios import FAST


def _delta(seq: int, text: str) -> dict[str, Any]:
    return {"type": "response.output_text.delta", "item_id": "msg_1", "output_index": 0, "content_index": 0,
            "delta": text, "sequence_number": seq}  # fmt: skip


def session() -> WebSocketInteraction:
    frames: list[dict[str, Any]] = [
        {"from": "client", "ms": 1.0, "json": {"type": "response.create", "input": "Hi"}},
        {"from": "server", "ms": 2.0, "json": {"type": "response.created", "sequence_number": 0}},
        {"from": "server", "ms": 3.0, "json": _delta(1, "Hello world")},
        {"from": "server", "ms": 4.0, "json": _delta(2, ", café ☕")},
        {"from": "server", "ms": 5.0, "json": {"type": "response.completed", "sequence_number": 3}},
        {"from": "client", "ms": 6.0, "json": {"type": "response.create", "input": "Again"}},
        {"from": "server", "ms": 7.0, "json": {"type": "response.created", "sequence_number": 0}},
        {"from": "server", "ms": 8.0, "json": _delta(1, "Bye now")},
        {"from": "server", "ms": 9.0, "json": {"type": "response.completed", "sequence_number": 2}},
    ]
    return WebSocketInteraction("ws://127.0.0.1/v1/responses", {}, frames, {"by": "client", "code": 1000, "reason": ""})


def runs(item: WebSocketInteraction) -> list[list[dict[str, Any]]]:
    """The server events between client frames."""
    out: list[list[dict[str, Any]]] = [[]]
    for frame in item.frames:
        if frame["from"] == "client":
            out.append([])
        else:
            out[-1].append(frame["json"])
    return out


def meaning(item: WebSocketInteraction) -> list[tuple[str, list[str]]]:
    return [
        ("".join(e.get("delta", "") for e in run), [e["type"] for e in run if e["type"] != "response.output_text.delta"])
        for run in runs(item)
    ]


def test_resplit_keeps_each_responses_text_and_numbering() -> None:
    item = session()
    split = hs.ws_resplit_ops(0, item, [("split", 2, 5)])
    stand_in = split.interaction
    assert isinstance(stand_in, WebSocketInteraction) and split.preserving and split.kind == "resplit"
    assert [e.get("delta") for e in runs(stand_in)[1]] == [None, "Hello", " world", ", café ☕", None]
    assert [e["sequence_number"] for e in runs(stand_in)[1]] == [0, 1, 2, 3, 4]
    assert [e["sequence_number"] for e in runs(stand_in)[2]] == [0, 1, 2]  # each response numbered on its own
    assert repr(split) == "ws_resplit(#0: split frame #2 response.output_text.delta 'Hello'|' world')"
    merged = hs.ws_resplit_ops(0, item, [("merge", 2)]).interaction
    assert [e.get("delta") for e in runs(merged)[1]] == [None, "Hello world, café ☕", None]  # type: ignore[arg-type]
    assert [e["sequence_number"] for e in runs(merged)[1]] == [0, 1, 2]  # type: ignore[arg-type]
    assert item.frames == session().frames  # the recording is left as it was

    @FAST
    @given(hs.ws_resplit(source=[item]))
    def check(variant: hs.Variant) -> None:
        got = variant.interaction
        assert isinstance(got, WebSocketInteraction)
        assert meaning(got) == meaning(item), variant
        assert [f for f in got.frames if f["from"] == "client"] == [f for f in item.frames if f["from"] == "client"]
        for run in runs(got):
            assert [e["sequence_number"] for e in run] == list(range(len(run))), variant

    check()


def test_faults_cut_or_garble_the_session_where_they_say() -> None:
    item = session()
    drop = hs.ws_drop(0, item, after=2)
    assert drop.fault == "drop" and not drop.preserving
    assert (
        repr(drop)
        == "ws_drop(#0: WebSocket to ws://127.0.0.1/v1/responses: connection lost after server frame #2 response.output_text.delta)"
    )
    assert drop.interaction.frames == item.frames[:3]  # type: ignore[attr-defined]
    assert drop.interaction.close == {"by": "server", "code": 1006, "reason": ""}  # type: ignore[attr-defined]
    # after every frame of the first response: the client's second frame is never answered
    closed = hs.ws_close(0, item, after=4, code=1013, reason="try again later").interaction
    assert closed.frames == item.frames[:5] and closed.close == {"by": "server", "code": 1013, "reason": "try again later"}  # type: ignore[attr-defined]
    garbled = hs.ws_malformed(0, item, before=5, garbage="<html>")
    frames = garbled.interaction.frames  # type: ignore[attr-defined]
    assert frames[6] == {"from": "server", "ms": 6.0, "text": "<html>"} and frames[7:] == item.frames[6:]
    assert "before server frame #5 response.created" in repr(garbled)
    assert hs.ws_targets([item]) == [(0, item)]

    @FAST
    @given(hs.ws_faults(source=[item]))
    def check(variant: hs.Variant) -> None:
        got = variant.interaction
        assert isinstance(got, WebSocketInteraction) and variant.fault in hs.WS_KINDS
        if variant.fault == "malformed":
            assert [f for f in got.frames if "text" not in f] == item.frames
        else:
            assert got.frames == item.frames[: len(got.frames)] and got.close["by"] == "server"  # type: ignore[index]

    check()


def test_an_http_strategy_over_websocket_sessions_points_to_the_websocket_ones() -> None:
    @FAST
    @given(hs.equivalent(source=[session()]))
    def check(variant: hs.Variant) -> None:
        raise AssertionError("never drawn")

    with pytest.raises(ValueError, match=r"1 WebSocket session: vary it with hs\.ws_resplit\(\) or hs\.ws_faults\(\)"):
        check()
