"""The wire formats the callbacks and snapshot tests answer with: SSE bodies, a mock transport, SDK clients
on it, and the streams of the Anthropic, Chat Completions and Assistants APIs."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
from openai.lib.streaming import AssistantEventHandler

CREATED = 1_731_000_000
Json = dict[str, Any]


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
