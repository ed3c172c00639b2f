"""Issue 2, end to end: record real SDK traffic against the loopback model server, then replay it
with the server gone and the network refused. Every test runs a real pytest session (pytester)."""

from __future__ import annotations

import itertools
import json
import re
import time
from pathlib import Path

import pytest

from harness import sse
from tests.conftest import load_cassette

INNER = Path(__file__).with_name("agents_inner.py").read_text(encoding="utf-8")
N_INNER = len(re.findall(r"^def test_", INNER, re.M)) + 1  # one test is parametrized twice


@pytest.fixture
def agents(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_agents=INNER)
    return pytester


def cassette_files(pytester: pytest.Pytester) -> dict[str, Path]:
    return {p.stem: p for p in (pytester.path / "cassettes").rglob("*.json")}


def test_record_then_replay_offline(agents, model_server, closed_url, no_network, monkeypatch):
    # Given a suite of agent tests recorded against the live model server
    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = agents.runpytest("--record-mode=once")
    recorded.assert_outcomes(passed=N_INNER)
    files = cassette_files(agents)
    assert len(files) == N_INNER
    snapshot = {name: path.read_text() for name, path in files.items()}

    # When they run again in the default mode, with no server and no network
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        replayed = agents.runpytest("-p", "no:randomly")

    # Then every test passes from its cassette, no connection is even attempted, nothing is rewritten
    replayed.assert_outcomes(passed=N_INNER)
    assert no_network.attempts == []
    assert {name: path.read_text() for name, path in cassette_files(agents).items()} == snapshot
    replayed.stdout.fnmatch_lines([f"harness: {N_INNER} cassette(s) replayed, 0 recorded."])


def test_cassette_is_reviewable_and_byte_exact(agents, model_server, monkeypatch):
    import httpx2

    from harness.cassette import format as fmt

    monkeypatch.setenv("MODEL_URL", model_server.url)
    agents.runpytest(
        "--record-mode=once", "-k", "gzip_crlf_comments or chat_completions_stream or messages_create"
    ).assert_outcomes(passed=4)
    files = cassette_files(agents)

    # JSON request bodies are structured; the SSE answer is one event per line, data parsed as JSON.
    doc = load_cassette(files["test_gzip_crlf_comments"])
    assert doc["harness_cassette"] == 1
    (interaction,) = doc["interactions"]
    assert interaction["request"]["body"]["json"]["messages"] == [{"role": "user", "content": "What is the weather in Paris?"}]
    body = interaction["response"]["body"]
    # Stored decoded (readable), with the header saying it came gzipped: replay encodes it again to match.
    assert body["eol"] == "\r\n" and interaction["response"]["headers"]["content-encoding"] == "gzip"
    assert body["sse"][0]["event"] == "message_start" and body["sse"][0]["comments"] == ["ping"]
    assert body["sse"][0]["data"]["type"] == "message_start"
    text = files["test_gzip_crlf_comments"].read_text()
    assert '{"comments": ["ping"], "event": "message_start", "data": {"type": "message_start"' in text

    # The stored events render back to exactly the bytes the server sends (CRLF, comments, [DONE], UTF-8).
    for name, scenario in [("test_gzip_crlf_comments", "crlf,comments"), ("test_chat_completions_stream", "")]:
        (item,) = fmt.loads(files[name].read_text(), files[name])
        request = item.request
        live = httpx2.post(
            model_server.url + request.path,
            json=request.body.value,
            headers={"x-fake-scenario": scenario, "authorization": "Bearer x", "x-api-key": "x"},
        )
        assert item.response.body.bytes() == live.content, name
    (chat,) = load_cassette(files["test_chat_completions_stream"])["interactions"]
    assert chat["response"]["body"]["sse"][-1] == {"text": "[DONE]"}
    (hello,) = load_cassette(files["test_messages_create"])["interactions"]
    assert hello["response"]["body"]["json"]["content"][0]["text"] == "You said: Hello café ☕ 東京"
    assert "café ☕ 東京" in files["test_messages_create"].read_text(encoding="utf-8")


def test_rerecording_an_unchanged_exchange_leaves_the_file_unchanged(agents, model_server, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    selection = "tool_runner_until_done or chat_completions_stream or concurrent"
    agents.runpytest("--record-mode=once", "-k", selection).assert_outcomes(passed=4)
    before = {n: (p.read_text(), p.stat().st_mtime_ns) for n, p in cassette_files(agents).items()}
    agents.runpytest("--record-mode=all", "-k", selection).assert_outcomes(passed=4)
    after = {n: (p.read_text(), p.stat().st_mtime_ns) for n, p in cassette_files(agents).items()}
    assert after == before


def test_recording_streams_through(pytester, model_server, monkeypatch):
    # A server that sends the first event, then pauses 1 s: while recording, the SDK sees the first
    # event long before the pause ends, and the cassette keeps the chunk boundaries and the pause.
    pytester.makepyfile(
        """
        import os, time, anthropic, pytest

        @pytest.mark.cassette
        def test_first_event_early():
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"],
                                         default_headers={"x-fake-scenario": "pause=1.0"})
            start = time.perf_counter()
            with client.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as stream:
                first = next(iter(stream))
                first_at = time.perf_counter() - start
                stream.get_final_message()
            total = time.perf_counter() - start
            print(f"FIRST={first_at:.3f} TOTAL={total:.3f}")
            assert first.type == "message_start"
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    result = pytester.runpytest("--record-mode=once", "-s")
    result.assert_outcomes(passed=1)
    first, total = map(float, re.search(r"FIRST=([\d.]+) TOTAL=([\d.]+)", result.stdout.str()).groups())
    assert first < 0.5 and total >= 1.0, (first, total)

    (path,) = (pytester.path / "cassettes").rglob("*.json")
    (interaction,) = load_cassette(path)["interactions"]
    chunks = interaction["response"]["chunks"]
    assert len(chunks) == len(interaction["response"]["body"]["sse"])  # one network write per event
    assert chunks[1][1] - chunks[0][1] >= 900  # the pause, in ms

    # Replay is instant by default, and paced like the recording with --replay-speed=1.
    instant = pytester.runpytest("-s")
    instant.assert_outcomes(passed=1)
    first, total = map(float, re.search(r"FIRST=([\d.]+) TOTAL=([\d.]+)", instant.stdout.str()).groups())
    assert total < 0.5, total
    paced = pytester.runpytest("--replay-speed=1", "-s")
    paced.assert_outcomes(passed=1)
    first, total = map(float, re.search(r"FIRST=([\d.]+) TOTAL=([\d.]+)", paced.stdout.str()).groups())
    assert first < 0.5 and total >= 0.9, (first, total)


def test_replay_yields_the_recorded_chunk_boundaries(agents, model_server, closed_url, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = agents.runpytest("--record-mode=once", "-k", "raw_chunks", "-s")
    monkeypatch.setenv("MODEL_URL", closed_url)
    replayed = agents.runpytest("-k", "raw_chunks", "-s")
    replayed.assert_outcomes(passed=1)
    live = re.search(r"CHUNKS (\[.*\])", recorded.stdout.str()).group(1)
    assert re.search(r"CHUNKS (\[.*\])", replayed.stdout.str()).group(1) == live
    assert len(json.loads(live)) > 3


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


MISS_TEST = """
import os, time, anthropic, pytest

@pytest.mark.cassette
def test_weather():
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
    start = time.perf_counter()
    try:
        msg = client.messages.create(model="m", max_tokens=10,
                                     messages=[{"role": "user", "content": os.environ["QUESTION"]}])
    finally:
        print(f"ELAPSED={time.perf_counter() - start:.3f}")
    assert msg.content
"""


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
            "*       pytest test_weather.py::test_weather --record-mode=all",
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


def test_no_cassette_in_mode_none_says_how_to_record(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cassette
        def test_new():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*NoCassetteError: harness: this test has no cassette yet (mode 'none' only replays)",
            "*  expected: cassettes/test_no_cassette_in_mode_none_says_how_to_record/test_new.json",
            "*    pytest test_no_cassette_in_mode_none_says_how_to_record.py::test_new --record-mode=once",
        ]
    )
    assert not (pytester.path / "cassettes").exists()


def test_cassette_fixture_exposes_the_cassette(pytester, model_server, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        def test_fixture(cassette):
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
            print("MODE", cassette.mode, "N", len(cassette.interactions), "PLAYED", cassette.played, "REC", cassette.recorded)
            assert cassette.path.name == "test_fixture.json"
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    first = pytester.runpytest("--record-mode=once", "-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*MODE once N 1 PLAYED [[]] REC [[]0]*"])
    again = pytester.runpytest("-s")
    again.stdout.fnmatch_lines(["*MODE none N 1 PLAYED [[]0] REC [[]]*"])


def test_settings_precedence(pytester, model_server, monkeypatch):
    # pyproject says once, the fixture says new_episodes, the marker says all, the CLI says none.
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        harness_record_mode = "once"
        harness_cassette_dir = "tapes"
        asyncio_default_fixture_loop_scope = "function"
        """
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def harness_config():
            return {"record_mode": "new_episodes"}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_ini_and_fixture(cassette):
            print("MODE", cassette.mode, cassette.path.parent.name)

        @pytest.mark.cassette(record_mode="all")
        def test_marker(cassette):
            print("MODE", cassette.mode)
        """
    )
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*MODE new_episodes test_settings_precedence*", "*MODE all*"])
    assert (pytester.path / "tapes").is_dir()
    result = pytester.runpytest("-s", "--record-mode=none", "-k", "marker")
    result.stdout.fnmatch_lines(["*MODE none*"])


def test_a_misspelt_marker_option_fails_loudly(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cassette(record_mod="once")
        def test_typo():
            pass

        @pytest.mark.cassette(record_mode="sometimes")
        def test_bad_mode():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ConfigError: harness: @pytest.mark.cassette has no option 'record_mod' (did you mean 'record_mode'?)",
            "*ConfigError: harness: cassette marker: record mode 'sometimes' is not one of none, once, new_episodes, all, rewrite",
        ]
    )


def test_coexists_with_pytest_recording(pytester, model_server, closed_url, monkeypatch):
    # pytest-recording is installed in this environment and defines --record-mode too.
    pytester.makepyfile(MISS_TEST)
    result = pytester.runpytest("--help")
    assert result.stdout.str().count("--record-mode") == 1
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "hi")
    pytester.runpytest("-p", "recording", "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest("-p", "recording", "--record-mode=none").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:recording").assert_outcomes(passed=1)


def test_new_episodes_appends(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(MISS_TEST)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "first")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("QUESTION", "second")
    pytester.runpytest("--record-mode=new_episodes", "--allow-unplayed").assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("*.json")
    contents = [i["request"]["body"]["json"]["messages"][0]["content"] for i in load_cassette(path)["interactions"]]
    assert contents == ["first", "second"]


def test_vcrpy_holds_the_stream_back_while_recording(model_server, tmp_path):
    # The contrast that makes harness record at the transport itself: vcrpy's httpx2 stubs read the
    # whole body before the SDK sees a byte, so the first event waits for the server's pause.
    vcr = pytest.importorskip("vcr")
    import anthropic

    client = anthropic.Anthropic(
        api_key="sk-ant-test", base_url=model_server.url, default_headers={"x-fake-scenario": "pause=1.0"}
    )
    with vcr.VCR().use_cassette(str(tmp_path / "vcr.yaml")):
        start = time.perf_counter()
        with client.messages.stream(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}]) as stream:
            first = next(iter(stream))
            first_at = time.perf_counter() - start
    assert first.type == "message_start"
    assert first_at >= 0.9, first_at


TIMEOUTS = """
import asyncio, contextlib, inspect, os, time, anthropic, httpx2, pytest

ARGS = dict(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
ERRORS = {"ReadTimeout": httpx2.ReadTimeout, "APITimeoutError": anthropic.APITimeoutError}


def client(cls):
    # max_retries=0: a retried request would find its one recording already played.
    return cls(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0,
               timeout=float(os.environ.get("TIMEOUT", "10")), default_headers={"x-fake-scenario": "pause=1.0"})


def check(name, call):
    # Times the call alone (not the event loop's start), expecting the error named by $EXPECT.
    expected = os.environ.get("EXPECT")
    outcome = pytest.raises(ERRORS[expected]) if expected else contextlib.nullcontext()

    async def timed():
        start = time.perf_counter()
        try:
            with outcome:
                await call() if inspect.iscoroutinefunction(call) else call()
        finally:
            print(f"ELAPSED {name} {time.perf_counter() - start:.3f}")

    asyncio.run(timed())


@pytest.mark.cassette
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_paused_stream(kind):
    # The server sends the first event, then pauses 1 s.
    def sync():
        with client(anthropic.Anthropic).messages.stream(**ARGS) as stream:
            stream.get_final_message()

    async def in_async():
        async with client(anthropic.AsyncAnthropic).messages.stream(**ARGS) as stream:
            await stream.get_final_message()

    check(f"stream-{kind}", sync if kind == "sync" else in_async)


@pytest.mark.cassette
@pytest.mark.parametrize("kind", ["sync", "async"])
def test_slow_headers(kind):
    def sync():
        client(anthropic.Anthropic).messages.create(**ARGS)

    async def in_async():
        await client(anthropic.AsyncAnthropic).messages.create(**ARGS)

    check(f"headers-{kind}", sync if kind == "sync" else in_async)
"""


def _elapsed(result: pytest.RunResult) -> dict[str, float]:
    return {name: float(t) for name, t in re.findall(r"ELAPSED (\S+) ([\d.]+)", result.stdout.str())}


def test_paced_replay_trips_the_clients_read_timeout(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(test_timeouts=TIMEOUTS)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=4)

    # Live, a 0.3 s read timeout trips on the 1 s pause mid-stream: httpx2.ReadTimeout, which the
    # SDK lets through as it is when it is raised while the body streams.
    monkeypatch.setenv("TIMEOUT", "0.3")
    monkeypatch.setenv("EXPECT", "ReadTimeout")
    pytester.runpytest(
        "-p", "no:harness", "-k", "paused_stream", "-W", "ignore::pytest.PytestUnknownMarkWarning"
    ).assert_outcomes(passed=2)

    # Replayed at the recorded pace, with the server gone: the same error, after the timeout (not the whole pause)
    monkeypatch.setenv("MODEL_URL", closed_url)
    paced = pytester.runpytest("--replay-speed=1", "-k", "paused_stream", "-s")
    paced.assert_outcomes(passed=2)
    for name in ("stream-sync", "stream-async"):
        assert 0.28 <= _elapsed(paced)[name] < 0.9, _elapsed(paced)
    # Instant replay has no pause to time out on
    monkeypatch.delenv("EXPECT")
    pytester.runpytest("-k", "paused_stream").assert_outcomes(passed=2)

    # Time to the response headers is paced too (here, made 0.8 s by hand), and a wait longer than
    # the read timeout raises the SDK's own timeout error after the timeout.
    for path in (pytester.path / "cassettes").rglob("test_slow_headers*.json"):
        doc = load_cassette(path)
        doc["interactions"][0]["elapsed_ms"] = 800.0
        path.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv("TIMEOUT", "0.3")
    monkeypatch.setenv("EXPECT", "APITimeoutError")
    timed_out = pytester.runpytest("--replay-speed=1", "-k", "slow_headers", "-s")
    timed_out.assert_outcomes(passed=2)
    for name in ("headers-sync", "headers-async"):
        assert 0.28 <= _elapsed(timed_out)[name] < 0.75, _elapsed(timed_out)
    monkeypatch.setenv("TIMEOUT", "10")
    monkeypatch.delenv("EXPECT")
    slow = pytester.runpytest("--replay-speed=2", "-k", "slow_headers", "-s")
    slow.assert_outcomes(passed=2)
    for name in ("headers-sync", "headers-async"):
        assert 0.38 <= _elapsed(slow)[name] < 0.78, _elapsed(slow)


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
            "*       pytest test_shared.py::test_one --record-mode=new_episodes  # shared cassette: record mode 'all' on this"
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


def test_cassette_dir_option_and_pyproject_record_mode(pytester, model_server, closed_url, monkeypatch):
    # pyproject sets only the record mode; the cassette folder comes from the command line.
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        harness_record_mode = "once"
        asyncio_default_fixture_loop_scope = "function"
        """
    )
    pytester.makepyfile(test_weather=MISS_TEST)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "hi")
    pytester.runpytest("--cassette-dir=recorded/tapes").assert_outcomes(passed=1)
    assert (pytester.path / "recorded" / "tapes" / "test_weather" / "test_weather.json").is_file()
    assert not (pytester.path / "cassettes").exists()

    # once, from pyproject, replays the cassette that now exists: no server needed
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest("--cassette-dir=recorded/tapes").assert_outcomes(passed=1)
    # without the option, the default folder has none
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*expected: cassettes/test_weather/test_weather.json"])
