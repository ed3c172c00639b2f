"""MCP faults (``harness.strategies``): an agent's MCP error handling, tested offline.

An agent calls a tool of the real MCP server (over stdio and streamable HTTP) and falls back to a
message when the call fails. Recorded once against the server; then replayed with the server gone,
under each fault (a JSON-RPC error, a timeout, a dropped connection, a malformed message) through the
real ``ClientSession``: the agent's fallback is checked for each, and every fault replays fast."""

from __future__ import annotations

import mcp.client.streamable_http  # noqa: F401  (imported once here, not again by every inner run)
import pytest

import harness.strategies as hs
from tests.mcp.helpers import cassettes, interactions

AGENT = r"""
"PYTEST_DONT_REWRITE"
import os
import sys
import time

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

import harness.strategies as hs


async def agent(transport, seen):
    # The agent under test: asks the echo tool, and says so (with the error's code) when MCP fails.
    if transport == "stdio":
        params = StdioServerParameters(command=sys.executable, args=["-m", "tests.servers.mcp_tools"], cwd=os.environ["MCP_CWD"])
        connect = stdio_client(params)
    else:
        connect = streamable_http_client(os.environ["MCP_URL"])

    async def handler(message):
        if isinstance(message, Exception):
            seen.append(type(message).__name__)

    async with connect as (read, write):
        async with ClientSession(read, write, message_handler=handler) as session:
            await session.initialize()
            try:
                result = await session.call_tool("echo", {"text": "bonjour"}, read_timeout_seconds=0.2)
            except MCPError as exc:
                return f"tool unavailable ({exc.code})"
            return "echo: " + result.content[0].text


def run(transport):
    seen = []

    async def bounded():
        with anyio.fail_after(10):
            return await agent(transport, seen)

    return anyio.run(bounded), seen


@pytest.mark.cassette
@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_each_fault(transport):
    assert run(transport) == ("echo: bonjour", [])
    if hs.is_recording():
        return
    ((index, call),) = hs.mcp_targets(tool="echo")
    faults = [
        hs.mcp_error(index, call, -32602, "the echo backend is down"),
        hs.mcp_timeout(index, call),
        hs.mcp_drop(index, call),
        hs.mcp_malformed(index, call, "<html>502 Bad Gateway</html>"),
    ]
    outcomes = {}
    for variant in faults:
        with hs.substitute(variant):
            start = time.monotonic()
            outcomes[variant.fault] = run(transport)
            took = time.monotonic() - start
        assert variant.played, variant
        assert took < 1.5, (variant, took)  # bounded by the session's read timeout, not by a hang
    assert outcomes == {
        "jsonrpc_error": ("tool unavailable (-32602)", []),
        "timeout": ("tool unavailable (-32001)", []),  # REQUEST_TIMEOUT
        "drop": ("tool unavailable (-32000)", []),  # CONNECTION_CLOSED
        "malformed": ("tool unavailable (-32001)", ["ValidationError"]),  # the parse error, then the timeout
    }
    # After the faults, the recording replays as recorded again.
    assert run(transport) == ("echo: bonjour", [])


@pytest.mark.cassette
@hs.fuzz(hs.mcp_faults(), max_examples=12)
def test_any_fault_is_handled(variant):
    answer, _ = run("http")
    if variant is None:  # recording: no fault
        assert answer == "echo: bonjour"
    else:
        assert answer.startswith("tool unavailable ("), (variant, answer)
"""


def test_an_agent_handles_every_mcp_fault_offline(pytester, live, offline):
    # Given an agent recorded against the real MCP server, over stdio and streamable HTTP
    pytester.makepyfile(test_agent=AGENT)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=3)
    files = cassettes(pytester)
    assert {"test_each_fault[stdio]", "test_each_fault[http]", "test_any_fault_is_handled"} <= set(files)
    for name in files:
        calls = [i for i in interactions(files[name]) if i.get("request") == "tools/call"]
        assert [c["result"]["content"][0]["text"] for c in calls] == ["bonjour"], name
    recorded = {name: path.read_text() for name, path in files.items()}

    # When it is replayed offline under each fault, Then its fallback answers each, fast
    with offline:
        replayed = pytester.runpytest("-p", "no:randomly")
    replayed.assert_outcomes(passed=3)
    assert offline.attempts == []
    # and the cassettes are left as recorded
    assert {name: path.read_text() for name, path in cassettes(pytester).items()} == recorded


def test_mcp_faults_say_what_they_break():
    from harness.cassette.model import McpInteraction

    progress = {"notify": "notifications/progress", "params": {"progress": 1}}
    call = McpInteraction(
        "python -m srv", "tools/call", {"name": "echo", "arguments": {"text": "hi"}}, result={"content": []}, during=[progress]
    )
    listing = McpInteraction("python -m srv", "tools/list", None, result={"tools": []})
    assert hs.mcp_targets([listing, call]) == [(1, call)]
    assert hs.mcp_targets([listing, call], tool="add") == []
    error = hs.mcp_error(1, call, -32602, "nope")
    assert (error.interaction.error, error.interaction.result) == ({"code": -32602, "message": "nope"}, None)
    assert (
        repr(error)
        == """jsonrpc_error(#1: mcp tools/call echo({"text":"hi"}) @ python -m srv: answered with JSON-RPC error -32602 'nope')"""
    )
    assert repr(hs.mcp_drop(1, call)).startswith("drop(#1: ") and not hs.mcp_drop(1, call).preserving
    # what the server sent during the call comes first, as recorded, whatever the fault
    assert all(f(1, call).interaction.during == [progress] for f in (hs.mcp_error, hs.mcp_timeout, hs.mcp_drop, hs.mcp_malformed))
    assert hs.mcp_timeout(1, call, stall=0.5).interaction.stall == 0.5
    assert hs.mcp_malformed(1, call, "x").interaction.garbage == "x"
    with pytest.raises(ValueError, match="unknown MCP fault kinds \\['hang'\\]; known: jsonrpc_error, timeout, drop, malformed"):
        hs.mcp_faults(kinds=("hang",))
    with pytest.raises(ValueError, match="interaction #0 is not a recorded MCP request"):
        hs.mcp_targets([listing.__class__("s", "notifications/initialized", notification=True)], at=0)
