"""Every kind of tool anthropic's tool runner dispatches, not only function tools: the built-in memory tool
(``BetaLocalFilesystemMemoryTool``, a ``BetaBuiltinFunctionTool``) and a runnable toolset (a
``BetaRunnableToolset`` of the computer family), sync and async, streaming and not. Recorded while the
loopback model server answers; replayed with it gone, and then the memory tool writes no file and the
toolset runs nothing; ``--real-tools`` runs them; a changed input is the usual miss."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis  # noqa: F401
import pytest

# Imported once, before any pytester session (see tests/tools/test_local_tools.py: an inline session drops
# the modules it imported; hypothesis's plugin imports it at the end of every session).
import examples.anthropic_runners.agent  # noqa: F401
import harness.session  # noqa: F401  (the harness modules too: one copy of the running ledger)

BUILTINS = """
import asyncio, os

import anthropic, pytest
from anthropic.lib.tools import BetaAsyncRunnableToolset, BetaRunnableToolset
from anthropic.lib.tools._beta_builtin_memory_tool import (
    BetaAsyncLocalFilesystemMemoryTool, BetaLocalFilesystemMemoryTool,
)

URL = os.environ["MODEL_URL"]
MEMORY = os.environ["MEMORY_DIR"]
NOTE = os.environ.get("NOTE", "Remember Paris")
MESSAGES = [{"role": "user", "content": NOTE}]
KW = {"model": "claude-opus-4-7", "max_tokens": 100}


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


class Screen(BetaRunnableToolset):
    toolset_name = "computer"

    def to_dict(self):
        return {"type": "computer_toolset_20260801"}

    def call(self, context, name, input):
        side_effect(f"sync {name}")
        return [{"type": "text", "text": f"took a {name}"}]


class AsyncScreen(BetaAsyncRunnableToolset):
    toolset_name = "computer"

    def to_dict(self):
        return {"type": "computer_toolset_20260801"}

    async def call(self, context, name, input):
        side_effect(f"async {name}")
        return f"took a {name}"


def sync_client():
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=URL)


def async_client():
    return anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL)


@pytest.mark.cassette
def test_memory_tool():
    memory = BetaLocalFilesystemMemoryTool(base_path=os.path.join(MEMORY, "sync"))
    runner = sync_client().beta.messages.tool_runner(**KW, tools=[memory], messages=MESSAGES)
    assert runner.until_done().content[-1].text.startswith("Result: File created successfully at")


@pytest.mark.cassette
def test_memory_tool_streaming():
    memory = BetaLocalFilesystemMemoryTool(base_path=os.path.join(MEMORY, "stream"))
    runner = sync_client().beta.messages.tool_runner(**KW, tools=[memory], messages=MESSAGES, stream=True)
    for stream in runner:
        stream.until_done()
    assert runner.until_done().content[-1].text.startswith("Result: File created successfully at")


@pytest.mark.cassette
def test_async_memory_tool():
    async def main():
        memory = BetaAsyncLocalFilesystemMemoryTool(base_path=os.path.join(MEMORY, "async"))
        async with async_client() as client:
            return await client.beta.messages.tool_runner(**KW, tools=[memory], messages=MESSAGES).until_done()

    assert asyncio.run(main()).content[-1].text.startswith("Result: File created successfully at")


@pytest.mark.cassette
def test_toolset():
    runner = sync_client().beta.messages.tool_runner(**KW, tools=[Screen()], messages=MESSAGES)
    assert runner.until_done().content[-1].text == "Result: took a screenshot"


@pytest.mark.cassette
def test_async_toolset_streaming():
    async def main():
        async with async_client() as client:
            runner = client.beta.messages.tool_runner(**KW, tools=[AsyncScreen()], messages=MESSAGES, stream=True)
            async for stream in runner:
                await stream.until_done()
            return await runner.until_done()

    assert asyncio.run(main()).content[-1].text == "Result: took a screenshot"

def test_the_patches_are_gone_after_the_tests():
    from anthropic.lib.tools import _beta_runner, _beta_session_runner, _tool_dispatch
    from anthropic.lib.tools._toolsets import _runnable

    assert _beta_runner.BaseSyncToolRunner._run_tool.__qualname__ == "BaseSyncToolRunner._run_tool"
    assert _beta_runner.BaseAsyncToolRunner._run_tool.__qualname__ == "BaseAsyncToolRunner._run_tool"
    assert _runnable.BetaRunnableToolset.tool_result.__qualname__ == "BetaRunnableToolset.tool_result"
    assert _runnable.BetaAsyncRunnableToolset.tool_result.__qualname__ == "BetaAsyncRunnableToolset.tool_result"
    assert _beta_session_runner.run_runnable_tool is _tool_dispatch.run_runnable_tool
"""

RUN = ["async screenshot", "sync screenshot"]


@pytest.fixture
def builtins(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_builtins=BUILTINS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))
    monkeypatch.setenv("MEMORY_DIR", str(tmp_path / "memory"))
    return tmp_path


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def notes(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in (root / "memory").rglob("*.md"))


def kinds(pytester: pytest.Pytester, name: str) -> list[str]:
    path = pytester.path / "cassettes" / "test_builtins" / f"{name}.json"
    return [i.get("kind", "http") for i in json.loads(path.read_text())["interactions"]]


def test_builtin_tools_and_toolsets_are_recorded_and_not_run_on_replay(
    pytester, builtins, model_server, closed_url, no_network, monkeypatch
):
    # Recording runs each tool once: three notes written by the memory tools, two toolset calls
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=6)
    written = ["memory/async/memories/Paris.md", "memory/stream/memories/Paris.md", "memory/sync/memories/Paris.md"]
    assert notes(builtins) == written
    assert sorted(lines(builtins / "ledger.txt")) == RUN
    for name in ("test_memory_tool", "test_memory_tool_streaming", "test_async_memory_tool", "test_toolset"):
        assert kinds(pytester, name) == ["http", "tool", "http"], name

    # Replay, the notes deleted: the loops complete from the cassette, no note is written, no toolset runs
    for note in (builtins / "memory").rglob("*.md"):
        note.unlink()
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        pytester.runpytest().assert_outcomes(passed=6)
    assert notes(builtins) == []
    assert sorted(lines(builtins / "ledger.txt")) == RUN

    # --real-tools runs them again, the model's side still from the cassette
    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=6)
    assert notes(builtins) == written
    assert sorted(lines(builtins / "ledger.txt")) == sorted(RUN * 2)
    assert no_network.attempts == []


def test_a_changed_memory_input_is_a_miss(pytester, builtins, model_server, closed_url, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once", "-k", "test_memory_tool and not streaming").assert_outcomes(passed=1)

    # The tool call the cassette holds, its input changed (as if the model's reply had been edited)
    path = pytester.path / "cassettes" / "test_builtins" / "test_memory_tool.json"
    cassette = json.loads(path.read_text())
    tool = next(i for i in cassette["interactions"] if i.get("kind") == "tool")
    tool["input"]["file_text"] = "Remember Lyon"
    path.write_text(json.dumps(cassette))
    for note in (builtins / "memory").rglob("*.md"):
        note.unlink()

    monkeypatch.setenv("MODEL_URL", closed_url)
    result = pytester.runpytest("-k", "test_memory_tool and not streaming")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*harness: no recorded tool call matches this one",
            '*  tool memory({"command":"create","file_text":"Remember Paris","path":"/memories/Paris.md"})',
            "*    $.file_text: 'Remember Lyon' != 'Remember Paris'",
        ]
    )
    assert notes(builtins) == []  # the mismatched call did not run

    # The field ignored (ignore_paths apply to a built-in tool's input as to any other): it replays, unrun
    selected = ["-k", "test_memory_tool and not streaming"]
    pytester.runpytest(*selected, "-o", "harness_ignore_paths=$.file_text").assert_outcomes(passed=1)
    assert notes(builtins) == []
