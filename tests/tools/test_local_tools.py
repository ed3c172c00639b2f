"""Local tools in agent loops: run while recording and replayed (not run) from the cassette, also when the
SDK is imported inside the test; a changed tool input fails with a report; the responses runner's own
bookkeeping; recorded_tool values, defaults and the real_tools marker; a non-deterministic tool replayed
deterministically. Every test runs real pytest sessions (pytester): record against the loopback model
server, then replay with the server gone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import hypothesis  # noqa: F401
import pytest

# Imported here, once, before any pytester session: an inline session drops the modules it imported
# when it ends, and the next one would import second copies (a second `Call` class that the snapshot
# serializer does not recognise; a second registration of a cassette kind). hypothesis (above) too: its
# plugin imports it at the end of every session, which takes a second each time.
import examples.anthropic_runners.agent
import examples.openai_assistants.handler
import examples.openai_chat_loop.agent
import examples.openai_responses.agent  # noqa: F401

SIDE_EFFECTS = '''
import json, os

import anthropic, openai, pytest
from anthropic import beta_tool
from openai.lib.responses_tool_runner import RegisteredFunction, ResponsesToolRunner

import harness

URL = os.environ["MODEL_URL"]
Q = "What is the weather in Paris?"


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


@beta_tool
def file_ticket(city: str) -> str:
    """File a ticket about a city.

    Args:
        city: the city
    """
    side_effect(f"anthropic {city}")
    return f"ticket filed for {city}"


@harness.recorded_tool
def send_email(city: str, units: str = "celsius") -> str:
    side_effect(f"email {city} {units}")
    return f"email sent about {city} in {units}"


def register(args):
    side_effect(f"responses {args['city']}")
    return f"registered {args['city']}"


@pytest.mark.cassette
def test_beta_tool():
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=URL)
    runner = client.beta.messages.tool_runner(model="claude-opus-4-7", max_tokens=100, tools=[file_ticket],
                                              messages=[{"role": "user", "content": Q}])
    assert runner.until_done().content[-1].text == "Result: ticket filed for Paris"


@pytest.mark.cassette
def test_recorded_tool_in_a_chat_loop():
    client = openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")
    tools = [{"type": "function", "function": {"name": "send_email", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
    messages = [{"role": "user", "content": Q}]
    call = client.chat.completions.create(model="gpt-5", messages=messages, tools=tools).choices[0].message.tool_calls[0]
    # The user's own code adds an argument the model did not choose.
    result = send_email(**json.loads(call.function.arguments), units=os.environ.get("UNITS", "celsius"))
    messages += [{"role": "assistant", "tool_calls": [call.model_dump()]},
                 {"role": "tool", "tool_call_id": call.id, "content": result}]
    answer = client.chat.completions.create(model="gpt-5", messages=messages, tools=tools).choices[0].message.content
    assert answer == "Result: email sent about Paris in celsius"


@pytest.mark.cassette
def test_responses_runner_function():
    client = openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")
    tool = {"type": "function", "name": "register", "strict": True, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}
    runner = ResponsesToolRunner(functions=[RegisteredFunction(tool=tool, execute=register)])
    assert runner.run(client, {"model": "gpt-5", "input": Q}).output_text == "Result: registered Paris"
'''


@pytest.fixture
def side_effects(pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_side_effects=SIDE_EFFECTS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))
    return ledger


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_tools_run_while_recording_and_not_on_replay(pytester, side_effects, model_server, closed_url, no_network, monkeypatch):
    # Recording runs each tool once: a ticket, an email, a registered function of the responses runner
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=3)
    done = ["anthropic Paris", "email Paris celsius", "responses Paris"]
    assert sorted(lines(side_effects)) == done
    for path in (pytester.path / "cassettes").rglob("*.json"):
        assert '"kind": "tool"' in path.read_text(), path

    # Replay returns the recorded results: the loops complete and no tool runs
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        pytester.runpytest().assert_outcomes(passed=3)
    assert sorted(lines(side_effects)) == done

    # --real-tools runs them for real, the model's side still from the cassette
    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=3)
    assert sorted(lines(side_effects)) == sorted(done * 2)
    assert no_network.attempts == []


def test_a_different_tool_input_fails_with_a_clear_report(pytester, side_effects, model_server, closed_url, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once", "-k", "chat_loop").assert_outcomes(passed=1)

    # The code now calls the tool with another argument: the model traffic is the same, the tool input is not
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("UNITS", "fahrenheit")
    result = pytester.runpytest("-k", "chat_loop")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*harness: no recorded tool call matches this one",
            '*  tool send_email({"city":"Paris","units":"fahrenheit"})',
            "*  cassette: cassettes/test_side_effects/test_recorded_tool_in_a_chat_loop.json (mode: none*",
            '*  closest recorded call: #1 tool send_email({"city":"Paris","units":"celsius"}); recorded != requested:',
            "*    $.units: 'celsius' != 'fahrenheit'",
            "*  How to fix:",
            "*&& pytest test_side_effects.py::test_recorded_tool_in_a_chat_loop --record-mode=all",
        ]
    )
    assert lines(side_effects) == ["email Paris celsius"]  # recorded once; the mismatched call did not run


LATE_IMPORTS = '''
import os, sys

import pytest

URL = os.environ["MODEL_URL"]
Q = "What is the weather in Paris?"


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


@pytest.mark.cassette
def test_anthropic_imported_in_the_test():
    assert "anthropic" not in sys.modules  # the premise: the SDK arrives after the cassette started
    import anthropic
    from anthropic import beta_tool

    @beta_tool
    def file_ticket(city: str) -> str:
        """File a ticket about a city.

        Args:
            city: the city
        """
        side_effect(f"anthropic {city}")
        return f"ticket filed for {city}"

    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=URL)
    runner = client.beta.messages.tool_runner(model="claude-opus-4-7", max_tokens=100, tools=[file_ticket],
                                              messages=[{"role": "user", "content": Q}])
    assert runner.until_done().content[-1].text == "Result: ticket filed for Paris"


@pytest.mark.cassette
def test_responses_runner_imported_in_the_test():
    assert "openai.lib.responses_tool_runner" not in sys.modules
    import openai
    from openai.lib.responses_tool_runner import RegisteredFunction, ResponsesToolRunner

    def register(args):
        side_effect(f"responses {args['city']}")
        return f"registered {args['city']}"

    client = openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")
    tool = {"type": "function", "name": "register", "strict": True, "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}
    runner = ResponsesToolRunner(functions=[RegisteredFunction(tool=tool, execute=register)])
    assert runner.run(client, {"model": "gpt-5", "input": Q}).output_text == "Result: registered Paris"


def test_the_patches_are_gone_after_the_tests():
    from anthropic.lib.tools._beta_functions import BetaAsyncFunctionTool, BetaFunctionTool
    from openai.lib import _tool_lifecycle, responses_tool_runner as runner

    assert BetaFunctionTool.call.__qualname__ == "BetaFunctionTool.call"
    assert BetaAsyncFunctionTool.call.__qualname__ == "BetaAsyncFunctionTool.call"
    assert runner.invoke is _tool_lifecycle.invoke
    assert runner.ResponsesToolRunner._execute_function.__qualname__ == "ResponsesToolRunner._execute_function"
    assert runner.AsyncResponsesToolRunner._execute_function.__qualname__ == "AsyncResponsesToolRunner._execute_function"
    assert [f for f in sys.meta_path if type(f).__module__.startswith("harness")] == []
'''


def test_tools_are_replayed_when_the_sdk_is_imported_inside_the_test(pytester, tmp_path, model_server, closed_url, monkeypatch):
    # A subprocess: this process imported the SDKs long ago; in a new one, only the tests import them.
    pytester.makepyfile(test_late=LATE_IMPORTS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "--record-mode=once").assert_outcomes(passed=3)
    done = ["anthropic Paris", "responses Paris"]
    assert sorted(lines(ledger)) == done
    for name in ("test_anthropic_imported_in_the_test", "test_responses_runner_imported_in_the_test"):
        interactions = json.loads((pytester.path / "cassettes" / "test_late" / f"{name}.json").read_text())["interactions"]
        assert [i.get("kind", "http") for i in interactions] == ["http", "tool", "http"], name

    # Replay, the SDKs again imported by the tests only: the tools return their recorded results, unrun
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    assert sorted(lines(ledger)) == done


DIAGNOSTICS = """
import asyncio, json, os

import openai, pytest
from openai.lib.responses_tool_runner import (
    AsyncRegisteredFunction, AsyncResponsesToolRunner, RegisteredFunction, ResponsesToolRunner,
)

URL = os.environ["MODEL_URL"]
PARAMS = {"model": "gpt-5", "input": "What is the weather in Paris?"}
TOOL = {"type": "function", "name": "lookup", "strict": True, "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}}


class ServiceDown(Exception):
    pass


def ok(args):
    return f"sunny in {args['city']}"


def fails(args):
    raise ServiceDown("the weather service is down")


def invalid(args):
    return 42  # neither text nor input blocks: the runner rejects it


async def aok(args):
    return ok(args)


async def afails(args):
    fails(args)


async def ainvalid(args):
    return invalid(args)


FUNCTIONS = {"ok": (ok, aok), "fails": (fails, afails), "invalid": (invalid, ainvalid)}


@pytest.mark.cassette
@pytest.mark.parametrize("function", ["ok", "fails", "invalid"])
@pytest.mark.parametrize("runner", ["sync", "async"])
def test_runner(request, runner, function):
    diagnostics = []
    execute, aexecute = FUNCTIONS[function]
    try:
        if runner == "async":
            loop = AsyncResponsesToolRunner(functions=[AsyncRegisteredFunction(tool=TOOL, execute=aexecute)])
            client = openai.AsyncOpenAI(api_key="sk-test", base_url=URL + "/v1")
            response = asyncio.run(loop.run(client, PARAMS, on_diagnostic=diagnostics.append))
        else:
            loop = ResponsesToolRunner(functions=[RegisteredFunction(tool=TOOL, execute=execute)])
            client = openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")
            response = loop.run(client, PARAMS, on_diagnostic=diagnostics.append)
        outcome = response.output_text
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    seen = [[d["stage"], d["reason"], d["member"], d["call_id"]] for d in diagnostics]
    with open(os.path.join(os.environ["DIAGNOSTICS"], request.node.name + ".json"), "w") as out:
        json.dump({"diagnostics": seen, "outcome": outcome}, out)
"""


def test_the_responses_runner_does_its_own_bookkeeping_on_replay_too(pytester, tmp_path, model_server, closed_url, monkeypatch):
    pytester.makepyfile(test_diagnostics=DIAGNOSTICS)

    def run(folder: str, *args: str) -> dict[str, dict[str, object]]:
        out = tmp_path / folder
        out.mkdir()
        monkeypatch.setenv("DIAGNOSTICS", str(out))
        pytester.runpytest(*args).assert_outcomes(passed=6)
        return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}

    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = run("recorded", "--record-mode=once")
    monkeypatch.setenv("MODEL_URL", closed_url)
    replayed = run("replayed")

    # The runner's diagnostics and outcome around each registered function are the same on replay
    assert replayed == recorded
    for runner in ("sync", "async"):
        actions = {f: [d[:3] for d in recorded[f"test_runner[{runner}-{f}]"]["diagnostics"] if d[0] in ("action", "output")]
                   for f in ("ok", "fails", "invalid")}  # fmt: skip
        assert actions == {
            "ok": [["action", "completed", "lookup"]],
            "fails": [["action", "driver_failed", "lookup"]],
            "invalid": [["action", "completed", "lookup"], ["output", "invalid_output", "lookup"]],
        }
        assert recorded[f"test_runner[{runner}-ok]"]["outcome"] == "Result: sunny in Paris"
        assert recorded[f"test_runner[{runner}-fails]"]["outcome"] == "ToolRunnerError: Tool run stopped before completion."


RECORDED_TOOL = """
import asyncio, datetime, os

import pytest

import harness


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


@harness.recorded_tool
def forecast(city: str, units: str = "c"):
    side_effect(f"forecast {city} {units}")
    return {"city": city, "at": datetime.datetime(2025, 1, 2, 3, 4, 5), "range": (18, 21), "units": units}


@harness.recorded_tool
async def aforecast(city: str, units: str = "c"):
    return forecast.__wrapped__(city, units)


EXPECTED = {"city": "Paris", "at": "2025-01-02 03:04:05", "range": [18, 21], "units": "c"}


@pytest.mark.cassette
def test_the_same_value_recorded_and_replayed():
    # Called as the code of the day calls it: defaults omitted, or spelt out
    if os.environ["CALL"] == "short":
        values = [forecast("Paris"), asyncio.run(aforecast("Paris"))]
    else:
        values = [forecast("Paris", units="c"), asyncio.run(aforecast(city="Paris", units="c"))]
    assert values == [EXPECTED, EXPECTED]


def test_outside_a_cassette_test_it_is_the_function():
    assert forecast("Oslo")["at"] == datetime.datetime(2025, 1, 2, 3, 4, 5)


@pytest.mark.cassette(real_tools=True)
def test_real_tools_marker():
    assert forecast("Lyon")["city"] == "Lyon"
"""


def test_recorded_tool_values_defaults_and_the_real_tools_marker(pytester, tmp_path, monkeypatch):
    pytester.makepyfile(test_recorded=RECORDED_TOOL)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))

    # Recorded with the defaults left out; the value is the JSON form (datetime as str, tuple as list)
    monkeypatch.setenv("CALL", "short")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=3)
    assert lines(ledger) == ["forecast Paris c", "forecast Paris c", "forecast Oslo c", "forecast Lyon c"]
    (cassette,) = (pytester.path / "cassettes" / "test_recorded").glob("test_the_same_value*.json")
    tools = json.loads(cassette.read_text())["interactions"]
    assert [(t["name"], t["input"]) for t in tools] == [
        ("forecast", {"city": "Paris", "units": "c"}),
        ("aforecast", {"city": "Paris", "units": "c"}),
    ]

    # Replayed with the defaults spelt out: the same calls, the same values, no tool run;
    # real_tools=True in the marker runs that test's tool for real
    monkeypatch.setenv("CALL", "long")
    pytester.runpytest().assert_outcomes(passed=3)
    assert lines(ledger)[4:] == ["forecast Oslo c", "forecast Lyon c"]


NOW = '''
import os
from datetime import datetime

import anthropic, pytest
from anthropic import beta_tool


@beta_tool
def current_time(city: str) -> str:
    """The time now in a city.

    Args:
        city: the city
    """
    return datetime.now().isoformat()  # microseconds: never the same twice


@pytest.mark.cassette
def test_clock():
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
    runner = client.beta.messages.tool_runner(model="claude-opus-4-7", max_tokens=100, tools=[current_time],
                                              messages=[{"role": "user", "content": "What time is it in Tokyo?"}])
    print("ANSWER", runner.until_done().content[-1].text)
'''


def test_a_non_deterministic_tool_replays_deterministically(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(test_clock=NOW)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = pytester.runpytest("--record-mode=once", "-s")
    recorded.assert_outcomes(passed=1)

    def answer(result: pytest.RunResult) -> str:
        return re.search(r"ANSWER (.*)", result.stdout.str()).group(1)

    # Every replay answers with the time recorded
    monkeypatch.setenv("MODEL_URL", closed_url)
    replays = [pytester.runpytest("-s") for _ in range(2)]
    for replay in replays:
        replay.assert_outcomes(passed=1)
    assert {answer(r) for r in replays} == {answer(recorded)}
    assert re.fullmatch(r"Result: \d{4}-\d\d-\d\dT[\d:.]+", answer(recorded))

    # Running the real tool instead gives another time, so the next model request no longer matches
    real = pytester.runpytest("--real-tools")
    real.assert_outcomes(failed=1)
    real.stdout.fnmatch_lines(
        ["*no recorded response matches this request*", "*$.messages[[]0].content[[]0].content: '20*' != '20*'"]
    )
