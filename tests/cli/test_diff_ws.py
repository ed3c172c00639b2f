"""``harness diff`` on WebSocket sessions and on causally replayed event streams: client frames compared at
path level, server frames by type with their text reassembled and function calls' arguments compared,
close codes; a session stream's events by type, with what each one waited for. ``show --html`` draws a
WebSocket session's frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.cassette import format as fmt
from harness.cassette.model import WebSocketInteraction
from tests.cli.helpers import run, write
from tests.servers.ws_api import _call_events, _text_events

URL = "ws://127.0.0.1/v1/responses"
TOOLS = [{"type": "function", "name": "get_weather"}]
SESSION = (
    Path(__file__).resolve().parents[2]
    / "cassettes/examples/managed_sessions/test_managed_sessions/test_worker_posts_the_tool_result_and_stops_when_idle.json"
)


def _frames(side: str, events: list[Any], t0: float) -> list[dict[str, Any]]:
    return [{"from": side, "ms": t0 + n, "json": e} for n, e in enumerate(events)]


def session(
    city: str, output: str, text: str, close: dict[str, Any] | None = None, call_id: str = "call_Ab12Cd34"
) -> WebSocketInteraction:
    """A recorded function-call round trip, in the loopback server's wire format."""
    call = json.loads(json.dumps(_call_events("resp_1")).replace("Paris", city).replace("call_1", call_id))
    first = {"type": "response.create", "model": "gpt-5", "input": f"Weather in {city}?", "tools": TOOLS}
    out = [{"type": "function_call_output", "call_id": call_id, "output": output}]
    second = {"type": "response.create", "model": "gpt-5", "previous_response_id": "resp_1", "input": out}
    frames = [
        *_frames("client", [first], 0),
        *_frames("server", call, 10),
        *_frames("client", [second], 30),
        *_frames("server", _text_events("resp_2", text), 40),
    ]
    return WebSocketInteraction(URL, {}, frames, close or {"by": "client", "code": 1000, "reason": ""})


def test_diff_of_two_websocket_sessions_compares_frames_text_calls_and_close(tmp_path, capsys):
    # Given the same session recorded twice with different call ids and timings
    a = write(tmp_path / "a.json", [session("Paris", "sunny", "It is sunny in Paris.")])
    same = session("Paris", "sunny", "It is sunny in Paris.", call_id="call_Zq81LkPq0")
    for frame in same.frames:
        frame["ms"] += 5
    b = write(tmp_path / "b.json", [same])
    # Then they are the same (per-run ids and timings are not changes)
    code, out, _ = run(capsys, "diff", str(a), str(b))
    assert (code, out) == (0, "same: 1 interaction, no changes in requests or answers (timings ignored)\n")

    # Given a session where the city, the tool's output, the answer and the close all changed
    c = write(
        tmp_path / "c.json",
        [session("Lyon", "rainy", "It is rainy in Lyon today.", {"by": "server", "code": 1011, "reason": "internal error"})],
    )
    code, out, _ = run(capsys, "diff", str(a), str(c))
    # Then each change is told in the session's own terms, frame by frame
    assert code == 1
    assert out.splitlines()[2:] == [
        "~ #0 WebSocket to ws://127.0.0.1/v1/responses",
        "    → client frame #1 $.input: 'Weather in Paris?' != 'Weather in Lyon?'",
        "    ← server after client frame #1: tool call get_weather $.city: 'Paris' != 'Lyon'",
        "    → client frame #2 $.input[0].output: 'sunny' != 'rainy'",
        "    ← server after client frame #2: frames: response.output_text.delta x5 != x6",
        "    ← server after client frame #2: assistant text: 'It is sunny in Paris.' != 'It is rainy in Lyon today.'",
        "    close: 1000 by client != 1011 by server: internal error",
        "1 changed, 0 added, 0 removed (values: a.json != c.json; timings ignored)",
    ]


def test_diff_of_websocket_sessions_with_a_turn_added_and_an_ignored_path(tmp_path, capsys):
    # Given a session that stopped after the function call, and one that went on to the answer
    full = session("Paris", "sunny", "It is sunny in Paris.")
    short = WebSocketInteraction(URL, {}, full.frames[:8], {"by": "server", "code": 1006, "reason": ""})
    a = write(tmp_path / "a.json", [short])
    b = write(tmp_path / "b.json", [full])
    code, out, _ = run(capsys, "diff", str(a), str(b))
    # Then the added client frame and what the server answered to it are listed
    assert code == 1
    assert out.splitlines()[3:6] == [
        '    + → client frame #2 response.create {"model": "gpt-5", "previous_response_id": "resp_1", "input": [{"type": "function_call_output", "call_id": "call_Ab12Cd34", "output": "sunny"}]}',
        "    + ← server after client frame #2: 9 frames, assistant text 'It is sunny in Paris.'",
        "    close: 1006 by server != 1000 by client",
    ]

    # And a client frame's changed field under --ignore is no change
    other = session("Paris", "sunny", "It is sunny in Paris.")
    other.frames[0]["json"]["model"] = "gpt-5-mini"
    c = write(tmp_path / "c.json", [other])
    code, out, _ = run(capsys, "diff", str(b), str(c))
    assert (code, out.splitlines()[3]) == (1, "    → client frame #1 $.model: 'gpt-5' != 'gpt-5-mini'")
    code, _, _ = run(capsys, "diff", str(b), str(c), "--ignore", "$.model")
    assert code == 0


def test_diff_of_a_causal_session_stream_compares_events_and_what_they_waited_for(tmp_path, capsys):
    # Given the managed-agents session, and a copy where the agent answered otherwise, at once, with one more event
    items = fmt.load(SESSION)
    a = write(tmp_path / "a.json", items[:1])
    changed = fmt.load(SESSION)[:1]
    stream = changed[0].response
    assert stream is not None
    events = stream.body.value
    events[2]["data"]["content"][0]["text"] = "Done: saved 'buy bread'"
    events.insert(
        3, {"event": "agent.message", "data": {"type": "agent.message", "content": [{"type": "text", "text": "Anything else?"}]}}
    )
    stream.awaits = None
    stream.chunks = None
    b = write(tmp_path / "b.json", changed)
    code, out, _ = run(capsys, "diff", str(a), str(b))
    # Then the events are compared by type and meaning, and the post the first one waited for is gone
    assert code == 1
    assert out.splitlines()[2:] == [
        "~ #0 GET /v1/sessions/sesn_example/events/stream",
        "    event [0] user.custom_tool_result: waits for POST /v1/sessions/sesn_example/events != waits for nothing",
        "    event [2] agent.message: \"Done: saved 'remember the milk'\" != \"Done: saved 'buy bread'\"",
        "    + event [3] agent.message  Anything else?",
        "1 changed, 0 added, 0 removed (values: a.json != b.json; timings ignored)",
    ]


def test_show_html_draws_a_websocket_session_with_directions_and_the_reassembled_text(tmp_path, capsys):
    path = write(tmp_path / "ws.json", [session("Paris", "<b>sunny</b>", "It is <b>sunny</b> in Paris.")])
    code, out, _ = run(capsys, "show", "--html", str(path))
    assert code == 0
    assert "data-kind='websocket'" in out
    assert "→ client" in out and "← server" in out
    assert "assistant    It is &lt;b&gt;sunny&lt;/b&gt; in Paris." in out
    assert "tool call    get_weather {&quot;city&quot;:&quot;Paris&quot;}" in out
    assert "<b>sunny" not in out
    # And its bar spans the session (its last frame's time), with a mark per frame, by direction
    assert "websocket #0 · 48 ms" in out
    assert "<div class='frames'>18 frames over 48 ms: " in out
    assert out.count("<b class='c'") == 2 and out.count("<b class='s'") == 16
