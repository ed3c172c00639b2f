"""The loopback Responses WebSocket server speaks what the installed openai SDK models: every frame it
sends, read off a real socket, parses with the SDK's own event unions (``harness.drift``), strictly, with
nothing dropped, so what harness records from it is what the API would send."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.sync.client import connect

from harness import drift
from tests.servers.ws_api import ResponsesWsServer


@pytest.fixture(scope="module")
def server() -> Iterator[ResponsesWsServer]:
    with ResponsesWsServer() as s:
        yield s


def _frames(url: str, sends: list[dict[str, Any]], until: str, first: int = 0) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    with connect(url) as ws:
        for _ in range(first):
            out.append(json.loads(ws.recv(timeout=5)))
        for event in sends:
            ws.send(json.dumps(event))
            while True:
                out.append(json.loads(ws.recv(timeout=5)))
                if out[-1]["type"] == until:
                    break
    return out


def _problems(frames: list[dict[str, Any]], module: str, union: str) -> list[tuple[str, str, str]]:
    table = drift.MODELS.union(module, union, "type")
    assert table, union
    return [(f["type"], p, why) for f in frames for p, why in drift.parse(table[f["type"]], f)]


def test_responses_frames_are_what_the_sdk_models(server: ResponsesWsServer) -> None:
    ws = server.url.replace("http", "ws") + "/v1/responses"
    call = {"type": "response.create", "model": "gpt-5", "input": [{"role": "user", "content": "weather?"}]}
    answer = {**call, "input": [{"type": "function_call_output", "call_id": "call_1", "output": "sunny"}]}
    frames = _frames(ws, [call, answer], "response.completed")
    assert [f["sequence_number"] for f in frames if f["type"] == "response.created"] == [0, 0]
    assert "response.output_text.delta" in {f["type"] for f in frames}
    assert _problems(frames, "openai.types.responses", "ResponsesServerEvent") == []


def test_realtime_frames_are_what_the_sdk_models(server: ResponsesWsServer) -> None:
    ws = server.url.replace("http", "ws") + "/v1/realtime?model=gpt-realtime"
    frames = _frames(ws, [{"type": "response.create"}], "response.done", first=1)
    assert frames[0]["type"] == "session.created"
    assert _problems(frames, "openai.types.realtime", "RealtimeServerEvent") == []
