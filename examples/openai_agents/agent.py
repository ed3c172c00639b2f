"""An openai-agents app: a weather agent with a ``@function_tool``, and a triage agent that hands off to it.

The model calls go to the Responses API through the ``AsyncOpenAI`` client given to the model
(``base_url`` is the fake model server while recording, nowhere on replay). harness records them at
the HTTP transport and the tool calls at openai-agents' tool dispatch: on replay the tool's recorded
output comes back and ``get_weather`` does not run (each run appends to ``TOOL_RUNS``: the tests
check that replay leaves it alone).

Tracing is off: openai-agents otherwise posts every run's trace to the platform's network endpoint
(``set_tracing_disabled(True)``, or ``OPENAI_AGENTS_DISABLE_TRACING=1`` in the environment).
"""

from __future__ import annotations

from typing import Any

from agents import Agent, OpenAIResponsesModel, Runner, RunResult, function_tool, handoff, set_tracing_disabled
from agents.extensions import handoff_filters
from openai import AsyncOpenAI

set_tracing_disabled(True)

MODEL = "gpt-5"
#: Every real run of the tool, in order (a real tool would call a weather service).
TOOL_RUNS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    TOOL_RUNS.append(city)
    return f"sunny and 21°C in {city}"


def agents(client: AsyncOpenAI) -> tuple[Agent[Any], Agent[Any]]:
    """The weather agent, and a triage agent whose one move is to hand off to it."""
    model = OpenAIResponsesModel(model=MODEL, openai_client=client)
    weather = Agent(name="Weather agent", instructions="Answer weather questions.", tools=[get_weather], model=model)
    # The weather agent sees the user's question without the transfer call (remove_all_tools), as if asked first.
    triage = Agent(
        name="Triage agent",
        instructions="Hand weather questions off to the weather agent.",
        handoffs=[handoff(weather, input_filter=handoff_filters.remove_all_tools)],
        model=model,
    )
    return weather, triage


async def ask(agent: Agent[Any], question: str) -> RunResult:
    return await Runner.run(agent, question)


async def ask_streamed(agent: Agent[Any], question: str) -> tuple[str, list[str], list[str]]:
    """The final output, the run items' events by name, and the text deltas as they arrived."""
    run = Runner.run_streamed(agent, question)
    items, deltas = [], []
    async for event in run.stream_events():
        if event.type == "run_item_stream_event":
            items.append(event.name)
        elif event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas.append(event.data.delta)
    return str(run.final_output), items, deltas
