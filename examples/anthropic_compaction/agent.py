"""An agent on Anthropic's tool runner that compacts its conversation once the tool has answered: after a turn
that calls a tool, ``runner.compact_before_next_turn()``; the runner then asks for a summary (a turn with
``stop_reason == "compaction"`` and one compaction block), replaces the history with it, and carries on.

Compaction needs the ``compact-2026-09-04`` beta.
"""

from __future__ import annotations

import anthropic
from anthropic import beta_async_tool, beta_tool
from anthropic.types.beta import BetaMessage

MODEL = "claude-opus-4-7"
BETAS = ["compact-2026-09-04"]


@beta_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    # A real tool would call a weather service; in CI its recorded result is replayed instead.
    return f"sunny and 21°C in {city}"


@beta_async_tool(name="get_weather")
async def get_weather_async(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    return f"sunny and 21°C in {city}"


def ask(client: anthropic.Anthropic, question: str, *, stream: bool = False) -> list[BetaMessage]:
    """Every assistant message of the run, the compaction included; compacts after each turn calling a tool."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        betas=BETAS,
        tools=[get_weather],
        messages=[{"role": "user", "content": question}],
        stream=stream,
    )
    messages = []
    for turn in runner:
        message = turn.get_final_message() if stream else turn
        if message.stop_reason == "tool_use":
            runner.compact_before_next_turn()  # after the tool has run, before the model's next turn
        messages.append(message)
    return messages


async def ask_async(client: anthropic.AsyncAnthropic, question: str, *, stream: bool = False) -> list[BetaMessage]:
    """The same with the async runner."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        betas=BETAS,
        tools=[get_weather_async],
        messages=[{"role": "user", "content": question}],
        stream=stream,
    )
    messages = []
    async for turn in runner:
        message = await turn.get_final_message() if stream else turn
        if message.stop_reason == "tool_use":
            runner.compact_before_next_turn()
        messages.append(message)
    return messages
