"""The code the fuzzing tests run: a small Anthropic Messages stub (in the exact wire format), agents on the
real SDKs for each API, a cassette session around a block, and a reference reading of what a stream says."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest
from hypothesis import HealthCheck, Phase, settings
from starlette.requests import Request

import harness.strategies as hs
from harness import record_callbacks, sse
from harness.cassette import format as fmt
from harness.config import Settings
from harness.engine.ledger import Ledger
from harness.fuzz import samples
from harness.session import Session
from tests.servers.base import Scenario, sse_response

NOWHERE = "http://127.0.0.1:9"
MODEL = samples.MODEL
PROMPT = "What is the weather in Paris?"
ANSWER = "Il fait beau à Paris ☀ — 22 °C, très agréable. 東京 est nuageux."
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
CHAT_TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": PARAMS}}
]
RESP_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": PARAMS,
    "strict": True,
}
QUESTION = "What is the weather in Paris? Café ☕ 東京"
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
assistants_api = pytest.mark.filterwarnings("ignore::DeprecationWarning")
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)  # where only *that* it fails matters

# --------------------------------------------------------------------------------------------- the Anthropic stub


async def anthropic_messages(request: Request) -> Any:
    """POST /v1/messages, streaming: a thinking block, text and a tool call, then (after the tool
    result) a multi-byte answer. ``x-fake-scenario`` works as in tests/servers/base.py (crlf...)."""
    body = await request.json()
    last = body["messages"][-1]["content"]
    if isinstance(last, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last):
        words = re.findall(r"\S+\s*", ANSWER)
        events = samples.anthropic_events(words, message_id="msg_02")
    else:
        events = samples.weather_stream(thinking=True).response.body.value  # type: ignore[union-attr]
    return sse_response(
        [(e["event"], e["data"]) for e in events],
        Scenario.parse(request),
        error_event=("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )


# --------------------------------------------------------------------------------------------- the code under test


def claude(url: str, **kw: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=url, **kw)


def anthropic_turn(client: anthropic.Anthropic, messages: list[Any]) -> tuple[Any, list[Any]]:
    with record_callbacks(
        client.messages.stream(model=MODEL, max_tokens=1024, messages=messages, tools=[samples.WEATHER_TOOL])
    ) as stream:
        return stream.get_final_message(), stream.calls


def anthropic_agent(url: str, **kw: Any) -> tuple[Any, ...]:
    """A two-turn tool-using agent: the model asks for the weather, gets it, answers."""
    client = claude(url, **kw)
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    first, calls1 = anthropic_turn(client, messages)
    tool = next(b for b in first.content if b.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True, exclude={"parsed_output"}) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": f"sunny in {tool.input['city']}"}],
        },
    ]
    second, calls2 = anthropic_turn(client, messages)
    return first, second, calls1, calls2


def anthropic_one(url: str, **kw: Any) -> Any:
    with claude(url, **kw).messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
    ) as stream:
        return stream.get_final_message()


async def anthropic_async_crlf(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-test", base_url=url, default_headers={"x-fake-scenario": "crlf"}, **kw
    ) as client:
        async with record_callbacks(
            client.messages.stream(
                model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
            )
        ) as stream:
            return await stream.get_final_message(), stream.calls


def gpt(url: str, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=url + "/v1", **kw)


def chat(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    with record_callbacks(
        client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}])
    ) as s1:
        text = s1.get_final_completion()
    with record_callbacks(
        client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS)
    ) as s2:
        call = s2.get_final_completion()
    return text, call, s1.calls, s2.calls


async def chat_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        async with record_callbacks(
            client.chat.completions.stream(
                model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS
            )
        ) as s:
            return await s.get_final_completion(), s.calls


def responses(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION)) as s1:
        text = s1.get_final_response()
    with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL])) as s2:
        call = s2.get_final_response()
    return text, call, s1.calls, s2.calls


class Handler(openai.AssistantEventHandler):
    pass


def assistants(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": QUESTION}])
    recorder = record_callbacks(Handler())
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id="asst_fuzz", tools=CHAT_TOOLS, event_handler=recorder.target
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    text_thread = client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
    recorder2 = record_callbacks(Handler())
    with client.beta.threads.runs.stream(
        thread_id=text_thread.id, assistant_id="asst_fuzz", event_handler=recorder2.target
    ) as stream:
        stream.until_done()
        messages = stream.get_final_messages()
    return run.required_action, [m.content for m in messages], recorder.calls, recorder2.calls


async def responses_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        async with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL])) as s:
            return await s.get_final_response(), s.calls


class AsyncHandler(openai.AsyncAssistantEventHandler):
    pass


async def assistants_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
        recorder = record_callbacks(AsyncHandler())
        async with client.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id="asst_fuzz", event_handler=recorder.target
        ) as stream:
            await stream.until_done()
            messages = await stream.get_final_messages()
    return [m.content for m in messages], recorder.calls


SCENARIOS: dict[str, Callable[[str], Any]] = {
    "anthropic_agent": anthropic_agent,
    "anthropic_async_crlf": lambda url: asyncio.run(anthropic_async_crlf(url)),
    "chat": chat,
    "chat_async": lambda url: asyncio.run(chat_async(url)),
    "responses": responses,
    "responses_async": lambda url: asyncio.run(responses_async(url)),
    "assistants": assistants,
    "assistants_async": lambda url: asyncio.run(assistants_async(url)),
}


@contextlib.contextmanager
def session_on(path: Path, mode: str = "none", nodeid: str = "tests/test_strategies.py::t") -> Iterator[Ledger]:
    """A cassette session as the plugin runs one, around the block; yields its running ledger."""
    session = Session(Settings(record_mode=mode), path, nodeid)
    session.start()
    try:
        yield session.ledger
    finally:
        session.stop()


def interactions(recordings: dict[str, Path], name: str) -> list[Any]:
    return fmt.load(recordings[name])


# --------------------------------------------------------------------------------------------- reference meaning


def meaning(events: list[dict[str, Any]], fmt_name: str | None) -> Any:
    """What a stream says, independent of how its deltas are framed (a tiny reference accumulator)."""
    texts: dict[Any, str] = collections.defaultdict(str)
    skeleton: list[Any] = []
    for e in events:
        data = e.get("data")
        name = e.get("event")
        if fmt_name == "anthropic" and isinstance(data, dict) and data.get("type") == "content_block_delta":
            d = data["delta"]
            if d["type"] == "signature_delta":
                skeleton.append(("signature", data["index"], d["signature"]))
            else:
                field = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}[d["type"]]
                texts[(data["index"], d["type"])] += d[field]
            continue
        if fmt_name == "openai-chat" and isinstance(data, dict) and data.get("object") == "chat.completion.chunk":
            for c in data["choices"]:
                delta = c["delta"]
                if delta.get("role"):
                    skeleton.append(("role", delta["role"]))
                for key in ("content", "refusal"):
                    if isinstance(delta.get(key), str):
                        texts[(c["index"], key)] += delta[key]
                for tc in delta.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    texts[(c["index"], "args", tc["index"])] += fn.get("arguments") or ""
                    if "id" in tc:
                        skeleton.append(("call", tc["index"], tc["id"], fn.get("name")))
                if c.get("finish_reason"):
                    skeleton.append(("finish", c["index"], c["finish_reason"]))
            if data.get("usage"):
                skeleton.append(("usage", json.dumps(data["usage"], sort_keys=True)))
            continue
        if fmt_name == "openai-responses" and isinstance(name, str) and name.endswith(".delta"):
            texts[(name, data.get("item_id"), data.get("output_index"), data.get("content_index"))] += data["delta"]
            continue
        if fmt_name == "openai-assistants" and name == "thread.message.delta":
            for c in data["delta"]["content"]:
                texts[(data["id"], c["index"])] += c["text"]["value"]
            continue
        if fmt_name == "openai-assistants" and name == "thread.run.step.delta":
            for tc in data["delta"]["step_details"]["tool_calls"]:
                texts[(data["id"], tc["index"])] += tc["function"].get("arguments") or ""
                if "id" in tc:
                    skeleton.append(("call", tc["id"], tc["function"].get("name")))
            continue
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "sequence_number"}
        skeleton.append((name, data, e.get("text")))
    return dict(texts), skeleton


def sequence_numbers(events: list[dict[str, Any]]) -> list[int]:
    return [e["data"]["sequence_number"] for e in events if isinstance(e.get("data"), dict) and "sequence_number" in e["data"]]


def variant_events(v: hs.Variant) -> list[dict[str, Any]]:
    body = v.interaction.response.body  # type: ignore[union-attr]
    events, _ = sse.parse(body.bytes())
    assert events == body.value or all("raw" not in e for e in body.value)
    return list(body.value)
