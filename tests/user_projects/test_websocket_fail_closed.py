"""A WebSocket opened by the openai SDK on replay with no recorded session never reaches the network
(issue 14): it fails at once with a CassetteMiss naming the URL, sync and async; like an HTTP miss, the
test fails even when its code catches the error."""

from __future__ import annotations

import harness.session  # noqa: F401  (imported before pytester's module snapshots)

CONNECT = """
    import asyncio
    import os

    import harness
    import openai
    import pytest
    from harness.errors import CassetteMiss


    @harness.recorded_tool
    def ping():
        return "pong"


    def check(info):
        if os.environ.get("EXPECT_MISS") == "1":
            assert isinstance(info.value, CassetteMiss), repr(info.value)
            assert "WebSocket to ws://" in str(info.value)


    @pytest.mark.cassette
    def test_sync_connect():
        assert ping() == "pong"
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with pytest.raises(Exception) as info:
            with client.responses.connect() as ws:
                ws.send({"type": "response.create", "model": "gpt-5", "input": "hi"})
        check(info)


    @pytest.mark.cassette
    def test_async_connect():
        assert ping() == "pong"
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            async with client.responses.connect() as ws:
                await ws.send({"type": "response.create", "model": "gpt-5", "input": "hi"})

        with pytest.raises(Exception) as info:
            asyncio.run(go())
        check(info)
"""


def test_a_websocket_on_replay_is_a_miss_not_a_connection(project, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    project.write({"test_ws.py": CONNECT})
    project.record().assert_outcomes(passed=2)
    monkeypatch.setenv("EXPECT_MISS", "1")
    result = project.replay()
    result.assert_outcomes(passed=2, errors=2)
    result.stdout.fnmatch_lines(
        ["CassetteMiss: harness: no recorded websocket call matches this one", "  WebSocket to ws://127.0.0.1/v1/responses"]
    )
