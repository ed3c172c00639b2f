"""The tool runner's compaction (``compact_before_next_turn()``) recorded against the loopback model server and
replayed with it gone and the network refused: the compaction turn comes back from the cassette, the request after
it (which sends the compaction block back in place of the history) is matched like any other, and a compaction
whose content changed makes that request miss, with the miss report naming the block."""

from __future__ import annotations

from pathlib import Path

import hypothesis  # noqa: F401
import pytest

import examples.anthropic_compaction.agent  # noqa: F401  (imported once, before any pytester session)
import harness.seams.tools  # noqa: F401  (so is the tool seam: a second copy would see no cassette)

SUMMARY = "Summary: the user asked: What is the weather in Paris? The tools answered: sunny and 21°C in Paris"
CHANGED = SUMMARY.replace("sunny", "rainy")

LOOP = """
import asyncio, os

import anthropic, pytest

from examples.anthropic_compaction import agent

URL = os.environ["MODEL_URL"]
SUMMARY = SUMMARY_HERE


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_compaction(cassette, agent_snapshot, stream, flavour):
    if flavour == "sync":
        messages = agent.ask(anthropic.Anthropic(api_key="sk-ant-test", base_url=URL), "What is the weather in Paris?", stream=stream)
    else:
        client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL)
        messages = asyncio.run(agent.ask_async(client, "What is the weather in Paris?", stream=stream))
    assert [m.stop_reason for m in messages] == ["tool_use", "compaction", "end_turn"]
    assert [(b.type, b.content) for b in messages[1].content] == [("compaction", SUMMARY)]
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http", "http"]
    after = cassette.interactions[3].request.body.value["messages"]
    assert [b["type"] for b in after[0]["content"]] == ["compaction"]
    assert messages[1] == agent_snapshot(name="compaction")
    assert messages[-1].content[-1].text == "From the summary: " + SUMMARY
""".replace("SUMMARY_HERE", repr(SUMMARY))


def cassette_texts(pytester: pytest.Pytester) -> dict[str, str]:
    return {str(p.relative_to(pytester.path)): p.read_text("utf-8") for p in (pytester.path / "cassettes").rglob("*.json")}


def record(pytester: pytest.Pytester, model_server, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    pytester.makepyfile(test_compaction_loop=LOOP)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once", "--snapshot-update", "-p", "no:randomly").assert_outcomes(passed=4)
    return cassette_texts(pytester)


def test_the_compaction_turn_and_the_request_after_it_replay_offline(pytester, model_server, closed_url, no_network, monkeypatch):
    # Given the four runners (sync / async, streamed or not) recorded compacting between turns
    recorded = record(pytester, model_server, monkeypatch)
    assert len(recorded) == 4

    # When they run again in replay, with no server and the network refused
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        replayed = pytester.runpytest("-p", "no:randomly")

    # Then the compaction turn comes back, the request carrying the block back matches, nothing is rewritten
    replayed.assert_outcomes(passed=4)
    assert no_network.attempts == []
    assert cassette_texts(pytester) == recorded
    replayed.stdout.fnmatch_lines(["harness: 4 cassette(s) replayed, 0 recorded."])


def changed_compaction(path: Path) -> None:
    """The cassette with the compaction turn's summary changed, as a model summarizing differently would: the first
    summary after the compaction request, which is its response (same length, so a stream's recorded chunks hold)."""
    text = path.read_text("utf-8")
    at = text.index(SUMMARY, text.index('"compaction": {'))
    path.write_text(text[:at] + CHANGED + text[at + len(SUMMARY) :], "utf-8")


@pytest.mark.parametrize("stream", ["plain", "stream"])
def test_a_changed_compaction_content_misses_the_request_after_it(pytester, model_server, closed_url, monkeypatch, stream):
    record(pytester, model_server, monkeypatch)
    (path,) = (pytester.path / "cassettes").rglob(f"test_compaction?sync-{stream}?.json")
    changed_compaction(path)

    monkeypatch.setenv("MODEL_URL", closed_url)
    result = pytester.runpytest("-p", "no:randomly", "-k", f"sync-{stream} and not async")

    # The runner sends back the compaction it was given; the recorded request after it carried the other one.
    result.assert_outcomes(failed=1, deselected=3)
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: harness: no recorded response matches this request",
            "*  closest recorded request: #3 POST /v1/messages; recorded != requested:",
            f"*    $.messages[[]0].content[[]0].content: '{SUMMARY}' != '{CHANGED}'",
        ]
    )
