"""An openai-agents app over the Responses WebSocket: the weather agent with a ``@function_tool``, its
model an ``OpenAIResponsesWSModel`` (one persistent socket for the run's model turns), or any model name
run inside ``responses_websocket_session(...)``.

openai-agents opens the socket itself (``websockets.asyncio.client.connect``), not through the openai
client; harness records the session's frames there and the tool calls at openai-agents' tool dispatch.
On replay no socket is opened, the tool's recorded output comes back and ``get_weather`` does not run
(each run appends to ``TOOL_RUNS``).
"""

from __future__ import annotations

from typing import Any

from agents import Agent, Model, OpenAIResponsesWSModel, Runner, RunResult, function_tool, set_tracing_disabled
from agents import responses_websocket_session as ws_session
from openai import AsyncOpenAI

set_tracing_disabled(True)

MODEL = "gpt-5"
#: Every real run of the tool, in order (a real tool would call a weather service).
TOOL_RUNS: list[str] = []
WEATHER = {"Paris": "sunny"}


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    TOOL_RUNS.append(city)
    return WEATHER.get(city, "unknown")


def weather_agent(model: str | Model) -> Agent[Any]:
    return Agent(name="Weather agent", instructions="Answer weather questions.", tools=[get_weather], model=model)


async def ask(client: AsyncOpenAI, question: str) -> RunResult:
    """``Runner.run`` with the model on the WebSocket transport; the socket is closed after the run."""
    model = OpenAIResponsesWSModel(model=MODEL, openai_client=client)
    try:
        return await Runner.run(weather_agent(model), question)
    finally:
        await model.close()


async def ask_streamed(base_url: str, api_key: str, question: str) -> tuple[str, list[str], list[str]]:
    """A streamed run in a ``responses_websocket_session``: the final output, the run items' events by
    name, and the text deltas as they arrived."""
    async with ws_session(api_key=api_key, base_url=base_url) as session:
        run = session.run_streamed(weather_agent(MODEL), question)
        items, deltas = [], []
        async for event in run.stream_events():
            if event.type == "run_item_stream_event":
                items.append(event.name)
            elif event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
                deltas.append(event.data.delta)
        return str(run.final_output), items, deltas
