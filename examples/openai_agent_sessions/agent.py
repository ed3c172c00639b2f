"""An openai ``client.beta.agents`` session turn with a local tool handler: ``sessions.stream(...)`` follows the
session's events, runs ``get_weather`` when the agent calls it, posts its output, and the agent answers from
it. On replay the handler does not run; the stream's answer still waits for the replayed tool-result post."""

from __future__ import annotations

from pathlib import Path

import openai
import pydantic
from openai.lib.beta.agents import FunctionTool


class City(pydantic.BaseModel):
    city: str


def weather_tool(calls: Path) -> FunctionTool:
    """``get_weather``, logging each call to ``calls`` (the side effect replay must not repeat)."""

    def get_weather(args: City) -> str:
        with calls.open("a", encoding="utf-8") as f:
            f.write(args.city + "\n")
        return f"sunny in {args.city}"

    return FunctionTool(City, get_weather, name="get_weather", description="The weather in a city")


def ask(client: openai.OpenAI, session_id: str, question: str, calls: Path) -> str:
    """One turn of the session; the agent's final answer."""
    stream = client.beta.agents.sessions.stream(
        session_id, input=question, tool_handlers={"get_weather": weather_tool(calls)}, timeout=30
    )
    with stream:
        return str(stream.get_final_result().output_text)
