"""A managed-agents session stream under the fuzzer: re-chunked variants keep the stream's causal links, so the
events the server sent only after the client's POST are still delivered only after it (through the real
``SessionToolRunner``, replayed with the session server gone)."""

from __future__ import annotations

import json

# Imported once, before any pytester session (see test_session_runner.py).
import anthropic.lib.tools._beta_session_runner  # noqa: F401

import harness.session
import harness.strategies  # noqa: F401

FUZZED = """
import asyncio, os

import anthropic, pytest
from anthropic import beta_tool
from anthropic.lib.tools import _beta_session_runner as runner_module

import harness.strategies as hs

URL = os.environ["SESSIONS_URL"]
STRATEGIES = {"rechunked": hs.rechunked(), "equivalent": hs.equivalent()}
LOG = []


@beta_tool(name="save_note")
def save_note(text: str) -> str:
    \"\"\"Save a note.\"\"\"
    LOG.append("tool")
    return "saved " + repr(text)


async def run(session):
    async def on_request(request):
        if request.method == "POST":
            LOG.append("POST")

    http = anthropic.DefaultAsyncHttpxClient(event_hooks={"request": [on_request]})
    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL, http_client=http, max_retries=0)
    return [c async for c in client.beta.sessions.events.tool_runner(session, tools=[save_note], max_idle=1.0)]


@pytest.fixture
def logged(monkeypatch):
    # Which events the runner saw, in order, beside the tool run and the POST of its result.
    real = runner_module.SessionView.apply

    def apply(self, ev):
        LOG.append(ev.type)
        return real(self, ev)

    monkeypatch.setattr(runner_module.SessionView, "apply", apply)
    return LOG


@pytest.mark.cassette("session")
@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_fuzzed_session(strategy, logged):
    @hs.fuzz(STRATEGIES[strategy], max_examples=int(os.environ.get("EXAMPLES", "12")), timeout=20)
    def check(variant):
        logged.clear()
        calls = asyncio.run(run("sesn_1"))
        assert [(c.name, c.posted) for c in calls] == [("save_note", True)], (variant, logged)
        # The agent's answer to the tool result came, on the stream, only after the result was posted.
        assert "POST" in logged and "user.custom_tool_result" in logged, logged
        assert logged.index("POST") < logged.index("user.custom_tool_result"), (variant, logged)
        assert "tool" not in logged or variant is None  # on replay the tool's recorded result is posted, it does not run

    check()
"""


def test_rechunked_session_streams_keep_their_causal_links(pytester, monkeypatch, sessions_url, closed_url, no_network):
    # Given a session run recorded against the session server (one cassette shared by both tests)
    monkeypatch.setenv("SESSIONS_URL", sessions_url)
    pytester.makepyfile(test_fuzzed=FUZZED)
    pytester.runpytest("-p", "no:randomly", "--record-mode=once", "-k", "rechunked").assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("session.json")
    items = json.loads(path.read_text(encoding="utf-8"))["interactions"]
    streams = [i["response"] for i in items if i["kind"] == "http" and i["request"]["url"].endswith("/events/stream")]
    assert streams[0]["awaits"] == [[0, "POST /v1/sessions/sesn_1/events"]]
    # When its streams are fuzzed (re-chunked, and every equivalent variant) and replayed with the server gone
    monkeypatch.setenv("SESSIONS_URL", closed_url)
    with no_network:
        result = pytester.runpytest("-p", "no:randomly")
    # Then every variant still delivers the events that followed the POST only after it
    assert no_network.attempts == []
    result.assert_outcomes(passed=2)
