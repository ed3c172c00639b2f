"""anthropic's agent toolset (``anthropic.lib.tools.agent_toolset``: ``bash``, ``read``, ``write``, ``edit``, ``glob``,
``grep``) end to end: its ``bash`` runs a real ``/bin/bash`` in a persistent shell. The async messages tool runner,
against the loopback model server, has it run a command with a side effect (a line appended to a counter file)
while recording; replayed with the server gone, no shell starts, no command runs, and the runner gets the
recorded result. The toolset's members are ``BetaAsyncFunctionTool``s (the SDK builds them with
``beta_async_tool``), so they are recorded where every function tool is."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis  # noqa: F401
import pytest

# Imported once, before any pytester session (see tests/tools/test_local_tools.py).
import examples.anthropic_runners.agent  # noqa: F401
import harness.session  # noqa: F401

BASH = """
import asyncio, os

import anthropic, pytest
from anthropic.lib.tools._beta_functions import aclose_runnable_tool
from anthropic.lib.tools.agent_toolset import AgentToolContext, beta_agent_toolset_20260401

URL = os.environ["MODEL_URL"]
COUNTER = os.environ["COUNTER"]
COMMAND = f"echo ran >> {COUNTER} && wc -l < {COUNTER}"


@pytest.mark.cassette
def test_bash():
    async def main():
        tools = [t for t in beta_agent_toolset_20260401(AgentToolContext(workdir=os.environ["WORKDIR"])) if t.name == "bash"]
        async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL) as client:
            runner = client.beta.messages.tool_runner(
                model="claude-opus-4-7", max_tokens=100, tools=tools,
                messages=[{"role": "user", "content": f'Count the runs: "{COMMAND}"'}],
            )
            try:
                return await runner.until_done()
            finally:
                for tool in tools:
                    await aclose_runnable_tool(tool)  # the messages runner leaves the shell to its caller

    assert asyncio.run(main()).content[-1].text == "Result: 1"
"""


@pytest.fixture
def counter(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_bash=BASH)
    monkeypatch.setenv("COUNTER", str(tmp_path / "counter.txt"))
    monkeypatch.setenv("WORKDIR", str(tmp_path))
    return tmp_path / "counter.txt"


def test_the_agent_toolsets_bash_runs_while_recording_and_not_on_replay(
    pytester, counter, model_server, closed_url, no_network, monkeypatch
):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    assert counter.read_text() == "ran\n"
    cassette = json.loads((pytester.path / "cassettes" / "test_bash" / "test_bash.json").read_text())
    tool = next(i for i in cassette["interactions"] if i.get("kind") == "tool")
    assert (tool["name"], tool["input"]["command"], tool["result"]) == (
        "bash",
        f"echo ran >> {counter} && wc -l < {counter}",
        "1",
    )

    # Replay, the counter gone: no shell, no command, the recorded "1" (a run would now count 1 again, but the file is not made)
    counter.unlink()
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        pytester.runpytest().assert_outcomes(passed=1)
    assert not counter.exists()
    assert no_network.attempts == []

    # --real-tools runs the command again
    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=1)
    assert counter.read_text() == "ran\n"
