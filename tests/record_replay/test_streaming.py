"""Streams, recorded and replayed: while recording the SDK sees each event as it arrives (where vcrpy holds
the stream back), replay is instant or paced like the recording, and paced replay trips the clients' read
timeouts as the live server does. Every test runs real pytest sessions (pytester)."""

from __future__ import annotations

import json
import re
import time

import pytest

from tests.conftest import load_cassette


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
import asyncio, contextlib, inspect, os, time, anthropic, httpcore2, httpx2, pytest

ARGS = dict(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
ERRORS = {
    "ReadTimeout": httpx2.ReadTimeout,
    # Live, on a loaded machine, httpx2 sometimes lets its transport's own ReadTimeout through unmapped.
    "LiveReadTimeout": (httpx2.ReadTimeout, httpcore2.ReadTimeout),
    "APITimeoutError": anthropic.APITimeoutError,
}


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
    monkeypatch.setenv("EXPECT", "LiveReadTimeout")
    pytester.runpytest(
        "-p", "no:harness", "-k", "paused_stream", "-W", "ignore::pytest.PytestUnknownMarkWarning"
    ).assert_outcomes(passed=2)
    monkeypatch.setenv("EXPECT", "ReadTimeout")

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
