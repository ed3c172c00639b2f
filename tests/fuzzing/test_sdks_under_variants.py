"""The real SDKs under meaning-preserving variants: every variant gives the recorded result (sync, async,
each API), the callback order checker, rechunk extremes; and the fuzzer finding planted bugs."""

from __future__ import annotations

import asyncio
import collections
import json
import re
from typing import Any

import pytest
from hypothesis import given, settings

import harness.strategies as hs
from harness.fuzz import samples
from tests.fuzzing.scenarios import (
    ANSWER,
    MODEL,
    NO_SHRINK,
    NOWHERE,
    PROMPT,
    QUESTION,
    anthropic_agent,
    anthropic_async_crlf,
    assistants,
    assistants_api,
    chat,
    chat_async,
    claude,
    responses,
)

# =============================================================================================== real SDKs, meaning-preserving


def test_anthropic_agent_gives_the_recorded_result_for_every_variant(replay: Any) -> None:
    # Sync client, messages.stream(...).get_final_message(), two turns, thinking + text + tool_use:
    # every variant of either turn gives the same messages and the same (collapsed) event trace.
    with replay("anthropic_agent"):
        first, second, calls1, calls2 = hs.assert_equivalent(
            lambda: anthropic_agent(NOWHERE), traces="collapsed", max_examples=40
        )
    assert [b.type for b in first.content] == ["thinking", "text", "tool_use"] and first.content[2].input == {
        "city": "Paris",
        "unit": "celsius",
    }
    assert second.content[0].text == ANSWER
    assert hs.callback_violations(calls1) == [] and calls1[-1].name == "message_stop"
    assert [c.name for c in calls2][-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_anthropic_async_client_crlf_stream(replay: Any) -> None:
    # Async client; the stream uses CRLF line ends, so cuts land between \r and \n too.
    with replay("anthropic_async_crlf") as session:
        assert session.cassette.interactions[0].response.body.eol == "\r\n"
        final, calls = hs.assert_equivalent(lambda: anthropic_async_crlf(NOWHERE), max_examples=30)
    assert final.content[1].text.startswith("Je regarde la météo") and calls[0].name == "message_start"


def test_async_test_body_runs_in_its_own_loop(replay: Any) -> None:
    async def body() -> Any:
        return await anthropic_async_crlf(NOWHERE)

    with replay("anthropic_async_crlf"):
        final, _ = hs.assert_equivalent(body, hs.rechunked(), max_examples=10)
    assert final.stop_reason == "tool_use"


def test_openai_chat_sync_and_async(replay: Any) -> None:
    with replay("chat"):
        text, call, _, calls = hs.assert_equivalent(lambda: chat(NOWHERE), max_examples=30)
    assert text.choices[0].message.content == f"You said: {QUESTION}"
    assert call.choices[0].message.tool_calls[0].function.arguments == '{"city":"Café"}'
    assert "tool_calls.function.arguments.done" in [c.name for c in calls]
    with replay("chat_async"):
        completion, _ = hs.assert_equivalent(lambda: chat_async(NOWHERE), max_examples=20)
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_chat_stream_misses_a_done_event(replay: Any) -> None:
    # Found: when one chunk both opens a tool call and carries finish_reason (a whole tool call in
    # one chunk), ChatCompletionStream emits tool_calls.function.arguments.delta but never .done:
    # get_done_events checks finish_reason before it learns the chunk's tool-call index. The final
    # completion is right; code waiting for the .done event never gets it.
    with replay("chat") as session:
        whole = hs.resplit_ops(hs.targets(at=1)[0], [("merge_all",)])
        with hs.substitute(whole):
            _, call, _, calls = chat(NOWHERE)
        assert call.choices[0].message.tool_calls[0].function.arguments == '{"city":"Café"}'
        assert [c.name for c in calls] == ["chunk", "tool_calls.function.arguments.delta"]
        # The strict property (callback traces compared too) finds it on its own and shrinks to it.
        session.replay_from_start()
        with pytest.raises(AssertionError, match=r"tool_calls.function.arguments.done") as found:
            hs.assert_equivalent(
                lambda: chat(NOWHERE),
                hs.resplit(1),
                traces="collapsed",
                max_examples=100,
                database=None,
                derandomize=True,
                phases=NO_SHRINK,
            )
    assert "merge" in str(found.value)


def test_openai_responses_stream(replay: Any) -> None:
    with replay("responses"):
        text, call, calls, _ = hs.assert_equivalent(lambda: responses(NOWHERE), traces="collapsed", max_examples=30)
    assert text.output_text == f"You said: {QUESTION}" and call.output[0].arguments == '{"city":"Café"}'
    assert calls[-1].name == "response.completed"


@assistants_api
def test_openai_assistants_event_handler(replay: Any) -> None:
    with replay("assistants"):
        required, contents, _, calls2 = hs.assert_equivalent(lambda: assistants(NOWHERE), max_examples=30)
    assert required.submit_tool_outputs.tool_calls[0].function.arguments == '{"city":"Café"}'
    assert contents[-1][0].text.value == "You said: Say café ☕ please"
    assert calls2[-1].name == "on_end" and "on_text_delta" in [c.name for c in calls2]


@assistants_api
def test_assistants_callbacks_depend_on_chunking(replay: Any) -> None:
    # Found: when a tool call's first step delta already carries argument text (a merge of the
    # opening delta and the first fragment), the handler passes it to on_tool_call_created and
    # never to on_tool_call_delta: code that concatenates on_tool_call_delta loses it.
    with replay("assistants"), pytest.raises(AssertionError) as found:
        hs.assert_equivalent(
            lambda: assistants(NOWHERE), hs.resplit(1), traces="collapsed", max_examples=60, database=None, derandomize=True
        )
    assert "on_tool_call_created" in str(found.value) or ".tool_call.function.arguments" in str(found.value), found.value


def C(name: str, **args: Any) -> Any:
    return (name, args)


GOOD_RESPONSES_TRACE = [
    C("response.created", response={"status": "in_progress"}),
    C("response.output_item.added", output_index=0, item={"type": "message"}),
    C("response.content_part.added", output_index=0, content_index=0, part={"type": "output_text"}),
    C("response.output_text.delta", output_index=0, content_index=0, delta="Hi"),
    C("response.output_text.done", output_index=0, content_index=0, text="Hi"),
    C("response.content_part.done", output_index=0, content_index=0),
    C("response.output_item.done", output_index=0, item={"type": "message"}),
    C("response.completed", response={"status": "completed"}),
]
GOOD_ANTHROPIC_TRACE = [
    C("message_start", message={"role": "assistant"}),
    C("content_block_start", index=0, content_block={"type": "text"}),
    C("content_block_delta", index=0, delta={"text": "Hi"}),
    C("text", text="Hi", snapshot="Hi"),
    C("content_block_stop", index=0),
    C("message_delta", delta={"stop_reason": "end_turn"}),
    C("message_stop"),
]
GOOD_HANDLER_TRACE = [
    C("on_run_step_created", run_step={"type": "message_creation"}),
    C("on_message_created", message={"role": "assistant"}),
    C("on_text_created", text=""),
    C("on_text_delta", delta="Hi", snapshot="Hi"),
    C("on_text_done", text="Hi"),
    C("on_message_done", message={"role": "assistant"}),
    C("on_run_step_done", run_step={"type": "message_creation"}),
    C("on_end"),
]


@pytest.mark.parametrize(
    ("trace", "problem"),
    [
        # a delta after its block was done
        ([*GOOD_ANTHROPIC_TRACE[:5], C("content_block_delta", index=0, delta={"text": "!"}), *GOOD_ANTHROPIC_TRACE[5:]],
         "#5 content_block_delta: delta after block [0] was done"),
        # a delta before its block was created
        ([GOOD_ANTHROPIC_TRACE[0], C("content_block_delta", index=1, delta={"text": "?"}), *GOOD_ANTHROPIC_TRACE[1:]],
         "#1 content_block_delta: delta before block [1] was created"),
        # a block never closed by the end
        ([*GOOD_ANTHROPIC_TRACE[:4], *GOOD_ANTHROPIC_TRACE[5:]], "block [0] was never done before the end"),
        ([*GOOD_HANDLER_TRACE[:4], *GOOD_HANDLER_TRACE[5:]], "text #1 was never done before the end"),
        # something after on_end / message_stop
        ([*GOOD_HANDLER_TRACE, C("on_text_delta", delta="late", snapshot="Hilate")], "#8 on_text_delta after the end (#7 on_end)"),
        ([*GOOD_ANTHROPIC_TRACE, C("message_delta", delta={})], "#7 message_delta after the end (#6 message_stop)"),
        # Responses: a text delta after its output item was done (another part of it, never added)
        ([*GOOD_RESPONSES_TRACE[:7], C("response.output_text.delta", output_index=0, content_index=1, delta="late"), GOOD_RESPONSES_TRACE[7]],
         "#7 response.output_text.delta: after item [0] was done"),
        # ... and one before its item and part were added
        ([GOOD_RESPONSES_TRACE[0], C("response.output_text.delta", output_index=0, content_index=0, delta="early"), *GOOD_RESPONSES_TRACE[1:]],
         "#1 response.output_text.delta: before item [0] was created"),
        ([*GOOD_RESPONSES_TRACE[:2], C("response.output_text.delta", output_index=0, content_index=0, delta="early"), *GOOD_RESPONSES_TRACE[2:]],
         "#2 response.output_text.delta: before part [0, 0] was created"),
    ],
)  # fmt: skip
def test_callback_order_checker_catches_bad_traces(trace: list[Any], problem: str) -> None:
    for good in (GOOD_ANTHROPIC_TRACE, GOOD_RESPONSES_TRACE, GOOD_HANDLER_TRACE):
        assert hs.callback_violations(good) == []
    assert problem in hs.callback_violations(trace)
    with pytest.raises(AssertionError, match=re.escape(problem)):
        hs.assert_callback_order(trace)


def test_rechunk_extremes_are_generated_and_replay(replay: Any) -> None:
    # One byte per chunk and everything in one chunk: options of their own (by chance, 0 and 1
    # in 500 draws), generated within the first examples, and replayed (async client, CRLF stream).
    with replay("anthropic_async_crlf"):
        rec = hs.targets(at=0)[0]
        expected = hs.comparable(asyncio.run(anthropic_async_crlf(NOWHERE))[0])
        seen: collections.Counter[str] = collections.Counter()

        @settings(max_examples=40, deadline=None, database=None, derandomize=True)
        @given(hs.rechunked())
        def check(v: hs.Variant) -> None:
            sizes = [c[0] for c in v.interaction.response.chunks]  # type: ignore[union-attr]
            mode = "bytewise" if sizes == [1] * len(rec.data) else "whole" if sizes == [len(rec.data)] else "cuts"
            with hs.substitute(v):
                final, _ = asyncio.run(anthropic_async_crlf(NOWHERE))
            assert hs.comparable(final) == expected
            seen[mode] += 1
            if mode != "cuts":
                assert ("one byte per chunk" if mode == "bytewise" else "everything in one chunk") in repr(v)

        check()
    assert seen["bytewise"] >= 1 and seen["whole"] >= 1 and seen["cuts"] > 30, seen


# =============================================================================================== the planted bugs


def word_accumulator(url: str) -> str:
    """Deliberately broken: assumes every text delta is one whole word (true of the recording)."""
    words = []
    with claude(url).messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
    ) as stream:
        for text in stream.text_stream:
            words.append(text.strip())
    return " ".join(words)


def per_chunk_decoder(url: str) -> str:
    """Deliberately broken: decodes each network chunk on its own, and its lines on their own."""
    text = ""
    with claude(url).messages.with_streaming_response.create(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL], stream=True
    ) as response:
        for chunk in response.iter_bytes():
            for line in chunk.decode("utf-8").splitlines():
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    if data["type"] == "content_block_delta" and data["delta"]["type"] == "text_delta":
                        text += data["delta"]["text"]
    return text


def test_fuzzer_finds_the_planted_bug_in_a_broken_accumulator(replay: Any) -> None:
    with replay("anthropic_agent"):
        assert word_accumulator(NOWHERE) == "Je regarde la météo à Paris ☕ — 東京 aussi? Un instant."  # plain replay passes
        with pytest.raises(AssertionError) as found:
            hs.assert_equivalent(
                lambda: word_accumulator(NOWHERE), hs.resplit(0), max_examples=100, database=None, derandomize=True
            )
    report = str(found.value) + "".join(getattr(found.value, "__notes__", []))
    # Shrunk to one split inside a word, printed with the event and the text around the cut.
    assert re.search(
        r"variant: resplit\(#0 anthropic: split #\d+ content_block_delta text_delta '[^']*\w\|\w[^']*' at char \d+\)", report
    ), report


def test_fuzzer_finds_the_per_chunk_decoder_and_shrinks_to_one_byte(replay: Any) -> None:
    with replay("anthropic_agent"):
        assert per_chunk_decoder(NOWHERE).startswith("Je regarde")
        with pytest.raises((UnicodeDecodeError, ValueError)) as found:
            hs.assert_equivalent(
                lambda: per_chunk_decoder(NOWHERE), hs.rechunked(0), max_examples=100, database=None, derandomize=True
            )
    notes = "\n".join(getattr(found.value, "__notes__", []))
    assert re.search(r"variant=rechunk\(#0: cuts at bytes \[\d+\]; byte \d+ = ", notes), notes
