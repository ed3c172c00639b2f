"""A weather agent on Anthropic's tool runner: the model asks for the weather, the tool answers,
the model sums up. Streaming, with message threads (the SDK's default)."""

from __future__ import annotations

import anthropic
from anthropic import beta_tool

MODEL = "claude-opus-4-7"


@beta_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    # A real tool would call a weather service; in CI its recorded result is replayed instead.
    return f"sunny and 21°C in {city}"


def run(client: anthropic.Anthropic, question: str) -> anthropic.types.beta.BetaMessage:
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=[get_weather],
        messages=[{"role": "user", "content": question}],
        stream=True,
    )
    return runner.until_done()
