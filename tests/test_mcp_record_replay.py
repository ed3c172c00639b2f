"""MCP record and replay, end to end: real MCP servers (stdio subprocess, streamable HTTP on loopback)
recorded through the real ``mcp`` client, then replayed with the servers gone, no subprocess spawned
and the network refused. Every test runs a real pytest session (pytester)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anthropic.lib.tools.mcp  # noqa: F401  (imported once here, not again by every inner run)
import anyio
import mcp.client.sse
import mcp.client.streamable_http  # noqa: F401
import openai  # noqa: F401
import pytest

from tests.conftest import load_cassette
from tests.servers.base import ServerThread
from tests.servers.mcp_tools import McpHttpServer, build_server

ROOT = Path(__file__).resolve().parents[1]

# --- the code under test: run inside the pytester sessions -----------------------------------------------------------

MCP_INNER = r'''
"PYTEST_DONT_REWRITE"
import base64, os, sys
import anyio, pytest
import mcp_types as types
from mcp import Client, ClientSession, StdioServerParameters, stdio_client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from tests.servers.mcp_tools import tiny_png

URL = os.environ["MCP_URL"]
SSE_URL = os.environ.get("MCP_SSE_URL", "")


def stdio_params():
    # In replay MCP_CWD names a folder that does not exist: spawning the server there would fail.
    return StdioServerParameters(command=sys.executable, args=["-m", "tests.servers.mcp_tools"], cwd=os.environ["MCP_CWD"])


class Callbacks:
    def __init__(self, answer=True):
        self.answer, self.elicited, self.logs, self.progress = answer, [], [], []

    async def elicit(self, context, params):
        self.elicited.append(params.message)
        return types.ElicitResult(action="accept", content={"confirm": self.answer})

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


async def legacy_session(transport, cb):
    async with transport as (read, write):
        async with ClientSession(read, write, elicitation_callback=cb.elicit, logging_callback=cb.log) as session:
            init = await session.initialize()
            assert init.protocol_version == "2025-11-25" and init.server_info.name == "harness-test-tools"
            await exercise(session, cb, modern=False)


async def modern_client(target, cb):
    async with Client(target, elicitation_callback=cb.elicit, logging_callback=cb.log, log_level="debug") as client:
        assert client.protocol_version == "2026-07-28"
        assert client.server_info.name == "harness-test-tools"
        await exercise(client, cb, modern=True)


@pytest.mark.cassette
def test_stdio_client_session_initialize():
    anyio.run(legacy_session, stdio_client(stdio_params()), Callbacks())


@pytest.mark.cassette
def test_stdio_client_discover():
    anyio.run(modern_client, stdio_params(), Callbacks())


@pytest.mark.cassette
def test_http_client_session_initialize():
    anyio.run(legacy_session, streamable_http_client(URL), Callbacks())


@pytest.mark.cassette
def test_legacy_sse_client_session_initialize():
    anyio.run(legacy_session, sse_client(SSE_URL), Callbacks())


@pytest.mark.cassette
def test_http_client_discover():
    anyio.run(modern_client, URL, Callbacks())


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
            async with anyio.create_task_group() as tg:
                for n in (1, 2, 3):
                    tg.start_soon(count, n)
                for word in ("a", "b"):
                    tg.start_soon(echo, word)
        assert seen == {1: [1], 2: [1, 2], 3: [1, 2, 3]}
    anyio.run(main)


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
    anyio.run(main)


@pytest.mark.cassette
def test_elicitation_answer():
    async def main():
        cb = Callbacks(answer=os.environ.get("ANSWER", "yes") == "yes")
        async with streamable_http_client(URL) as (read, write):
            async with ClientSession(read, write, elicitation_callback=cb.elicit) as session:
                await session.initialize()
                print("RESULT", text(await session.call_tool("confirm", {"action": "deploy"})))
    anyio.run(main)
'''

AGENT_INNER = r'''
"PYTEST_DONT_REWRITE"
import os
import anthropic, anyio, openai, pytest
from anthropic.lib.tools.mcp import async_mcp_tool, mcp_tool
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

MODEL_URL, MCP_URL = os.environ["MODEL_URL"], os.environ["MCP_URL"]
KEY = "sk-ant-api03-" + "Zx9" * 30


@pytest.mark.cassette
def test_agent_timeline():
    # A hand-written agent loop: the model asks for a tool, MCP runs it, the model answers, another model sums up.
    async def main():
        claude = anthropic.AsyncAnthropic(api_key=KEY, base_url=MODEL_URL)
        gpt = openai.AsyncOpenAI(api_key="sk-proj-" + "Qw7" * 30, base_url=MODEL_URL + "/v1")
        async with Client(MCP_URL) as mcp:
            tools = [{"name": t.name, "description": t.description, "input_schema": t.input_schema} for t in (await mcp.list_tools()).tools]
            messages = [{"role": "user", "content": 'What is the forecast for "Tokyo"?'}]
            first = await claude.messages.create(model="claude-opus-4-7", max_tokens=100, tools=tools, messages=messages)
            (call,) = [b for b in first.content if b.type == "tool_use"]
            assert call.name == "forecast" and call.input == {"city": "Tokyo"}
            result = await mcp.call_tool(call.name, call.input)
            blocks = [{"type": "text", "text": c.text} for c in result.content]
            messages += [{"role": "assistant", "content": first.content},
                         {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": blocks}]}]
            final = await claude.messages.create(model="claude-opus-4-7", max_tokens=100, tools=tools, messages=messages)
            assert "sunny" in final.content[0].text
            summary = await gpt.chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": final.content[0].text}])
            assert summary.choices[0].message.content.startswith("You said: Result:")
    anyio.run(main)


@pytest.mark.cassette
def test_async_mcp_tool_runner():
    async def main():
        claude = anthropic.AsyncAnthropic(api_key=KEY, base_url=MODEL_URL)
        async with streamable_http_client(MCP_URL) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [async_mcp_tool(t, session) for t in (await session.list_tools()).tools if t.name in ("echo", "add")]
                runner = claude.beta.messages.tool_runner(
                    model="claude-opus-4-7", max_tokens=100, tools=tools,
                    messages=[{"role": "user", "content": 'Please echo "bonjour"'}],
                )
                final = await runner.until_done()
        assert final.content[0].text == "Result: bonjour"
    anyio.run(main)


@pytest.mark.cassette
def test_sync_mcp_tool_runner():
    # mcp_tool's tools call back into the event loop: the sync runner runs in a worker thread.
    async def main():
        claude = anthropic.Anthropic(api_key=KEY, base_url=MODEL_URL)
        async with Client(MCP_URL, mode="legacy") as client:
            tools = [mcp_tool(t, client.session) for t in (await client.list_tools()).tools if t.name in ("echo", "add")]
            def run():
                runner = claude.beta.messages.tool_runner(
                    model="claude-opus-4-7", max_tokens=100, tools=tools,
                    messages=[{"role": "user", "content": "Please add these"}],
                )
                return runner.until_done()
            final = await anyio.to_thread.run_sync(run)
        assert final.content[0].text == "Result: 2"
    anyio.run(main)
'''


# --- fixtures and helpers --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mcp_server() -> Any:
    with McpHttpServer() as server:
        yield server


@pytest.fixture(scope="module")
def sse_server() -> Any:
    """The same tools over the legacy HTTP+SSE transport."""
    thread = ServerThread(build_server().sse_app()).start()
    yield thread
    thread.stop()


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch, mcp_server: Any, sse_server: Any) -> Any:
    """Point the inner tests at the real servers."""
    monkeypatch.setenv("MCP_URL", mcp_server.url)
    monkeypatch.setenv("MCP_SSE_URL", sse_server.url + "/sse")
    monkeypatch.setenv("MCP_CWD", str(ROOT))
    return mcp_server


class Spawns:
    """Counts (and refuses) every attempt to start a process."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.attempts: list[Any] = []
        self.monkeypatch = monkeypatch

    def __enter__(self) -> Spawns:
        def refuse(what: str) -> Any:
            def spawn(*args: Any, **kwargs: Any) -> Any:
                self.attempts.append((what, args))
                raise OSError(f"no processes in replay ({what})")

            return spawn

        self.monkeypatch.setattr(anyio, "open_process", refuse("anyio.open_process"))
        self.monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
        return self



@pytest.fixture
def offline(closed_url: str, no_network: Any) -> Any:
    """``with offline:`` replay conditions: the MCP URL is a closed port, the stdio server cannot start
    (its folder does not exist), and every connection and process start is refused and counted."""

    class Offline:
        def __enter__(self) -> Offline:
            self.patch = pytest.MonkeyPatch()
            self.patch.setenv("MCP_URL", closed_url + "/mcp")
            self.patch.setenv("MCP_SSE_URL", closed_url + "/sse")
            self.patch.setenv("MODEL_URL", closed_url)
            self.patch.setenv("MCP_CWD", "/nonexistent/harness-replay")
            self.spawns = Spawns(self.patch).__enter__()
            no_network.__enter__()
            return self

        def __exit__(self, *exc: object) -> None:
            no_network.__exit__()
            self.patch.undo()

        @property
        def attempts(self) -> list[Any]:
            return no_network.attempts + self.spawns.attempts

    return Offline()


def children() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return pids


def cassettes(pytester: pytest.Pytester) -> dict[str, Path]:
    return {p.stem: p for p in (pytester.path / "cassettes").rglob("*.json")}


def interactions(path: Path) -> list[dict[str, Any]]:
    return load_cassette(path)["interactions"]


def calls(items: list[dict[str, Any]], tool: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("request") == "tools/call" and i["params"]["name"] == tool]


# --- the tests -------------------------------------------------------------------------------------------------------


def test_record_then_replay_with_no_server_no_process_no_network(pytester, live, offline):
    import mcp.client.client
    import mcp.client.stdio

    # Given real MCP servers over stdio, streamable HTTP and legacy SSE, both handshakes, every kind of tool
    pytester.makepyfile(test_mcp=MCP_INNER)
    selection = "not (changed_argument or elicitation_answer)"
    before = children()
    recorded = pytester.runpytest("--record-mode=once", "-k", selection)
    recorded.assert_outcomes(passed=6)
    assert children() == before  # every stdio server was stopped
    files = cassettes(pytester)
    assert set(files) == {
        "test_stdio_client_session_initialize", "test_stdio_client_discover",
        "test_http_client_session_initialize", "test_http_client_discover", "test_http_concurrent_calls",
        "test_legacy_sse_client_session_initialize",
    }
    snapshot = {name: path.read_text() for name, path in files.items()}
    # The factories are the real ones again after each test.
    assert mcp.client.client.stdio_client is mcp.client.stdio.stdio_client

    # When the tests run again in the default mode, with no server, no process and no network
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
        assert tools == ["echo", "add", "forecast", "image", "fail", "fail_protocol", "slow_count", "log", "confirm", "confirm_direct"]
        text = files[name].read_text()
        assert '"id":' not in text and "_meta" not in text and "jsonrpc" not in text

        assert calls(items, "echo")[0]["result"]["content"] == [{"text": "héllo", "type": "text"}]
        assert calls(items, "add")[0]["result"]["structuredContent"] == {"result": 42}
        assert calls(items, "image")[0]["result"]["content"][0]["mimeType"] == "image/png"
        assert calls(items, "fail")[0]["result"]["isError"] is True
        assert calls(items, "fail_protocol")[0]["error"]["code"] == -32602
        (count,) = calls(items, "slow_count")
        assert [(e["notify"], e["params"]["progress"]) for e in count["during"]] == [("notifications/progress", n) for n in (1, 2, 3)]
        (log,) = calls(items, "log")
        assert [(e["notify"], e["params"]["data"]) for e in log["during"]] == [("notifications/message", "info: hi"), ("notifications/message", "warning: hi")]
        (confirm,) = calls(items, "confirm")
        (elicit,) = confirm["during"]
        assert elicit["request"] == "elicitation/create" and elicit["params"]["message"] == "Confirm action: deploy?"
        assert elicit["answer"] == {"result": {"action": "accept", "content": {"confirm": True}}}
        assert confirm["result"]["content"][0]["text"] == "deploy: confirmed"
    # The 2026 era: elicitation is an InputRequiredResult, then the same call again with the answer.
    modern = interactions(files["test_stdio_client_discover"])
    assert modern[0]["request"] == "server/discover"
    first, again = calls(modern, "confirm")
    assert first["result"]["resultType"] == "input_required"
    assert again["params"]["inputResponses"] == {"__main__:ask_confirmation": {"action": "accept", "content": {"confirm": True}}}
    # requestState is sealed with a fresh key by every server run: the cassette holds a stable stand-in.
    assert first["result"]["requestState"] == again["params"]["requestState"] == "harness-request-state-1"

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
    result.stdout.fnmatch_lines([
        "*harness: no recorded mcp call matches this one",
        "*mcp tools/call echo({\"text\":\"bye\"}) @ http://127.0.0.1/mcp",
        "*closest recorded call: #* mcp tools/call echo({\"text\":\"hello\"}) @ http://127.0.0.1/mcp*",
        "*$.params.arguments.text: 'hello' != 'bye'",
        "*How to fix:*",
        "*pytest *test_changed_argument --record-mode=all",
    ])
    result.stdout.fnmatch_lines([
        "*harness: the client answered a server request differently than recorded",
        "*mcp tools/call confirm({\"action\":\"deploy\"}) @ http://127.0.0.1/mcp",
        "*server request: elicitation/create*",
        "*$.result.content.confirm: true != false",
        "*pytest *test_elicitation_answer --record-mode=all",
    ])


def test_mcp_and_model_calls_share_one_timeline(pytester, live, offline, model_server, monkeypatch):
    # Given an agent using a model over HTTP and MCP tools, by hand and through anthropic's tool runner
    pytester.makepyfile(test_agent=AGENT_INNER)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=3)
    files = cassettes(pytester)
    snapshot = {name: path.read_text() for name, path in files.items()}

    def timeline(items: list[dict[str, Any]]) -> list[str]:
        out = []
        for i in items:
            if i["kind"] == "http":
                out.append("http " + i["request"]["url"].split("/v1/")[1])
            else:
                what = i.get("request") or i.get("notify")
                out.append(f"mcp {what}" + (f" {i['params']['name']}" if what == "tools/call" else ""))
        return out

    assert timeline(interactions(files["test_agent_timeline"])) == [
        "mcp server/discover",
        "mcp tools/list",
        "http messages",
        "mcp tools/call forecast",
        "http messages",
        "http chat/completions",
    ]
    # The tool runners' MCP tools are recorded once, as MCP (not also as local tool calls).
    for name, tool, answer in [("test_async_mcp_tool_runner", "echo", {"text": "bonjour"}), ("test_sync_mcp_tool_runner", "add", {"a": 1, "b": 1})]:
        items = interactions(files[name])
        assert timeline(items) == ["mcp initialize", "mcp notifications/initialized", "mcp tools/list", "http messages", f"mcp tools/call {tool}", "http messages"], name
        assert calls(items, tool)[0]["params"]["arguments"] == answer

    with offline:
        replayed = pytester.runpytest("-p", "no:randomly")
    replayed.assert_outcomes(passed=3)
    assert offline.attempts == []
    assert {name: path.read_text() for name, path in cassettes(pytester).items()} == snapshot


def test_in_process_seam_roundtrip(tmp_path):
    """The cassette format round-trips an MCP interaction, and its report line reads well."""
    from harness.cassette import format as fmt
    from harness.transports.mcp import McpInteraction

    item = McpInteraction(
        "python -m srv", "tools/call", {"name": "slow_count", "arguments": {"n": 1}},
        result={"content": [{"type": "text", "text": "counted to 1"}]},
        during=[{"notify": "notifications/progress", "params": {"progressToken": 3, "progress": 1}}],
    )
    note = McpInteraction("python -m srv", "notifications/initialized", notification=True)
    text = fmt.dumps([note, item])
    assert fmt.loads(text, tmp_path / "c.json") == [note, item]
    assert item.describe() == 'mcp tools/call slow_count({"n":1}) @ python -m srv'
    assert item.key() == McpInteraction("python -m srv", "tools/call", {"arguments": {"n": 1}, "name": "slow_count"}).key()
    bad = json.loads(text)
    del bad["interactions"][1]["request"]
    with pytest.raises(ValueError, match=r"interactions\[1\]: an mcp interaction needs a 'request' or a 'notify'"):
        fmt.loads(json.dumps(bad), tmp_path / "c.json")


def test_stdio_label_is_the_same_on_every_machine():
    from harness.transports.mcp import _command_label

    assert _command_label(sys.executable, ["-m", "tests.servers.mcp_tools"]) == "python -m tests.servers.mcp_tools"
    assert _command_label("/usr/bin/python3.12", [os.path.join(os.getcwd(), "srv.py"), "--flag"]) == "python srv.py --flag"
    assert _command_label("npx", ["-y", "@modelcontextprotocol/server-everything"]) == "npx -y @modelcontextprotocol/server-everything"
