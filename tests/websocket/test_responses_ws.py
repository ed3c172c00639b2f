"""``client.responses.connect()`` recorded through the real openai client against a loopback Responses
WebSocket server, then replayed with the server gone and every socket refused: sync and async, with a
function call round trip; a changed client frame fails with a path-level diff; no secret is written."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.websocket.conftest import Project

AGENT = """
    import asyncio
    import json
    import os

    import harness
    import openai
    import pytest

    TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    OUTPUT_NOTE = os.environ.get("OUTPUT_NOTE", "")


    @harness.recorded_tool
    def get_weather(city):
        return "sunny"


    def first(city):
        return {"type": "response.create", "model": "gpt-5", "input": f"Weather in {city}?", "tools": TOOLS}


    def second(rid, call, output):
        return {
            "type": "response.create", "model": "gpt-5", "previous_response_id": rid,
            "input": [{"type": "function_call_output", "call_id": call.call_id, "output": output + OUTPUT_NOTE}],
        }


    def run_sync(ws):
        ws.send(first("Paris"))
        call = rid = None
        while True:
            event = ws.recv()
            if event.type == "response.output_item.done" and event.item.type == "function_call":
                call = event.item
            if event.type == "response.completed":
                rid = event.response.id
                break
        ws.send(second(rid, call, get_weather(**json.loads(call.arguments))))
        text = ""
        while True:
            event = ws.recv()
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.completed":
                return text


    async def run_async(ws):
        await ws.send(first("Paris"))
        call = rid = None
        async for event in ws:
            if event.type == "response.output_item.done" and event.item.type == "function_call":
                call = event.item
            if event.type == "response.completed":
                rid = event.response.id
                break
        await ws.send(second(rid, call, get_weather(**json.loads(call.arguments))))
        text = ""
        async for event in ws:
            if event.type == "response.output_text.delta":
                text += event.delta
            if event.type == "response.completed":
                return text


    @pytest.mark.cassette
    def test_sync_agent():
        client = openai.OpenAI(api_key="sk-live-SECRETKEY0123456789abcdef", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            assert run_sync(ws) == "It is sunny in Paris."


    @pytest.mark.cassette
    def test_async_agent():
        client = openai.AsyncOpenAI(api_key="sk-live-SECRETKEY0123456789abcdef", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            async with client.responses.connect() as ws:
                return await run_async(ws)

        assert asyncio.run(go()) == "It is sunny in Paris."
"""

SECRET = "SECRETKEY0123456789abcdef"


def _ws_items(project: Project) -> list[dict[str, Any]]:
    items = []
    for text in project.cassettes().values():
        items += [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
    return items


def test_responses_connect_records_and_replays_offline(project: Project, ws_server: Any) -> None:
    # Given a project whose agents talk to the Responses API over a WebSocket, sync and async
    project.write({"test_agent.py": AGENT})
    # When it is recorded against the live server
    project.record().assert_outcomes(passed=2)
    # Then each cassette holds one WebSocket session: the handshake, and both sides' frames as JSON
    items = _ws_items(project)
    assert len(items) == 2
    for item in items:
        assert item["url"].endswith("/v1/responses")
        frames = item["frames"]
        client = [f["json"] for f in frames if f["from"] == "client"]
        assert [c["type"] for c in client] == ["response.create", "response.create"]
        assert client[1]["input"][0] == {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
        server = [f["json"]["type"] for f in frames if f["from"] == "server"]
        assert server.count("response.completed") == 2
        # server frames come after the client frame they answer
        assert frames[0]["from"] == "client"
        assert all(isinstance(f["ms"], (int, float)) for f in frames)
    # And the key that was sent in the handshake never reaches a cassette
    assert any(SECRET in h.get("authorization", "") for h in ws_server.headers)
    assert all(SECRET not in text for text in project.cassettes().values())
    # When it is replayed with the server gone and every socket refused, it passes the same way
    project.replay().assert_outcomes(passed=2)


def test_a_changed_client_frame_fails_with_a_path_level_diff(project: Project) -> None:
    # Given a recorded project
    project.write({"test_agent.py": AGENT})
    project.record().assert_outcomes(passed=2)
    # When the agent now sends a different function output, so its second client frame differs
    project.monkeypatch.setenv("OUTPUT_NOTE", " and warm")
    result = project.replay()
    # Then both tests fail with a miss naming the frame and the path that differs
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert "CassetteMiss" in out
    assert "client frame #2" in out
    assert "$.input[0].output: 'sunny' != 'sunny and warm'" in out


def test_show_renders_the_session_frames_with_arrows_and_the_reassembled_text(project: Project, capsys: Any) -> None:
    from tests.cli.helpers import run

    # Given a recorded WebSocket session
    project.write({"test_agent.py": AGENT})
    project.record("-k", "test_sync_agent").assert_outcomes(passed=1, deselected=1)
    (path,) = [p for p in project.cassettes() if "test_sync_agent" in p]
    capsys.readouterr()
    # When it is shown
    code, out, _ = run(capsys, "show", str(project.path / path))
    # Then each client frame has its arrow, each run of server events is summed up, with the function call
    # and the text reassembled from its deltas, and the close is shown
    assert code == 0
    lines = [line.rstrip() for line in out.splitlines()]
    assert re.match(r"#0 websocket ws://127\.0\.0\.1/v1/responses  18 frames  [\d.]+ ms$", lines[1])
    assert lines[2].startswith('  → client     response.create {"model": "gpt-5", "input": "Weather in Paris?"')
    assert lines[3] == (
        "  ← server     7 frames: response.created, response.output_item.added, response.function_call_arguments.delta x2,"
        " response.function_call_arguments.done, response.output_item.done, response.completed"
    )
    assert lines[4] == '  tool call    get_weather {"city":"Paris"}  [call_1]'
    assert lines[5].startswith('  → client     response.create {"model": "gpt-5", "previous_response_id": "resp_')
    assert lines[6] == (
        "  ← server     9 frames: response.created, response.output_text.delta x5, response.output_text.done,"
        " response.output_item.done, response.completed"
    )
    assert lines[7] == "  assistant    It is sunny in Paris."
    assert lines[8] == "  close        1000 by client"


READ_AHEAD = """
    import os
    import time

    import openai
    import pytest

    import harness.seams.websocket_frames as frames


    @pytest.mark.cassette
    def test_reads_ahead(monkeypatch):
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "Weather in Paris?"})
            assert [ws.recv().type for _ in range(7)][-1] == "response.completed"
            if os.environ.get("READ_AHEAD") == "1":
                monkeypatch.setattr(frames, "WAIT_S", 0.5)
                started = time.monotonic()
                try:
                    ws.recv()  # the next server frames were recorded after a client frame not sent yet
                finally:
                    print(f"waited {time.monotonic() - started:.1f}s")
            out = [{"type": "function_call_output", "call_id": "call_1", "output": "sunny"}]
            ws.send({"type": "response.create", "model": "gpt-5", "previous_response_id": "resp_x", "input": out})
            assert [ws.recv().type for _ in range(9)][-1] == "response.completed"
"""


def test_server_frames_wait_for_the_client_frames_recorded_before_them(project: Project) -> None:
    # Given a recorded session of two responses
    project.write({"test_ahead.py": READ_AHEAD})
    project.record().assert_outcomes(passed=1)
    project.replay().assert_outcomes(passed=1)
    # When, on replay, the client reads past the first response without sending its next frame
    project.monkeypatch.setenv("READ_AHEAD", "1")
    result = project.replay("-s")
    # Then it is not handed the second response early: after a bounded wait, a miss says what is missing
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert (
        "harness: server frame #8 was recorded after client frame #2, which the client has not sent (it sent 1; waited 0.5s)"
        in out
    )
    assert 'expected next from the client: {"type":"response.create","model":"gpt-5","previous_response_id":"resp_x"' in out
    assert re.search(r"waited 0\.[5-9]s", out)


IGNORED = """
    import os

    import openai
    import pytest


    @pytest.mark.cassette(ignore_paths=["$.metadata.run"])
    def test_run_id_ignored():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            run = os.environ.get("RUN_ID", "1")
            ws.send({"type": "response.create", "model": "gpt-5", "input": "Hi", "metadata": {"run": run}})
            assert [ws.recv().type for _ in range(7)][-1] == "response.completed"
"""


def test_ignore_paths_apply_to_client_frames(project: Project) -> None:
    # Given a session recorded with a client frame field that differs on every run, ignored by the marker
    project.write({"test_ignored.py": IGNORED})
    project.record().assert_outcomes(passed=1)
    # When it is replayed with another value there
    project.monkeypatch.setenv("RUN_ID", "2")
    # Then the frame still matches
    project.replay().assert_outcomes(passed=1)
    # And a change outside the ignored path is still a miss
    project.monkeypatch.setenv("RUN_ID", "2")
    project.write({"test_ignored.py": IGNORED.replace('"input": "Hi"', '"input": "Hello"')})
    result = project.replay()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*recorded != sent:", "*$.input: 'Hi' != 'Hello'"])


QUERY_TOKEN = """
    import os

    import openai
    import pytest


    @pytest.mark.cassette
    def test_token_in_query():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect(extra_query={"token": "opaque-QUERYTOKEN-42"}) as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "Hi"})
            assert [ws.recv().type for _ in range(7)][-1] == "response.completed"
"""


def test_a_token_in_the_handshake_query_is_scrubbed_and_still_replays(project: Project) -> None:
    # Given a session opened with a token in its URL's query
    project.write({"test_query.py": QUERY_TOKEN})
    project.record().assert_outcomes(passed=1)
    # Then the token is not written: the URL keeps the parameter, its value scrubbed
    assert "QUERYTOKEN" not in "".join(project.cassettes().values())
    (item,) = _ws_items(project)
    assert item["url"] == "ws://127.0.0.1/v1/responses?token=<REDACTED>"
    # And the session replays (the handshake matches its scrubbed form)
    project.replay().assert_outcomes(passed=1)


CRASH = """
    import os

    import openai
    import pytest
    from websockets.exceptions import ConnectionClosedError


    @pytest.mark.cassette
    def test_server_fails():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "crash"})
            assert ws.recv().type == "response.created"
            with pytest.raises(ConnectionClosedError) as info:
                ws.recv()
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (1011, "internal error")
"""


def test_a_server_close_code_is_recorded_and_replayed(project: Project) -> None:
    # Given a session the server closed with an error code mid-response
    project.write({"test_crash.py": CRASH})
    project.record().assert_outcomes(passed=1)
    # Then the cassette says who closed it and how
    (item,) = _ws_items(project)
    assert item["close"] == {"by": "server", "code": 1011, "reason": "internal error"}
    # And on replay the client sees the same close, as the same exception
    project.replay().assert_outcomes(passed=1)


SECRET_IN_FRAME = """
    import os

    import openai
    import pytest


    @pytest.mark.cassette
    def test_secret_in_a_frame():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "use sk-live-SECRETKEY0123456789abcdef"})
            assert [ws.recv().type for _ in range(7)][-1] == "response.completed"
"""


def test_a_secret_in_a_frame_is_scrubbed_and_the_frame_still_matches(project: Project) -> None:
    # Given a client frame that carries an API key in its text
    project.write({"test_secret.py": SECRET_IN_FRAME})
    project.record().assert_outcomes(passed=1)
    # Then the frame is stored with the key scrubbed
    (item,) = _ws_items(project)
    sent = item["frames"][0]["json"]["input"]
    assert SECRET not in sent and sent.startswith("use ") and "REDACTED" in sent
    # And on replay the live frame, scrubbed the same way, matches it
    project.replay().assert_outcomes(passed=1)
