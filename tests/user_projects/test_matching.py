"""Matching: ``ignore_paths`` on MCP arguments and local-tool inputs, query-only differences,
multipart uploads (issue 12, items 9-11)."""

from __future__ import annotations

import harness.session  # noqa: F401  (loaded once for every inner run: see the note in conftest)

MCP_TIMESTAMP = """
    import os, time

    import anyio
    import pytest
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client


    # MCP ignore paths are relative to the request's params: the tool's arguments are under $.arguments.
    @pytest.mark.cassette(ignore_paths=["$.arguments.text"])
    def test_echo_with_a_timestamp():
        async def main():
            async with streamable_http_client(os.environ["MCP_URL"]) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    out = await session.call_tool("echo", {"text": f"now {time.time_ns()}"})
                    assert out.content[0].text.startswith("now")

        anyio.run(main)
"""

TOOL_TIMESTAMP = """
    import time

    import harness
    import pytest

    calls = []


    @harness.recorded_tool
    def lookup(city, at):
        calls.append(city)
        return {"city": city, "temp": 21}


    # A tool's ignore paths are relative to its input: the arguments by name.
    @pytest.mark.cassette(ignore_paths=["$.at"])
    def test_lookup_with_a_timestamp():
        assert lookup("Paris", time.time_ns()) == {"city": "Paris", "temp": 21}


    @pytest.mark.cassette(ignore_paths=["$.at"])
    def test_a_different_city_still_misses():
        import os
        assert lookup(os.environ.get("CITY", "Paris"), time.time_ns())["temp"] == 21
"""


def test_ignore_paths_apply_to_mcp_call_arguments(project):
    project.write({"tests/test_mcp.py": MCP_TIMESTAMP})
    project.record().assert_outcomes(passed=1)
    files = project.cassettes()

    project.replay().assert_outcomes(passed=1)
    assert project.cassettes() == files


def test_ignore_paths_apply_to_recorded_tool_inputs(project):
    project.write({"tests/test_tool.py": TOOL_TIMESTAMP})
    project.record().assert_outcomes(passed=2)

    project.replay().assert_outcomes(passed=2)
    project.monkeypatch.setenv("CITY", "Lyon")
    missed = project.replay()
    missed.assert_outcomes(passed=1, failed=1)
    assert "'Paris' != 'Lyon'" in missed.stdout.str()
