"""MCP in agent loops: MCP and model calls on one timeline (sampling callbacks that call the model, the
Anthropic SDK's MCP tool runners), recorded against real servers then replayed offline; and the in-process
seam and the stdio label, directly."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import anthropic.lib.tools.mcp  # noqa: F401  (imported once here, not again by every inner run)
import mcp.client.sse
import mcp.client.streamable_http  # noqa: F401
import openai  # noqa: F401
import pytest

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)
from tests.mcp.helpers import calls, cassettes, interactions

AGENT_INNER = r"""
"PYTEST_DONT_REWRITE"
import os
import anthropic, anyio, openai, pytest
import mcp_types as types
from anthropic.lib.tools.mcp import async_mcp_tool, mcp_tool
from mcp import Client, ClientSession
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

MODEL_URL, MCP_URL, SSE_URL = os.environ["MODEL_URL"], os.environ["MCP_URL"], os.environ["MCP_SSE_URL"]
KEY = "sk-ant-api03-" + "Zx9" * 30


def run(fn):
    async def bounded():
        with anyio.fail_after(30):
            await fn()
    anyio.run(bounded)


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
    run(main)


@pytest.mark.cassette
@pytest.mark.parametrize("transport", ["http", "sse"])
def test_sampling_callback_calls_the_model(transport):
    # The server samples the client's model mid-call; the client's callback asks a real SDK. The callback
    # runs in the context of the HTTP task that delivered the request: the model call must still be recorded.
    async def main():
        async with openai.AsyncOpenAI(api_key="sk-proj-" + "Qw7" * 30, base_url=MODEL_URL + "/v1") as gpt:
            await summarize(gpt)

    async def summarize(gpt):
        async def sample(context, params):
            messages = [{"role": "system", "content": params.system_prompt}]
            messages += [{"role": m.role, "content": m.content.text} for m in params.messages]
            reply = await gpt.chat.completions.create(model="gpt-5", messages=messages)
            return types.CreateMessageResult(role="assistant", content=types.TextContent(text=reply.choices[0].message.content), model=reply.model)
        connect = streamable_http_client(MCP_URL) if transport == "http" else sse_client(SSE_URL)
        async with connect as (read, write):
            async with ClientSession(read, write, sampling_callback=sample) as session:
                await session.initialize()
                result = await session.call_tool("summarize", {"text": "Invoices can now be exported as PDF."})
        assert result.content[0].text == "You said: Invoices can now be exported as PDF."
    run(main)


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
    run(main)


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
    run(main)
"""


def test_mcp_and_model_calls_share_one_timeline(pytester, live, offline, model_server, monkeypatch):
    # Given an agent using a model over HTTP and MCP tools, by hand and through anthropic's tool runner
    pytester.makepyfile(test_agent=AGENT_INNER)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=5)
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
    for name, tool, answer in [
        ("test_async_mcp_tool_runner", "echo", {"text": "bonjour"}),
        ("test_sync_mcp_tool_runner", "add", {"a": 1, "b": 1}),
    ]:
        items = interactions(files[name])
        assert timeline(items) == [
            "mcp initialize",
            "mcp notifications/initialized",
            "mcp tools/list",
            "http messages",
            f"mcp tools/call {tool}",
            "http messages",
        ], name
        assert calls(items, tool)[0]["params"]["arguments"] == answer
    # A model call made by the client's sampling callback (run in the context of MCP's own HTTP task)
    # is recorded, in its place: during the MCP call that asked for it.
    for transport in ("http", "sse"):
        items = interactions(files[f"test_sampling_callback_calls_the_model[{transport}]"])
        # (the tools/list at the end is the client's own, to check the result against summarize's output schema)
        assert timeline(items) == [
            "mcp initialize",
            "mcp notifications/initialized",
            "mcp tools/call summarize",
            "http chat/completions",
            "mcp tools/list",
        ]
        (sample,) = calls(items, "summarize")[0]["during"]
        assert sample["answer"]["result"]["content"]["text"] == "You said: Invoices can now be exported as PDF."

    with offline:
        replayed = pytester.runpytest("-p", "no:randomly")
    replayed.assert_outcomes(passed=5)
    assert offline.attempts == []
    assert {name: path.read_text() for name, path in cassettes(pytester).items()} == snapshot


def test_in_process_seam_roundtrip(tmp_path):
    """The cassette format round-trips an MCP interaction, and its report line reads well."""
    from harness.cassette import format as fmt
    from harness.cassette.model import McpInteraction
    from harness.matching import Matcher

    item = McpInteraction(
        "python -m srv",
        "tools/call",
        {"name": "slow_count", "arguments": {"n": 1}},
        result={"content": [{"type": "text", "text": "counted to 1"}]},
        during=[{"notify": "notifications/progress", "params": {"progressToken": 3, "progress": 1}}],
    )
    note = McpInteraction("python -m srv", "notifications/initialized", notification=True)
    text = fmt.dumps([note, item])
    assert fmt.loads(text, tmp_path / "c.json") == [note, item]
    assert item.describe() == 'mcp tools/call slow_count({"n":1}) @ python -m srv'
    assert item.key(Matcher()) == McpInteraction(
        "python -m srv", "tools/call", {"arguments": {"n": 1}, "name": "slow_count"}
    ).key(Matcher())
    bad = json.loads(text)
    del bad["interactions"][1]["request"]
    with pytest.raises(ValueError, match=r"interactions\[1\]: an mcp interaction needs a 'request' or a 'notify'"):
        fmt.loads(json.dumps(bad), tmp_path / "c.json")


def test_stdio_label_is_the_same_on_every_machine():
    from harness.seams.mcp.labels import command_label as _command_label

    assert _command_label(sys.executable, ["-m", "tests.servers.mcp_tools"]) == "python -m tests.servers.mcp_tools"
    assert _command_label("/usr/bin/python3.12", [os.path.join(os.getcwd(), "srv.py"), "--flag"]) == "python srv.py --flag"
    assert (
        _command_label("npx", ["-y", "@modelcontextprotocol/server-everything"])
        == "npx -y @modelcontextprotocol/server-everything"
    )
