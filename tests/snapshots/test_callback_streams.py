"""harness.record_callbacks on the SDKs' streams, against the real SDKs: Anthropic message streams (sync,
async, raw), Chat Completions chunks, Responses events, plain iterables; a recorded stream still passes
isinstance checks for what it wraps."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from openai.lib.streaming import AssistantEventHandler

from harness.callbacks import CallbackRecorder, record_callbacks
from tests.snapshots.wire import (
    CREATED,
    Json,
    Printer,
    anthropic_client,
    anthropic_events,
    chat_chunks,
    openai_client,
    sse,
)

# --------------------------------------------------------------------------------------------- streams


ANTHROPIC_ORDER = [
    "message_start",
    "content_block_start",  # (the SDK drops the ``ping`` event of the wire)
    "content_block_delta", "text",
    "content_block_delta", "text",
    "content_block_stop",
    "content_block_start",
    "content_block_delta", "input_json",
    "content_block_delta", "input_json",
    "content_block_stop",
    "message_delta",
    "message_stop",
]  # fmt: skip


def test_anthropic_message_stream() -> None:
    client = anthropic_client(sse(anthropic_events()))
    with record_callbacks(
        client.messages.stream(
            model="claude-test-model", max_tokens=64, messages=[{"role": "user", "content": "Weather in Paris?"}]
        )
    ) as stream:
        seen = [event.type for event in stream]  # the events themselves, unchanged
        message = stream.get_final_message()  # forwarded
        assert stream.current_message_snapshot is message
        assert stream.request_id == "req_011CZx9"

    assert seen == ANTHROPIC_ORDER == stream.names
    assert message.content[0].text == "Let me check." and message.content[1].input == {"city": "Paris"}
    calls = stream.calls
    assert calls[0] == ("message_start", {"message": {"type": "message", "role": "assistant", "content": []}})
    assert calls[1] == ("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    assert calls[2] == ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Let me "}})
    assert calls[3] == ("text", {"text": "Let me ", "snapshot": "Let me "})
    assert calls[5] == ("text", {"text": "check.", "snapshot": "Let me check."})
    assert calls[6] == ("content_block_stop", {"index": 0, "content_block": {"type": "text", "text": "Let me check."}})
    tool_block = {"id": "toolu_01A09q90qw90lq917835lq9", "type": "tool_use", "input": {"city": "Paris"}, "name": "get_weather"}
    assert calls[7] == ("content_block_start", {"index": 1, "content_block": {**tool_block, "input": {}}})
    assert calls[9] == ("input_json", {"partial_json": '{"city": ', "snapshot": {}})
    assert calls[11] == ("input_json", {"partial_json": '"Paris"}', "snapshot": {"city": "Paris"}})
    assert calls[12] == ("content_block_stop", {"index": 1, "content_block": tool_block})
    assert calls[13] == ("message_delta", {"delta": {"stop_reason": "tool_use"}})
    final = {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": "Let me check."}, tool_block],
        "stop_reason": "tool_use",
    }
    assert calls[14] == ("message_stop", {"message": final})


def test_anthropic_stream_consumed_any_way_is_recorded() -> None:
    # get_final_message() and text_stream pull events through the stream itself, not the recorder.
    client = anthropic_client(sse(anthropic_events()))
    with client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]) as raw:
        recorder = record_callbacks(raw, include={"text", "message_stop"})
        assert "".join(recorder.text_stream) == "Let me check."
        assert recorder.get_final_message().stop_reason == "tool_use"
    assert recorder.names == ["text", "text", "message_stop"]

    client = anthropic_client(sse(anthropic_events()))
    with client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]) as raw:
        recorder = record_callbacks(raw, collapse_deltas=True)
        raw.until_done()
    assert [c for c in recorder.calls if c.name in ("text", "input_json")] == [
        ("text", {"text": "Let me check.", "snapshot": "Let me check."}),
        ("input_json", {"partial_json": '{"city": "Paris"}', "snapshot": {"city": "Paris"}}),
    ]
    assert ("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": "Let me check."}}) in recorder.calls


def test_anthropic_async_stream_and_raw_stream() -> None:
    async def main() -> tuple[CallbackRecorder, Any]:
        client = anthropic_client(sse(anthropic_events()), asynchronous=True)
        async with record_callbacks(
            client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        ) as stream:
            async for _ in stream:
                pass
            return stream, await stream.get_final_message()

    stream, message = asyncio.run(main())
    assert stream.names == ANTHROPIC_ORDER
    assert message.stop_reason == "tool_use"

    client = anthropic_client(sse(anthropic_events()))
    raw = record_callbacks(
        client.messages.create(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}], stream=True)
    )
    assert [e.type for e in raw] == [n for n in ANTHROPIC_ORDER if n not in ("text", "input_json")] == raw.names
    assert raw.calls[-2] == ("message_delta", {"delta": {"stop_reason": "tool_use"}})


def test_openai_chat_completion_stream() -> None:
    client = openai_client({"/chat/completions": chat_chunks()})
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
        }
    ]
    manager = client.chat.completions.stream(
        model="gpt-4o", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=tools
    )
    with record_callbacks(manager, exclude={"chunk"}) as stream:
        completion = stream.get_final_completion()

    assert completion.choices[0].message.tool_calls[0].function.arguments == '{"city": "Paris"}'
    # The SDK fires content.done only once the first tool call delta arrives; parsed_arguments is None here.
    assert stream.calls == [
        ("content.delta", {"delta": "", "snapshot": ""}),
        ("content.delta", {"delta": "Let me ", "snapshot": "Let me "}),
        ("content.delta", {"delta": "check.", "snapshot": "Let me check."}),
        ("tool_calls.function.arguments.delta", {"name": "get_weather", "index": 0, "arguments": "", "arguments_delta": ""}),
        ("content.done", {"content": "Let me check."}),
        (
            "tool_calls.function.arguments.delta",
            {"name": "get_weather", "index": 0, "arguments": '{"city":', "arguments_delta": '{"city":'},
        ),
        (
            "tool_calls.function.arguments.delta",
            {"name": "get_weather", "index": 0, "arguments": '{"city": "Paris"}', "arguments_delta": ' "Paris"}'},
        ),
        ("tool_calls.function.arguments.done", {"name": "get_weather", "index": 0, "arguments": '{"city": "Paris"}'}),
    ]


def test_openai_chat_chunks_and_order() -> None:
    client = openai_client({"/chat/completions": chat_chunks()})
    with client.chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]) as raw:
        recorder = record_callbacks(raw)
        events = list(recorder)
    assert [e.type for e in events] == recorder.names
    assert recorder.names == [
        "chunk", "content.delta",
        "chunk", "content.delta",
        "chunk", "content.delta",
        "chunk", "tool_calls.function.arguments.delta", "content.done",
        "chunk", "tool_calls.function.arguments.delta",
        "chunk", "tool_calls.function.arguments.delta",
        "chunk", "tool_calls.function.arguments.done",
    ]  # fmt: skip
    assert recorder.calls[2] == ("chunk", {"chunk": {"choices": [{"delta": {"content": "Let me "}, "index": 0}]}})
    assert recorder.calls[-2] == ("chunk", {"chunk": {"choices": [{"index": 0, "finish_reason": "tool_calls"}]}})
    assert recorder.calls[6] == (
        "chunk",
        {
            "chunk": {
                "choices": [
                    {
                        "delta": {
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "id": "call_Xk3vQ9aLp2",
                                    "function": {"arguments": "", "name": "get_weather"},
                                    "type": "function",
                                }
                            ]
                        },
                        "index": 0,
                    }
                ]
            }
        },
    )


def test_responses_stream() -> None:
    item_id, resp_id = "msg_67ccd3acc8d48190a77525dc6de64b4104becb25c9", "resp_67ccd3a9da748190baa7f1570fe91ac604becb25c4"

    def response(status: str, output: list[Json]) -> Json:
        return {
            "id": resp_id, "object": "response", "created_at": CREATED, "status": status, "model": "gpt-4o",
            "output": output, "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "temperature": 1.0,
            "top_p": 1.0, "text": {"format": {"type": "text"}}, "usage": None, "metadata": {}, "error": None,
            "incomplete_details": None, "instructions": None,
        }  # fmt: skip

    part = {"type": "output_text", "text": "", "annotations": []}
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
    done_item = {**item, "status": "completed", "content": [{**part, "text": "Hi there"}]}
    events = [
        ("response.created", {"type": "response.created", "sequence_number": 0, "response": response("in_progress", [])}),
        (
            "response.output_item.added",
            {"type": "response.output_item.added", "sequence_number": 1, "output_index": 0, "item": item},
        ),
        (
            "response.content_part.added",
            {
                "type": "response.content_part.added",
                "sequence_number": 2,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "part": part,
            },
        ),
        *[
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "sequence_number": 3 + i,
                    "item_id": item_id,
                    "output_index": 0,
                    "content_index": 0,
                    "delta": d,
                    "logprobs": [],
                    "obfuscation": "x7Yq",
                },
            )
            for i, d in enumerate(["Hi", " there"])
        ],
        (
            "response.output_text.done",
            {
                "type": "response.output_text.done",
                "sequence_number": 5,
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "text": "Hi there",
                "logprobs": [],
            },
        ),
        (
            "response.output_item.done",
            {"type": "response.output_item.done", "sequence_number": 6, "output_index": 0, "item": done_item},
        ),
        (
            "response.completed",
            {"type": "response.completed", "sequence_number": 7, "response": response("completed", [done_item])},
        ),
    ]
    client = openai_client({"/responses": sse(events)})
    with record_callbacks(client.responses.stream(model="gpt-4o", input="hi")) as stream:
        final = stream.get_final_response()
    assert final.output_text == "Hi there"
    assert stream.names == [name for name, _ in events]
    assert stream.calls[3] == (
        "response.output_text.delta",
        {"content_index": 0, "delta": "Hi", "output_index": 0, "snapshot": "Hi"},
    )
    done = {
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Hi there"}],
    }
    assert stream.calls[1] == (
        "response.output_item.added",
        {"output_index": 0, "item": {"type": "message", "role": "assistant", "status": "in_progress", "content": []}},
    )
    assert stream.calls[-1] == ("response.completed", {"response": {"status": "completed", "output": [done]}})


def test_plain_iterables() -> None:
    def events() -> Iterator[Json]:
        yield {"type": "text", "text": "a"}
        yield {"type": "done"}

    recorder = record_callbacks(events())
    assert list(recorder) == [{"type": "text", "text": "a"}, {"type": "done"}]
    assert recorder.calls == [("text", {"text": "a"}), ("done", {})]

    async def agen() -> Any:
        yield {"event": "start"}

    async def main() -> list[Any]:
        return [e async for e in record_callbacks(agen())]

    assert asyncio.run(main()) == [{"event": "start"}]


def test_a_recorded_stream_passes_isinstance_checks_for_what_it_wraps() -> None:
    from anthropic.lib.streaming import AsyncMessageStream, AsyncMessageStreamManager, MessageStream, MessageStreamManager
    from openai.lib.streaming.chat import ChatCompletionStream, ChatCompletionStreamManager

    # An anthropic stream manager, before and after entering; an open stream given directly
    client = anthropic_client(sse(anthropic_events()))
    recorder = record_callbacks(client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}]))
    assert isinstance(recorder, MessageStreamManager) and not isinstance(recorder, MessageStream)
    with recorder as stream:
        assert isinstance(stream, MessageStream) and not isinstance(stream, MessageStreamManager)
        stream.until_done()
    with anthropic_client(sse(anthropic_events())).messages.stream(model="m", max_tokens=8, messages=[]) as raw:
        wrapped = record_callbacks(raw)
        assert isinstance(wrapped, MessageStream) and wrapped.__class__ is MessageStream
        wrapped.until_done()
    # The recorder is still a recorder, and works as one
    for r in (recorder, wrapped):
        assert type(r) is CallbackRecorder and isinstance(r, CallbackRecorder)
        assert r.names == ANTHROPIC_ORDER

    # The async ones
    async def main() -> None:
        client = anthropic_client(sse(anthropic_events()), asynchronous=True)
        recorder = record_callbacks(client.messages.stream(model="m", max_tokens=8, messages=[]))
        assert isinstance(recorder, AsyncMessageStreamManager)
        async with recorder as stream:
            assert isinstance(stream, AsyncMessageStream)
            await stream.until_done()

    asyncio.run(main())

    # openai's chat completions stream and its manager
    client = openai_client({"/chat/completions": chat_chunks()})
    recorder = record_callbacks(client.chat.completions.stream(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]))
    assert isinstance(recorder, ChatCompletionStreamManager)
    with recorder as stream:
        assert isinstance(stream, ChatCompletionStream) and not isinstance(stream, ChatCompletionStreamManager)
        assert stream.get_final_completion().choices[0].finish_reason == "tool_calls"
    assert stream.names[-1] == "tool_calls.function.arguments.done"

    # A handler is recorded in place: the handler keeps its class, the recorder stays a recorder
    handler = Printer()
    recorder = record_callbacks(handler)
    assert isinstance(recorder.target, AssistantEventHandler) and type(recorder.target) is Printer
    assert recorder.__class__ is CallbackRecorder and not isinstance(recorder, AssistantEventHandler)
