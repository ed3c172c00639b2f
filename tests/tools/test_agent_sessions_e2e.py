"""openai ``client.beta.agents.sessions.stream(..., tool_handlers=...)`` end to end, through the real SDK: recorded
against the loopback agents-sessions server (tests/servers/agents_sessions_api.py), whose stream sends the turn's
answer only after the tool result was posted; replayed with the server gone and every socket refused: the turn
completes with the same answer, the stream's later events wait for the replayed tool post, the handler does not
run; ``--real-tools`` runs it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness.session  # noqa: F401
from tests.servers.agents_sessions_api import create_app
from tests.servers.base import ServerThread

E2E = """
import asyncio, os

import pydantic, pytest
from openai import AsyncOpenAI, OpenAI
from openai.lib.beta.agents import FunctionTool

URL = os.environ["AGENTS_URL"] + "/v1"
TYPES = [
    "agent.session.turn.created",
    "agent.session.in_progress",
    "agent.session.turn.in_progress",
    "agent.session.turn.item.added",
    "agent.session.turn.item.done",
    "agent.session.turn.item.added",
    "agent.session.turn.item.added",
    "agent.session.turn.item.done",
    "agent.session.turn.completed",
    "agent.session.idle",
]


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


class City(pydantic.BaseModel):
    city: str


def weather(args):
    side_effect(f"callable {args['city']}")
    return f"sunny in {args['city']}"


def tool_weather(args):
    side_effect(f"function tool {args.city}")
    return f"cloudy in {args.city}"


async def aweather(args):
    side_effect(f"async {args.city}")
    return f"rainy in {args.city}"


def checked(events):
    # Each event as the SDK parsed it is valid for its own pydantic model (the fake speaks the real format).
    for event in events:
        type(event).model_validate(event.to_dict())
    assert [e.type for e in events] == TYPES
    call = events[3].item
    assert (call.type, call.name, call.arguments) == ("function_call", "get_weather", '{"city":"Paris"}')
    return events


@pytest.mark.cassette
@pytest.mark.parametrize("kind", ["callable", "function_tool"])
def test_sync_session(kind):
    handler = weather if kind == "callable" else FunctionTool(City, tool_weather, name="get_weather", description="The weather")
    # SWAP_TOOL: the stream no longer handles the session's tool, so it posts no tool result.
    name = "other_tool" if os.environ.get("SWAP_TOOL") else "get_weather"
    client = OpenAI(api_key="sk-test", base_url=URL, max_retries=0)
    stream = client.beta.agents.sessions.stream(
        f"sesn_{kind}", input="Weather in Paris?", tool_handlers={name: handler}, timeout=30
    )
    with stream:
        stream.with_result_collection()
        events = checked(list(stream))
        result = stream.get_final_result()
    expected = "sunny in Paris" if kind == "callable" else "cloudy in Paris"
    assert events[5].item.output == expected  # the posted tool output, as the server saw it
    assert result.output_text == "Answer: " + expected


@pytest.mark.cassette
def test_async_session():
    async def main():
        client = AsyncOpenAI(api_key="sk-test", base_url=URL, max_retries=0)
        tool = FunctionTool(City, aweather, name="get_weather", description="The weather")
        stream = client.beta.agents.sessions.stream(
            "sesn_async", input="Weather in Paris?", tool_handlers={"get_weather": tool}, timeout=30
        )
        async with stream:
            stream.with_result_collection()
            events = checked([e async for e in stream])
            return events, await stream.get_final_result()

    events, result = asyncio.run(main())
    assert events[5].item.output == "rainy in Paris"
    assert result.output_text == "Answer: rainy in Paris"
"""

RECORDED = ["async Paris", "callable Paris", "function tool Paris"]


@pytest.fixture
def agents_url() -> Iterator[str]:
    with ServerThread(create_app()) as server:
        yield server.url


def lines(path: Path) -> list[str]:
    return sorted(path.read_text().splitlines()) if path.exists() else []


def test_an_agents_session_stream_replays_offline_without_running_its_handlers(
    pytester, monkeypatch, tmp_path, agents_url, closed_url, no_network
):
    pytester.makepyfile(test_agents_e2e=E2E)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))
    monkeypatch.setenv("AGENTS_URL", agents_url)

    pytester.runpytest("--record-mode=once", "-p", "no:randomly").assert_outcomes(passed=3)
    assert lines(ledger) == RECORDED
    cassettes = sorted((pytester.path / "cassettes").rglob("*.json"))
    assert len(cassettes) == 3
    for path in cassettes:
        text = path.read_text()
        assert '"kind": "tool"' in text, path
        # The stream's answer came after the tool result was posted: the cassette says so.
        streams = [i for i in json.loads(text)["interactions"] if (i.get("response") or {}).get("awaits")]
        assert [s["request"]["method"] for s in streams] == ["GET"], path
        assert any("POST" in cause for entry in streams[0]["response"]["awaits"] for cause in entry[1:]), path

    # Replay: the server gone, every socket refused; the recorded outputs, the handlers not run.
    monkeypatch.setenv("AGENTS_URL", closed_url)
    with no_network:
        pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=3)
    assert no_network.attempts == []
    assert lines(ledger) == RECORDED

    with no_network:
        pytester.runpytest("--real-tools", "-p", "no:randomly").assert_outcomes(passed=3)
    assert no_network.attempts == []
    assert lines(ledger) == sorted(RECORDED * 2)


def test_a_replayed_stream_waits_for_the_tool_result_and_reports_when_it_never_comes(
    pytester, monkeypatch, tmp_path, agents_url, closed_url, no_network
):
    pytester.makepyfile(test_agents_e2e=E2E)
    monkeypatch.setenv("LEDGER", str(tmp_path / "ledger.txt"))
    monkeypatch.setenv("AGENTS_URL", agents_url)
    pytester.runpytest("--record-mode=once", "-p", "no:randomly", "-k", "callable").assert_outcomes(passed=1)

    # As the real service, the replayed stream sends the turn's answer only after the tool result: a stream
    # that no longer handles the tool posts none, and the replay says so (bounded) instead of answering.
    monkeypatch.setenv("AGENTS_URL", closed_url)
    monkeypatch.setenv("SWAP_TOOL", "1")
    monkeypatch.setattr("harness.seams.causal.CAUSE_WAIT", 0.5)
    t0 = time.monotonic()
    with no_network:
        result = pytester.runpytest("-p", "no:randomly", "-k", "callable")
    assert time.monotonic() - t0 < 20  # ended by the 0.5 s wait, not a hang (loose, for loaded machines)
    assert result.ret != 0
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*harness: the replayed stream GET /v1/agents/sessions/sesn_callable/events cannot go on*",
            "*POST /v1/agents/sessions/sesn_callable/events  (the 2nd such request since the stream opened)*",
            "*no such request came within 0.5 s*",
        ]
    )
    assert no_network.attempts == []
