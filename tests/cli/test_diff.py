"""``harness diff``: equal and changed prompts, added, removed and ignored paths, MCP calls, and where a long
result changed."""

from __future__ import annotations

import json
import re

from harness.cassette.model import Body, HttpInteraction, McpInteraction, Response, ToolInteraction
from tests.cli.helpers import (
    JIRA,
    SRV,
    post,
    run,
    write,
)


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
