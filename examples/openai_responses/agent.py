"""Agents on OpenAI's Responses API: one streamed turn with ``client.responses.stream(...)``, and
the SDK's ``ResponsesToolRunner``, which calls the model, runs the registered functions it asks
for, sends their outputs back, and repeats until the model answers.

The registered functions are recorded by harness like any local tool: while recording they run and
their arguments and output go into the cassette; on replay the output comes back and they do not
run.

``watch`` is where a caller may look at a stream as it goes (the tests pass
``harness.record_callbacks``); by default the stream is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openai import AsyncOpenAI, OpenAI
from openai.lib.responses_tool_runner import (
    AsyncRegisteredFunction,
    AsyncResponsesToolRunner,
    RegisteredFunction,
    ResponsesRunnerTurn,
    ResponsesToolRunner,
)
from openai.types.responses import Response, ResponseStreamEvent

MODEL = "gpt-5"
WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


def get_weather(args: dict[str, Any]) -> str:
    # A real tool would call a weather service; in CI its recorded result is replayed instead.
    return f"sunny and 21°C in {args['city']}"


async def get_weather_async(args: dict[str, Any]) -> str:
    return f"sunny and 21°C in {args['city']}"


def _as_is(manager: Any) -> Any:
    return manager


def stream_reply(
    client: OpenAI, question: str, *, tools: list[Any] | None = None, watch: Callable[[Any], Any] = _as_is
) -> Response:
    """One streamed turn: the text as it arrives, then the accumulated response."""
    extra = {"tools": tools} if tools else {}
    with watch(client.responses.stream(model=MODEL, input=question, **extra)) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                pass  # a real app would show event.delta here
        return stream.get_final_response()


def runner() -> ResponsesToolRunner:
    return ResponsesToolRunner(functions=[RegisteredFunction(tool=WEATHER_TOOL, execute=get_weather)])


def ask(
    client: OpenAI, question: str, *, stream: bool = False, on_event: Callable[[ResponseStreamEvent], None] | None = None
) -> Response:
    """The runner, to the end: the final response."""
    return runner().run(client, {"model": MODEL, "input": question}, stream=stream, on_event=on_event)


def ask_turn_by_turn(client: OpenAI, question: str) -> list[ResponsesRunnerTurn]:
    """The runner, turn by turn: each turn is seen before its tool calls run (they run on advancing)."""
    return list(runner().iterate(client, {"model": MODEL, "input": question}))


async def ask_async(client: AsyncOpenAI, question: str) -> Response:
    """The async runner, with an async registered function."""
    functions = [AsyncRegisteredFunction(tool=WEATHER_TOOL, execute=get_weather_async)]
    return await AsyncResponsesToolRunner(functions=functions).run(client, {"model": MODEL, "input": question})
