"""Replays the whole Jira agent run — both model phases and every MCP call — with neither the model
server nor the Jira MCP server running."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import httpx
import pytest
from openai import AsyncOpenAI

from examples.jira_agent import agent


@pytest.fixture
def jira_url(pytestconfig: pytest.Config) -> Iterator[str]:
    mode = pytestconfig.getoption("--record-mode", None) or "none"
    if mode == "none":
        yield "http://127.0.0.1:9/mcp"  # nothing listens: MCP answers come from the cassette
        return
    from examples.jira_agent.jira_server import JiraHttpServer

    with JiraHttpServer() as server:
        yield server.url


@pytest.mark.cassette
def test_jira_agent(cassette, model_url, jira_url, agent_snapshot):
    async def main() -> tuple[list[dict], str, str]:
        async with httpx.AsyncClient(timeout=30) as http_client:  # a legacy httpx client, as in the seed
            client = AsyncOpenAI(api_key="sk-example-not-a-key", base_url=model_url + "/v1", http_client=http_client)
            shown = io.StringIO()
            messages, summary = await agent.run(client, jira_url, "Résume le ticket Jira PROJ-1 avec get_issue.", "gpt-5", shown)
            return messages, summary, shown.getvalue()

    messages, summary, shown = asyncio.run(main())

    tool_calls = [call["function"] for m in messages if m["role"] == "assistant" for call in m.get("tool_calls", [])]
    assert [c["name"] for c in tool_calls] == ["get_issue"]
    tool_results = [m["content"] for m in messages if m["role"] == "tool"]
    assert len(tool_results) == 1 and "PROJ-1" in tool_results[0]
    assert summary and shown.strip() == summary  # streamed to the terminal as it came
    kinds = [(i.kind, getattr(i, "method", None) or (getattr(i, "request", None) and i.request.path)) for i in cassette.interactions]
    assert [k for k, _ in kinds].count("http") == 3  # two tool-loop calls, one streamed summary
    assert {"tool_calls": tool_calls, "tool_results": tool_results, "summary": summary} == agent_snapshot
