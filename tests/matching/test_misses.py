"""What replay matches a request on, and what a miss reports: host, port and headers are not matched,
ignore_paths; a miss fails fast with a report whose command re-records (also in a shared cassette), a
swallowed miss still fails the test, unplayed interactions fail at teardown. Every test runs real pytest
sessions (pytester)."""

from __future__ import annotations

import re

from tests.conftest import load_cassette
from tests.helpers import MISS_TEST


def test_host_port_and_headers_are_not_matched(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        @pytest.mark.cassette
        def test_hello():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"],
                                         default_headers={"x-trace": os.environ["TRACE"]})
            msg = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
            assert msg.content[0].text == "You said: hi"
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("TRACE", "one")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url.replace("127.0.0.1", "localhost"))
    monkeypatch.setenv("TRACE", "two")
    pytester.runpytest().assert_outcomes(passed=1)


def test_ignore_paths(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        @pytest.mark.cassette(ignore_paths=["$.metadata.user_id"])
        def test_hello():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            msg = client.messages.create(model="m", max_tokens=10, metadata={"user_id": os.environ["RUN_ID"]},
                                         messages=[{"role": "user", "content": "hi"}])
            assert msg.content[0].text == "You said: hi"
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("RUN_ID", "run-1")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("RUN_ID", "run-2")
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_miss_fails_fast_with_a_report(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(test_weather=MISS_TEST)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "What is the weather in SF?")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)

    # The prompt changes: replay fails at once (no SDK retries, no network) and says why.
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("QUESTION", "What is the weather in NY?")
    result = pytester.runpytest("-s")
    result.assert_outcomes(failed=1)
    # anthropic's two retries of a connection error would take over a second
    assert float(re.search(r"ELAPSED=([\d.]+)", result.stdout.str()).group(1)) < 0.3
    result.stdout.fnmatch_lines(
        [
            "*CassetteMiss: harness: no recorded response matches this request",
            "*  POST /v1/messages",
            "*  cassette: cassettes/test_weather/test_weather.json (mode: none, 1 recorded, 0 played)",
            "*  closest recorded request: #0 POST /v1/messages; recorded != requested:",
            "*    $.messages[[]0].content: 'What is the weather in SF?' != 'What is the weather in NY?'",
            "*  How to fix:",
            "*    1. If the change is intended, re-record this test:",
            "*&& pytest test_weather.py::test_weather --record-mode=all",
        ]
    )
    assert "APIConnectionError" not in result.stdout.str()

    # Following the report's own command re-records, and replay passes again.
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("test_weather.py::test_weather", "--record-mode=all").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest().assert_outcomes(passed=1)


def test_a_swallowed_miss_still_fails_the_test(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        @pytest.mark.cassette
        def test_swallow():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            try:
                client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": os.environ["Q"]}])
            except Exception:
                pass
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("Q", "one")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("Q", "two")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_swallow*", "*no recorded response matches this request*"])


def test_unplayed_interactions_fail_at_teardown(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        @pytest.mark.cassette
        def test_calls():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            for n in range(int(os.environ["CALLS"])):
                client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": f"q{n}"}])

        @pytest.mark.cassette("test_calls", allow_unplayed=True)
        def test_allowed():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "q0"}])
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("CALLS", "2")
    pytester.runpytest("--record-mode=once", "-k", "test_calls").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("CALLS", "1")
    result = pytester.runpytest("-k", "test_calls")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        ["*UnplayedInteractions: harness: 1 recorded interaction(s) were never played", "*#1 POST /v1/messages"]
    )
    pytester.runpytest("-k", "test_calls", "--allow-unplayed").assert_outcomes(passed=1)
    # allow_unplayed from the marker; the cassette shared by path
    pytester.runpytest("-k", "test_allowed").assert_outcomes(passed=1)


SHARED_MISS = """
import os, anthropic, pytest

def ask(question):
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
    client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": question}])

@pytest.mark.cassette("shared", allow_unplayed=True)
def test_one():
    ask(os.environ["QUESTION"])

@pytest.mark.cassette("shared", allow_unplayed=True)
def test_two():
    ask("two")
"""


def test_a_miss_in_a_shared_cassette_suggests_a_command_that_keeps_the_other_tests(
    pytester, model_server, closed_url, monkeypatch
):
    pytester.makepyfile(test_shared=SHARED_MISS)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "one")
    pytester.runpytest("--record-mode=new_episodes", "-p", "no:randomly").assert_outcomes(passed=2)

    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("QUESTION", "one, changed")
    result = pytester.runpytest("-k", "test_one")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*    1. If the change is intended, re-record this test:",
            "*&& pytest test_shared.py::test_one --record-mode=new_episodes  # shared cassette: record mode 'all' on this"
            " test alone would keep only its traffic; to re-record it whole, run every test that uses it with record mode 'all'",
        ]
    )

    # The command, pasted as it is (the note is a shell comment), records the change and keeps test_two's exchange.
    command = re.search(r"(pytest test_shared.py::test_one .*)$", result.stdout.str(), re.M).group(1)
    args = command.split("#")[0].split()[1:]
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest(*args).assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("*.json")
    contents = [i["request"]["body"]["json"]["messages"][0]["content"] for i in load_cassette(path)["interactions"]]
    assert contents == ["one", "two", "one, changed"]
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest().assert_outcomes(passed=2)
