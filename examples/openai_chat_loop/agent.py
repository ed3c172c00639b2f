"""A chat-completions tool loop in the shape of the seed agent: non-streamed turns while the model
asks for tools (tool calling is most reliable that way), then the answer streamed with
``chat.completions.stream``. The tools are plain functions; ``@harness.recorded_tool`` records each
call's input and result, and on replay returns the result without running the function.

``watch`` is where a caller may look at the answer's stream (the tests pass
``harness.record_callbacks``); by default the stream is used as it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletion

import harness

MODEL = "gpt-5"
SYSTEM = "You answer questions about cities. Use the tools to look things up."


@harness.recorded_tool
async def get_weather(city: str) -> str:
    # A real tool would call a weather service; in CI its recorded result is replayed instead.
    return f"sunny and 21°C in {city}"


@harness.recorded_tool
async def current_time(city: str) -> str:
    # Different on every run: replay returns the recorded time, so the test stays deterministic.
    return datetime.now(UTC).isoformat(timespec="seconds")


FUNCTIONS = {"get_weather": get_weather, "current_time": current_time}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
    for name, description in [("get_weather", "The current weather in a city."), ("current_time", "The time now in a city.")]
]


def _as_is(manager: Any) -> Any:
    return manager


async def call_tools(client: AsyncOpenAI, messages: list[dict[str, Any]], max_steps: int = 6) -> None:
    """Non-streamed turns: run every tool the model asks for, until it asks for none."""
    for _ in range(max_steps):
        completion = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS, temperature=0.2)
        message = completion.choices[0].message
        if not message.tool_calls:
            return  # it has what it needs: the answer is streamed next
        messages.append(
            {"role": "assistant", "content": message.content, "tool_calls": [c.model_dump() for c in message.tool_calls]}
        )
        for call in message.tool_calls:
            result = await FUNCTIONS[call.function.name](**json.loads(call.function.arguments or "{}"))
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})


async def stream_answer(
    client: AsyncOpenAI,
    messages: list[dict[str, Any]],
    *,
    tools: list[Any] | None = None,
    watch: Callable[[Any], Any] = _as_is,
    out: list[str] | None = None,
) -> ChatCompletion:
    """One streamed turn: text shown as it arrives, then the accumulated completion."""
    extra = {"tools": tools} if tools else {}
    async with watch(client.chat.completions.stream(model=MODEL, messages=messages, temperature=0.2, **extra)) as stream:
        async for event in stream:
            if event.type == "content.delta" and out is not None:
                out.append(event.delta)
        return await stream.get_final_completion()


async def run(
    client: AsyncOpenAI, question: str, *, watch: Callable[[Any], Any] = _as_is, out: list[str] | None = None
) -> tuple[list[dict[str, Any]], str]:
    """The whole agent: tools first, then the streamed answer. Returns the conversation and the answer."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    await call_tools(client, messages)
    final = await stream_answer(client, messages, watch=watch, out=out)
    answer = final.choices[0].message.content or ""
    messages.append({"role": "assistant", "content": answer})
    return messages, answer
