"""Helpers of the MCP tests: the repository's root, the process's children, a recorded cassette's MCP calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_cassette

ROOT = Path(__file__).resolve().parents[2]


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


def record_tool_surface(url: str, path: Path) -> None:
    """One agent-like test recorded through harness and the real ``mcp`` client: list the tools of the
    server at ``url``, then call two of them. Run against the two variants of the test server
    (``McpHttpServer()`` and ``McpHttpServer("drifted")``), it gives two recordings of one test across a
    change of the server's tool surface."""
    import anyio
    from mcp import Client

    from harness.config import Settings
    from harness.session import Session

    async def main() -> None:
        with anyio.fail_after(30):
            async with Client(url) as client:
                tools = {t.name for t in (await client.list_tools()).tools}
                assert "echo" in tools
                echoed = await client.call_tool("echo", {"text": "<script>window.pwned = 1</script>"})
                assert echoed.content[0].text == "<script>window.pwned = 1</script>"  # type: ignore[union-attr]
                added = await client.call_tool("add", {"a": 2, "b": 40})
                assert added.structured_content == {"result": 42}

    session = Session(Settings(record_mode="all"), path, "tests/test_agent.py::test_agent")
    session.start()
    try:
        anyio.run(main)
    finally:
        session.stop()
