"""Helpers of the CLI tests: run the command in-process, build cassettes, record an agent run through harness."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from harness import sse
from harness.cassette import format as fmt
from harness.cassette.model import Body, Request, Response
from harness.cli import main
from harness.config import Settings
from harness.seams.tools import recorded_tool
from harness.session import Session

ROOT = Path(__file__).resolve().parents[2]
JIRA = ROOT / "cassettes" / "examples" / "jira_agent" / "test_jira_agent" / "test_jira_agent.json"
KEY = "sk-ant-api03-" + "Zx8" * 12


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def no_times(text: str) -> str:
    return re.sub(r"\d+(\.\d)? ms", "N ms", text)


def anthropic_tool_use_stream(city: str) -> list[tuple[str, dict[str, Any]]]:
    """The events of a real Anthropic Messages stream: some text, then a tool_use with streamed input."""
    args = json.dumps({"city": city})
    pieces = ["", args[:7], args[7:13], args[13:]]
    return [
        ("message_start", {"type": "message_start", "message": {"id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5", "content": [], "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 25, "output_tokens": 1}}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Let me check "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": f"the weather in {city}."}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {}}}),
        *[("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": p}}) for p in pieces],
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 40}}),
        ("message_stop", {"type": "message_stop"}),
    ]  # fmt: skip


def sse_body(events: list[tuple[str | None, Any]]) -> Body:
    return Body(
        "sse",
        [
            ({"event": name} if name else {}) | ({"text": data} if isinstance(data, str) else {"data": data})
            for name, data in events
        ],
    )


def streamed(events: list[tuple[str | None, Any]], last_ms: float) -> Response:
    """A 200 SSE response, one chunk per event, the last chunk ``last_ms`` after the headers."""
    body = sse_body(events)
    sizes = sse.entry_sizes(body.value)
    chunks = [[size, round(last_ms * k / (len(sizes) - 1), 1)] for k, size in enumerate(sizes)]
    return Response(200, {"content-type": "text/event-stream"}, body, chunks)


def post(path: str, body: Any) -> Request:
    return Request("POST", f"https://api.example.com{path}", {"content-type": "application/json"}, Body("json", body))


def write(path: Path, items: list[Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(fmt.dumps(items), encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------------- a recorded agent run


WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
OPENAI_TOOL = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_TOOL["input_schema"]}}


def fake_api() -> Any:
    """Anthropic Messages (a tool_use stream, then a JSON answer to the tool result) and the fake OpenAI API."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    from tests.servers.base import Scenario, json_response, sse_response
    from tests.servers.openai_api import routes

    async def messages(request: Any) -> Any:
        body = await request.json()
        last = body["messages"][-1]["content"]
        if isinstance(last, str):
            city = last.rstrip("?").split()[-1]
            return sse_response(anthropic_tool_use_stream(city), Scenario.parse(request))
        result = last[0]["content"]
        answer = {
            "id": "msg_02", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": f"It is {result} there."}],
            "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 60, "output_tokens": 12},
        }  # fmt: skip
        return json_response(answer, Scenario.parse(request))

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), *routes])


@recorded_tool
def get_weather(city: str) -> str:
    return {"Paris": "18°C and sunny", "Lyon": "21°C and cloudy"}[city]


def record_agent_run(url: str, path: Path, city: str) -> None:
    """A small agent loop through harness: model call (stream) -> local tool -> model call -> an OpenAI chat stream."""
    import httpx2

    session = Session(Settings(record_mode="all"), path, "tests/test_cli.py::agent")
    session.start()
    try:
        client = httpx2.Client()
        question = {"role": "user", "content": f"What's the weather in {city}?"}
        first = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": "You are a weather bot.",
            "tools": [WEATHER_TOOL],
            "stream": True,
            "messages": [question],
        }
        with client.stream("POST", f"{url}/v1/messages", json=first, headers={"x-api-key": KEY}) as response:
            response.read()
        result = get_weather(city=city)
        tool_use = {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": city}}
        second = {
            **first,
            "stream": False,
            "messages": [
                question,
                {"role": "assistant", "content": [tool_use]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": result}]},
            ],
        }
        client.post(f"{url}/v1/messages", json=second, headers={"x-api-key": KEY}).raise_for_status()
        chat = {
            "model": "gpt-4o-mini",
            "stream": True,
            "tools": [OPENAI_TOOL],
            "messages": [{"role": "user", "content": f"Weather in {city}?"}],
        }
        client.post(f"{url}/v1/chat/completions", json=chat, headers={"authorization": f"Bearer {KEY}"}).raise_for_status()
        client.close()
    finally:
        session.stop()


SRV = "python -m srv"
