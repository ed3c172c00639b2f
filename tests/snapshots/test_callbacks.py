"""harness.record_callbacks on the SDKs' event handlers, against the real SDKs: Assistants handlers (sync,
async, the stream manager's default), any object with ``on_*`` methods, what cannot be recorded, collapsed
deltas."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import httpx2
import openai
import pytest
from openai.lib.streaming import AssistantEventHandler

from harness.callbacks import Call, CallbackRecorder, record_callbacks
from tests.snapshots.wire import (
    ASSISTANT,
    THREAD,
    Json,
    Printer,
    answer,
    anthropic_client,
    assistant_text_run,
    assistant_tool_run,
    openai_client,
    run_stream,
)

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
