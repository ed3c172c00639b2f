"""openai ``client.beta.agents`` sessions: their ``tool_handlers`` (a ``FunctionTool``, sync or async, or a
plain callable) run through ``ToolInvocation.invoke``, the one dispatch point the sessions stream calls. Driven
here at that point: recorded, then replayed without running the handler; ``--real-tools`` runs it."""

from __future__ import annotations

from pathlib import Path

import hypothesis  # noqa: F401

# Imported once, before any pytester session (see tests/tools/test_local_tools.py).
import examples.openai_responses.agent  # noqa: F401
import harness.session  # noqa: F401

AGENT_TOOLS = """
import asyncio, os

import pydantic, pytest
from openai.lib.beta.agents import FunctionTool
from openai.lib.streaming.agents._tools import ToolInvocation
from openai.types.beta.agent_function_call_item import AgentFunctionCallItem


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


class City(pydantic.BaseModel):
    city: str


def weather(args):
    side_effect(f"sync {args.city}")
    return f"sunny in {args.city}"


async def aweather(args):
    side_effect(f"async {args.city}")
    return f"rainy in {args.city}"


def call():
    item = AgentFunctionCallItem.construct(
        id="fc_1", arguments='{"city": "Paris"}', call_id="call_1", name="get_weather", status="completed"
    )
    return ToolInvocation("sesn_1", item)


@pytest.mark.cassette
def test_function_tool():
    tool = FunctionTool(City, weather, name="get_weather", description="The weather")
    assert call().invoke(tool) == "sunny in Paris"


@pytest.mark.cassette
def test_async_function_tool():
    tool = FunctionTool(City, aweather, name="get_weather", description="The weather")

    async def main():
        output = call().invoke(tool)
        return await output if hasattr(output, "__await__") else output

    assert asyncio.run(main()) == "rainy in Paris"
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_agent_session_tool_handlers_are_recorded_and_not_run_on_replay(pytester, tmp_path, no_network, monkeypatch):
    pytester.makepyfile(test_agent_tools=AGENT_TOOLS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))

    pytester.runpytest("--record-mode=once").assert_outcomes(passed=2)
    assert sorted(lines(ledger)) == ["async Paris", "sync Paris"]
    for path in (pytester.path / "cassettes").rglob("*.json"):
        assert '"kind": "tool"' in path.read_text(), path

    # Replay: the recorded outputs, the handlers not run
    with no_network:
        pytester.runpytest().assert_outcomes(passed=2)
    assert sorted(lines(ledger)) == ["async Paris", "sync Paris"]

    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=2)
    assert sorted(lines(ledger)) == ["async Paris", "async Paris", "sync Paris", "sync Paris"]
