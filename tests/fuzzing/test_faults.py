"""Injected faults and the SDK error table: what reaches the caller of each SDK's stream helper, per format
and fault (harness.fuzz.sdk_errors says the same); read timeouts honoured; nothing hangs."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest

import harness.strategies as hs
from harness import record_callbacks
from harness.fuzz import samples
from tests.fuzzing.scenarios import (
    MODEL,
    NO_SHRINK,
    NOWHERE,
    PROMPT,
    QUESTION,
    RESP_TOOL,
    Handler,
    anthropic_async_crlf,
    anthropic_one,
    assistants,
    assistants_api,
    assistants_async,
    chat,
    chat_async,
    claude,
    gpt,
    responses,
    responses_async,
)

READ_TIMEOUT = 0.02  # the clients' read timeout in fault tests: a stalled stream raises ReadTimeout after it

# What reaches the caller of each SDK's stream helper, per format and fault, as the fuzzer found it
# (class names; "returned": a partial result and no error). harness.fuzz.sdk_errors must say the same.
SDK_FINDINGS: dict[str, dict[str, set[str]]] = {
    "anthropic": {
        "status": {"RateLimitError", "OverloadedError"},
        "error_event": {"APIStatusError"},
        "drop": {"RemoteProtocolError"},
        "read_timeout": {"ReadTimeout"},
        "truncate": {"returned", "AssertionError"},
    },
    "openai-chat": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"APIError"},
        "drop": {"APIConnectionError"},
        "read_timeout": {"APITimeoutError"},
        "truncate": {"returned", "AssertionError"},
    },
    "openai-responses": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"RuntimeError"},
        "drop": {"APIConnectionError"},
        "read_timeout": {"APITimeoutError"},
        "truncate": {"RuntimeError"},
    },
    "openai-assistants": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"APIError"},
        "drop": {"RemoteProtocolError"},
        "read_timeout": {"ReadTimeout"},
        "truncate": {"returned", "RuntimeError"},
    },
}
# Where the SDK does not keep to its documented APIError family (the findings).
UNDOCUMENTED = {
    ("anthropic", "drop"),
    ("anthropic", "read_timeout"),
    ("anthropic", "truncate"),
    ("openai-chat", "truncate"),
    ("openai-responses", "error_event"),
    ("openai-responses", "truncate"),
    ("openai-assistants", "drop"),
    ("openai-assistants", "read_timeout"),
    ("openai-assistants", "truncate"),
}
# (recording, interaction faulted or None for every stream, the code under test) per format and mode.
FAULT_RUNS: dict[tuple[str, str], tuple[str, int | None, Callable[..., Any]]] = {
    ("anthropic", "sync"): ("anthropic_agent", 0, lambda **kw: anthropic_one(NOWHERE, **kw)),
    ("anthropic", "async"): ("anthropic_async_crlf", 0, lambda **kw: anthropic_async_crlf(NOWHERE, **kw)),
    ("openai-chat", "sync"): ("chat", None, lambda **kw: chat(NOWHERE, **kw)),
    ("openai-chat", "async"): ("chat_async", None, lambda **kw: chat_async(NOWHERE, **kw)),
    ("openai-responses", "sync"): ("responses", None, lambda **kw: responses(NOWHERE, **kw)),
    ("openai-responses", "async"): ("responses_async", None, lambda **kw: responses_async(NOWHERE, **kw)),
    ("openai-assistants", "sync"): ("assistants", None, lambda **kw: assistants(NOWHERE, **kw)),
    ("openai-assistants", "async"): ("assistants_async", None, lambda **kw: assistants_async(NOWHERE, **kw)),
}


def outcome(v: hs.Variant, fn: Callable[[], Any]) -> Any:
    """What ``fn`` returns or raises with ``v`` in place of its recording (the watchdog on: nothing hangs)."""
    try:
        with hs.substitute(v):
            return hs.call_with_timeout(fn, timeout=5)
    except hs.StreamHang:
        raise
    except Exception as exc:
        return exc


@assistants_api
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("format_name", list(SDK_FINDINGS))
def test_every_fault_fails_as_the_sdk_table_says(replay: Any, format_name: str, mode: str) -> None:
    # Every fault kind, for every format, sync and async, through the SDK's stream helper:
    # assert_fails_cleanly with its default expectation (the table of what the SDK raises) passes,
    # within the watchdog; what came out is what the findings say; the table says the same.
    name, at, run = FAULT_RUNS[format_name, mode]
    findings = SDK_FINDINGS[format_name]
    seen: dict[str, set[str]] = collections.defaultdict(set)
    with replay(name):
        for kind in hs.KINDS:
            outcomes: list[hs.Outcome] = []
            hs.assert_fails_cleanly(
                lambda: run(max_retries=0, timeout=READ_TIMEOUT),
                hs.faults(at, kinds=(kind,)),
                accept=lambda o, kind=kind: o.error is None and "returned" in findings[kind],  # type: ignore[misc]
                outcomes=outcomes,
                max_examples=6,
                timeout=5,
                database=None,
            )
            seen[kind] |= {"returned" if o.error is None else type(o.error).__name__ for o in outcomes if o.variant.played}
    for kind in hs.KINDS:
        assert seen[kind] and seen[kind] <= findings[kind], (kind, seen[kind])
        behaviour = hs.sdk_behaviour(format_name, kind)
        assert behaviour is not None and behaviour.returns == ("returned" in findings[kind])
        assert behaviour.documented == ((format_name, kind) not in UNDOCUMENTED), behaviour
        assert bool(behaviour.finding) == (behaviour.documented is False or (format_name, kind) == ("anthropic", "error_event"))


def test_openai_chat_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("chat"):
        rec = hs.targets(at=0)[0]  # the text answer
        run = lambda: chat(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: transport faults wrapped, the error event as APIError, HTTP errors by status.
        assert type(outcome(hs.drop(rec, 700), run)) is openai.APIConnectionError
        assert type(outcome(hs.read_timeout(rec, 4), run)) is openai.APITimeoutError
        assert type(outcome(hs.error_event(rec, 4), run)) is openai.APIError
        assert type(outcome(hs.status(rec, 429), run)) is openai.RateLimitError
        # Found: a stream that ends cleanly before [DONE] gives a partial completion, and no error...
        text, *_ = outcome(hs.truncate(rec, 5), run)
        assert text.choices[0].finish_reason is None and f"You said: {QUESTION}".startswith(text.choices[0].message.content)
        assert text.choices[0].message.content != f"You said: {QUESTION}"
        # ... and one that ends before its first chunk a bare AssertionError from get_final_completion().
        assert type(outcome(hs.truncate(rec, 0), run)) is AssertionError
        # Code reading the raw bytes (with_streaming_response + iter_bytes) sees httpx2's own errors.
        raw = lambda: raw_chat(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        assert type(outcome(hs.drop(rec, 700), raw)) is httpx2.RemoteProtocolError
        assert type(outcome(hs.read_timeout(rec, 4), raw)) is httpx2.ReadTimeout
        assert outcome(hs.truncate(rec, 5), raw) == b"".join(rec.parts[:5])  # a clean end: nothing says it was cut
        # The property says so (truncation was left out of this test before), shrunk to the first case:
        with pytest.raises(
            AssertionError, match=r"did not surface: the code returned normally[\s\S]*SDK itself returns normally"
        ):
            hs.assert_fails_cleanly(run, hs.faults(0, kinds=("truncate",)), max_examples=10, database=None, phases=NO_SHRINK)


def raw_chat(url: str, **kw: Any) -> bytes:
    """The first chat request of ``chat``, its body read as raw bytes."""
    with gpt(url, **kw).chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], stream=True
    ) as response:
        return b"".join(response.iter_bytes())


def responses_events(url: str, **kw: Any) -> tuple[list[str], BaseException | None]:
    """The event types the Responses stream yields, and what get_final_response() raised then."""
    with gpt(url, **kw).responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL]) as stream:
        names = [event.type for event in stream]
        try:
            stream.get_final_response()
        except Exception as exc:
            return names, exc
    return names, None


def test_openai_responses_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("responses"):
        rec = hs.targets(at=1)[0]  # the tool call
        run = lambda: responses(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: transport faults wrapped as APIConnectionError / APITimeoutError.
        assert type(outcome(hs.drop(rec, 300), run)) is openai.APIConnectionError
        assert type(outcome(hs.read_timeout(rec, 4), run)) is openai.APITimeoutError
        # Found: the documented mid-stream `error` event is handed over as an event, then
        # get_final_response() raises RuntimeError, not an APIError...
        error = hs.error_event(rec, 4)
        assert error.interaction.response.body.value[-1]["data"]["type"] == "error"  # type: ignore[union-attr]
        failed = outcome(error, run)
        assert type(failed) is RuntimeError and str(failed) == "Didn't receive a `response.completed` event."
        names, raised = outcome(error, lambda: responses_events(NOWHERE, max_retries=0))
        assert names[-1] == "error" and type(raised) is RuntimeError
        # ... and so does a stream that ends cleanly before response.completed, wherever it ends.
        for after in (0, 3, len(rec.events) - 1):  # type: ignore[arg-type]
            cut = outcome(hs.truncate(rec, after), run)
            assert type(cut) is RuntimeError and "response.completed" in str(cut)
        # The SDK raises APIError only for event data with an "error" key (not the documented shape):
        legacy_shape = b'event: error\ndata: {"error": {"message": "boom", "type": "server_error"}}\n\n'
        with hs.override() as router:
            router.post(path="/v1/responses").mock(
                side_effect=[
                    hs.from_cassette,
                    httpx.Response(200, headers={"content-type": "text/event-stream"}, content=legacy_shape),
                ]
            )
            with pytest.raises(openai.APIError, match="boom"):
                run()
        # The strict property (only the documented family) finds it and shrinks to it.
        with pytest.raises(AssertionError, match=r"undocumented exception \(expected openai.APIError\)[\s\S]*RuntimeError"):
            hs.assert_fails_cleanly(
                run, hs.faults(1, kinds=("error_event",)), expected=openai.APIError, max_examples=5, database=None
            )


def assistants_text(url: str, calls: list[Any], **kw: Any) -> list[Any]:
    """The text run of the Assistants recording alone; the handler's callbacks go to ``calls``."""
    client = gpt(url, **kw)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
    recorder = record_callbacks(Handler())
    try:
        with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fuzz", event_handler=recorder.target) as s:
            s.until_done()
            return s.get_final_messages()
    finally:
        calls[:] = recorder.calls


@assistants_api
def test_openai_assistants_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("assistants"):
        rec = hs.targets(at=3)[0]  # the text run
        calls: list[Any] = []
        run = lambda: assistants_text(NOWHERE, calls, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: the error event raises APIError.
        assert type(outcome(hs.error_event(rec, 8), run)) is openai.APIError
        # Found: a connection lost or a read timeout mid-stream reaches the caller as the raw httpx2
        # exception (openai/lib/streaming/_assistants.py catches the APIConnectionError / APITimeoutError
        # the SDK's Stream raised and re-raises its __cause__); the handler's on_exception gets it too.
        dropped = outcome(hs.drop(rec, 3000), run)
        assert type(dropped) is httpx2.RemoteProtocolError and not isinstance(dropped, openai.APIError)
        assert [c.name for c in calls][-2:] == ["on_exception", "on_end"]
        assert type(outcome(hs.read_timeout(rec, 8), run)) is httpx2.ReadTimeout
        assert [c.name for c in calls][-3:] == ["on_timeout", "on_exception", "on_end"]
        # Found: a stream that ends cleanly early: until_done() returns; get_final_messages() raises
        # RuntimeError("No messages found") when no message had started ...
        early = outcome(hs.truncate(rec, 5), run)
        assert type(early) is RuntimeError and str(early) == "No messages found"
        # ... and otherwise returns what came, no error: a message cut short, or whole but the run unfinished.
        partial = outcome(hs.truncate(rec, 9), run)
        assert partial[-1].content[0].text.value == "You said: Say café ☕ please"[: len(partial[-1].content[0].text.value)]
        assert partial[-1].content[0].text.value != "You said: Say café ☕ please"
        assert outcome(hs.truncate(rec, 14), run)[-1].content[0].text.value == "You said: Say café ☕ please"
        # The handler hears on_end all the same: it cannot tell a cut run from a finished one.
        assert calls[-1].name == "on_end" and "on_exception" not in [c.name for c in calls]


def test_anthropic_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        run = lambda: anthropic_one(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: HTTP errors before the stream, and the error event mid-stream.
        assert isinstance(outcome(hs.status(rec, 529), run), anthropic.OverloadedError)
        assert isinstance(outcome(hs.status(rec, 429), run), anthropic.RateLimitError)
        retried = outcome(hs.status(rec, 529), lambda: anthropic_one(NOWHERE, max_retries=2))
        assert retried.content[2].input == {"city": "Paris", "unit": "celsius"}
        mid = outcome(hs.error_event(rec, 6), run)
        # Found: an overloaded error event mid-stream raises the generic APIStatusError (status 200),
        # not OverloadedError (make_status_error keys on the HTTP status, which is 200).
        assert (
            type(mid) is anthropic.APIStatusError and mid.status_code == 200 and mid.body["error"]["type"] == "overloaded_error"
        )
        # Found: a connection lost or a read timeout mid-stream leaks the raw httpx2 exception; the SDK
        # does not wrap it as APIConnectionError / APITimeoutError (openai's Stream does).
        assert type(outcome(hs.drop(rec, 700), run)) is httpx2.RemoteProtocolError
        assert type(outcome(hs.read_timeout(rec, 6), run)) is httpx2.ReadTimeout
        # Found: a stream that ends cleanly before message_stop gives a partial message, no error
        # (after message_delta, even one that looks complete: stop_reason is set)...
        partial = outcome(hs.truncate(rec, 8), run)
        assert partial.stop_reason is None and partial.content[-1].type == "text"
        assert outcome(hs.truncate(rec, len(rec.events) - 1), run).stop_reason == "tool_use"  # type: ignore[arg-type]
        # ... and one that ends before message_start a bare AssertionError from get_final_message().
        assert type(outcome(hs.truncate(rec, 0), run)) is AssertionError
        # The strict property (the documented family only) says so, shrunk to the first case:
        with pytest.raises(AssertionError, match=r"undocumented exception \(expected anthropic.APIError\)"):
            hs.assert_fails_cleanly(
                run,
                hs.faults(at=0, kinds=("drop",)),
                expected=anthropic.APIError,
                max_examples=10,
                database=None,
                phases=NO_SHRINK,
            )
        # ... the default one (what the SDK raises) passes, and accepts what the caller handles itself.
        hs.assert_fails_cleanly(
            run, hs.faults(at=0, kinds=("truncate", "drop", "read_timeout")), max_examples=20, database=None,
            accept=lambda o: o.error is None and o.variant.fault == "truncate",
        )  # fmt: skip


def test_read_timeout_honours_the_request_timeout(replay: Any) -> None:
    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        stalled = hs.read_timeout(rec, 6)
        # A client with a read timeout: ReadTimeout after that long (not at once).
        start = time.monotonic()
        assert type(outcome(stalled, lambda: anthropic_one(NOWHERE, max_retries=0, timeout=0.3))) is httpx2.ReadTimeout
        assert 0.3 <= time.monotonic() - start < 2
        # A client without one waits, as on a real network, until the watchdog reports the hang...
        start = time.monotonic()
        with pytest.raises(hs.StreamHang, match=r"did not finish within 0\.3 s"):
            outcome(
                stalled, lambda: hs.call_with_timeout(lambda: anthropic_one(NOWHERE, max_retries=0, timeout=None), timeout=0.3)
            )
        assert time.monotonic() - start < 2
        # ... and so does one whose timeout is longer than the test's watchdog (the SDKs default to 600 s);
        # the report says what the fault waits for.
        with pytest.raises(hs.StreamHang, match=r"read_timeout fault stalls the stream[\s\S]*timeout=0.05"):
            hs.assert_fails_cleanly(
                lambda: anthropic_one(NOWHERE, max_retries=0),
                hs.faults(0, kinds=("read_timeout",)),
                timeout=0.3,
                max_examples=1,
                database=None,
                phases=NO_SHRINK,  # each attempt at shrinking a hang waits for the watchdog
            )
        # A stall shorter than the read timeout ends with the server closing the connection.
        start = time.monotonic()
        closed = outcome(hs.read_timeout(rec, 6, stall=0.2), lambda: anthropic_one(NOWHERE, max_retries=0, timeout=5))
        assert type(closed) is httpx2.RemoteProtocolError and 0.2 <= time.monotonic() - start < 2
    # Async clients: the same, on the event loop (openai wraps the ReadTimeout as APITimeoutError).
    with replay("chat_async"):
        rec = hs.targets(at=0)[0]
        start = time.monotonic()
        got = outcome(hs.read_timeout(rec, 2), lambda: chat_async(NOWHERE, max_retries=0, timeout=0.3))
        assert type(got) is openai.APITimeoutError and 0.3 <= time.monotonic() - start < 2
        with pytest.raises(hs.StreamHang):
            outcome(
                hs.read_timeout(rec, 2),
                lambda: hs.call_with_timeout(lambda: chat_async(NOWHERE, max_retries=0, timeout=None), timeout=0.3),
            )


def test_nothing_hangs(replay: Any) -> None:
    def wait_for_stop() -> None:
        """Deliberately broken: polls until it has seen message_stop, even when the stream ended."""
        client = claude(NOWHERE, max_retries=0)
        with client.messages.stream(
            model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
        ) as stream:
            events = iter(stream)
            seen = False
            while not seen:
                event = next(events, None)
                seen = event is not None and event.type == "message_stop"

    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        start = time.monotonic()
        with pytest.raises(hs.StreamHang, match=r"did not finish within 0\.5 s"):
            with hs.substitute(hs.truncate(rec, 9)):
                hs.call_with_timeout(wait_for_stop, timeout=0.5)
        assert time.monotonic() - start < 3
        # The fault property reports a hang as a hang.
        with pytest.raises(hs.StreamHang):
            hs.assert_fails_cleanly(wait_for_stop, hs.faults(kinds=("truncate",)), timeout=0.5, max_examples=3, database=None)
