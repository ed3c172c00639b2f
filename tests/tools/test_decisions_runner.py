"""openai's ``DecisionsToolRunner`` / ``AsyncDecisionsToolRunner``: the action the model picks is recorded (by
its candidate id) while recording against the loopback server, and not run on replay with the server gone;
``--real-tools`` runs it."""

from __future__ import annotations

from pathlib import Path

import hypothesis  # noqa: F401

# Imported once, before any pytester session (see tests/tools/test_local_tools.py).
import examples.openai_responses.agent  # noqa: F401
import harness.session  # noqa: F401

DECISIONS = """
import asyncio, os

import openai, pytest
from openai.lib.decisions_tool_runner import AsyncDecisionsToolRunner, DecisionsToolRunner

URL = os.environ["MODEL_URL"]
PARAMS = {"model": "gpt-5", "input": "Buy the ticket, then finish."}


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


def observer():
    steps = iter(["next: buy", "next: finish"])
    return lambda: next(steps)


def buy():
    side_effect("sync buy")
    return "bought"


async def abuy():
    side_effect("async buy")
    return "bought"


def candidates(execute):
    return lambda observation: [
        {"id": "buy", "description": "Buy the ticket", "execute": execute},
        {"id": "finish", "description": "The task is done", "done": True},
    ]


def aobserver():
    observe = observer()

    async def aobserve():
        return observe()

    return aobserve


def acandidates(execute):
    listed = candidates(execute)

    async def alisted(observation):
        return listed(observation)

    return alisted


@pytest.mark.cassette
def test_decisions_runner():
    client = openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")
    runner = DecisionsToolRunner(observe=observer(), candidates=candidates(buy))
    result = runner.run(client, PARAMS)
    assert (result["status"], result["completed_candidate_ids"]) == ("unverified", ["buy"])


@pytest.mark.cassette
def test_async_decisions_runner():
    async def main():
        async with openai.AsyncOpenAI(api_key="sk-test", base_url=URL + "/v1") as client:
            runner = AsyncDecisionsToolRunner(observe=aobserver(), candidates=acandidates(abuy))
            return await runner.run(client, PARAMS)

    result = asyncio.run(main())
    assert (result["status"], result["completed_candidate_ids"]) == ("unverified", ["buy"])

def test_the_patches_are_gone_after_the_tests():
    from openai.lib import _tool_lifecycle, decisions_tool_runner as runner

    assert runner.invoke is _tool_lifecycle.invoke
    assert runner.DecisionsToolRunner.run.__qualname__ == "DecisionsToolRunner.run"
    assert runner.AsyncDecisionsToolRunner.run.__qualname__ == "AsyncDecisionsToolRunner.run"
    assert runner._Run.candidates.__qualname__ == "_Run.candidates"
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_decisions_actions_are_recorded_and_not_run_on_replay(
    pytester, tmp_path, model_server, closed_url, no_network, monkeypatch
):
    pytester.makepyfile(test_decisions=DECISIONS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))

    # Recording runs the chosen action once in each runner
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=3)
    assert sorted(lines(ledger)) == ["async buy", "sync buy"]
    for path in (pytester.path / "cassettes").rglob("*.json"):
        assert '"kind": "tool"' in path.read_text(), path

    # Replay: the runs complete from the cassette and the action does not run
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        pytester.runpytest().assert_outcomes(passed=3)
    assert sorted(lines(ledger)) == ["async buy", "sync buy"]

    # --real-tools runs it again
    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=3)
    assert sorted(lines(ledger)) == ["async buy", "async buy", "sync buy", "sync buy"]
    assert no_network.attempts == []
