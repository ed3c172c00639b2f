"""MCP record and replay through the real ``mcp`` client: real MCP servers (stdio subprocess, streamable HTTP
and legacy SSE on loopback) recorded, then replayed with the servers gone, no subprocess spawned and the
network refused; a changed request or answer fails with a report; overlapping calls keep their own
messages. Every test runs a real pytest session (pytester)."""

from __future__ import annotations

import anthropic.lib.tools.mcp  # noqa: F401  (imported once here, not again by every inner run)
import mcp.client.sse
import mcp.client.streamable_http  # noqa: F401
import openai  # noqa: F401

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)
from tests.mcp.helpers import calls, cassettes, children, interactions

# --- the code under test: run inside the pytester sessions -----------------------------------------------------------

MCP_INNER = r"""
"PYTEST_DONT_REWRITE"
import base64, os, sys
import anyio, pytest
import mcp_types as types
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.servers.mcp_tools import build_server, tiny_png

URL = os.environ["MCP_URL"]
SSE_URL = os.environ.get("MCP_SSE_URL", "")
REPLAYING = "MCP_REPLAYING" in os.environ


def run(fn, *args):
    # A deadlock in the recorder (or a replayed message the client never gets) fails the test, not CI.
    async def bounded():
        with anyio.fail_after(30):
            await fn(*args)
    anyio.run(bounded)


def stdio_params():
    # In replay MCP_CWD names a folder that does not exist: spawning the server there would fail.
    return StdioServerParameters(command=sys.executable, args=["-m", "tests.servers.mcp_tools"], cwd=os.environ["MCP_CWD"])


class Callbacks:
    def __init__(self, answer=True):
        self.answer, self.elicited, self.logs, self.progress, self.sampled = answer, [], [], [], []
        self.tools_changed = anyio.Event()

    async def elicit(self, context, params):
        self.elicited.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": self.answer})

    async def sample(self, context, params):
        self.sampled.append(params.messages[0].content.text)
        return types.CreateMessageResult(role="assistant", content=types.TextContent(text="Short."), model="fake")

    async def roots(self, context):
        return types.ListRootsResult(roots=[types.Root(uri="file:///work/project", name="project")])

    async def on_message(self, message):
        if isinstance(message, types.ToolListChangedNotification):
            self.tools_changed.set()

    def kwargs(self):
        return dict(elicitation_callback=self.elicit, logging_callback=self.log, sampling_callback=self.sample,
                    list_roots_callback=self.roots, message_handler=self.on_message)

    async def log(self, params):
        self.logs.append((params.level, params.data))

    async def on_progress(self, progress, total, message):
        self.progress.append((progress, total, message))


def text(result):
    (block,) = result.content
    return block.text


async def exercise(session, cb, *, modern):
    assert text(await session.call_tool("echo", {"text": "héllo"})) == "héllo"
    add = await session.call_tool("add", {"a": 2, "b": 40})
    assert add.structured_content == {"result": 42}
    forecast = await session.call_tool("forecast", {"city": "Paris"})
    assert forecast.structured_content["conditions"] == "cloudy"
    (image,) = (await session.call_tool("image", {})).content
    assert isinstance(image, types.ImageContent) and base64.b64decode(image.data) == tiny_png()
    fail = await session.call_tool("fail", {})
    assert fail.is_error and text(fail) == "Error executing tool fail: this tool always fails"
    with pytest.raises(MCPError) as excinfo:
        await session.call_tool("fail_protocol", {})
    assert excinfo.value.code == types.INVALID_PARAMS
    assert excinfo.value.error.message == "fail_protocol always rejects the call"
    assert text(await session.call_tool("slow_count", {"n": 3}, progress_callback=cb.on_progress)) == "counted to 3"
    assert cb.progress == [(1, 3, "step 1/3"), (2, 3, "step 2/3"), (3, 3, "step 3/3")]
    assert text(await session.call_tool("log", {"msg": "hi"})) == "logged"
    assert cb.logs == [("info", "info: hi"), ("warning", "warning: hi")]
    assert text(await session.call_tool("confirm", {"action": "deploy"})) == "deploy: confirmed"
    assert cb.elicited == ["Confirm action: deploy?"]
    if not modern:
        assert text(await session.call_tool("confirm_direct", {"action": "x"})) == "x: confirmed"
        assert len(cb.elicited) == 2
    (resource,) = (await session.read_resource("config://app")).contents
    assert resource.text == '{"feature": "on", "limit": 3}'
    # Sampling, roots and a tool-list change: server requests mid-call (handshake era) or an
    # InputRequiredResult round (2026 era); list_changed as a notification, or on a listen stream.
    assert text(await session.call_tool("summarize", {"text": "A long text."})) == "Short."
    assert cb.sampled == ["A long text."]
    assert text(await session.call_tool("roots", {})) == "file:///work/project"
    if modern:
        async with session.listen(tools_list_changed=True) as subscription:
            assert text(await session.call_tool("reload_tools", {})) == "reloaded"
            assert type(await subscription.__anext__()).__name__ == "ToolsListChanged"
    else:
        assert text(await session.call_tool("reload_tools", {})) == "reloaded"
        await cb.tools_changed.wait()


async def legacy_session(transport, cb):
    async with transport as (read, write):
        async with ClientSession(read, write, **cb.kwargs()) as session:
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25" and init.server_info.name == "harness-test-tools"
            await exercise(session, cb, modern=False)


async def modern_client(target, cb):
    if REPLAYING and os.environ.get("LISTEN_OFFSET"):
        # listen() ids come from a process-wide counter: a subscription elsewhere first (an in-process
        # server, not recorded) moves the ids of this test's own, as running alone or under xdist would.
        async with Client(build_server()) as other:
            async with other.listen(tools_list_changed=True):
                pass
    async with Client(target, **cb.kwargs(), log_level="debug") as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_info.name == "harness-test-tools"
        await exercise(client, cb, modern=True)


@pytest.mark.cassette
def test_stdio_client_session_initialize():
    run(legacy_session, stdio_client(stdio_params()), Callbacks())


@pytest.mark.cassette
def test_stdio_client_discover():
    run(modern_client, stdio_params(), Callbacks())


@pytest.mark.cassette
def test_http_client_session_initialize():
    run(legacy_session, streamable_http_client(URL), Callbacks())


@pytest.mark.cassette
def test_legacy_sse_client_session_initialize():
    run(legacy_session, sse_client(SSE_URL), Callbacks())


@pytest.mark.cassette
def test_http_client_discover():
    run(modern_client, URL, Callbacks())


@pytest.mark.cassette
def test_http_concurrent_calls():
    # Five calls in flight at once, progress for each: replay answers them whatever order they come in.
    async def main():
        seen = {}
        async with Client(URL) as client:
            async def count(n):
                got = seen.setdefault(n, [])
                async def on_progress(progress, total, message):
                    got.append(progress)
                result = await client.call_tool("slow_count", {"n": n}, progress_callback=on_progress)
                assert text(result) == f"counted to {n}"
            async def echo(word):
                assert text(await client.call_tool("echo", {"text": word})) == word
            calls = [(count, 1), (count, 2), (count, 3), (echo, "a"), (echo, "b")]
            async with anyio.create_task_group() as tg:
                # Replay sends them in the reverse order: each is still answered with its own recording.
                for fn, arg in reversed(calls) if REPLAYING else calls:
                    tg.start_soon(fn, arg)
        assert seen == {1: [1], 2: [1, 2], 3: [1, 2, 3]}
    run(main)


@pytest.mark.cassette
def test_http_overlapping_logs():
    # Two calls in flight, each logging with no progress token; then, in the 2026 era, the same again.
    async def overlap(client, logs):
        async def hold(name):
            assert text(await client.call_tool("hold", {"name": name})) == f"{name}: done"
        async def seen(line):
            while line not in logs:
                await anyio.sleep(0.01)
        async with anyio.create_task_group() as tg:
            tg.start_soon(hold, "A")
            await seen("A: held")
            tg.start_soon(hold, "B")
            await seen("B: held")
            # A logs again while B and this release are in flight, then B likewise.
            assert text(await client.call_tool("release", {"name": "A"})) == "A: released"
            await seen("A: released")
            assert text(await client.call_tool("release", {"name": "B"})) == "B: released"
        assert sorted(logs) == ["A: held", "A: released", "B: held", "B: released"]

    async def main():
        for mode in ("legacy", "auto"):
            logs = []
            async def log(params):
                logs.append(params.data)
            async with Client(URL, mode=mode, logging_callback=log, log_level="debug") as client:
                await overlap(client, logs)
    run(main)


@pytest.mark.cassette
def test_changed_argument():
    # The error reaches the client as a JSON-RPC error; even swallowed, the test fails at teardown.
    async def main():
        async with Client(URL) as client:
            try:
                result = await client.call_tool("echo", {"text": os.environ.get("ECHO_TEXT", "hello")})
                print("RESULT", text(result))
            except MCPError as exc:
                print("SWALLOWED", exc.error.message.splitlines()[0])
    run(main)


@pytest.mark.cassette
def test_elicitation_answer():
    async def main():
        cb = Callbacks(answer=os.environ.get("ANSWER", "yes") == "yes")
        async with streamable_http_client(URL) as (read, write):
            async with ClientSession(read, write, elicitation_callback=cb.elicit) as session:
                await session.initialize()
                print("RESULT", text(await session.call_tool("confirm", {"action": "deploy"})))
    run(main)
"""


# --- the tests -------------------------------------------------------------------------------------------------------


def test_record_then_replay_with_no_server_no_process_no_network(pytester, live, offline, monkeypatch):
    import mcp.client.client
    import mcp.client.stdio

    # Given real MCP servers over stdio, streamable HTTP and legacy SSE, both handshakes, every kind of tool
    pytester.makepyfile(test_mcp=MCP_INNER)
    selection = "not (changed_argument or elicitation_answer or overlapping_logs)"
    before = children()
    recorded = pytester.runpytest("--record-mode=once", "-k", selection)
    recorded.assert_outcomes(passed=6)
    assert children() == before  # every stdio server was stopped
    files = cassettes(pytester)
    assert set(files) == {
        "test_stdio_client_session_initialize",
        "test_stdio_client_discover",
        "test_http_client_session_initialize",
        "test_http_client_discover",
        "test_http_concurrent_calls",
        "test_legacy_sse_client_session_initialize",
    }
    snapshot = {name: path.read_text() for name, path in files.items()}
    # The factories are the real ones again after each test.
    assert mcp.client.client.stdio_client is mcp.client.stdio.stdio_client

    # When the tests run again in the default mode, with no server, no process and no network, and the
    # listen() ids of the client's process-wide counter moved on (as when a test runs alone, or under xdist)
    monkeypatch.setenv("LISTEN_OFFSET", "1")
    with offline:
        replayed = pytester.runpytest("-k", selection, "-p", "no:randomly")

    # Then they pass from their cassettes, which are left untouched
    replayed.assert_outcomes(passed=6)
    assert offline.attempts == []
    assert {name: path.read_text() for name, path in cassettes(pytester).items()} == snapshot
    replayed.stdout.fnmatch_lines(["harness: 6 cassette(s) replayed, 0 recorded."])

    # And each cassette is readable MCP, recorded once
    servers = {
        "test_stdio_client_session_initialize": "python -m tests.servers.mcp_tools",
        "test_http_client_session_initialize": "http://127.0.0.1/mcp",
        "test_legacy_sse_client_session_initialize": "http://127.0.0.1/sse",
    }
    for name, server in servers.items():
        items = interactions(files[name])
        # Only MCP entries: MCP's own POSTs, GET streams and closing DELETE are not also recorded as HTTP.
        assert {i["kind"] for i in items} == {"mcp"}, name
        assert {i["server"] for i in items} == {server}
        assert [i.get("request") or i.get("notify") for i in items[:2]] == ["initialize", "notifications/initialized"]
        # Each call is there once, in call order; no JSON-RPC ids, no _meta.
        tools = [i["params"]["name"] for i in items if i.get("request") == "tools/call"]
        assert tools == [
            "echo",
            "add",
            "forecast",
            "image",
            "fail",
            "fail_protocol",
            "slow_count",
            "log",
            "confirm",
            "confirm_direct",
            "summarize",
            "roots",
            "reload_tools",
        ]
        text = files[name].read_text()
        assert '"id":' not in text and "_meta" not in text and "jsonrpc" not in text

        assert calls(items, "echo")[0]["result"]["content"] == [{"text": "héllo", "type": "text"}]
        assert calls(items, "add")[0]["result"]["structuredContent"] == {"result": 42}
        assert calls(items, "image")[0]["result"]["content"][0]["mimeType"] == "image/png"
        assert calls(items, "fail")[0]["result"]["isError"] is True
        assert calls(items, "fail_protocol")[0]["error"]["code"] == -32602
        (count,) = calls(items, "slow_count")
        assert [(e["notify"], e["params"]["progress"]) for e in count["during"]] == [
            ("notifications/progress", n) for n in (1, 2, 3)
        ]
        (log,) = calls(items, "log")
        assert [(e["notify"], e["params"]["data"]) for e in log["during"]] == [
            ("notifications/message", "info: hi"),
            ("notifications/message", "warning: hi"),
        ]
        (confirm,) = calls(items, "confirm")
        (elicit,) = confirm["during"]
        assert elicit["request"] == "elicitation/create" and elicit["params"]["message"] == "Confirm action: deploy?"
        assert elicit["answer"] == {"result": {"action": "accept", "content": {"confirm": True}}}
        assert confirm["result"]["content"][0]["text"] == "deploy: confirmed"
        # Sampling and roots: server requests mid-call, with the client's answers.
        (summarize,) = calls(items, "summarize")
        (sample,) = summarize["during"]
        assert (
            sample["request"] == "sampling/createMessage" and sample["params"]["messages"][0]["content"]["text"] == "A long text."
        )
        assert sample["answer"]["result"]["content"] == {"type": "text", "text": "Short."}
        (roots,) = calls(items, "roots")
        assert roots["during"] == [
            {"request": "roots/list", "answer": {"result": {"roots": [{"uri": "file:///work/project", "name": "project"}]}}}
        ]
        # list_changed is tied to no request: it comes during the call (stdio), or after it (the HTTP GET stream).
        (reload,) = calls(items, "reload_tools")
        assert [e["notify"] for e in reload.get("during", []) + reload.get("after", [])] == [
            "notifications/tools/list_changed"
        ], name
    # The 2026 era: elicitation is an InputRequiredResult, then the same call again with the answer.
    modern = interactions(files["test_stdio_client_discover"])
    assert modern[0]["request"] == "server/discover"
    first, again = calls(modern, "confirm")
    assert first["result"]["resultType"] == "input_required"
    assert again["params"]["inputResponses"] == {"__main__:ask_confirmation": {"action": "accept", "content": {"confirm": True}}}
    # requestState is sealed with a fresh key by every server run: the cassette holds a stable stand-in.
    assert first["result"]["requestState"] == again["params"]["requestState"] == "harness-request-state-1"
    for name in ("test_stdio_client_discover", "test_http_client_discover"):
        modern = interactions(files[name])
        # Sampling and roots, the same way: an InputRequiredResult, then the call again with the answer.
        for tool, method in [("summarize", "sampling/createMessage"), ("roots", "roots/list")]:
            first, again = calls(modern, tool)
            ((key, asked),) = first["result"]["inputRequests"].items()
            assert asked["method"] == method and key in again["params"]["inputResponses"], name
        # A listen stream: its ack and the event it delivered are its own, under a stable subscription id.
        (listen,) = [i for i in modern if i.get("request") == "subscriptions/listen"]
        assert listen["params"] == {"notifications": {"toolsListChanged": True}}
        assert [(e["notify"], e["params"]["_meta"]) for e in listen["during"]] == [
            ("notifications/subscriptions/acknowledged", {"io.modelcontextprotocol/subscriptionId": "harness-subscription-1"}),
            ("notifications/tools/list_changed", {"io.modelcontextprotocol/subscriptionId": "harness-subscription-1"}),
        ], name
        assert "listen-" not in files[name].read_text()
        (reload,) = calls(modern, "reload_tools")
        assert "during" not in reload and "after" not in reload

    # Re-recording an unchanged exchange leaves the file as it was.
    pytester.runpytest("--record-mode=all", "-k", "http_client_discover").assert_outcomes(passed=1)
    assert files["test_http_client_discover"].read_text() == snapshot["test_http_client_discover"]


def test_a_changed_request_or_answer_fails_with_a_report(pytester, live, offline, monkeypatch):
    pytester.makepyfile(test_mcp=MCP_INNER)
    recorded = pytester.runpytest("--record-mode=once", "-k", "changed_argument or elicitation_answer", "-s")
    recorded.assert_outcomes(passed=2)
    recorded.stdout.fnmatch_lines(["*RESULT hello*", "*RESULT deploy: confirmed*"])

    monkeypatch.setenv("ECHO_TEXT", "bye")
    monkeypatch.setenv("ANSWER", "no")
    with offline:
        result = pytester.runpytest("-k", "changed_argument or elicitation_answer", "-s", "-p", "no:randomly")
    assert offline.attempts == []
    # The client got each report as a JSON-RPC error. test_changed_argument swallowed it, and fails all the
    # same (at teardown); test_elicitation_answer fails on it.
    result.stdout.fnmatch_lines(["*SWALLOWED harness: no recorded mcp call matches this one*"])
    assert "ERROR test_mcp.py::test_changed_argument" in result.stdout.str()
    assert "FAILED test_mcp.py::test_elicitation_answer" in result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "*harness: no recorded mcp call matches this one",
            '*mcp tools/call echo({"text":"bye"}) @ http://127.0.0.1/mcp',
            '*closest recorded call: #* mcp tools/call echo({"text":"hello"}) @ http://127.0.0.1/mcp*',
            "*$.params.arguments.text: 'hello' != 'bye'",
            "*How to fix:*",
            "*pytest *test_changed_argument --record-mode=all",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*harness: the client answered a server request differently than recorded",
            '*mcp tools/call confirm({"action":"deploy"}) @ http://127.0.0.1/mcp',
            "*server request: elicitation/create*",
            "*$.result.content.confirm: true != false",
            "*pytest *test_elicitation_answer --record-mode=all",
        ]
    )


def test_overlapping_calls_keep_their_own_messages_over_http(pytester, live, offline):
    # Given two calls in flight at once over streamable HTTP, each logging with no progress token, while
    # further calls (the releases) are sent: both eras
    pytester.makepyfile(test_mcp=MCP_INNER)
    pytester.runpytest("--record-mode=once", "-k", "overlapping_logs").assert_outcomes(passed=1)
    (path,) = cassettes(pytester).values()
    snapshot = path.read_text()

    # Then each log message is kept with the call whose HTTP exchange delivered it, not the latest call sent
    items = interactions(path)
    modern = [i.get("request") for i in items].index("server/discover")
    assert items[0]["request"] == "initialize"
    for era in (items[:modern], items[modern:]):
        held = {i["params"]["arguments"]["name"]: [e["params"]["data"] for e in i["during"]] for i in calls(era, "hold")}
        assert held == {"A": ["A: held", "A: released"], "B": ["B: held", "B: released"]}
        assert [i.get("during") for i in calls(era, "release")] == [None, None]

    # And it replays offline, the log messages coming with their own calls
    with offline:
        pytester.runpytest("-k", "overlapping_logs", "-p", "no:randomly").assert_outcomes(passed=1)
    assert offline.attempts == []
    assert path.read_text() == snapshot
