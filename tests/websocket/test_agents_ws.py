"""openai-agents over the Responses WebSocket: a ``Runner`` run whose model is ``OpenAIResponsesWSModel``
(openai-agents opens its socket with ``websockets.asyncio.client.connect``, not through the openai
client), and a streamed run in ``responses_websocket_session``. Recorded against the loopback Responses
WebSocket server, replayed with the server gone and every socket refused: the ``@function_tool`` does
not run again (its side effects are counted in a file), the final output is the recorded one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# Imported before pytester's module snapshots: importing it (and mcp, which it imports) inside a replay,
# where process starts are refused, would fail.
import agents  # noqa: F401

from tests.websocket.conftest import Project

AGENTS = """
    import asyncio
    import os

    import pytest
    from agents import Agent, ModelSettings, OpenAIResponsesWSModel, Runner, function_tool, responses_websocket_session, set_tracing_disabled
    from openai import AsyncOpenAI

    set_tracing_disabled(True)
    QUESTION = "What is the weather in Paris?"


    @function_tool
    def get_weather(city: str) -> str:
        \"\"\"The current weather in a city.\"\"\"
        with open(os.environ["SIDE_EFFECTS"], "a", encoding="utf-8") as f:
            f.write(city + "\\n")
        return "sunny"


    def weather_agent(model):
        return Agent(name="Weather agent", instructions="Answer weather questions.", tools=[get_weather], model=model)


    @pytest.mark.cassette
    def test_runner_over_the_websocket():
        client = AsyncOpenAI(api_key="sk-live-SECRETKEY0123456789abcdef", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            model = OpenAIResponsesWSModel(model="gpt-5", openai_client=client)
            try:
                return await Runner.run(weather_agent(model), QUESTION)
            finally:
                await model.close()

        result = asyncio.run(go())
        assert result.final_output == "It is sunny in Paris."
        assert [item.type for item in result.new_items] == ["tool_call_item", "tool_call_output_item", "message_output_item"]


    @pytest.mark.cassette
    def test_runner_reconnects_after_the_server_closed_the_socket():
        # The server closes the socket after each response: the model sees it closed and opens another for its next turn
        client = AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            model = OpenAIResponsesWSModel(model="gpt-5", openai_client=client)
            agent = weather_agent(model).clone(model_settings=ModelSettings(metadata={"fault": "close-after"}))
            try:
                return await Runner.run(agent, QUESTION)
            finally:
                await model.close()

        assert asyncio.run(go()).final_output == "It is sunny in Paris."


    @pytest.mark.cassette
    def test_streamed_run_in_a_websocket_session():
        async def go():
            async with responses_websocket_session(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1") as ws:
                run = ws.run_streamed(weather_agent("gpt-5"), QUESTION)
                deltas = [e.data.delta async for e in run.stream_events()
                          if e.type == "raw_response_event" and e.data.type == "response.output_text.delta"]
                return run.final_output, deltas

        output, deltas = asyncio.run(go())
        assert output == "It is sunny in Paris." == "".join(deltas)
        assert len(deltas) == 5
"""

SECRET = "SECRETKEY0123456789abcdef"


def _ws_items(project: Project) -> dict[str, list[dict[str, Any]]]:
    return {
        path: [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
        for path, text in project.cassettes().items()
    }


def test_openai_agents_runner_over_the_responses_websocket_records_and_replays_offline(project: Project) -> None:
    # Given an openai-agents project whose model talks to the Responses API over a WebSocket
    effects = Path(project.path) / "side_effects.txt"
    project.monkeypatch.setenv("SIDE_EFFECTS", str(effects))
    project.write({"test_agents.py": AGENTS})
    # When it is recorded against the live server
    project.record().assert_outcomes(passed=3)
    # Then the tool ran once per test
    assert effects.read_text(encoding="utf-8").splitlines() == ["Paris"] * 3
    # And each cassette holds the agent's socket: a WebSocket session, then the tool, in timeline order
    cassettes = {Path(p).stem: json.loads(t)["interactions"] for p, t in project.cassettes().items()}
    assert len(cassettes) == 3
    # (the run whose server closed each socket after answering: a session per model turn)
    closing = cassettes.pop("test_runner_reconnects_after_the_server_closed_the_socket")
    assert [i["kind"] for i in closing] == ["websocket", "tool", "websocket"]
    first, last = [i["close"] for i in closing if i["kind"] == "websocket"]
    assert first == {"by": "server", "code": 1000, "reason": "idle"}
    # (the last socket is closed by whichever side is first: the server after its answer, or the test's
    # `model.close()` as the run ends; both are recorded as they happened and both replay)
    assert last in ({"by": "server", "code": 1000, "reason": "idle"}, {"by": "client", "code": 1000, "reason": ""})
    for items in cassettes.values():
        assert [i["kind"] for i in items] == ["websocket", "tool"]
        (ws,) = [i for i in items if i["kind"] == "websocket"]
        assert ws["url"] == "ws://127.0.0.1/v1/responses"
        client = [f["json"] for f in ws["frames"] if f["from"] == "client"]
        assert [c["type"] for c in client] == ["response.create", "response.create"]
        assert client[1]["input"][-1]["type"] == "function_call_output"
        assert client[1]["input"][-1]["output"] == "sunny"
        assert [f["json"]["type"] for f in ws["frames"] if f["from"] == "server"].count("response.completed") == 2
    assert all(SECRET not in text for text in project.cassettes().values())
    # When it is replayed with the server gone and every socket refused
    project.replay().assert_outcomes(passed=3)
    # Then the same final outputs came back, and the tool did not run again
    assert effects.read_text(encoding="utf-8").splitlines() == ["Paris"] * 3
