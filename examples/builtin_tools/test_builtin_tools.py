"""The memory tool and a runnable toolset through anthropic's tool runner, replayed from the cassette:
the loop completes, and the tools' side effects (a memory file, a screen action) do not happen again."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from examples.builtin_tools import agent

KEY = "sk-ant-example-not-a-key"


@pytest.mark.cassette
def test_the_memory_tool_writes_no_file_on_replay(cassette, model_url, tmp_path):
    answer = agent.remember(anthropic.Anthropic(api_key=KEY, base_url=model_url), tmp_path / "memory", "Remember Paris")

    assert answer.startswith("Result: File created successfully at")
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http"]
    written = sorted(p.name for p in tmp_path.rglob("*.md"))
    assert written == ([] if cassette.mode == "none" else ["Paris.md"])


@pytest.mark.cassette
def test_the_toolset_takes_no_screenshot_on_replay(cassette, model_url, tmp_path):
    actions = tmp_path / "actions.txt"
    answer = agent.look(anthropic.Anthropic(api_key=KEY, base_url=model_url), actions)

    assert answer == "Result: took a screenshot"
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http"]
    done = actions.read_text(encoding="utf-8").splitlines() if actions.exists() else []
    assert done == ([] if cassette.mode == "none" else ["screenshot"])


@pytest.mark.cassette
def test_the_bash_tool_runs_no_command_on_replay(cassette, model_url, tmp_path):
    async def main():
        async with anthropic.AsyncAnthropic(api_key=KEY, base_url=model_url) as client:
            return await agent.count_runs(client, tmp_path)

    assert asyncio.run(main()) == "Result: 1"
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http"]
    runs = (tmp_path / "runs.txt").read_text(encoding="utf-8").splitlines() if (tmp_path / "runs.txt").exists() else []
    assert runs == ([] if cassette.mode == "none" else ["ran"])
