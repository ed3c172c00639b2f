"""anthropic's ``SessionToolRunner`` with a tool that is not a function tool (a ``BetaBuiltinFunctionTool``, sync
and async): called through the runner's ``run_runnable_tool``, recorded against the loopback session server,
and not run again on replay with the server gone."""

from __future__ import annotations

from pathlib import Path

# Imported once, before any pytester session (see test_session_runner.py).
import anthropic.lib.tools._beta_session_runner  # noqa: F401
import pytest

import harness.session  # noqa: F401

BUILTIN_TESTS = """
import asyncio, os

import anthropic, pytest
from anthropic.lib.tools._beta_functions import BetaAsyncBuiltinFunctionTool, BetaBuiltinFunctionTool

URL = os.environ["SESSIONS_URL"]


def note(text):
    with open(os.environ["NOTES_FILE"], "a", encoding="utf-8") as fh:
        fh.write(text + "\\n")
    return "saved " + repr(text)


class SaveNote(BetaBuiltinFunctionTool):
    def to_dict(self):
        return {"type": "custom", "name": "save_note", "input_schema": {"type": "object"}}

    def call(self, input):
        return note(input["text"])


class AsyncSaveNote(BetaAsyncBuiltinFunctionTool):
    def to_dict(self):
        return {"type": "custom", "name": "save_note", "input_schema": {"type": "object"}}

    async def call(self, input):
        return note(input["text"])


async def run(session, tools):
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL) as client:
        return [c async for c in client.beta.sessions.events.tool_runner(session, tools=tools, max_idle=0.2)]


@pytest.mark.cassette
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_builtin_tool(kind):
    tool = SaveNote() if kind == "sync" else AsyncSaveNote()
    calls = asyncio.run(run("sesn_builtin_" + kind, [tool]))
    assert [(c.name, c.posted, c.result["content"][0]["text"]) for c in calls] == [
        ("save_note", True, "saved 'remember the milk'")
    ]
"""


def test_a_builtin_tool_of_a_session_is_recorded_and_not_run_on_replay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, sessions_url: str, closed_url: str, no_network
) -> None:
    notes: Path = pytester.path / "notes.txt"
    monkeypatch.setenv("SESSIONS_URL", sessions_url)
    monkeypatch.setenv("NOTES_FILE", str(notes))
    pytester.makepyfile(test_builtins=BUILTIN_TESTS)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=2)
    assert notes.read_text() == "remember the milk\n" * 2
    for path in (pytester.path / "cassettes").rglob("*.json"):
        assert '"kind": "tool"' in path.read_text(), path

    monkeypatch.setenv("SESSIONS_URL", closed_url)
    with no_network:
        pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
    assert no_network.attempts == []
    assert notes.read_text() == "remember the milk\n" * 2  # the tools did not run again
