"""anthropic's managed-agents ``SessionToolRunner``, recorded against the loopback session server and replayed
with it gone: the stream's follow-up events wait for the posted tool result, the tool does not run again, the
runner's idle wait takes no time, and a changed or missing post fails with a report."""

from __future__ import annotations

import json
from pathlib import Path

# Imported once, before any pytester session: an inline session drops the modules it imported when it
# ends, and the next one would import second copies of the SDK.
import anthropic.lib.tools._beta_session_runner  # noqa: F401
import pytest

import harness.session  # noqa: F401

IDLE = 2.0

SESSION_TESTS = f'''
import asyncio, os, time

import anthropic, pytest
from anthropic import beta_async_tool, beta_tool

URL = os.environ["SESSIONS_URL"]
IDLE = {IDLE}


def note(text):
    with open(os.environ["NOTES_FILE"], "a", encoding="utf-8") as fh:
        fh.write(text + "\\n")
    return os.environ.get("NOTE_PREFIX", "saved") + " " + repr(text)


@beta_tool(name="save_note")
def save_note(text: str) -> str:
    """Save a note."""
    return note(text)


@beta_async_tool(name="save_note")
async def asave_note(text: str) -> str:
    """Save a note."""
    return note(text)


@beta_tool(name="other_tool")
def other_tool(text: str) -> str:
    """Not the tool the session calls."""
    return "unused"


async def run(session, tools):
    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL)
    return [c async for c in client.beta.sessions.events.tool_runner(session, tools=tools, max_idle=IDLE)]


def timed(name, session, tools):
    t0 = time.perf_counter()
    calls = asyncio.run(run(session, tools))
    with open(os.environ["TIMES_FILE"], "a", encoding="utf-8") as fh:
        fh.write(f"{{name}} {{time.perf_counter() - t0}}\\n")
    return calls


@pytest.mark.cassette
@pytest.mark.parametrize("kind", ["sync_tool", "async_tool"])
def test_session(kind):
    tool = save_note if kind == "sync_tool" else asave_note
    if os.environ.get("SWAP_TOOL"):
        tool = other_tool
    calls = timed(kind, "sesn_" + kind, [tool])
    assert [(c.name, c.posted, c.result["content"][0]["text"]) for c in calls] == [
        ("save_note", True, "saved 'remember the milk'")
    ]
'''


def record(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, url: str) -> tuple[Path, Path]:
    notes, times = pytester.path / "notes.txt", pytester.path / "times.txt"
    monkeypatch.setenv("SESSIONS_URL", url)
    monkeypatch.setenv("NOTES_FILE", str(notes))
    monkeypatch.setenv("TIMES_FILE", str(times))
    pytester.makepyfile(test_sessions=SESSION_TESTS)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=2)
    return notes, times


def durations(times: Path) -> dict[str, float]:
    return {name: float(t) for name, t in (line.split() for line in times.read_text().splitlines())}


def cassette(pytester: pytest.Pytester, kind: str) -> dict:
    (path,) = (p for p in (pytester.path / "cassettes").rglob("*.json") if p.name.endswith(f"[{kind}].json"))
    return json.loads(path.read_text(encoding="utf-8"))


def test_a_session_replays_offline_fast_without_running_its_tool(pytester, monkeypatch, sessions_url, closed_url, no_network):
    notes, times = record(pytester, monkeypatch, sessions_url)
    assert notes.read_text() == "remember the milk\n" * 2
    recorded = durations(times)
    assert min(recorded.values()) > IDLE  # the recording waited the runner's idle period
    times.unlink()

    monkeypatch.setenv("SESSIONS_URL", closed_url)
    with no_network:
        pytester.runpytest("-p", "no:randomly").assert_outcomes(passed=2)
    assert no_network.attempts == []
    assert notes.read_text() == "remember the milk\n" * 2  # the tool did not run again
    replayed = durations(times)
    # The replay did not wait the runner's idle period (the recording did); a loose bound, as the
    # machine may be loaded: the speed itself is the benchmarks' business.
    assert max(replayed.values()) < IDLE, replayed


def test_the_stream_records_which_post_its_events_followed(pytester, monkeypatch, sessions_url):
    record(pytester, monkeypatch, sessions_url)
    items = cassette(pytester, "sync_tool")["interactions"]
    described = [
        f"{i['request']['method']} {i['request']['url'].split('://', 1)[1].split('/', 1)[1]}"
        for i in items
        if i["kind"] == "http"
    ]
    streams = [i for i in items if i["kind"] == "http" and i["request"]["url"].endswith("/events/stream")]
    assert len(streams) == 2, described
    first, second = (s["response"] for s in streams)
    assert first["awaits"] == [[0, "POST /v1/sessions/sesn_sync_tool/events"]]
    assert first["client_closed"] is True  # cut by the runner's idle countdown, not by the server
    assert [e["event"] for e in first["body"]["sse"]] == [
        "user.custom_tool_result",
        "session.status_running",
        "agent.message",
        "session.status_idle",
    ]
    assert "awaits" not in second


def test_a_changed_post_body_fails_with_the_path_of_the_change(pytester, monkeypatch, sessions_url, closed_url, no_network):
    record(pytester, monkeypatch, sessions_url)
    monkeypatch.setenv("SESSIONS_URL", closed_url)
    monkeypatch.setenv("NOTE_PREFIX", "stored")
    with no_network:
        result = pytester.runpytest("-p", "no:randomly", "--real-tools", "-k", "not async_tool")
    result.assert_outcomes(failed=1, errors=1)  # the miss fails the call, and the test again at teardown
    result.stdout.fnmatch_lines(
        [
            "*harness: no recorded response matches this request*",
            "*POST /v1/sessions/sesn_sync_tool/events*",
            "*closest recorded request: #4 POST /v1/sessions/sesn_sync_tool/events; recorded != requested:",
            # (fnmatch reads [0] as a character class: ? stands for each bracket)
            "    $.events?0?.content?0?.text: \"saved 'remember the milk'\" != \"stored 'remember the milk'\"",
        ]
    )


def test_a_post_that_never_comes_fails_bounded_naming_it(pytester, monkeypatch, sessions_url, closed_url, no_network):
    record(pytester, monkeypatch, sessions_url)
    monkeypatch.setenv("SESSIONS_URL", closed_url)
    monkeypatch.setenv("SWAP_TOOL", "1")  # the runner no longer owns the session's tool: it posts nothing
    monkeypatch.setattr("harness.seams.causal.CAUSE_WAIT", 0.5)
    with no_network:
        result = pytester.runpytest("-p", "no:randomly", "-k", "async_tool")
    result.assert_outcomes(failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*harness: the replayed stream GET /v1/sessions/sesn_async_tool/events/stream cannot go on*",
            "*POST /v1/sessions/sesn_async_tool/events  (the 1st such request since the stream opened)*",
            "*no such request came within 0.5 s (before chunk 1 of *",
        ]
    )
    # Bounded: ended by the 0.5 s wait, not by the 30 s fallback nor a hang (loose, for loaded machines).
    assert durations(pytester.path / "times.txt")["async_tool"] < 10
