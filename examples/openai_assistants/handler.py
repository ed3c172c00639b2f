"""An Assistants agent driven by an ``AssistantEventHandler``, as in the SDK's streaming helpers:
``runs.stream(...)`` starts the run; when it stops at ``requires_action``, the tool calls it asked
for are run and their outputs sent with ``runs.submit_tool_outputs_stream(...)``, each stream with a
fresh handler (the SDK does not let one handler serve two streams).

The tools are plain functions; ``@harness.recorded_tool`` records each call's input and result, and
on replay returns the result without running the function.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from openai import AssistantEventHandler, OpenAI
from openai.types.beta.threads import Message, Text, TextDelta
from openai.types.beta.threads.runs import ToolCall, ToolCallDelta

import harness

MODEL = "gpt-5"


@harness.recorded_tool
def get_weather(city: str) -> str:
    # A real tool would call a weather service; in CI its recorded result is replayed instead.
    return f"sunny and 21°C in {city}"


FUNCTIONS = {"get_weather": get_weather}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


class EventHandler(AssistantEventHandler):
    """Shows the run as it goes: the text as it streams, and the tool calls as they are made."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[str] = []

    def on_text_created(self, text: Text) -> None:
        self.shown.append("assistant> ")

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.shown.append(delta.value or "")

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.shown.append(f"tool> {tool_call.type}\n")

    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        if delta.type == "function" and delta.function and delta.function.arguments:
            self.shown.append(delta.function.arguments)

    def on_message_done(self, message: Message) -> None:
        self.shown.append("\n")


def create_assistant(client: OpenAI) -> str:
    return client.beta.assistants.create(model=MODEL, name="Weather", instructions="Answer with the tools.", tools=TOOLS).id


def ask(
    client: OpenAI, assistant_id: str, question: str, *, make_handler: Callable[[], EventHandler] = EventHandler
) -> tuple[str, list[EventHandler]]:
    """Run the assistant on a new thread; return the answer and the handlers used, one per stream."""
    thread = client.beta.threads.create(messages=[{"role": "user", "content": question}])
    handlers = [make_handler()]
    with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant_id, event_handler=handlers[-1]) as stream:
        stream.until_done()
    run = stream.current_run
    while run is not None and run.status == "requires_action" and run.required_action is not None:
        outputs = []
        for call in run.required_action.submit_tool_outputs.tool_calls:
            result = FUNCTIONS[call.function.name](**json.loads(call.function.arguments))
            outputs.append({"tool_call_id": call.id, "output": result})
        handlers.append(make_handler())
        with client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id=thread.id, run_id=run.id, tool_outputs=outputs, event_handler=handlers[-1]
        ) as stream:
            stream.until_done()
        run = stream.current_run
    answer = "".join(block.text.value for m in stream.get_final_messages() for block in m.content if block.type == "text")
    return answer, handlers
