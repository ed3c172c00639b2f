"""Agents on Anthropic's tool runner, ``client.beta.messages.tool_runner(...)``, written the ways the
SDK allows: run to the end (``until_done()``) or turn by turn (iterating), streamed or not, sync or
async, over a message thread (the default) or resending the whole history (``thread=False``).

``watch`` is where a caller may look at a stream as it goes (the tests pass
``harness.record_callbacks``); by default the stream is used as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
from anthropic import beta_async_tool, beta_tool, omit
from anthropic.types.beta import BetaMessage

MODEL = "claude-opus-4-7"


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


class MarketClosed(Exception):
    """The market data service does not answer."""


@beta_tool
def get_stock_price(symbol: str) -> str:
    """Get the latest price of a stock.

    Args:
        symbol: the ticker symbol
    """
    # The runner turns the exception into a tool_result with is_error: true, and the model goes on.
    raise MarketClosed(f"no quote for {symbol}: the market is closed")


@beta_async_tool(name="get_stock_price")
async def get_stock_price_async(symbol: str) -> str:
    """Get the latest price of a stock.

    Args:
        symbol: the ticker symbol
    """
    raise MarketClosed(f"no quote for {symbol}: the market is closed")


TOOLS = [get_weather, get_stock_price]
ASYNC_TOOLS = [get_weather_async, get_stock_price_async]


def _as_is(stream: Any) -> Any:
    return stream


def ask(client: anthropic.Anthropic, question: str, *, stream: bool = False, thread: bool = True) -> BetaMessage:
    """Run the tool loop to the end and return the model's last message."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=TOOLS,
        messages=[{"role": "user", "content": question}],
        stream=stream,
        thread=omit if thread else False,
    )
    return runner.until_done()


def ask_turn_by_turn(
    client: anthropic.Anthropic, question: str, *, max_iterations: int | None = None, thread: bool = True
) -> list[BetaMessage]:
    """Iterate the runner: one assistant message per model turn (the tools run between turns)."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=TOOLS,
        messages=[{"role": "user", "content": question}],
        max_iterations=max_iterations or omit,
        thread=omit if thread else False,
    )
    return [message for message in runner]


def ask_streaming(
    client: anthropic.Anthropic, question: str, *, watch: Callable[[Any], Any] = _as_is, out: list[str] | None = None
) -> list[BetaMessage]:
    """Iterate a streaming runner: each turn is a stream, its text shown as it arrives."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=TOOLS,
        messages=[{"role": "user", "content": question}],
        stream=True,
    )
    messages = []
    for turn in runner:
        stream = watch(turn)
        for event in stream:
            if event.type == "text" and out is not None:
                out.append(event.text)
        messages.append(stream.get_final_message())
    return messages


async def ask_async(client: anthropic.AsyncAnthropic, question: str, *, stream: bool = False) -> list[BetaMessage]:
    """The async runner, iterated: every assistant message, the last one the answer."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=[get_weather_async],
        messages=[{"role": "user", "content": question}],
        stream=stream,
    )
    messages = []
    async for turn in runner:
        messages.append(await turn.get_final_message() if stream else turn)
    return messages


def stream_reply(client: anthropic.Anthropic, question: str, *, watch: Callable[[Any], Any] = _as_is) -> Any:
    """One plain ``messages.stream`` call (no runner): the text as it arrives, then the whole message."""
    with watch(
        client.messages.stream(
            model=MODEL,
            max_tokens=1024,
            tools=[get_weather.to_dict()],
            messages=[{"role": "user", "content": question}],
        )
    ) as stream:
        for _text in stream.text_stream:
            pass
        return stream.get_final_message()


async def ask_async_until_done(
    client: anthropic.AsyncAnthropic, question: str, *, stream: bool = False, thread: bool = True
) -> BetaMessage:
    """The async runner to the end (``await until_done()``): the model's last message."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=ASYNC_TOOLS,
        messages=[{"role": "user", "content": question}],
        stream=stream,
        thread=omit if thread else False,
    )
    return await runner.until_done()


async def ask_async_turn_by_turn(
    client: anthropic.AsyncAnthropic, question: str, *, max_iterations: int | None = None
) -> list[BetaMessage]:
    """The async runner, iterated: one assistant message per model turn."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=ASYNC_TOOLS,
        messages=[{"role": "user", "content": question}],
        max_iterations=max_iterations or omit,
    )
    return [message async for message in runner]


async def ask_async_streaming(
    client: anthropic.AsyncAnthropic, question: str, *, watch: Callable[[Any], Any] = _as_is, out: list[str] | None = None
) -> list[BetaMessage]:
    """The async streaming runner, iterated: each turn is an async stream, its text shown as it arrives."""
    runner = client.beta.messages.tool_runner(
        model=MODEL,
        max_tokens=1024,
        tools=ASYNC_TOOLS,
        messages=[{"role": "user", "content": question}],
        stream=True,
    )
    messages = []
    async for turn in runner:
        stream = watch(turn)
        async for event in stream:
            if event.type == "text" and out is not None:
                out.append(event.text)
        messages.append(await stream.get_final_message())
    return messages
