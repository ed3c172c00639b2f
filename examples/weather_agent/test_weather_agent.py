"""Replays the weather agent from its cassette: model turns, the tool call and its result."""

from __future__ import annotations

import anthropic
import pytest

from examples.weather_agent import agent

QUESTION = "What is the weather in Paris?"


@pytest.mark.cassette
def test_weather_agent(cassette, model_url, agent_snapshot):
    client = anthropic.Anthropic(api_key="sk-ant-example-not-a-key", base_url=model_url)

    final = agent.run(client, QUESTION)

    assert "sunny" in final.content[-1].text
    # The tool ran once while recording; on replay its recorded result was returned instead.
    assert [i.kind for i in cassette.interactions] == ["http", "tool", "http"]
    assert final == agent_snapshot
