"""Reconnects: the server fails mid-response (a close frame with code 1011, or the TCP connection cut
with no close frame) and the client reconnects and asks again, through openai's ``responses.connect()``
sync and async and through websockets' own reconnect loop (``async for ws in connect(...)``). Replayed
with the server gone and every socket refused: the same sessions in the same order, and the client sees
the same closes, as the same exceptions with the same codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.websocket.conftest import Project

RECONNECTS = """
    import asyncio
    import json
    import os

    import openai
    import pytest
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosedError

    URL = os.environ["MODEL_URL"]


    def note(line):
        with open(os.environ["CLOSES"], "a", encoding="utf-8") as f:
            f.write(line + "\\n")


    def seen(test, exc):
        rcvd = exc.rcvd and (exc.rcvd.code, exc.rcvd.reason)
        note(f"{test}: {type(exc).__name__} rcvd={rcvd} sent={exc.sent and exc.sent.code}")


    def request(fault):
        return {"type": "response.create", "model": "gpt-5", "input": "Weather in Paris?", **({"metadata": {"fault": fault}} if fault else {})}


    def client(cls):
        return cls(api_key="sk-test", base_url=URL + "/v1", max_retries=0)


    @pytest.mark.cassette
    def test_sync_reconnects_after_a_1011_close():
        fault, types = "close-1011", []
        while True:
            with client(openai.OpenAI).responses.connect() as ws:
                ws.send(request(fault))
                try:
                    while (event := ws.recv()).type != "response.completed":
                        types.append(event.type)
                except ConnectionClosedError as exc:
                    seen("sync", exc)
                    fault = None
                    continue
                args = event.response.output[0].arguments
                break
        note(f"sync: {len(types)} events, {args}")
        assert args == '{"city":"Paris"}'


    @pytest.mark.cassette
    def test_async_reconnects_after_a_dropped_connection():
        async def go():
            fault, types = "drop", []
            while True:
                async with client(openai.AsyncOpenAI).responses.connect() as ws:
                    await ws.send(request(fault))
                    try:
                        while (event := await ws.recv()).type != "response.completed":
                            types.append(event.type)
                    except ConnectionClosedError as exc:
                        seen("async", exc)
                        fault = None
                        continue
                    return types, event.response.output[0].arguments

        types, args = asyncio.run(go())
        note(f"async: {len(types)} events, {args}")
        assert args == '{"city":"Paris"}'


    @pytest.mark.cassette
    def test_websockets_reconnect_loop():
        async def go():
            attempts = 0
            async for ws in connect(URL.replace("http://", "ws://") + "/v1/responses"):
                attempts += 1
                await ws.send(json.dumps(request("close-1011" if attempts == 1 else None)))
                try:
                    async for raw in ws:
                        if json.loads(raw)["type"] == "response.completed":
                            return attempts
                except ConnectionClosedError as exc:
                    seen("loop", exc)

        assert asyncio.run(asyncio.wait_for(go(), 30)) == 2
        note("loop: 2 sessions")
"""


def _sessions(project: Project) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for path, text in project.cassettes().items():
        out[Path(path).stem] = [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
    return out


def test_a_dropped_session_and_its_reconnect_replay_as_recorded(project: Project) -> None:
    # Given clients that reconnect when the server fails mid-response, with a close code or without a close frame
    closes = Path(project.path) / "closes.txt"
    project.monkeypatch.setenv("CLOSES", str(closes))
    project.write({"test_reconnects.py": RECONNECTS})
    # When they are recorded against the live server
    project.record().assert_outcomes(passed=3)
    recorded = closes.read_text(encoding="utf-8").splitlines()
    assert "sync: ConnectionClosedError rcvd=(1011, 'internal error') sent=1011" in recorded
    assert "async: ConnectionClosedError rcvd=None sent=None" in recorded
    assert "loop: ConnectionClosedError rcvd=(1011, 'internal error') sent=1011" in recorded
    # Then each cassette holds two sessions: the failed one, closed by the server as it happened, then the reconnect
    sessions = _sessions(project)
    assert set(sessions) == {
        "test_sync_reconnects_after_a_1011_close",
        "test_async_reconnects_after_a_dropped_connection",
        "test_websockets_reconnect_loop",
    }
    for name, (failed, again) in sessions.items():
        assert [f["json"]["type"] for f in failed["frames"] if f["from"] == "server"] == [
            "response.created",
            "response.output_item.added",
            "response.function_call_arguments.delta",
        ]
        want = (
            {"by": "server", "code": 1006, "reason": ""}
            if "dropped" in name
            else {"by": "server", "code": 1011, "reason": "internal error"}
        )
        assert failed["close"] == want
        assert "fault" not in json.dumps(again["frames"][0])
        assert again["close"]["by"] == "client"
    # When they are replayed with the server gone and every socket refused
    closes.write_text("", encoding="utf-8")
    project.replay().assert_outcomes(passed=3)
    # Then the clients saw the same closes, as the same exceptions, and the same answers after reconnecting
    assert closes.read_text(encoding="utf-8").splitlines() == recorded
