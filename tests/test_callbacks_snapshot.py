"""harness.record_callbacks and the agent_snapshot extension, against the real SDKs.

The SDK clients talk to an ``httpx2.MockTransport`` that answers with canned bodies in the real
wire formats (SSE for streams), so every object and stream here is the SDK's own, offline.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from openai.lib.streaming import AssistantEventHandler

from harness.callbacks import Call, CallbackRecorder, record_callbacks
from harness.snapshot import AgentSnapshotExtension, normalize

CREATED = 1_731_000_000
Json = dict[str, Any]
# (``agent_snapshot`` below is the plugin's own fixture: the harness plugin is loaded by its entry point.)


# --------------------------------------------------------------------------------------------- wire formats


def sse(events: list[tuple[str | None, Any]]) -> bytes:
    out = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        out.append(f"data: {data if isinstance(data, str) else json.dumps(data)}\n\n")
    return "".join(out).encode()


def answer(routes: dict[str, bytes | Json]) -> Callable[[httpx2.Request], httpx2.Response]:
    """A MockTransport handler: the body for the first route that ends the request path."""
    seen: list[httpx2.Request] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        for suffix, body in routes.items():
            if request.url.path.endswith(suffix):
                if isinstance(body, bytes):
                    return httpx2.Response(
                        200, headers={"content-type": "text/event-stream", "request-id": "req_011CZx9"}, content=body
                    )
                return httpx2.Response(200, json=body, headers={"x-request-id": "req_99aZ"})
        return httpx2.Response(404, json={"error": {"message": f"no route for {request.url.path}"}})

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


def anthropic_client(body: bytes, *, asynchronous: bool = False) -> Any:
    transport = httpx2.MockTransport(answer({"/v1/messages": body}))
    if asynchronous:
        return anthropic.AsyncAnthropic(
            api_key="x", base_url="http://test", http_client=httpx2.AsyncClient(transport=transport), max_retries=0
        )
    return anthropic.Anthropic(api_key="x", base_url="http://test", http_client=httpx2.Client(transport=transport), max_retries=0)


def openai_client(routes: dict[str, bytes | Json]) -> openai.OpenAI:
    transport = httpx2.MockTransport(answer(routes))
    return openai.OpenAI(api_key="x", base_url="http://test/v1", http_client=httpx2.Client(transport=transport), max_retries=0)


def anthropic_events(
    msg_id: str = "msg_01XFDUDYJgAACzvnptvVoYEL",
    tool_id: str = "toolu_01A09q90qw90lq917835lq9",
    text: tuple[str, ...] = ("Let me ", "check."),
) -> list[tuple[str, Json]]:
    message = {
        "id": msg_id, "type": "message", "role": "assistant", "model": "claude-test-model", "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 21, "output_tokens": 1},
    }  # fmt: skip
    return [
        ("message_start", {"type": "message_start", "message": message}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("ping", {"type": "ping"}),
        *[
            ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}})
            for t in text
        ],
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {"type": "tool_use", "id": tool_id, "name": "get_weather", "input": {}},
            },
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city": '}},
        ),
        (
            "content_block_delta",
            {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '"Paris"}'}},
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 34},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]


def chat_chunks(cmpl_id: str = "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", call_id: str = "call_Xk3vQ9aLp2") -> bytes:
    def chunk(delta: Json, finish: str | None = None) -> Json:
        return {
            "id": cmpl_id, "object": "chat.completion.chunk", "created": CREATED, "model": "gpt-4o-2024-08-06",
            "system_fingerprint": "fp_44709d6fcb", "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }  # fmt: skip

    opening = {"index": 0, "id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": ""}}
    return sse(
        [
            (None, chunk({"role": "assistant", "content": "", "refusal": None})),
            (None, chunk({"content": "Let me "})),
            (None, chunk({"content": "check."})),
            (None, chunk({"tool_calls": [opening]})),
            (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]})),
            (None, chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]})),
            (None, chunk({}, "tool_calls")),
            (None, "[DONE]"),
        ]
    )


# The Assistants API (deprecated, still shipped): a run streamed as ``thread.*`` SSE events.

THREAD, ASSISTANT, RUN = "thread_abc123XYZ", "asst_abc123XYZ", "run_abc123XYZ"


def _run(status: str, **extra: Any) -> Json:
    return {
        "id": RUN, "object": "thread.run", "created_at": CREATED, "assistant_id": ASSISTANT, "thread_id": THREAD,
        "status": status, "started_at": CREATED + 1, "expires_at": CREATED + 600, "cancelled_at": None, "failed_at": None,
        "completed_at": None, "required_action": None, "last_error": None, "model": "gpt-4o", "instructions": "",
        "tools": [], "metadata": {}, "temperature": 1.0, "top_p": 1.0, "max_completion_tokens": None, "max_prompt_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None}, "incomplete_details": None, "usage": None,
        "response_format": "auto", "tool_choice": "auto", "parallel_tool_calls": True, **extra,
    }  # fmt: skip


def _step(step_id: str, details: Json, status: str = "in_progress") -> Json:
    return {
        "id": step_id, "object": "thread.run.step", "created_at": CREATED, "run_id": RUN, "assistant_id": ASSISTANT,
        "thread_id": THREAD, "type": details["type"], "status": status, "cancelled_at": None,
        "completed_at": CREATED if status == "completed" else None, "expired_at": None, "failed_at": None,
        "last_error": None, "step_details": details, "usage": None,
    }  # fmt: skip


def _message(msg_id: str, text: str | None, status: str) -> Json:
    return {
        "id": msg_id, "object": "thread.message", "created_at": CREATED, "assistant_id": ASSISTANT, "thread_id": THREAD,
        "run_id": RUN, "status": status, "completed_at": CREATED if status == "completed" else None, "incomplete_at": None,
        "incomplete_details": None, "role": "assistant", "attachments": [], "metadata": {},
        "content": [] if text is None else [{"type": "text", "text": {"value": text, "annotations": []}}],
    }  # fmt: skip


def assistant_text_run(msg_id: str = "msg_Ab12Cd34", words: tuple[str, ...] = ("Hel", "lo!")) -> bytes:
    step = _step("step_Q1w2E3", {"type": "message_creation", "message_creation": {"message_id": msg_id}})
    delta = [
        {
            "id": msg_id,
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": w, "annotations": []}}]},
        }
        for w in words
    ]
    return sse(
        [
            ("thread.run.created", _run("queued", started_at=None)),
            ("thread.run.queued", _run("queued", started_at=None)),
            ("thread.run.in_progress", _run("in_progress")),
            ("thread.run.step.created", step),
            ("thread.run.step.in_progress", step),
            ("thread.message.created", _message(msg_id, None, "in_progress")),
            ("thread.message.in_progress", _message(msg_id, None, "in_progress")),
            *[("thread.message.delta", d) for d in delta],
            ("thread.message.completed", _message(msg_id, "".join(words), "completed")),
            ("thread.run.step.completed", {**step, "status": "completed", "completed_at": CREATED}),
            ("thread.run.completed", _run("completed", completed_at=CREATED + 2)),
            ("done", "[DONE]"),
        ]
    )


def assistant_tool_run() -> bytes:
    step_id = "step_T00l5"
    calls = [("call_W3ath3r", "get_weather", ['{"city":', ' "Paris"}']), ("call_T1me", "get_time", ["{}"])]
    step = _step(step_id, {"type": "tool_calls", "tool_calls": []})
    deltas = []
    for i, (call_id, name, fragments) in enumerate(calls):
        deltas.append(
            {"index": i, "id": call_id, "type": "function", "function": {"name": name, "arguments": "", "output": None}}
        )
        deltas += [{"index": i, "type": "function", "function": {"arguments": f}} for f in fragments]
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [{"id": c, "type": "function", "function": {"name": n, "arguments": "".join(f)}} for c, n, f in calls]
        },
    }
    return sse(
        [
            ("thread.run.created", _run("queued", started_at=None)),
            ("thread.run.in_progress", _run("in_progress")),
            ("thread.run.step.created", step),
            ("thread.run.step.in_progress", step),
            *[
                (
                    "thread.run.step.delta",
                    {
                        "id": step_id,
                        "object": "thread.run.step.delta",
                        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [d]}},
                    },
                )
                for d in deltas
            ],
            ("thread.run.requires_action", _run("requires_action", required_action=required)),
            ("done", "[DONE]"),
        ]
    )


def run_stream(client: openai.OpenAI, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the Assistants API is deprecated, and still shipped
        return client.beta.threads.runs.stream(thread_id=THREAD, assistant_id=ASSISTANT, **kwargs)


class Printer(AssistantEventHandler):
    """A user's handler: overrides some callbacks, and must keep working while recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.tools: list[str] = []

    def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text += delta.value or ""

    def on_tool_call_created(self, tool_call: Any) -> None:
        self.tools.append(tool_call.function.name)


# --------------------------------------------------------------------------------------------- callbacks


def test_assistant_handler_text_run() -> None:
    client = openai_client({f"/threads/{THREAD}/runs": assistant_text_run()})
    handler = Printer()
    recorder = record_callbacks(handler)
    assert isinstance(recorder, CallbackRecorder)
    assert recorder.target is handler
    assert type(handler) is Printer and isinstance(recorder.target, AssistantEventHandler)

    with run_stream(client, event_handler=recorder.target) as stream:
        assert stream is handler
        stream.until_done()

    assert handler.text == "Hello!"  # the user's own callbacks still ran
    assert recorder.names == [
        "on_event",
        "on_event",
        "on_event",
        "on_event", "on_run_step_created",
        "on_event",
        "on_event", "on_message_created",
        "on_event",
        "on_event", "on_text_created", "on_text_delta", "on_message_delta",
        "on_event", "on_text_delta", "on_message_delta",
        "on_event", "on_text_done", "on_message_done",
        "on_event", "on_run_step_done",
        "on_event",
        "on_end",
    ]  # fmt: skip
    calls = recorder.calls
    assert calls[0] == ("on_event", {"event": "thread.run.created"})
    assert calls[4] == Call("on_run_step_created", {"run_step": {
        "type": "message_creation", "status": "in_progress",
        "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_Ab12Cd34"}},
    }})  # fmt: skip
    assert calls[7] == ("on_message_created", {"message": {"role": "assistant", "status": "in_progress", "content": []}})
    assert calls[10] == ("on_text_created", {"text": "Hel"})  # the SDK creates the block from the first delta
    assert calls[11] == ("on_text_delta", {"delta": "Hel", "snapshot": "Hel"})
    assert calls[14] == ("on_text_delta", {"delta": "lo!", "snapshot": "Hello!"})
    assert calls[17] == ("on_text_done", {"text": "Hello!"})
    assert calls[18] == (
        "on_message_done",
        {"message": {"role": "assistant", "status": "completed", "content": [{"type": "text", "text": "Hello!"}]}},
    )
    assert calls[-1] == ("on_end", {})
    assert repr(calls[11]) == "on_text_delta(delta='Hel', snapshot='Hel')"

    recorder.stop()
    assert "on_text_delta" not in vars(handler)


def test_assistant_handler_tool_calls() -> None:
    client = openai_client({f"/threads/{THREAD}/runs": assistant_tool_run()})
    handler = Printer()
    recorder = record_callbacks(handler, exclude={"on_event", "on_run_step_delta"})
    with run_stream(client, event_handler=recorder.target) as stream:
        stream.until_done()
        final_run = stream.current_run

    assert handler.tools == ["get_weather", "get_time"]
    assert final_run.status == "requires_action"

    def call(name: str, id_: str, args: str) -> Json:
        index = 0 if name == "get_weather" else 1
        return {"id": id_, "type": "function", "function": {"name": name, "arguments": args}, "index": index}

    assert recorder.calls == [
        ("on_run_step_created", {"run_step": {"type": "tool_calls", "status": "in_progress", "step_details": {"type": "tool_calls", "tool_calls": []}}}),
        ("on_tool_call_created", {"tool_call": call("get_weather", "call_W3ath3r", "")}),
        ("on_tool_call_delta", {"delta": {"index": 0, "type": "function", "function": {"arguments": '{"city":'}}, "snapshot": call("get_weather", "call_W3ath3r", '{"city":')}),
        ("on_tool_call_delta", {"delta": {"index": 0, "type": "function", "function": {"arguments": ' "Paris"}'}}, "snapshot": call("get_weather", "call_W3ath3r", '{"city": "Paris"}')}),
        ("on_tool_call_done", {"tool_call": call("get_weather", "call_W3ath3r", '{"city": "Paris"}')}),
        ("on_tool_call_created", {"tool_call": call("get_time", "call_T1me", "")}),
        ("on_tool_call_delta", {"delta": {"index": 1, "type": "function", "function": {"arguments": "{}"}}, "snapshot": call("get_time", "call_T1me", "{}")}),
        ("on_tool_call_done", {"tool_call": call("get_time", "call_T1me", "{}")}),
        ("on_end", {}),
    ]  # fmt: skip


def test_assistant_stream_manager_records_the_default_handler() -> None:
    client = openai_client({f"/threads/{THREAD}/runs": assistant_text_run()})
    with record_callbacks(run_stream(client), include={"on_text_delta", "on_message_done"}) as stream:
        assert type(stream.target).__name__ == "AssistantStreamManager"
        texts = list(stream.text_deltas)  # forwarded to the handler the manager opened
    assert texts == ["Hel", "lo!"]
    assert isinstance(stream.stream, AssistantEventHandler)
    assert stream.names == ["on_text_delta", "on_text_delta", "on_message_done"]


def test_any_object_with_on_methods_and_async_handlers() -> None:
    class Loop:
        def on_tool(self, name: str, arguments: Json, *, retry: int = 0) -> str:
            return f"ran {name}"

        async def on_done(self, result: Any) -> str:
            return "done"

        def run(self) -> list[str]:
            return [self.on_tool("search", {"q": "x"}), asyncio.run(self.on_done(ValueError("boom")))]

    loop = Loop()
    recorder = record_callbacks(loop)
    assert loop.run() == ["ran search", "done"]
    assert recorder.calls == [
        ("on_tool", {"name": "search", "arguments": {"q": "x"}}),
        ("on_done", {"result": "ValueError: boom"}),
    ]


def test_async_assistant_handler() -> None:
    from openai.lib.streaming import AsyncAssistantEventHandler

    class Handler(AsyncAssistantEventHandler):
        async def on_text_done(self, text: Any) -> None:
            self.done = text.value

    async def main() -> tuple[Handler, CallbackRecorder]:
        transport = httpx2.MockTransport(answer({f"/threads/{THREAD}/runs": assistant_text_run()}))
        client = openai.AsyncOpenAI(api_key="x", base_url="http://test/v1", http_client=httpx2.AsyncClient(transport=transport))
        handler = Handler()
        recorder = record_callbacks(handler, include={"on_text_delta", "on_text_done", "on_end"})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            manager = client.beta.threads.runs.stream(thread_id=THREAD, assistant_id=ASSISTANT, event_handler=recorder.target)
        async with manager as stream:
            await stream.until_done()
        return handler, recorder

    handler, recorder = asyncio.run(main())
    assert handler.done == "Hello!"
    assert recorder.calls == [
        ("on_text_delta", {"delta": "Hel", "snapshot": "Hel"}),
        ("on_text_delta", {"delta": "lo!", "snapshot": "Hello!"}),
        ("on_text_done", {"text": "Hello!"}),
        ("on_end", {}),
    ]


def test_what_cannot_be_recorded() -> None:
    with pytest.raises(TypeError, match="an instance"):
        record_callbacks(Printer)
    with pytest.raises(TypeError, match="event handler"):
        record_callbacks(42)
    with pytest.raises(TypeError, match="enter the stream manager"):
        iter(record_callbacks(anthropic_client(b"").messages.stream(model="m", max_tokens=1, messages=[])))


def test_collapse_deltas() -> None:
    client = openai_client({f"/threads/{THREAD}/runs": assistant_text_run(words=("He", "l", "lo!"))})
    recorder = record_callbacks(Printer(), collapse_deltas=True, exclude={"on_event", "on_message_delta"})
    with run_stream(client, event_handler=recorder.target) as stream:
        stream.until_done()
    assert recorder.calls == [
        ("on_run_step_created", recorder.calls[0].args),
        ("on_message_created", recorder.calls[1].args),
        ("on_text_created", {"text": "He"}),
        ("on_text_delta", {"delta": "Hello!", "snapshot": "Hello!"}),
        ("on_text_done", {"text": "Hello!"}),
        ("on_message_done", recorder.calls[5].args),
        ("on_run_step_done", recorder.calls[6].args),
        ("on_end", {}),
    ]


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


# --------------------------------------------------------------------------------------------- the extension


def serialize(data: Any) -> str:
    return AgentSnapshotExtension().serialize(data)


def test_ids_and_timestamps_become_stable_placeholders() -> None:
    message = anthropic.types.Message.model_validate(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-test-model",
            "content": [
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B77zzzzzzzzzzzzzzzzzzzz", "name": "call_weather", "input": {"when": "2025-01-02T03:04:05Z"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 2},
        }
    )  # fmt: skip
    follow_up = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18C"}],
    }
    data = normalize([message, follow_up, {"created": CREATED, "created_at": CREATED + 0.5, "completed_at": None}])
    msg, user, times = data
    assert msg["id"] == "<msg_1>"
    assert [b["id"] for b in msg["content"]] == ["<toolu_1>", "<toolu_2>"]  # two ids, two placeholders
    assert user["content"][0]["tool_use_id"] == "<toolu_1>"  # the same id, the same placeholder
    assert msg["content"][1]["name"] == "call_weather"  # a tool name, not an id
    assert msg["content"][1]["input"] == {"when": "<timestamp>"}
    assert times == {"created": "<timestamp>", "created_at": "<timestamp>", "completed_at": None}
    assert "stop_sequence" not in msg  # None fields are left out

    text = serialize([message, follow_up])
    assert "msg_01" not in text and "toolu_01" not in text
    assert "'id': '<toolu_1>'" in text and "'tool_use_id': '<toolu_1>'" in text

    # Placeholders are numbered per serialized value: the same shape gives the same text.
    other = message.model_copy(
        update={"id": "msg_01ZZZ", "content": [message.content[0].model_copy(update={"id": "toolu_9Q"}), message.content[1]]}
    )
    assert serialize([other, {**follow_up, "content": [{**follow_up["content"][0], "tool_use_id": "toolu_9Q"}]}]) == text


def test_only_what_looks_like_a_time_or_an_id_is_replaced() -> None:
    # Values of *_at / created / timestamp fields: times are replaced, other data is kept
    times = {
        "created": CREATED, "created_at": CREATED * 1000 + 5, "expires_at": "2025-01-02T03:04:05Z",
        "timestamp": "2025-01-02", "completed_at": None,
    }  # fmt: skip
    assert set(normalize(times).values()) == {"<timestamp>", None}
    data = {
        "look_at": "the Eiffel tower", "created": 3, "timestamp": True, "stared_at": [1, 2],
        "created_at": 1.5, "updated_at": "yesterday", "cut_at": 12_345_678_901_234_567,
    }  # fmt: skip
    assert normalize(data) == data

    # Prefixed words: ids when their suffix looks generated, or when they are the value of an id field
    tool_names = {"name": "call_weather2", "other": "run_tests", "more": "call_getWeather2", "last": "step_twenty_two"}
    assert normalize(tool_names) == tool_names
    generated = ["call_Xk3vQ9aLp2", "toolu_e2ed7685611d772c70ef9890", "fp_44709d6fcb", "msg_ABCDEFGHIJKLMNOPQRSTabcdefgh1234"]
    assert normalize(generated) == ["<call_1>", "<toolu_1>", "<fp_1>", "<msg_1>"]
    assert normalize("resp_zQkWmPtYbNcXvLrAsDfGhJ") == "<resp_1>"  # random letters, no digit
    call = {"id": "call_T1me", "name": "get_time", "arguments": '{"after": "call_T1me", "tool": "call_weather2"}'}
    assert normalize(call) == {
        "id": "<call_1>",
        "name": "get_time",
        "arguments": '{"after": "<call_1>", "tool": "call_weather2"}',
    }
    # (the id field may come after the text that mentions it)
    assert normalize({"text": "see call_T1me", "tool_call_id": "call_T1me"}) == {
        "text": "see <call_1>",
        "tool_call_id": "<call_1>",
    }
    assert normalize({"system_fingerprint": "fp_fake0001", "file_ids": ["file-a1", "file-b2"]}) == {
        "system_fingerprint": "<fp_1>", "file_ids": ["<file-1>", "<file-2>"],
    }  # fmt: skip


def test_placeholders_are_numbered_per_serialized_value() -> None:
    # One extension serializes every snapshot of a test: each value still numbers from 1, so a
    # snapshot's text does not depend on the snapshots taken before it.
    extension = AgentSnapshotExtension()
    first = extension.serialize({"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "reply_to": "msg_01ZZZZZZZZZZZZZZZZZZZZZ9"})
    second = extension.serialize({"id": "msg_01ZZZZZZZZZZZZZZZZZZZZZ9"})
    assert "'id': '<msg_1>'" in first and "'reply_to': '<msg_2>'" in first
    assert "'id': '<msg_1>'" in second


def test_openai_objects_and_ids_in_strings() -> None:
    completion = openai.types.chat.ChatCompletion.model_validate(
        {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": CREATED, "model": "gpt-4o",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
                "role": "assistant", "content": None, "refusal": None,
                "tool_calls": [{"id": "call_Xk3vQ9aLp2", "type": "function", "function": {"name": "run_tests", "arguments": '{"ref": "call_Xk3vQ9aLp2"}'}}],
            }}],
        }
    )  # fmt: skip
    data = normalize(completion)
    assert data["id"] == "<chatcmpl-1>" and data["created"] == "<timestamp>" and data["system_fingerprint"] == "<fp_1>"
    call = data["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "<call_1>" and call["function"] == {"name": "run_tests", "arguments": '{"ref": "<call_1>"}'}
    assert normalize({"a": "9b2f1c3e-4d5a-4b6c-8d7e-0f1a2b3c4d5e", "b": "9B2F1C3E-4D5A-4B6C-8D7E-0F1A2B3C4D5E", "sig": {"signature": "EqQBCk"}}) == {
        "a": "<uuid_1>", "b": "<uuid_1>", "sig": {"signature": "<signature>"},
    }  # fmt: skip
    assert normalize("<msg_1>") == "<msg_1>"  # idempotent


def test_recorded_calls_serialize_one_per_line() -> None:
    calls = [
        Call("on_tool_call_created", {"tool_call": {"id": "call_W3ath3r", "type": "function"}}),
        Call("on_tool_call_done", {"tool_call": {"id": "call_W3ath3r", "type": "function"}}),
        Call("on_end", {}),
    ]
    assert serialize(calls) == textwrap.dedent(
        """\
        list([
          on_tool_call_created(tool_call={'id': '<call_1>', 'type': 'function'}),
          on_tool_call_done(tool_call={'id': '<call_1>', 'type': 'function'}),
          on_end(),
        ])"""
    )


def test_agent_snapshot_fixture(agent_snapshot: Any) -> None:
    # The plugin's fixture: syrupy's snapshot with the harness extension (test_snapshot_round_trip
    # writes and compares snapshot files with it)
    assert isinstance(agent_snapshot.extension, AgentSnapshotExtension)
    message = anthropic.types.Message.model_validate(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-test-model",
            "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 2},
        }
    )  # fmt: skip
    assert "'id': '<msg_1>'" in agent_snapshot.extension.serialize(message)


# --------------------------------------------------------------------------------------------- round trip

INNER = """
import json
import pathlib

import anthropic
import httpx2
import pytest

from harness.callbacks import record_callbacks


def handle(request):
    body = (pathlib.Path(__file__).parent / "canned.sse").read_bytes()
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def test_agent(agent_snapshot):
    client = anthropic.Anthropic(api_key="x", base_url="http://test", http_client=httpx2.Client(transport=httpx2.MockTransport(handle)))
    with record_callbacks(client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])) as stream:
        message = stream.get_final_message()
    assert stream.calls == agent_snapshot
    assert message == agent_snapshot
"""


def test_snapshot_round_trip(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER)
    canned = pytester.path / "canned.sse"

    canned.write_bytes(sse(anthropic_events()))
    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio", "--snapshot-update").assert_outcomes(passed=1)
    (ambr,) = (pytester.path / "__snapshots__").glob("*.ambr")
    written = ambr.read_text()
    assert "<msg_1>" in written and "<toolu_1>" in written and "toolu_01A" not in written
    assert "text(snapshot='Let me ', text='Let me ')" in written  # one line per entry, keys sorted

    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio").assert_outcomes(passed=1)

    # Re-recorded: new ids, same conversation. Still passes, the snapshot file untouched.
    canned.write_bytes(sse(anthropic_events(msg_id="msg_01NEWNEWNEWNEWNEWNEW", tool_id="toolu_01OTHEROTHEROTHER")))
    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio").assert_outcomes(passed=1)
    assert ambr.read_text() == written

    # A different answer fails.
    canned.write_bytes(sse(anthropic_events(text=("Let me ", "look."))))
    result = pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*look.*"])
