"""The ``harness`` command, run for real on cassettes recorded through harness (or built from the model
for exact cases): ``show``, ``diff``, ``lint`` and ``import-vcr``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import sse
from harness.cassette import format as fmt
from harness.cassette.model import Body, HttpInteraction, McpInteraction, Request, Response, ToolInteraction
from harness.cli import main
from harness.config import Settings
from harness.seams.tools import recorded_tool
from harness.session import Session

ROOT = Path(__file__).resolve().parent.parent
JIRA = ROOT / "cassettes" / "examples" / "jira_agent" / "test_jira_agent" / "test_jira_agent.json"
KEY = "sk-ant-api03-" + "Zx8" * 12

# --------------------------------------------------------------------------------------------------- helpers


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


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    from tests.servers.base import ServerThread

    folder = tmp_path_factory.mktemp("recorded")
    with ServerThread(fake_api()) as server:
        paths = {city: folder / f"{city.lower()}.json" for city in ("Paris", "Lyon")}
        for city, path in paths.items():
            record_agent_run(server.url, path, city)
    yield paths


# --------------------------------------------------------------------------------------------------- show


def test_show_recorded_agent_run(recorded, capsys):
    code, out, _ = run(capsys, "show", str(recorded["Paris"]))
    assert code == 0
    assert "\x1b[" not in out  # not a TTY: no colour
    assert no_times(out).splitlines()[1:] == [
        "#0 POST /v1/messages  200  sse 14 events  N ms  stream N ms",
        "  claude-sonnet-4-5, 1 message, 1 tool, stream",
        "  system       You are a weather bot.",
        "  user         What's the weather in Paris?",
        "  assistant    Let me check the weather in Paris.",
        '  tool call    get_weather {"city": "Paris"}  [toolu_01]',
        "  stop         tool_use",
        "#1 tool get_weather",
        '  input        {"city": "Paris"}',
        "  result       18°C and sunny",
        "#2 POST /v1/messages  200  json  N ms",
        "  claude-sonnet-4-5, 3 messages, 1 tool",
        "  tool result  [toolu_01] 18°C and sunny",
        "  assistant    It is 18°C and sunny there.",
        "  stop         end_turn",
        "#3 POST /v1/chat/completions  200  sse 7 events  N ms  stream N ms",
        "  gpt-4o-mini, 1 message, 1 tool, stream",
        "  user         Weather in Paris?",
        '  tool call    get_weather {"city": "Paris"}  [call_' + out.split("[call_")[1].split("]")[0] + "]",
        "  stop         tool_calls",
    ]
    assert out.splitlines()[0].endswith("4 interactions (3 http, 1 tool)")


def test_show_exact_stream_errors_and_other_apis(tmp_path, capsys):
    # Given a cassette with exact timings: an Anthropic stream, an overloaded error, a broken stream,
    # a refused connection, a Responses stream, an Assistants run stream and an unknown-to-show kind
    anthropic = HttpInteraction(
        post("/v1/messages", {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}], "stream": True}),
        streamed(anthropic_tool_use_stream("Paris"), 1204),
        elapsed_ms=312,
    )
    overloaded = HttpInteraction(
        post("/v1/messages", {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}]}),
        Response(
            529,
            {"content-type": "application/json"},
            Body("json", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        ),
        elapsed_ms=41.5,
    )
    broken = streamed(anthropic_tool_use_stream("Paris")[:4], 80)
    broken.error = {"type": "RemoteProtocolError", "message": "peer closed connection without sending complete message body"}
    cut = HttpInteraction(
        post("/v1/messages", {"model": "claude-sonnet-4-5", "messages": [{"role": "user", "content": "Hi"}]}),
        broken,
        elapsed_ms=9.25,
    )
    refused = HttpInteraction(
        post("/v1/messages", {"messages": []}), None, {"type": "ConnectError", "message": "[Errno 111] Connection refused"}, 0.8
    )
    responses_events = [
        ("response.created", {"type": "response.created", "response": {"object": "response", "model": "gpt-4.1", "status": "in_progress", "output": []}}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": {"type": "message", "role": "assistant", "content": []}}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": "Checking"}),
        ("response.output_text.delta", {"type": "response.output_text.delta", "output_index": 0, "content_index": 0, "delta": " now."}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 1, "item": {"type": "function_call", "name": "get_weather", "call_id": "call_9", "arguments": ""}}),
        ("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"city":'}),
        ("response.function_call_arguments.delta", {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '"Oslo"}'}),
        ("response.completed", {"type": "response.completed", "response": {"object": "response", "model": "gpt-4.1", "status": "completed", "output": []}}),
    ]  # fmt: skip
    responses_request = {
        "model": "gpt-4.1",
        "input": [
            {"role": "user", "content": "Oslo?"},
            {"type": "function_call", "call_id": "c0", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c0", "output": "ok"},
        ],
        "stream": True,
    }
    responses = HttpInteraction(
        post("/v1/responses", responses_request), Response(200, {}, sse_body(responses_events)), elapsed_ms=20
    )
    run_events = [
        ("thread.run.created", {"id": "run_1", "object": "thread.run", "status": "queued", "model": "gpt-4o"}),
        ("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Result: "}}]}}),
        ("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "18°C"}}]}}),
        ("thread.run.completed", {"id": "run_1", "object": "thread.run", "status": "completed", "model": "gpt-4o"}),
        ("done", "[DONE]"),
    ]  # fmt: skip
    assistants = HttpInteraction(
        post(
            "/v1/threads/t1/runs/run_1/submit_tool_outputs",
            {"tool_outputs": [{"tool_call_id": "call_1", "output": "18°C"}], "stream": True},
        ),
        Response(200, {}, sse_body(run_events)),
        elapsed_ms=15,
    )
    failing_tool = ToolInteraction(
        "send_email", {"to": "a@example.com"}, error={"type": "TimeoutError", "message": "smtp timed out"}
    )
    path = write(tmp_path / "exact.json", [anthropic, overloaded, cut, refused, responses, assistants, failing_tool])

    # When it is shown
    code, out, _ = run(capsys, "show", str(path), "--no-color")

    # Then each interaction reads as a turn, with its timings and errors
    assert code == 0
    assert out.splitlines()[1:] == [
        "#0 POST /v1/messages  200  sse 14 events  312 ms  stream 1204 ms",
        "  claude-sonnet-4-5, 1 message, stream",
        "  user         Hi",
        "  assistant    Let me check the weather in Paris.",
        '  tool call    get_weather {"city": "Paris"}  [toolu_01]',
        "  stop         tool_use",
        "#1 POST /v1/messages  529  json  42 ms",
        "  claude-sonnet-4-5, 1 message",
        "  user         Hi",
        "  error        overloaded_error: Overloaded",
        "#2 POST /v1/messages  200  sse 4 events  9.2 ms  stream 80 ms",
        "  claude-sonnet-4-5, 1 message",
        "  user         Hi",
        "  assistant    Let me check",
        "  error        stream broken: RemoteProtocolError: peer closed connection without sending complete message body",
        "#3 POST /v1/messages  ConnectError: [Errno 111] Connection refused  0.8 ms",
        "  0 messages",
        "#4 POST /v1/responses  200  sse 8 events  20 ms",
        "  gpt-4.1, 3 input items, stream",
        "  tool result  [c0] ok",
        "  assistant    Checking now.",
        '  tool call    get_weather {"city": "Oslo"}  [call_9]',
        "  stop         completed",
        "#5 POST /v1/threads/t1/runs/run_1/submit_tool_outputs  200  sse 5 events  15 ms",
        "  stream",
        "  tool result  [call_1] 18°C",
        "  assistant    Result: 18°C",
        "  stop         completed",
        "#6 tool send_email",
        '  input        {"to": "a@example.com"}',
        "  error        TimeoutError: smtp timed out",
    ]

    # And --raw-events lists the stream's events; --color paints
    _, raw, _ = run(capsys, "show", str(path), "--raw-events", "--color")
    assert "\x1b[" in raw
    assert (
        '[8] content_block_delta {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": "{\\"city\\""}}'
        in raw
    )
    assert "[4] done [DONE]" in raw


def test_show_renders_unknown_kinds_through_a_small_registry(tmp_path, capsys, monkeypatch):
    from harness import cli

    path = write(tmp_path / "tool.json", [ToolInteraction("lookup", {"q": "x"}, result={"hits": 2})])
    monkeypatch.delitem(cli.RENDERERS, "tool")
    _, out, _ = run(capsys, "show", str(path))
    assert out.splitlines()[1] == '#0 tool lookup({"q":"x"})'  # describe()
    monkeypatch.setitem(cli.RENDERERS, "tool", lambda n, item, o: [f"#{n} custom {item.name}"])
    _, out, _ = run(capsys, "show", str(path))
    assert out.splitlines()[1] == "#0 custom lookup"


SRV = "python -m srv"


def mcp_run() -> list[McpInteraction]:
    """An MCP session with every kind of answer: handshake, listings, content (text, image,
    structured), a tool error, a protocol error, progress, logs, elicitation, sampling, roots, a
    resource, a message after the answer, an input-required result, and a call never answered."""
    return [
        McpInteraction(SRV, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp", "version": "0.1.0"}},
                       result={"protocolVersion": "2025-11-25", "capabilities": {"tools": {"listChanged": False}, "logging": {}},
                               "serverInfo": {"name": "deployer", "version": "2.1.0"}, "instructions": "Deploys things."}),
        McpInteraction(SRV, "notifications/initialized", notification=True),
        McpInteraction(SRV, "tools/list", result={"tools": [{"name": "deploy", "inputSchema": {}}, {"name": "status", "inputSchema": {}}]}),
        McpInteraction(SRV, "tools/call", {"name": "deploy", "arguments": {"env": "prod"}}, during=[
            {"notify": "notifications/progress", "params": {"progressToken": 1, "progress": 1, "total": 2, "message": "building"}},
            {"notify": "notifications/message", "params": {"level": "warning", "logger": "ci", "data": "cache cold"}},
            {"request": "elicitation/create", "params": {"message": "Deploy to prod?", "requestedSchema": {"type": "object", "properties": {"confirm": {"type": "boolean"}}}},
             "answer": {"result": {"action": "accept", "content": {"confirm": True}}}},
        ], result={"content": [{"type": "text", "text": "deployed v42\n" + "log line\n" * 60}, {"type": "image", "mimeType": "image/png", "data": "A" * 1640}],
                   "structuredContent": {"version": 42}, "isError": False}),
        McpInteraction(SRV, "tools/call", {"name": "status", "arguments": {"env": "moon"}},
                       result={"content": [{"type": "text", "text": "no such environment: moon"}], "isError": True}),
        McpInteraction(SRV, "tools/call", {"name": "rollback", "arguments": {}}, error={"code": -32602, "message": "Unknown tool: rollback"}),
        McpInteraction(SRV, "tools/call", {"name": "summarize", "arguments": {"text": "A long text."}}, during=[
            {"request": "sampling/createMessage", "params": {"messages": [{"role": "user", "content": {"type": "text", "text": "A long text."}}], "maxTokens": 20},
             "answer": {"result": {"role": "assistant", "content": {"type": "text", "text": "Short."}, "model": "m"}}},
            {"request": "roots/list", "answer": {"result": {"roots": [{"uri": "file:///work/project"}]}}},
        ], result={"content": [{"type": "text", "text": "Short."}]}),
        McpInteraction(SRV, "resources/read", {"uri": "file:///notes.md"},
                       result={"contents": [{"uri": "file:///notes.md", "mimeType": "text/markdown", "text": "# Notes"}]}),
        McpInteraction(SRV, "tools/call", {"name": "reload", "arguments": {}}, result={"content": []},
                       after=[{"notify": "notifications/tools/list_changed"}]),
        McpInteraction(SRV, "tools/call", {"name": "confirm", "arguments": {}}, result={
            "resultType": "input_required", "inputRequests": {"ask": {"method": "elicitation/create", "params": {"message": "Sure?"}}},
            "requestState": "harness-request-state-1"}),
        McpInteraction(SRV, "tools/call", {"name": "hang", "arguments": {}}),
    ]  # fmt: skip


def test_show_mcp_calls_like_http_ones(tmp_path, capsys):
    # Given a cassette of MCP calls with results, errors and server messages during the calls
    path = write(tmp_path / "mcp.json", mcp_run())

    # When it is shown
    code, out, _ = run(capsys, "show", str(path))

    # Then the handshake is one line, and each call reads as method, input, what the server sent
    # during it (with the client's answers), then its result or error
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("11 interactions (11 mcp)")
    shown = [*lines[1:9], "...", *lines[lines.index('  structured   {"version": 42}') - 1 :]]
    assert shown == [
        "#0 mcp initialize  deployer 2.1.0, protocol 2025-11-25 (logging, tools)  @ python -m srv",
        "#1 mcp notify notifications/initialized  @ python -m srv",
        "#2 mcp tools/list  @ python -m srv",
        "  tools        2: deploy, status",
        "#3 mcp tools/call deploy  @ python -m srv",
        '  input        {"env": "prod"}',
        "  progress     1/2 building",
        "  log          warning [ci] cache cold",
        "...",
        "               [image/png 1.2 kB]",
        '  structured   {"version": 42}',
        "#4 mcp tools/call status  @ python -m srv",
        '  input        {"env": "moon"}',
        "  error        isError: no such environment: moon",
        "#5 mcp tools/call rollback  @ python -m srv",
        "  input        {}",
        "  error        -32602: Unknown tool: rollback",
        "#6 mcp tools/call summarize  @ python -m srv",
        '  input        {"text": "A long text."}',
        "  server asks  sampling: A long text.",
        "  answer       Short.",
        "  server asks  roots/list",
        "  answer       file:///work/project",
        "  result       Short.",
        "#7 mcp resources/read file:///notes.md  @ python -m srv",
        "  contents     # Notes",
        "#8 mcp tools/call reload  @ python -m srv",
        "  input        {}",
        "  result       (no content)",
        "  after the answer:",
        "  notify       notifications/tools/list_changed",
        "#9 mcp tools/call confirm  @ python -m srv",
        "  input        {}",
        "  needs input  elicitation/create Sure?",
        "#10 mcp tools/call hang  @ python -m srv",
        "  input        {}",
        "  result       (no answer recorded)",
    ]
    assert "  elicitation  Deploy to prod? {confirm}" in lines
    assert '  answer       accept {"confirm": true}' in lines
    # the long text result is clipped: --full shows it whole
    assert "  result       deployed v42" in lines and "(+" in out and out.count("log line") < 60
    _, full, _ = run(capsys, "show", str(path), "--full")
    assert full.count("log line") == 60 and "… (+" not in full

    # And in colour, errors and isError results are in the error colour
    _, coloured, _ = run(capsys, "show", str(path), "--color")
    assert "\x1b[31misError: no such environment: moon\x1b[0m" in coloured
    assert "\x1b[31m-32602: Unknown tool: rollback\x1b[0m" in coloured


def test_show_mcp_timings_when_the_interaction_has_them(tmp_path, capsys):
    item = McpInteraction(SRV, "tools/call", {"name": "deploy", "arguments": {}}, result={"content": []})
    path = write(tmp_path / "mcp.json", [item])
    timed = fmt.loads(path.read_text(encoding="utf-8"), path)[0]
    timed.elapsed_ms = 12.5  # an interaction kind that keeps its duration
    from harness.cli import ShowOptions, Style, render_mcp

    assert render_mcp(0, timed, ShowOptions(Style(False)))[0] == "#0 mcp tools/call deploy  @ python -m srv  12 ms"


def test_show_the_jira_agent_mcp_calls(capsys):
    # Given the example agent's cassette (model calls over HTTP, Jira over MCP)
    code, out, _ = run(capsys, "show", str(JIRA))
    lines = out.splitlines()

    # Then the MCP calls show their server, tools, arguments and results, not one line each
    assert code == 0
    assert (
        lines[1] == "#0 mcp initialize  jira-local 1.0.0, protocol 2025-11-25 (prompts, resources, tools)  @ http://127.0.0.1/mcp"
    )
    assert lines[2] == "#1 mcp notify notifications/initialized  @ http://127.0.0.1/mcp"
    assert any(line.startswith("  tools        4: search_issues, get_issue, ") for line in lines)
    at = next(n for n, line in enumerate(lines) if re.match(r"#\d+ mcp tools/call get_issue", line))
    assert lines[at : at + 4] == [
        lines[at].split(" ")[0] + " mcp tools/call get_issue  @ http://127.0.0.1/mcp",
        '  input        {"key": "PROJ-1"}',
        "  result       {",
        '                 "key": "PROJ-1",',
    ]
    call = lines[at : next(n for n in range(at + 1, len(lines)) if lines[n].startswith("#"))]
    assert call[-1] == "  structured   (the result text above, as JSON)"
    assert any("… (+" in line for line in call)  # the long issue text is clipped
    _, full, _ = run(capsys, "show", str(JIRA), "--full")
    assert '"body": "Started with the layout; the locale handling needs a decision."' in full


def test_colour_only_on_a_tty_without_no_color(monkeypatch):
    from harness.cli import color_enabled

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert color_enabled(None, Tty()) is True
    assert color_enabled(None, object()) is False
    assert color_enabled(False, Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_enabled(None, Tty()) is False
    assert color_enabled(True, object()) is True  # --color forces it
    # FORCE_COLOR colours a pipe too; NO_COLOR and --no-color still win; FORCE_COLOR=0 forces nothing
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled(None, object()) is True
    assert color_enabled(False, Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_enabled(None, object()) is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "0")
    assert color_enabled(None, object()) is False


def test_force_color_paints_show_into_a_pipe(recorded):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    shown = subprocess.run(
        [sys.executable, "-m", "harness.cli", "show", str(recorded["Paris"])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "FORCE_COLOR": "1"},
        check=False,
    )
    assert shown.returncode == 0 and "\x1b[1m#0 POST /v1/messages\x1b[0m" in shown.stdout


def test_bad_input_is_a_short_report(tmp_path, capsys):
    code, out, err = run(capsys, "show", str(tmp_path / "missing.json"))
    assert (code, out) == (2, "")
    assert err == f"harness: no such cassette: {tmp_path / 'missing.json'}\n"

    bad = tmp_path / "bad.json"
    bad.write_text('{"harness_cassette": 1, "interactions": [', encoding="utf-8")
    code, out, err = run(capsys, "show", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"harness: cannot read cassette {bad}",
        "  not valid JSON: Expecting value at line 1, column 42 (the file looks truncated)",
    ]
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------------- diff


def test_diff_equal_and_changed_prompt(recorded, tmp_path, capsys):
    # The same run recorded twice (different timings) is the same
    copy = tmp_path / "paris-again.json"
    doc = json.loads(recorded["Paris"].read_text(encoding="utf-8"))
    doc["interactions"][0]["elapsed_ms"] = 999.9
    copy.write_text(json.dumps(doc), encoding="utf-8")
    code, out, _ = run(capsys, "diff", str(recorded["Paris"]), str(copy))
    assert (code, out) == (0, "same: 4 interactions, no changes in requests or answers (timings ignored)\n")

    # A changed prompt shows as path-level request changes and message-level answer changes
    code, out, _ = run(capsys, "diff", str(recorded["Paris"]), str(recorded["Lyon"]))
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("--- ") and lines[0].endswith("paris.json  (4 interactions)")
    assert lines[2:12] == [
        "~ #0 POST /v1/messages",
        '    request $.messages[0].content: "What\'s the weather in Paris?" != "What\'s the weather in Lyon?"',
        "    answer text: 'Let me check the weather in Paris.' != 'Let me check the weather in Lyon.'",
        "    answer tool call get_weather $.city: 'Paris' != 'Lyon'",
        '~ #1 tool get_weather({"city":"Paris"})',
        "    $.input.city: 'Paris' != 'Lyon'",
        "    $.result: '18°C and sunny' != '21°C and cloudy'",
        "~ #2 POST /v1/messages",
        '    request $.messages[0].content: "What\'s the weather in Paris?" != "What\'s the weather in Lyon?"',
        "    request $.messages[1].content[0].input.city: 'Paris' != 'Lyon'",
    ]
    assert "    answer text: 'It is 18°C and sunny there.' != 'It is 21°C and cloudy there.'" in lines
    assert "~ #3 POST /v1/chat/completions" in lines
    assert lines[-1] == "4 changed, 0 added, 0 removed (values: paris.json != lyon.json; timings ignored)"


def ask(text: str, user: str) -> HttpInteraction:
    answer = {"type": "message", "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn"}
    body = {"messages": [{"role": "user", "content": text}], "metadata": {"user_id": user}}
    return HttpInteraction(post("/v1/messages", body), Response(200, {}, Body("json", answer)))


def test_diff_added_removed_and_ignored_paths(tmp_path, capsys):
    a = write(tmp_path / "a.json", [ask("hi", "u1"), ask("bye", "u1")])
    b = write(tmp_path / "b.json", [ask("hi", "u2"), ToolInteraction("log", {"n": 1}, result=None), ask("bye", "u2")])

    code, out, _ = run(capsys, "diff", str(a), str(b), "--ignore", "$.metadata.user_id")
    assert code == 1
    assert out.splitlines()[2:] == [
        '+ #1 only in b.json: tool log({"n":1})',
        "0 changed, 1 added, 0 removed (values: a.json != b.json; timings ignored)",
    ]

    code, out, _ = run(capsys, "diff", str(b), str(a))
    assert "~ #0 POST /v1/messages" in out and "    request $.metadata.user_id: 'u2' != 'u1'" in out
    assert '- #1 only in b.json: tool log({"n":1})' in out


def test_diff_shows_a_change_deep_in_a_long_mcp_result(tmp_path, capsys):
    # Given the Jira agent's cassette, and a copy where the assignee changed deep in the
    # MCP result's text (and in its structured content)
    doc = json.loads(JIRA.read_text(encoding="utf-8"))
    (call,) = [i for i in doc["interactions"] if i["kind"] == "mcp" and i.get("request") == "tools/call"]
    text = call["result"]["content"][0]["text"]
    assert len(text) > 500 and text.index('"assignee": "alice"') > 120
    call["result"]["content"][0]["text"] = text.replace('"assignee": "alice"', '"assignee": "carol"')
    call["result"]["structuredContent"]["assignee"] = "carol"
    changed = tmp_path / "carol.json"
    changed.write_text(json.dumps(doc), encoding="utf-8")

    # When they are compared
    code, out, _ = run(capsys, "diff", str(JIRA), str(changed))

    # Then the change is shown as the lines that changed, not as two identical cut-off prefixes
    assert code == 1
    lines = out.splitlines()
    at = next(
        n
        for n, line in enumerate(lines)
        if re.fullmatch(r'~ #\d+ mcp tools/call get_issue\(\{"key":"PROJ-1"\}\) @ http://127.0.0.1/mcp', line)
    )
    body = lines[at + 1 : lines.index(next(line for line in lines[at + 1 :] if not line.startswith("    ")))]
    assert body[0] == "    result text:" and body[1].startswith("      @@ ")
    assert '      -  "assignee": "alice",' in body and '      +  "assignee": "carol",' in body
    assert body[-1] == "    result.structuredContent.assignee: 'alice' != 'carol'"


def test_diff_mcp_calls_method_params_errors(tmp_path, capsys):
    a = [
        McpInteraction(
            SRV,
            "tools/call",
            {"name": "deploy", "arguments": {"env": "prod"}},
            result={"content": [{"type": "text", "text": "ok"}]},
        ),
        McpInteraction(
            SRV, "tools/call", {"name": "status", "arguments": {}}, result={"content": [{"type": "text", "text": "up"}]}
        ),
        McpInteraction(
            SRV,
            "tools/call",
            {"name": "deploy", "arguments": {}},
            during=[{"notify": "notifications/progress", "params": {"progress": 1}}],
            result={"content": [{"type": "text", "text": "x"}, {"type": "image", "mimeType": "image/png", "data": "AAAA"}]},
        ),
    ]
    b = [
        McpInteraction(
            SRV,
            "tools/call",
            {"name": "deploy", "arguments": {"env": "staging"}},
            result={"content": [{"type": "text", "text": "ok"}]},
        ),
        McpInteraction(SRV, "tools/call", {"name": "status", "arguments": {}}, error={"code": -32603, "message": "down"}),
        McpInteraction(
            SRV,
            "tools/call",
            {"name": "deploy", "arguments": {}},
            during=[{"notify": "notifications/progress", "params": {"progress": 2}}],
            result={"content": [{"type": "text", "text": "x"}, {"type": "image", "mimeType": "image/jpeg", "data": "AAAA"}]},
        ),
    ]
    code, out, _ = run(capsys, "diff", str(write(tmp_path / "a.json", a)), str(write(tmp_path / "b.json", b)))
    assert code == 1
    assert out.splitlines()[2:-1] == [
        '~ #0 mcp tools/call deploy({"env":"prod"}) @ python -m srv',
        "    params.arguments.env: 'prod' != 'staging'",
        "~ #1 mcp tools/call status({}) @ python -m srv",
        '    answer: {"result": {"content": [{"type": "text", "text": "up"}]}} != {"error": {"code": -32603, "message": "down"}}',
        "~ #2 mcp tools/call deploy({}) @ python -m srv",
        "    during[0].params.progress: 1 != 2",
        "    result.content (not text)[0].mimeType: 'image/png' != 'image/jpeg'",
    ]


def test_diff_shows_where_a_long_one_line_tool_result_changed(tmp_path, capsys):
    long_a = "x" * 300 + " status=alice " + "y" * 300
    long_b = "x" * 300 + " status=carol " + "y" * 300
    a = write(tmp_path / "a.json", [ToolInteraction("lookup", {"q": 1}, result={"text": long_a})])
    b = write(tmp_path / "b.json", [ToolInteraction("lookup", {"q": 1}, result={"text": long_b})])
    code, out, _ = run(capsys, "diff", str(a), str(b))
    assert code == 1
    assert out.splitlines()[3] == (
        # 40 characters either side of the change
        f"    $.result.text (at character 308): '…{'x' * 32} status=alice {'y' * 39}…' != '…{'x' * 32} status=carol {'y' * 39}…'"
    )


# --------------------------------------------------------------------------------------------------- lint


def clean_cassette() -> list[Any]:
    return [
        HttpInteraction(
            post("/v1/messages", {"messages": [{"role": "user", "content": "hi"}]}),
            Response(200, {}, Body("json", {"ok": True})),
            elapsed_ms=1.0,
        )
    ]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project tree: one test module, its cassette, and a syrupy snapshot, all clean."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_agent.py").write_text("def test_x(): pass\n", encoding="utf-8")
    write(tmp_path / "cassettes" / "tests" / "test_agent" / "test_x.json", clean_cassette())
    snaps = tmp_path / "tests" / "__snapshots__"
    snaps.mkdir()
    (snaps / "test_agent.ambr").write_text("# serializer version: 1\n# name: test_x\n  'It is sunny.'\n# ---\n", encoding="utf-8")
    return tmp_path


def test_lint_passes_a_clean_tree(project, capsys):
    code, out, _ = run(capsys, "lint")
    assert (code, out) == (0, "harness lint: 1 cassette, 1 snapshot file checked: no problems\n")


def test_lint_finds_planted_keys(project, capsys):
    leak = HttpInteraction(
        Request(
            "POST",
            "https://api.anthropic.com/v1/messages",
            {"authorization": "Bearer x", "content-type": "application/json"},
            Body("json", {"note": f"key {KEY}"}),
        ),
        Response(200),
    )
    write(project / "cassettes" / "tests" / "test_agent" / "test_leak.json", [leak])
    (project / "tests" / "__snapshots__" / "test_agent.ambr").write_text(
        f"# name: test_x\n  dict({{\n    'key': '{KEY}',\n  }})\n# ---\n", encoding="utf-8"
    )

    code, out, _ = run(capsys, "lint")
    assert code == 1
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_leak.json:10: secret: credential header 'authorization' is stored",
        "cassettes/tests/test_agent/test_leak.json:15: secret: sk-ant-a… (49 chars) looks like a credential",
        "tests/__snapshots__/test_agent.ambr:3: secret: sk-ant-a… (49 chars) looks like a credential",
        "harness lint: 2 cassettes, 1 snapshot file checked: 3 secrets",
    ]
    assert KEY not in out


def test_lint_finds_query_string_google_and_jwt_secrets(project, capsys):
    # Given cassettes holding an API key in a URL's query string, a Google API key, and a JWT
    google = "AIza" + "Sy0-fake_Google_key_1234567890abcde"
    jwt = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    folder = project / "cassettes" / "tests" / "test_agent"
    write(
        folder / "test_url.json",
        [
            HttpInteraction(
                Request("GET", "https://maps.example.com/v1/geocode?q=Paris&api_key=live_51Hx9QfakeKEY123", {}), Response(200)
            )
        ],
    )
    write(folder / "test_google.json", [ToolInteraction("geocode", {"key": google}, result="ok")])
    write(folder / "test_jwt.json", [HttpInteraction(post("/v1/x", {"session": jwt}), Response(200))])
    # and a URL whose key the recorder already scrubbed, which is fine
    write(
        folder / "test_x.json",
        [HttpInteraction(Request("GET", "https://maps.example.com/v1/geocode?key=<REDACTED>", {}), Response(200))],
    )

    code, out, _ = run(capsys, "lint")

    # Then each is reported, masked, with its file and line
    assert code == 1
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_google.json:8: secret: AIzaSy0-… (39 chars) looks like a credential",
        "cassettes/tests/test_agent/test_jwt.json:14: secret: eyJhbGci… (91 chars) looks like a credential",
        "cassettes/tests/test_agent/test_url.json:8: secret: api_key=… (29 chars) looks like a credential",
        "harness lint: 4 cassettes, 1 snapshot file checked: 3 secrets",
    ]
    assert google not in out and jwt not in out and "live_51" not in out


def test_lint_reads_the_cassette_dir_from_the_ini_file(project, capsys):
    # Given a project whose cassettes live where pyproject says, with a key planted in one
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nharness_cassette_dir = "tests/recordings"\n', encoding="utf-8"
    )
    leak = [HttpInteraction(post("/v1/messages", {"note": f"key {KEY}"}), Response(200))]
    write(project / "tests" / "recordings" / "tests" / "test_agent" / "test_x.json", leak)

    # When lint runs from the project, or from a folder inside it
    code, out, _ = run(capsys, "lint")
    (project / "tests" / "sub").mkdir()
    os.chdir(project / "tests" / "sub")
    code_inside, out_inside, _ = run(capsys, "lint")

    # Then it checks that folder (and finds the key), and its module paths are rootdir-relative (no orphan)
    assert code == 1 and code_inside == 1
    assert out.splitlines() == [
        "tests/recordings/tests/test_agent/test_x.json:14: secret: sk-ant-a… (49 chars) looks like a credential",
        "harness lint: 1 cassette, 1 snapshot file checked: 1 secret",
    ]
    assert out_inside.splitlines()[0].startswith("../recordings/tests/test_agent/test_x.json:14: secret: sk-ant-a…")
    # and --cassette-dir still wins
    os.chdir(project)
    assert (
        run(capsys, "lint", "--cassette-dir", "cassettes")[1]
        == "harness lint: 1 cassette, 1 snapshot file checked: no problems\n"
    )


UNUSED_TESTS = """
import pytest

@pytest.mark.cassette
def test_a():
    pass

@pytest.mark.cassette
@pytest.mark.parametrize("n", [1, 2])
def test_b(n):
    pass

class TestC:
    @pytest.mark.cassette
    def test_d(self):
        pass

@pytest.mark.cassette("shared")
def test_e():
    pass

def test_no_cassette():
    pass
"""


def test_lint_unused_finds_cassettes_no_collected_test_opens(project, capsys):
    # Given a test module whose tests (a parametrized one, a method, a shared cassette) have their
    # cassettes, and cassettes of tests that are gone: a renamed test, a removed parameter
    (project / "tests" / "test_agent.py").write_text(UNUSED_TESTS, encoding="utf-8")
    folder = project / "cassettes" / "tests" / "test_agent"
    for name in ("test_a", "test_b[1]", "test_b[2]", "TestC.test_d", "shared", "test_old_name", "test_b[3]"):
        write(folder / f"{name}.json", clean_cassette())
    folder.joinpath("test_x.json").unlink()

    # When lint runs with --unused (it collects the tests with pytest)
    code, out, _ = run(capsys, "lint", "--unused")

    # Then exactly the two stale cassettes are reported, as warnings
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_b[3].json:1: unused: no collected test of tests/test_agent.py (6 tests collected) opens it",
        "cassettes/tests/test_agent/test_old_name.json:1: unused: no collected test of tests/test_agent.py (6 tests collected) opens it",
        "harness lint: 7 cassettes, 1 snapshot file checked: 2 unused cassettes (warning)",
    ]
    assert code == 0
    assert run(capsys, "lint", "--unused", "--strict")[0] == 1
    # and without --unused, nothing is collected and nothing is said
    assert run(capsys, "lint")[1] == "harness lint: 7 cassettes, 1 snapshot file checked: no problems\n"


def test_lint_reports_truncated_and_future_files_and_orphans(project, capsys):
    good = fmt.dumps(clean_cassette())
    folder = project / "cassettes" / "tests" / "test_agent"
    cut = good[: len(good) // 2]
    (folder / "test_cut.json").write_text(cut, encoding="utf-8")
    (folder / "test_future.json").write_text(good.replace('"harness_cassette": 1', '"harness_cassette": 99'), encoding="utf-8")
    write(project / "cassettes" / "tests" / "test_gone" / "test_y.json", clean_cassette())

    code, out, _ = run(capsys, "lint")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"cassettes/tests/test_agent/test_cut.json:{cut.count(chr(10)) + 1}: unreadable: not valid JSON: ")
    assert lines[0].endswith("(the file looks truncated)")
    assert lines[1:] == [
        "cassettes/tests/test_agent/test_future.json:2: old or unknown format: format version 99 is not supported (this harness reads 1); "
        "it was written by a newer harness: upgrade harness (pip install -U harness)",
        "cassettes/tests/test_gone/test_y.json:1: orphaned: its test module tests/test_gone.py does not exist",
        "harness lint: 4 cassettes, 1 snapshot file checked: 1 unreadable file, 1 old/unknown format, 1 orphaned cassette (warning)",
        "  (orphaned = the test module file is missing; cassettes shared by name through the marker may be false alarms)",
    ]


def test_lint_orphans_are_warnings_unless_strict(project, capsys):
    write(project / "cassettes" / "tests" / "test_gone" / "test_y.json", clean_cassette())
    assert run(capsys, "lint")[0] == 0
    assert run(capsys, "lint", "--strict")[0] == 1
    code, out, _ = run(capsys, "lint", "cassettes/tests/test_agent")  # explicit paths
    assert (code, out) == (0, "harness lint: 1 cassette, 0 snapshot files checked: no problems\n")


# --------------------------------------------------------------------------------------------------- import-vcr


def test_import_vcr_round_trip(tmp_path, capsys):
    import httpx2
    import vcr
    from starlette.applications import Starlette
    from starlette.routing import Route

    from tests.servers.base import Scenario, ServerThread, json_response, sse_response

    events = anthropic_tool_use_stream("Paris")

    async def messages(request: Any) -> Any:
        return sse_response(events, Scenario.parse(request))

    async def echo(request: Any) -> Any:
        return json_response({"echo": await request.json()}, Scenario.parse(request))

    # Given a vcrpy cassette recorded for real (vcrpy patches httpx2): an SSE stream sent with an API
    # key, and a gzip-encoded JSON answer
    yaml_path = tmp_path / "vcr" / "test_agent.yaml"
    with ServerThread(
        Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/echo", echo, methods=["POST"])])
    ) as server:
        with vcr.VCR().use_cassette(str(yaml_path)), httpx2.Client() as client:
            streamed_bytes = client.post(
                f"{server.url}/v1/messages", json={"stream": True, "messages": []}, headers={"x-api-key": KEY}
            ).content
            echoed = client.post(f"{server.url}/echo", json={"q": "hi"}, headers={"x-fake-scenario": "gzip"}).json()
    text = yaml_path.read_text(encoding="utf-8")
    assert KEY in text and "!!binary" in text and "content-encoding" in text

    # When it is imported into another folder
    code, out, _ = run(capsys, "import-vcr", str(yaml_path), "-o", str(tmp_path / "cassettes"))
    target = tmp_path / "cassettes" / "test_agent.json"
    assert code == 0
    assert out.splitlines() == [
        f"{yaml_path} -> {target}: 2 interactions (1 sse, 1 json); removed 1 credential header, scrubbed 0 key-shaped strings",
        "harness import-vcr: 1 converted",
    ]

    # Then it is a readable harness cassette: SSE as events, gzip decoded, no key, no port
    converted = target.read_text(encoding="utf-8")
    items = fmt.loads(converted, target)
    assert KEY not in converted and "x-api-key" not in converted and "content-encoding" not in converted
    assert [i.response.body.kind for i in items] == ["sse", "json"]
    assert items[0].request.url == "http://127.0.0.1/v1/messages"
    assert items[1].response.body.value == {"echo": {"q": "hi"}}

    # And it replays through harness, with the server gone
    session = Session(Settings(record_mode="none"), target, "tests/test_agent.py::test_x")
    session.start()
    try:
        with httpx2.Client() as client:
            with client.stream("POST", "http://127.0.0.1:9/v1/messages", json={"stream": True, "messages": []}) as response:
                assert response.read() == streamed_bytes
                assert response.headers["content-type"].startswith("text/event-stream")
            assert client.post("http://127.0.0.1:9/echo", json={"q": "hi"}, headers={"x-fake-scenario": "gzip"}).json() == echoed
    finally:
        session.stop()
    session.check()

    # And converting again next to the source refuses to overwrite without --force
    code, _, err = run(capsys, "import-vcr", str(yaml_path), "-o", str(tmp_path / "cassettes"))
    assert code == 1 and err == f"harness: {target} exists: use --force to replace it\n"
    code, out, _ = run(capsys, "import-vcr", str(tmp_path / "vcr"))
    assert code == 0 and (tmp_path / "vcr" / "test_agent.json").exists()


def test_import_vcr_rejects_what_it_cannot_read(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n", encoding="utf-8")
    code, _, err = run(capsys, "import-vcr", str(bad))
    assert code == 1
    assert err.startswith(f"harness: {bad}: not valid YAML at line ")
    other = tmp_path / "other.yaml"
    other.write_text("just: text\n", encoding="utf-8")
    code, _, err = run(capsys, "import-vcr", str(other))
    assert err == f"harness: {other}: not a vcrpy cassette (no 'interactions' list)\n"


# --------------------------------------------------------------------------------------------------- the real command


def test_python_m_harness_cli(recorded):
    command = [sys.executable, "-m", "harness.cli"]
    shown = subprocess.run(
        [*command, "show", str(recorded["Paris"])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert '  tool call    get_weather {"city": "Paris"}  [toolu_01]' in shown.stdout
    differs = subprocess.run(
        [*command, "diff", str(recorded["Paris"]), str(recorded["Lyon"])], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert differs.returncode == 1
    usage = subprocess.run([*command, "show"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert usage.returncode == 2 and "the following arguments are required: CASSETTE" in usage.stderr
