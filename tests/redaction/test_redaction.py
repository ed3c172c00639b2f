"""Redaction while recording: keys, cookies, account ids and query secrets never reach a cassette (scrubbed
where they were, the stream's chunk boundaries kept), and the user's own redaction settings. Every test runs
real pytest sessions (pytester)."""

from __future__ import annotations

import itertools
import json

from harness import sse
from tests.conftest import load_cassette
from tests.helpers import N_INNER, cassette_files

SECRETS = (
    "sk-ant-api03-" + "Zx9" * 30,  # the keys of agents_inner.py, in the prompts, the URL query, a header
    "sk-proj-" + "Qw7" * 30,
    "Zx9Zx9Zx9",  # any part of them
    "Qw7Qw7Qw7",
    "c00kie-Vx41",  # the cookie
    "org-Hq7orgNeverStored",  # openai organization= and project=
    "proj_Hq7projNeverStored",
    "plain-query-secret-Kp2",  # ?api_key= and ?token= values that do not look like keys
)


def test_secrets_never_reach_the_disk(agents, model_server, closed_url, monkeypatch):
    # Given agent tests whose keys and account ids travel in headers, cookies, message bodies (so
    # also in the streamed answers, which echo them), URL queries and a tool's result
    monkeypatch.setenv("MODEL_URL", model_server.url)
    agents.runpytest("--record-mode=once").assert_outcomes(passed=N_INNER)

    # Then no cassette holds any of them, nor a credential header
    files = cassette_files(agents)
    for path in files.values():
        text = path.read_text()
        for secret in SECRETS:
            assert secret not in text, (secret, path)
        for header in ("authorization", "x-api-key", "cookie", "openai-organization", "openai-project"):
            assert f'"{header}"' not in text.lower(), (header, path)

    # They are scrubbed where they were, not dropped: the query, the odd header, the bodies
    (stream,) = load_cassette(files["test_secrets_anthropic_stream"])["interactions"]
    assert stream["request"]["url"].endswith("/v1/messages?api_key=<REDACTED>&note=<REDACTED>")
    assert stream["request"]["headers"]["x-debug-token"] == "<REDACTED>"
    assert stream["request"]["body"]["json"]["messages"][0]["content"] == "my keys are <REDACTED> and <REDACTED>"
    # The scrubbed stream keeps its chunk boundaries (the server writes one event at a time, so each
    # chunk ends where an event ends) instead of collapsing into one chunk.
    events = stream["response"]["body"]["sse"]
    event_ends = set(itertools.accumulate(sse.entry_sizes(events)))
    chunk_ends = list(itertools.accumulate(c[0] for c in stream["response"]["chunks"]))
    assert len(chunk_ends) > 3 and set(chunk_ends) <= event_ends, (chunk_ends, sorted(event_ends))
    (chat,) = load_cassette(files["test_secrets_openai_account"])["interactions"]
    assert chat["request"]["url"].endswith("/v1/chat/completions?token=<REDACTED>")
    tool = next(i for i in load_cassette(files["test_secrets_in_tool_result"])["interactions"] if i["kind"] == "tool")
    assert "<REDACTED>" in json.dumps(tool)

    # And replay still matches every request, with the server gone
    monkeypatch.setenv("MODEL_URL", closed_url)
    agents.runpytest("-k", "secrets", "-p", "no:randomly").assert_outcomes(passed=3)


def test_user_redaction_settings(pytester, model_server, closed_url, monkeypatch):
    # redact_patterns and redact_headers from the marker, before_record from the harness_config fixture
    pytester.makeconftest(
        """
        import pytest

        def before_record(item):
            if item.request.path.startswith("/v1/messages/count_tokens"):
                return None  # recorded, then dropped
            item.response.headers.pop("request-id", None)
            return item

        @pytest.fixture
        def harness_config():
            return {"before_record": before_record}
        """
    )
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        @pytest.mark.cassette(redact_patterns=[r"acct-\\d{6}"], redact_headers=["x-tenant"])
        def test_custom():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"],
                                         default_headers={"x-tenant": "tenant-owl-42"})
            if os.environ.get("RECORDING"):
                client.messages.count_tokens(model="m", messages=[{"role": "user", "content": "count me"}])
            msg = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "bill acct-123456"}])
            assert msg.content[0].text in ("You said: bill acct-123456", "You said: bill <REDACTED>")
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("RECORDING", "1")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("*.json")
    text = path.read_text()
    for gone in ("acct-123456", "tenant-owl-42", "x-tenant", "request-id", "count_tokens"):
        assert gone not in text, gone
    (item,) = load_cassette(path)["interactions"]
    assert item["request"]["body"]["json"]["messages"][0]["content"] == "bill <REDACTED>"

    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.delenv("RECORDING")
    pytester.runpytest().assert_outcomes(passed=1)
