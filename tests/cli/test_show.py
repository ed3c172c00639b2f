"""``harness show``, run on cassettes recorded through harness (or built from the model for exact cases):
agent runs, exact streams and errors of every API, unknown kinds, MCP calls and their timings."""

from __future__ import annotations

import re

from harness.cassette import format as fmt
from harness.cassette.model import Body, HttpInteraction, McpInteraction, Response, ToolInteraction
from tests.cli.helpers import (
    JIRA,
    SRV,
    anthropic_tool_use_stream,
    no_times,
    post,
    run,
    sse_body,
    streamed,
    write,
)


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
