"""Whole agent loops replayed through the SDKs' real runners and stream accumulators, their local tools
replayed from the cassette, their callbacks and final messages snapshotted; and an example's prompt change,
caught then re-recorded. Every test runs real pytest sessions (pytester): record against the loopback model
server, then replay with the server gone and the network refused."""

from __future__ import annotations

import difflib
import re
import shutil
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

ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------------------------------ one replay test per runner

LOOPS = '''
import asyncio, os

import anthropic, openai, pytest

import harness
from examples.anthropic_runners import agent as claude_agent
from examples.openai_assistants import handler as assistants_agent
from examples.openai_chat_loop import agent as chat_agent
from examples.openai_responses import agent as responses_agent

URL = os.environ["MODEL_URL"]
Q = "What is the weather in Paris?"
WEATHER = "Result: sunny and 21°C in Paris"


def claude():
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=URL)


def gpt():
    return openai.OpenAI(api_key="sk-test", base_url=URL + "/v1")


def agpt():
    return openai.AsyncOpenAI(api_key="sk-test", base_url=URL + "/v1")


def aclaude():
    return anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL)


def kinds(cassette):
    return [i.kind for i in cassette.interactions]


class Watch:
    """The ``watch`` hook of the example agents: records each stream it is given."""

    def __init__(self, **options):
        self.recorders, self.options = [], options

    def __call__(self, stream):
        self.recorders.append(harness.record_callbacks(stream, **self.options))
        return self.recorders[-1]

    @property
    def calls(self):
        return [r.calls for r in self.recorders]


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_tool_runner_until_done(cassette, agent_snapshot, stream):
    final = claude_agent.ask(claude(), Q, stream=stream)
    assert final.content[-1].text == WEATHER
    assert kinds(cassette) == ["http", "tool", "http"]
    assert final == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("thread", [True, False])
def test_anthropic_tool_runner_iteration(agent_snapshot, thread):
    messages = claude_agent.ask_turn_by_turn(claude(), Q, thread=thread)
    assert [m.stop_reason for m in messages] == ["tool_use", "end_turn"]
    assert messages == agent_snapshot


@pytest.mark.cassette
def test_anthropic_tool_runner_max_iterations(cassette):
    messages = claude_agent.ask_turn_by_turn(claude(), Q, max_iterations=1)
    assert [m.stop_reason for m in messages] == ["tool_use"]
    assert kinds(cassette) == ["http", "tool"]


@pytest.mark.cassette
def test_anthropic_tool_runner_raising_tool(cassette):
    final = claude_agent.ask(claude(), 'What does get_stock_price say for "ACME"?', thread=False)
    assert cassette.interactions[1].error["type"].endswith("MarketClosed")
    assert cassette.interactions[2].request.body.value["messages"][-1]["content"][0]["is_error"] is True
    assert final.content[-1].text.startswith("The tool failed: MarketClosed(")


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_async_tool_runner(agent_snapshot, stream):
    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL)
    messages = asyncio.run(claude_agent.ask_async(client, Q, stream=stream))
    assert messages[-1].content[-1].text == WEATHER
    assert messages == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_async_until_done(cassette, agent_snapshot, stream):
    final = asyncio.run(claude_agent.ask_async_until_done(aclaude(), Q, stream=stream))
    assert final.content[-1].text == WEATHER
    assert kinds(cassette) == ["http", "tool", "http"]
    assert final == agent_snapshot


@pytest.mark.cassette
def test_anthropic_async_raising_tool(cassette):
    final = asyncio.run(claude_agent.ask_async_until_done(aclaude(), 'What does get_stock_price say for "ACME"?', thread=False))
    assert kinds(cassette) == ["http", "tool", "http"]
    assert cassette.interactions[1].error["type"].endswith("MarketClosed")
    assert cassette.interactions[2].request.body.value["messages"][-1]["content"][0]["is_error"] is True
    assert final.content[-1].text.startswith("The tool failed: MarketClosed(")


@pytest.mark.cassette
def test_anthropic_async_max_iterations(cassette):
    messages = asyncio.run(claude_agent.ask_async_turn_by_turn(aclaude(), Q, max_iterations=1))
    assert [m.stop_reason for m in messages] == ["tool_use"]
    assert kinds(cassette) == ["http", "tool"]


@pytest.mark.cassette
def test_anthropic_async_streaming_runner_events(cassette, agent_snapshot):
    watch, shown = Watch(), []
    messages = asyncio.run(claude_agent.ask_async_streaming(aclaude(), Q, watch=watch, out=shown))
    assert "".join(shown) == "Let me check." + WEATHER
    assert [m.stop_reason for m in messages] == ["tool_use", "end_turn"]
    assert kinds(cassette) == ["http", "tool", "http"]
    assert [c[-1].name for c in watch.calls] == ["message_stop", "message_stop"]
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
def test_anthropic_streaming_runner_events(agent_snapshot):
    watch = Watch()
    claude_agent.ask_streaming(claude(), Q, watch=watch)
    assert [c[-1].name for c in watch.calls] == ["message_stop", "message_stop"]
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
def test_anthropic_messages_stream_events(agent_snapshot):
    watch = Watch()
    final = claude_agent.stream_reply(claude(), Q, watch=watch)
    names = watch.recorders[0].names
    assert {"text", "input_json", "content_block_stop", "message_stop"} <= set(names)
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
def test_openai_chat_loop(cassette, agent_snapshot):
    watch = Watch(exclude={"chunk"})
    messages, answer = asyncio.run(chat_agent.run(agpt(), Q, watch=watch))
    assert answer == WEATHER
    assert kinds(cassette) == ["http", "tool", "http", "http"]
    assert watch.recorders[0].names[-1] == "content.done"
    assert (messages, watch.calls) == agent_snapshot


@pytest.mark.cassette
def test_openai_chat_completions_stream_tool_call(agent_snapshot):
    watch = Watch(exclude={"chunk"})
    final = asyncio.run(chat_agent.stream_answer(agpt(), [{"role": "user", "content": Q}], tools=chat_agent.TOOLS, watch=watch))
    assert final.choices[0].message.tool_calls[0].function.arguments == '{"city":"Paris"}'
    assert watch.recorders[0].names[-1] == "tool_calls.function.arguments.done"
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_openai_assistants_event_handler(cassette, agent_snapshot):
    watch = Watch()
    client = gpt()
    answer, _ = assistants_agent.ask(client, assistants_agent.create_assistant(client), Q,
                                     make_handler=lambda: watch(assistants_agent.EventHandler()).target)
    assert answer == WEATHER
    assert "tool" in kinds(cassette)
    assert [names[-1] for names in (r.names for r in watch.recorders)] == ["on_end", "on_end"]
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("tools", [False, True])
def test_openai_responses_stream(agent_snapshot, tools):
    watch = Watch()
    responses_agent.stream_reply(gpt(), Q, tools=[responses_agent.WEATHER_TOOL] if tools else None, watch=watch)
    assert watch.recorders[0].names[-1] == "response.completed"
    assert watch.calls == agent_snapshot


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True])
def test_openai_responses_tool_runner(cassette, agent_snapshot, stream):
    events = []
    response = responses_agent.ask(gpt(), Q, stream=stream, on_event=events.append if stream else None)
    assert response.output_text == WEATHER
    assert kinds(cassette) == ["http", "tool", "http"]
    assert (response, [e.type for e in events]) == agent_snapshot


@pytest.mark.cassette
def test_openai_async_responses_tool_runner(cassette):
    response = asyncio.run(responses_agent.ask_async(agpt(), Q))
    assert response.output_text == WEATHER
    assert kinds(cassette) == ["http", "tool", "http"]
'''
N_LOOPS = len(re.findall(r"^def test_", LOOPS, re.M)) + LOOPS.count("@pytest.mark.parametrize")  # each over two values


def cassette_texts(pytester: pytest.Pytester) -> dict[str, str]:
    return {
        str(p.relative_to(pytester.path)): p.read_text(encoding="utf-8") for p in (pytester.path / "cassettes").rglob("*.json")
    }


def test_every_runner_and_accumulator_replays_offline(pytester, model_server, closed_url, no_network, monkeypatch):
    # Given every runner and accumulator, recorded with their snapshots against the live model server
    pytester.makepyfile(test_loops=LOOPS)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once", "--snapshot-update").assert_outcomes(passed=N_LOOPS)
    recorded = cassette_texts(pytester)
    assert len(recorded) == N_LOOPS

    # When they run again in the default mode, with no server and no network
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        replayed = pytester.runpytest("-p", "no:randomly")

    # Then every loop, its callbacks and its final messages replay as recorded; nothing is rewritten
    replayed.assert_outcomes(passed=N_LOOPS)
    assert no_network.attempts == []
    assert cassette_texts(pytester) == recorded
    replayed.stdout.fnmatch_lines([f"harness: {N_LOOPS} cassette(s) replayed, 0 recorded."])
    # (the snapshots were compared: 18 of the tests assert against one)
    assert (pytester.path / "__snapshots__" / "test_loops.ambr").read_text().count("# name:") == 18


# ------------------------------------------------------------------------------------------ a prompt change, caught


def copy_example(pytester: pytest.Pytester, name: str) -> Path:
    """The example, its cassettes and snapshots, in the pytester folder (as in the repo)."""
    ignore = shutil.ignore_patterns("__pycache__")
    (pytester.path / "examples").mkdir()
    for file in ("__init__.py", "conftest.py"):
        shutil.copy(ROOT / "examples" / file, pytester.path / "examples" / file)
    shutil.copytree(ROOT / "examples" / name, pytester.path / "examples" / name, ignore=ignore)
    shutil.copytree(ROOT / "cassettes" / "examples" / name, pytester.path / "cassettes" / "examples" / name)
    return pytester.path / "examples" / name


def test_a_prompt_change_is_caught_then_rerecorded(pytester, model_server, monkeypatch):
    # A subprocess each time: the copied `examples` package must not meet the one this session imported.
    example = copy_example(pytester, "anthropic_runners")
    monkeypatch.delenv("MODEL_URL", raising=False)  # replay: the examples' conftest points nowhere
    args = ("-p", "no:cacheprovider", "-k", "until_done")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)

    # Someone edits the user prompt
    test_file = example / "test_anthropic_runners.py"
    test_file.write_text(test_file.read_text().replace('CITY = "Paris"', 'CITY = "Rome"'))
    failed = pytester.runpytest_subprocess(*args)
    failed.assert_outcomes(failed=2)
    failed.stdout.fnmatch_lines(
        [
            "*CassetteMiss: harness: no recorded response matches this request",
            "*  closest recorded request: #0 POST /v1/messages; recorded != requested:",
            "*    $.messages[[]0].content: 'What is the weather in Paris?' != 'What is the weather in Rome?'",
            "*  How to fix:",
            "*&& pytest 'examples/anthropic_runners/test_anthropic_runners.py::test_until_done?plain?' --record-mode=all",
        ]
    )

    # Re-recording the cassettes and the snapshots together makes it pass again, offline too
    snapshots = example / "__snapshots__" / "test_anthropic_runners.ambr"
    before = snapshots.read_text()
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest_subprocess(*args, "--record-mode=all", "--snapshot-update").assert_outcomes(passed=2)
    monkeypatch.delenv("MODEL_URL")
    pytester.runpytest_subprocess(*args).assert_outcomes(passed=2)

    # and the snapshot diff a reviewer sees is the change: the city, and the token counts it moved
    changed = [
        line[1:].strip()
        for line in difflib.unified_diff(before.splitlines(), snapshots.read_text().splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed and all("Rome" in line or "Paris" in line or "_tokens" in line for line in changed), changed
    assert any("Rome" in line for line in changed)
    assert re.findall("^# name: .*", snapshots.read_text(), re.M) == re.findall("^# name: .*", before, re.M)
