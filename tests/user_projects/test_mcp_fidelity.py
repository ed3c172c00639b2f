"""MCP replay fidelity: labels that tell servers apart, nothing fabricated saved, bounded waits
(issue 12, items 12-14)."""

from __future__ import annotations

import json
import random
import socket
from typing import Any

import pytest

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)

ECHO = """
    import os

    import anyio
    import pytest
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client


    @pytest.mark.cassette
    def test_echoes():
        async def main():
            async with streamable_http_client(os.environ["MCP_URL"]) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    for word in os.environ.get("WORDS", "a").split():
                        out = await session.call_tool("echo", {"text": word})
                        assert out.content[0].text == word, out

        anyio.run(main)
"""


def test_new_episodes_never_saves_a_made_up_answer_for_a_replayed_server(project):
    project.write({"tests/test_echo.py": ECHO})
    project.record().assert_outcomes(passed=1)
    files = project.cassettes()

    # An added call to the server the cassette already holds: the server is replayed, not connected
    project.monkeypatch.setenv("WORDS", "a b")
    added = project.record(mode="new_episodes")
    assert added.parseoutcomes().get("failed") == 1
    assert "no recorded mcp call matches" in added.stdout.str()
    assert "not recorded" not in "".join(project.cassettes().values())
    assert project.cassettes() == files

    # And the next replay still fails: nothing was saved to pass on
    assert project.replay().parseoutcomes().get("failed") == 1


DYING_SERVER = """
    import os

    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("dying")


    @mcp.tool()
    def die() -> str:
        os._exit(3)  # the server dies mid-call: the request gets no answer


    mcp.run("stdio")
"""

DIES = """
    import os, sys

    import anyio
    import pytest
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client
    from mcp.shared.exceptions import MCPError

    SERVER = os.path.join(os.path.dirname(__file__), "servers", "dying.py")


    @pytest.mark.cassette
    def test_the_server_dies():
        async def main():
            with anyio.fail_after(20):
                params = StdioServerParameters(command=sys.executable, args=[SERVER])
                async with stdio_client(params) as (read, write):
                    async with ClientSession(read, write) as session:
                        await session.initialize()
                        with pytest.raises(MCPError, match="(?i)connection closed"):
                            await session.call_tool("die", {})

        anyio.run(main)
"""


def test_a_request_that_got_no_answer_replays_as_connection_closed_not_a_hang(project):
    project.write({"tests/servers/dying.py": DYING_SERVER, "tests/test_dies.py": DIES})
    project.record().assert_outcomes(passed=1)
    stored = json.loads(next(iter(project.cassettes().values())))
    call = next(i for i in stored["interactions"] if i.get("request") == "tools/call")
    assert "result" not in call and call["error"]["message"] == "Connection closed"  # what the client saw

    project.replay().assert_outcomes(passed=1)

    # A cassette made before the mark (the request has no answer at all) replays the same way
    path = project.path / next(iter(project.cassettes()))
    del call["error"]
    path.write_text(json.dumps(stored), encoding="utf-8")

    project.replay().assert_outcomes(passed=1)


MODE_SERVER = """
    import os

    from mcp.server.mcpserver import MCPServer

    mcp = MCPServer("modes")


    @mcp.tool()
    def mode() -> str:
        return os.environ["MODE"]


    mcp.run("stdio")
"""

TWO_ENVS = """
    import os, sys

    import anyio
    import pytest
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    SERVER = os.path.abspath(os.path.join(os.path.dirname(__file__), "servers", "modes.py"))


    async def ask(mode):
        params = StdioServerParameters(command=sys.executable, args=[SERVER], env={"MODE": mode})
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                out = await session.call_tool("mode", {})
                return out.content[0].text


    @pytest.mark.cassette
    def test_one_script_two_environments():
        modes = os.environ.get("MODES", "fast slow").split()

        async def main():
            with anyio.fail_after(20):
                assert [await ask(m) for m in modes] == modes

        anyio.run(main)
"""


def test_one_stdio_script_with_two_environments_is_two_servers_labelled_from_the_root(project):
    project.write({"tests/servers/modes.py": MODE_SERVER, "tests/test_modes.py": TWO_ENVS})
    project.record().assert_outcomes(passed=1)
    servers = {i["server"] for i in json.loads(next(iter(project.cassettes().values())))["interactions"]}
    assert servers == {"MODE=fast python tests/servers/modes.py", "MODE=slow python tests/servers/modes.py"}

    # Replayed in the other order, and from the tests folder: each server answers as itself
    project.monkeypatch.setenv("MODES", "slow fast")
    project.replay().assert_outcomes(passed=1)
    project.replay(cwd="tests").assert_outcomes(passed=1)


TWO_URL_SERVERS = """
    import os

    import anyio
    import pytest
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client


    async def tools_of(url):
        async with streamable_http_client(url) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                return [t.name for t in (await session.list_tools()).tools]


    @pytest.mark.cassette
    def test_two_servers():
        order = os.environ["ORDER"].split()

        async def main():
            with anyio.fail_after(20):
                for name in order:
                    assert await tools_of(os.environ[name.upper() + "_URL"]) == [name]

        anyio.run(main)
"""


def _one_tool_server(tool: str) -> Any:
    from mcp.server.mcpserver import MCPServer

    server = MCPServer(tool, log_level="WARNING")

    @server.tool(name=tool, structured_output=False)
    def answer(text: str) -> str:
        return f"{tool}: {text}"

    return server.streamable_http_app(streamable_http_path="/mcp")


def _free_port(low: int, high: int) -> int:
    """A free port in [low, high): a fixed port a user would choose (below the ephemeral range) or not."""
    for port in random.sample(range(low, high), 50):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in [{low}, {high})")


@pytest.mark.parametrize("fixed", [True, False], ids=["fixed-ports", "ephemeral-ports"])
def test_two_loopback_servers_at_one_path(project, monkeypatch, fixed):
    """Two MCP servers at the same path on loopback: with ports a user fixed (below the ephemeral range)
    each is labelled by its port and answers as itself in any order; with ports the OS picked, the
    recording warns that connection order is all that tells them apart."""
    from tests.servers.base import ServerThread

    ports = [_free_port(20000, 32000) for _ in "ab"] if fixed else [0, 0]
    weather, tickets = (ServerThread(_one_tool_server(n), port=p).start() for n, p in zip(("weather", "tickets"), ports))
    try:
        monkeypatch.setenv("WEATHER_URL", weather.url + "/mcp")
        monkeypatch.setenv("TICKETS_URL", tickets.url + "/mcp")
        monkeypatch.setenv("ORDER", "weather tickets")
        project.write({"tests/test_two.py": TWO_URL_SERVERS})
        recorded = project.record("-W", "default")
        recorded.assert_outcomes(passed=1)
    finally:
        weather.stop()
        tickets.stop()
    servers = [i["server"] for i in json.loads(next(iter(project.cassettes().values())))["interactions"]]
    if fixed:
        assert set(servers) == {f"http://127.0.0.1:{ports[0]}/mcp", f"http://127.0.0.1:{ports[1]}/mcp"}
        assert "told apart only by" not in recorded.stdout.str()
        # Replayed in the other order (the servers are gone): each URL is answered as itself
        monkeypatch.setenv("ORDER", "tickets weather")
        project.replay().assert_outcomes(passed=1)
        # A cassette recorded before fixed ports were kept (every loopback port dropped) still replays
        (name,) = project.cassettes()
        old = {
            f"http://127.0.0.1:{ports[0]}/mcp": "http://127.0.0.1/mcp",
            f"http://127.0.0.1:{ports[1]}/mcp": "http://127.0.0.1/mcp (server 2)",
        }
        doc = json.loads(project.cassettes()[name])
        for item in doc["interactions"]:
            item["server"] = old[item["server"]]
        (project.path / name).write_text(json.dumps(doc, indent=1), encoding="utf-8")
        monkeypatch.setenv("ORDER", "weather tickets")
        project.replay().assert_outcomes(passed=1)
    else:
        assert set(servers) == {"http://127.0.0.1/mcp", "http://127.0.0.1/mcp (server 2)"}
        recorded.stdout.fnmatch_lines(["*two MCP servers at http://127.0.0.1/mcp are told apart only by*"])
