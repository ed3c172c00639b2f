"""The test-facing fuzzing API: substitute, the fuzz decorator in cassette tests (a real pytest session),
the respx layer, readable variant reprs."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

import harness.strategies as hs
from harness.cassette.model import HttpInteraction
from harness.errors import CassetteMiss
from harness.fuzz import samples
from tests.fuzzing.scenarios import (
    ANSWER,
    MODEL,
    NOWHERE,
    PROMPT,
    anthropic_agent,
    anthropic_one,
    chat_async,
)
from tests.servers.base import ServerThread

# =============================================================================================== the test-facing API


def test_substitute_replays_the_cassette_from_the_start_and_puts_it_back(replay: Any) -> None:
    with replay("anthropic_agent") as session:
        cassette = session.cassette
        before = list(cassette.interactions)
        anthropic_agent(NOWHERE)
        assert cassette.played == [0, 1]
        v = hs.rechunk(hs.targets(at=1)[0], [10, 20, 30])
        with hs.substitute(v, cassette) as active:
            assert active is v and cassette.interactions[1] is v.interaction and cassette.played == []
            anthropic_agent(NOWHERE)
        assert cassette.interactions == before and cassette.interactions[1] is before[1] and sorted(cassette.played) == [0, 1]
        # A request the cassette cannot answer inside the block fails the block, even if swallowed.
        with pytest.raises(CassetteMiss):
            with hs.substitute(v):
                with contextlib.suppress(Exception):
                    anthropic_agent(NOWHERE)
                    anthropic_agent(NOWHERE)
        assert session.misses == []


DECORATED = """
import asyncio, os
import anthropic, pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase
import harness.strategies as hs
from harness.fuzz import samples

URL = os.environ["MODEL_URL"]
# This session's own example database (not the repo's .hypothesis); REUSE_ONLY: replay it, nothing else.
DB = dict(database=DirectoryBasedExampleDatabase(os.environ["HYPOTHESIS_DB"]))
if os.environ.get("REUSE_ONLY"):
    DB["phases"] = [Phase.reuse]
ARGS = dict(model=samples.MODEL, max_tokens=1024, messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=[samples.WEATHER_TOOL])
RUNS = []


@pytest.mark.cassette
@hs.fuzz(hs.equivalent(), max_examples=15, **DB)
def test_sync(variant):
    RUNS.append(variant)
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
        final = stream.get_final_message()
    assert final.content[1].text == "Je regarde la météo à Paris ☕ — 東京 aussi? Un instant."


@pytest.mark.cassette
@hs.fuzz(hs.resplit(), max_examples=10, **DB)
async def test_async(cassette):
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
        final = await stream.get_final_message()
    assert final.content[2].input == {"city": "Paris", "unit": "celsius"}


@pytest.mark.cassette
@hs.fuzz(hs.rechunked(), max_examples=200, **DB)
def test_planted(variant):
    text = ""
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.with_streaming_response.create(stream=True, **ARGS) as response:
        for chunk in response.iter_bytes():
            text += chunk.decode("utf-8")   # the planted bug: decodes each chunk on its own
    assert "météo" in text


@pytest.mark.cassette("test_fuzzed/test_sync.json")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], **DB)
@given(variant=hs.rechunked())
def test_plain_given(cassette, variant):
    with hs.substitute(variant, cassette):
        with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
            assert stream.get_final_message().content[2].input == {"city": "Paris", "unit": "celsius"}


def test_counts():
    assert len(RUNS) in (1, 15)  # recording: once, as is; replay: once per variant
"""


def test_fuzz_decorator_in_cassette_tests(
    pytester: pytest.Pytester, stub_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_fuzzed=DECORATED)
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("MODEL_URL", stub_server.url)
    database = pytester.path / "hypothesis-examples"
    monkeypatch.setenv("HYPOTHESIS_DB", str(database))
    # While recording, each body runs once, as is (and the planted bug does not show).
    pytester.runpytest("--record-mode=once", "-p", "no:randomly").assert_outcomes(passed=5)
    assert len(list((pytester.path / "cassettes").rglob("*.json"))) == 3

    monkeypatch.setenv("MODEL_URL", NOWHERE)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=1)
    # The planted bug, shrunk to one cut inside a multi-byte character, printed readably.
    result.stdout.re_match_lines(
        [r".*variant=rechunk\(#0: cuts at bytes \[\d+\]; byte \d+ = inside '.' \(after UTF-8 byte \d of \d\).*"]
    )
    first = re.search(r"variant=(rechunk\(.*\)),", result.stdout.str()).group(1)  # type: ignore[union-attr]
    assert any(p.is_file() for p in database.rglob("*"))  # saved in this session's own database
    # The failing variant is in the hypothesis database: the next run replays it first. Only the
    # reuse phase runs (no generation, no shrinking): the failure can only come from the database.
    monkeypatch.setenv("REUSE_ONLY", "1")
    again = pytester.runpytest("-p", "no:randomly", "-k", "planted")
    again.assert_outcomes(failed=1)
    assert first in again.stdout.str()


# =============================================================================================== the respx layer


def test_respx_override_second_model_call_answers_529(replay: Any) -> None:
    overloaded = httpx.Response(
        529,
        json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        headers={"retry-after-ms": "1"},
    )
    with replay("anthropic_agent") as session:
        # No retries: the SDK raises its documented OverloadedError on the second model call.
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded])
            with pytest.raises(anthropic.OverloadedError):
                anthropic_agent(NOWHERE, max_retries=0)
        # (a route answering None, like from_cassette, counts as not matching: only the 529 counts)
        assert route.call_count == 1 and session.cassette.played == [0]

        # With retries: the 529, then the recording; the agent gets the recorded answer.
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded, hs.from_cassette])
            _, second, _, _ = anthropic_agent(NOWHERE, max_retries=2)
        assert second.content[0].text == ANSWER and route.call_count == 1 and session.cassette.played == [0, 1]

        # An async agent: the route answers its second model call with the 529.
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded])
            with pytest.raises(anthropic.OverloadedError):
                asyncio.run(anthropic_agent_async(NOWHERE, max_retries=0))
        assert route.call_count == 1 and session.cassette.played == [0]
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded, hs.from_cassette])
            second = asyncio.run(anthropic_agent_async(NOWHERE, max_retries=2))
        assert second.content[0].text == ANSWER and route.call_count == 1 and session.cassette.played == [0, 1]

        # Async clients go through the same layer; unmatched requests fall back to the cassette.
        session.replay_from_start()
        with hs.override() as router:
            router.get(path="/unrelated").mock(return_value=httpx.Response(204))
            final, _ = asyncio.run(anthropic_async_crlf_nowhere())
        assert final.stop_reason == "tool_use"
        # A route can answer with a fuzzer variant (here: the connection drops mid-stream).
        session.replay_from_start()
        with hs.override() as router:
            router.post(path="/v1/messages").mock(side_effect=hs.respond(hs.drop(hs.targets(at=0)[0], 500)))
            with pytest.raises(httpx2.RemoteProtocolError):
                anthropic_one(NOWHERE, max_retries=0)
        # ... or stalls, honouring the request's read timeout.
        session.replay_from_start()
        with hs.override() as router:
            router.post(path="/v1/messages").mock(side_effect=hs.respond(hs.read_timeout(hs.targets(at=0)[0], 6)))
            start = time.monotonic()
            with pytest.raises(httpx2.ReadTimeout):
                anthropic_one(NOWHERE, max_retries=0, timeout=0.2)
            assert 0.2 <= time.monotonic() - start < 2
        # Outside the block, the seam answers again.
        session.replay_from_start()
        assert anthropic_one(NOWHERE).stop_reason == "tool_use"

    # OpenAI, async: a route answers 429; without retries the SDK raises RateLimitError, with them
    # it gets the recording on the retry.
    rate_limited = httpx.Response(
        429,
        json={"error": {"message": "Rate limited", "type": "rate_limit_exceeded", "param": None, "code": "rate_limit_exceeded"}},
        headers={"retry-after-ms": "1"},
    )
    with replay("chat_async") as session:
        with hs.override() as router:
            route = router.post(path="/v1/chat/completions").mock(side_effect=[rate_limited])
            with pytest.raises(openai.RateLimitError):
                asyncio.run(chat_async(NOWHERE, max_retries=0))
        assert route.call_count == 1 and session.cassette.played == []
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/chat/completions").mock(side_effect=[rate_limited, hs.from_cassette])
            completion, _ = asyncio.run(chat_async(NOWHERE, max_retries=2))
        assert completion.choices[0].finish_reason == "tool_calls" and route.call_count == 1 and session.cassette.played == [0]


async def anthropic_agent_async(url: str, **kw: Any) -> Any:
    """The two-turn agent of ``anthropic_agent`` with an async client (the same requests): its final answer."""
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=url, **kw) as client:
        messages: list[Any] = [{"role": "user", "content": PROMPT}]
        args: Any = dict(model=MODEL, max_tokens=1024, tools=[samples.WEATHER_TOOL])
        async with client.messages.stream(messages=messages, **args) as stream:
            first = await stream.get_final_message()
        tool = next(b for b in first.content if b.type == "tool_use")
        messages += [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True, exclude={"parsed_output"}) for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": f"sunny in {tool.input['city']}"}],
            },
        ]
        async with client.messages.stream(messages=messages, **args) as stream:
            return await stream.get_final_message()


async def anthropic_async_crlf_nowhere() -> Any:
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=NOWHERE) as client:
        async with client.messages.stream(
            model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
        ) as stream:
            return await stream.get_final_message(), []


def test_variant_reprs_are_readable_in_hypothesis_reports(replay: Any) -> None:
    # What hypothesis prints for a failing example is the variant's one-line label.
    from hypothesis.vendor.pretty import pretty

    rec = hs.targets(samples.weather_stream())[0]
    v = hs.rechunk(rec, [rec.data.index("☕".encode()) + 2])
    assert pretty(v) == repr(v) and "inside '☕' (after UTF-8 byte 2 of 3)" in repr(v)
    assert isinstance(v.interaction, HttpInteraction) and v.explain().startswith("variant of interaction #0: rechunk(")
