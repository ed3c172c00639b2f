"""The ``websocket`` interaction kind in the cassette file: written one frame per line, read back equal,
and a malformed frame refused with its location."""

from __future__ import annotations

import json

import pytest

from harness.cassette import format as fmt
from harness.cassette.model import WebSocketInteraction
from harness.errors import CassetteFormatError

SESSION = WebSocketInteraction(
    "ws://127.0.0.1/v1/responses",
    {"accept": "application/json"},
    [
        {"from": "client", "ms": 1.5, "json": {"type": "response.create", "input": "hi"}},
        {"from": "server", "ms": 2.0, "text": "plain"},
        {"from": "server", "ms": 2.5, "base64": "AAEC"},
    ],
    {"by": "server", "code": 1011, "reason": "boom"},
)


def test_a_session_round_trips_one_frame_per_line() -> None:
    text = fmt.dumps([SESSION])
    lines = text.splitlines()
    assert '        {"from": "client", "ms": 1.5, "json": {"type": "response.create", "input": "hi"}},' in lines
    assert fmt.loads(text, "x.json") == [SESSION]
    # the timeless form drops only the frames' times
    assert SESSION.timeless().frames[0] == {"from": "client", "json": {"type": "response.create", "input": "hi"}}


def test_a_frame_without_direction_or_data_is_refused_with_its_place() -> None:
    doc = json.loads(fmt.dumps([SESSION]))
    doc["interactions"][0]["frames"][1] = {"from": "sideways", "text": "?"}
    with pytest.raises(CassetteFormatError, match=r"interactions\[0\]\.frames\[1\]"):
        fmt.loads(json.dumps(doc), "x.json")
