"""anthropic's tool runner with tools that are not plain functions: the built-in memory tool (a
``BetaBuiltinFunctionTool`` writing files under a folder) and a runnable toolset (a computer toolset whose
``call`` would drive a screen). Both are recorded as tool interactions and answered from the cassette on
replay: the memory tool writes no file, the toolset takes no screenshot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
from anthropic.lib.tools import BetaRunnableToolset
from anthropic.lib.tools._beta_builtin_memory_tool import BetaLocalFilesystemMemoryTool

MODEL = {"model": "claude-opus-4-7", "max_tokens": 100}


class Screen(BetaRunnableToolset):
    """A computer toolset: each call appends to ``actions`` (the side effect replay must not repeat)."""

    toolset_name = "computer"

    def __init__(self, actions: Path) -> None:
        self.actions = actions

    def to_dict(self) -> Any:
        return {"type": "computer_toolset_20260801"}

    def call(self, context: Any, name: str, input: Any) -> Any:
        with self.actions.open("a", encoding="utf-8") as f:
            f.write(name + "\n")
        return [{"type": "text", "text": f"took a {name}"}]


def remember(client: anthropic.Anthropic, folder: Path, note: str) -> str:
    """The model stores ``note`` with the memory tool (files under ``folder``); its last answer."""
    memory = BetaLocalFilesystemMemoryTool(base_path=str(folder))
    runner = client.beta.messages.tool_runner(**MODEL, tools=[memory], messages=[{"role": "user", "content": note}])
    return str(runner.until_done().content[-1].text)


def look(client: anthropic.Anthropic, actions: Path) -> str:
    """The model uses the computer toolset once; its last answer."""
    runner = client.beta.messages.tool_runner(
        **MODEL, tools=[Screen(actions)], messages=[{"role": "user", "content": "What is on the screen?"}]
    )
    return str(runner.until_done().content[-1].text)


COUNT = "echo ran >> runs.txt && wc -l < runs.txt"


async def count_runs(client: anthropic.AsyncAnthropic, workdir: Path) -> str:
    """The agent toolset's ``bash`` (a real shell, in ``workdir``) runs ``COUNT`` once; the last answer.
    The toolset's members are async function tools: the async runner only."""
    from anthropic.lib.tools._beta_functions import aclose_runnable_tool
    from anthropic.lib.tools.agent_toolset import AgentToolContext, beta_agent_toolset_20260401

    tools = [t for t in beta_agent_toolset_20260401(AgentToolContext(workdir=str(workdir))) if t.name == "bash"]
    runner = client.beta.messages.tool_runner(
        **MODEL, tools=tools, messages=[{"role": "user", "content": f'Count the runs: "{COUNT}"'}]
    )
    try:
        return str((await runner.until_done()).content[-1].text)
    finally:
        for tool in tools:
            await aclose_runnable_tool(tool)  # the messages runner leaves the shell to its caller
