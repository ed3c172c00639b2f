"""MCP replay fidelity: labels that tell servers apart, nothing fabricated saved, bounded waits
(issue 12, items 12-14)."""

from __future__ import annotations

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
