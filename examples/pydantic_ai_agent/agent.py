"""A pydantic-ai app: an ``Agent`` with two tools, run whole or streamed, on OpenAI or Anthropic.

The model is pydantic-ai's ``OpenAIChatModel`` on an ``AsyncOpenAI`` client, or its
``AnthropicModel`` on an ``AsyncAnthropic`` one (``base_url`` is the fake model server while
recording, nowhere on replay). harness records the model calls at the HTTP
transport and the tools at pydantic-ai's ``FunctionToolset.call_tool``: on replay their recorded
results come back and they do not run (each run appends to ``TOOL_RUNS``: the tests check that
replay leaves it alone). A tool's ``ModelRetry`` is recorded too, and raised again on replay.

Streaming: ``Agent.run_stream`` ends the run at the first output that matches the output type — by design
(its docstring: it "will consider the first output matching the ``output_type`` to be the final output").
With ``str`` output a model that says something before its tool call ("Let me check." and a ``tool_use``, as
Claude does and the fake Anthropic server does) ends the streamed run on that text: the answer after the
tool is never asked for. :func:`ask_streamed_events` streams a whole run instead (``run_stream_events``,
pydantic-ai's advice): the tool call, the tool's result, then the final answer's text deltas.
"""

from __future__ import annotations

from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from pydantic_ai import (
    Agent,
    AgentRunResultEvent,
    ModelRetry,
    PartDeltaEvent,
    PartStartEvent,
    RunContext,
    TextPart,
    TextPartDelta,
)
from pydantic_ai.models import Model
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

MODEL = "gpt-4o"
CLAUDE = "claude-opus-4-7"
#: Every real run of a tool, in order (a real tool would call a service).
TOOL_RUNS: list[str] = []


def model_for(client: AsyncOpenAI | AsyncAnthropic) -> Model:
    if isinstance(client, AsyncAnthropic):
        return AnthropicModel(CLAUDE, provider=AnthropicProvider(anthropic_client=client))
    return OpenAIChatModel(MODEL, provider=OpenAIProvider(openai_client=client))


def weather_agent(client: AsyncOpenAI | AsyncAnthropic) -> Agent[str, str]:
    """An agent whose dependency is the unit of temperature (``deps="C"``)."""
    agent = Agent(model_for(client), deps_type=str, instructions="Answer weather questions with the tools.")

    @agent.tool
    def get_weather(ctx: RunContext[str], city: str) -> str:
        """The current weather in a city."""
        TOOL_RUNS.append(f"get_weather {city}")
        return f"sunny and 21°{ctx.deps} in {city}"

    @agent.tool_plain
    def get_forecast(city: str) -> str:
        """Tomorrow's forecast for a city (asked for by name)."""
        TOOL_RUNS.append(f"get_forecast {city}")
        if not city.istitle():
            raise ModelRetry("Give the city's name capitalised.")
        return f"rain tomorrow in {city}"

    return agent


async def ask(agent: Agent[str, str], question: str) -> tuple[str, list[object]]:
    """The output and every message of the run."""
    result = await agent.run(question, deps="C")
    return result.output, list(result.all_messages())


async def ask_streamed(agent: Agent[str, str], question: str) -> list[str]:
    """The answer's text deltas as they arrived."""
    async with agent.run_stream(question, deps="C") as run:
        return [delta async for delta in run.stream_text(delta=True, debounce_by=None)]


async def ask_streamed_events(agent: Agent[str, str], question: str) -> tuple[str, list[str]]:
    """The output of a whole streamed run, and the text deltas of its every model response (before and after
    the tool call) as they arrived."""
    deltas: list[str] = []
    output = None
    async with agent.run_stream_events(question, deps="C") as events:
        async for event in events:
            if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):  # a text part's first piece
                deltas.append(event.part.content)
            elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                deltas.append(event.delta.content_delta)
            elif isinstance(event, AgentRunResultEvent):
                output = event.result.output
    assert output is not None
    return output, deltas
