"""Replays an Assistants run through the SDK's ``AssistantEventHandler``: the run that stops for a
tool call, the tool's recorded result, and the run that answers; every callback, in order."""

from __future__ import annotations

import pytest
from openai import OpenAI

import harness
from examples.openai_assistants import handler as agent

QUESTION = "What is the weather in Paris?"


@pytest.mark.cassette
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Assistants API is deprecated in the SDK
def test_assistant_run(cassette, model_url, agent_snapshot):
    client = OpenAI(api_key="sk-example-not-a-key", base_url=model_url + "/v1")
    recorders = []

    def make_handler():
        recorders.append(harness.record_callbacks(agent.EventHandler()))
        return recorders[-1].target

    assistant_id = agent.create_assistant(client)
    answer, handlers = agent.ask(client, assistant_id, QUESTION, make_handler=make_handler)

    assert answer == "Result: sunny and 21°C in Paris"
    assert [i.kind for i in cassette.interactions] == ["http", "http", "http", "tool", "http"]
    first, second = (r.names for r in recorders)
    # The first stream stops at requires_action: the tool call is done, the run step is not (yet).
    assert first[-3:] == ["on_event", "on_tool_call_done", "on_end"] and "on_run_step_done" not in first
    # The second one finishes the tool step, then streams the answer's message.
    assert second.index("on_run_step_done") < second.index("on_message_created") < second.index("on_text_done")
    assert "".join(handlers[1].shown) == "assistant> Result: sunny and 21°C in Paris\n"
    assert [r.calls for r in recorders] == agent_snapshot(name="callbacks")
    assert answer == agent_snapshot(name="answer")
