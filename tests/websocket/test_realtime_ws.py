"""A Realtime subset (``client.realtime.connect()``), sync and async: the server speaks first
(``session.created`` before any client frame), then answers ``response.create`` with text deltas.
Recorded through the real openai client, replayed with the server gone and every socket refused."""

from __future__ import annotations

import json

from tests.websocket.conftest import Project

REALTIME = """
    import asyncio
    import os

    import openai
    import pytest

    ITEM = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Salut"}]}}


    @pytest.mark.cassette
    def test_sync_realtime():
        client = openai.OpenAI(api_key="sk-live-SECRETKEY0123456789abcdef", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.realtime.connect(model="gpt-realtime") as rt:
            assert rt.recv().type == "session.created"
            rt.send(ITEM)
            rt.send({"type": "response.create"})
            text = ""
            while (event := rt.recv()).type != "response.done":
                text += event.delta
        assert text == "Bonjour !"


    @pytest.mark.cassette
    def test_async_realtime():
        client = openai.AsyncOpenAI(api_key="sk-live-SECRETKEY0123456789abcdef", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            async with client.realtime.connect(model="gpt-realtime") as rt:
                assert (await rt.recv()).type == "session.created"
                await rt.send(ITEM)
                await rt.send({"type": "response.create"})
                text = ""
                while (event := await rt.recv()).type != "response.done":
                    text += event.delta
                return text

        assert asyncio.run(go()) == "Bonjour !"
"""


def test_realtime_records_and_replays_offline(project: Project) -> None:
    # Given a project talking to the Realtime API, sync and async
    project.write({"test_rt.py": REALTIME})
    # When it is recorded
    project.record().assert_outcomes(passed=2)
    # Then each session starts with the server's frame, and the client's frames follow
    texts = project.cassettes().values()
    for text in texts:
        (item,) = [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
        assert item["url"] == "ws://127.0.0.1/v1/realtime?model=gpt-realtime"
        assert [(f["from"], f["json"]["type"]) for f in item["frames"][:3]] == [
            ("server", "session.created"),
            ("client", "conversation.item.create"),
            ("client", "response.create"),
        ]
    assert all("SECRETKEY" not in text for text in texts)
    # And it replays with the server gone
    project.replay().assert_outcomes(passed=2)
