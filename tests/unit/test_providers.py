"""The provider modules: one per API wire format (detection, re-splitting, reading, errors, callbacks)."""

from __future__ import annotations

from typing import Any

import pytest

from harness import providers
from harness.cassette.model import Body
from harness.providers import Provider
from harness.providers.base import Part
from harness.providers.read import answer_of, turn_of

FAULTS = ("status", "error_event", "drop", "read_timeout", "truncate")


def _e(event: str | None, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": event, "data": data} if event else {"data": data}


ANTHROPIC = [
    _e("message_start", {"type": "message_start", "message": {"model": "claude", "stop_reason": None}}),
    _e("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
    _e("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Café ☕"}}),
    _e("content_block_stop", {"type": "content_block_stop", "index": 0}),
    _e(
        "content_block_start",
        {"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "id": "t1", "name": "w", "input": {}}},
    ),
    _e(
        "content_block_delta",
        {"type": "content_block_delta", "index": 1, "delta": {"type": "input_json_delta", "partial_json": '{"city":"Paris"}'}},
    ),
    _e("content_block_stop", {"type": "content_block_stop", "index": 1}),
    _e("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use"}}),
    _e("message_stop", {"type": "message_stop"}),
]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return _e(None, {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt", "choices": [choice]})


CHAT = [
    _chunk({"role": "assistant", "content": ""}),
    _chunk({"content": "Bonjour tout le monde"}),
    _chunk({}, "stop"),
]
RESPONSES = [
    _e("response.created", {"type": "response.created", "sequence_number": 0, "response": {"model": "gpt-r", "output": []}}),
    _e(
        "response.output_text.delta",
        {
            "type": "response.output_text.delta",
            "sequence_number": 1,
            "output_index": 0,
            "content_index": 0,
            "delta": "Hello there",
        },
    ),
    _e(
        "response.completed",
        {"type": "response.completed", "sequence_number": 2, "response": {"model": "gpt-r", "status": "completed", "output": []}},
    ),
]
ASSISTANTS = [
    _e("thread.run.created", {"id": "run_1", "object": "thread.run", "status": "queued", "model": "gpt-a"}),
    _e(
        "thread.message.delta",
        {
            "id": "msg_1",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Salut à toi"}}]},
        },
    ),
    _e("thread.run.completed", {"id": "run_1", "object": "thread.run", "status": "completed", "model": "gpt-a"}),
]
STREAMS = {"anthropic": ANTHROPIC, "openai-chat": CHAT, "openai-responses": RESPONSES, "openai-assistants": ASSISTANTS}
TEXTS = {
    "anthropic": "Café ☕",
    "openai-chat": "Bonjour tout le monde",
    "openai-responses": "Hello there",
    "openai-assistants": "Salut à toi",
}


def _answer(events: list[dict[str, Any]]) -> Any:
    answer = answer_of(Body("sse", events))
    assert answer is not None
    return answer


def test_the_registry_holds_one_provider_per_format_in_order() -> None:
    assert list(providers.registry()) == ["anthropic", "openai-chat", "openai-responses", "openai-assistants"]
    assert isinstance(providers.get("openai-chat"), providers.OpenAIChat)
    assert providers.get("nope") is None and providers.get(None) is None


@pytest.mark.parametrize("name", list(STREAMS))
def test_detect_names_the_format_of_each_stream(name: str) -> None:
    assert providers.detect(STREAMS[name]) == name
    others = [p for p in providers.registry() if p != name]
    assert not any(providers.get(o).detect(STREAMS[name]) for o in others)  # type: ignore[union-attr]


def test_detect_knows_nothing_of_other_streams() -> None:
    assert providers.detect(None) is None and providers.detect([]) is None
    assert providers.detect([_e("ping", {"type": "ping"})]) is None


@pytest.mark.parametrize("name", list(STREAMS))
def test_each_reader_reassembles_its_streamed_answer(name: str) -> None:
    answer = _answer(STREAMS[name])
    assert answer.parts[0].kind == "text" and answer.parts[0].text == TEXTS[name]


def test_the_anthropic_reader_reads_tool_calls_and_the_stop_reason() -> None:
    answer = _answer(ANTHROPIC)
    assert answer.model == "claude" and answer.stop == "tool_use"
    assert answer.parts[1] == Part("tool", name="w", id="t1", input={"city": "Paris"})


def test_json_answers_of_each_api() -> None:
    anthropic = {"type": "message", "content": [{"type": "text", "text": "hi"}], "stop_reason": "end_turn", "model": "c"}
    chat = {"choices": [{"index": 0, "message": {"content": "hi", "tool_calls": [{"id": "x", "function": {"name": "f", "arguments": '{"a": 1}'}}]}, "finish_reason": "tool_calls"}]}  # fmt: skip
    responses = {"object": "response", "status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}, "output": [{"type": "message", "content": [{"type": "output_text", "text": "hi"}]}]}  # fmt: skip
    run = {"object": "thread.run", "status": "requires_action", "required_action": {"submit_tool_outputs": {"tool_calls": [{"id": "c", "function": {"name": "g", "arguments": "{}"}}]}}}  # fmt: skip
    got = {k: answer_of(Body("json", v)) for k, v in {"a": anthropic, "c": chat, "r": responses, "run": run}.items()}
    assert got["a"] is not None and (got["a"].parts[0].text, got["a"].stop) == ("hi", "end_turn")
    assert got["c"] is not None and got["c"].parts[1] == Part("tool", name="f", id="x", input={"a": 1})
    assert got["r"] is not None and got["r"].stop == "incomplete (max_output_tokens)"
    assert got["run"] is not None and (got["run"].parts[0].name, got["run"].stop) == ("g", "requires_action")
    assert answer_of(Body("json", {"error": {"type": "overloaded_error", "message": "Overloaded"}})).error == (  # type: ignore[union-attr]
        "overloaded_error: Overloaded"
    )
    assert answer_of(Body("json", {"hello": 1})) is None


def test_turns_of_each_api() -> None:
    anthropic = {"model": "c", "system": "be nice", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    assert turn_of(anthropic) == (["c", "1 message", "stream"], [("system", "be nice"), ("user", "hi")])
    assert turn_of({"model": "g", "input": "hello", "tools": [{}]}) == (["g", "1 input item", "1 tool"], [("user", "hello")])
    assert turn_of({"tool_outputs": [{"tool_call_id": "c1", "output": "42"}]}) == ([], [("tool result", "[c1] 42")])
    assert turn_of({"model": "old", "prompt": "Once upon"}) == (["old"], [("prompt", "Once upon")])
    assert turn_of({"nothing": "here"}) == ([], [])


@pytest.mark.parametrize("name", list(STREAMS))
def test_a_split_then_merge_keeps_the_meaning(name: str) -> None:
    provider = providers.get(name)
    assert provider is not None
    events = STREAMS[name]
    i, entry = next((i, e) for i, e in enumerate(events) if any(len(s[1]) >= 2 for s in provider.slots(e)))
    _label, text = next(s for s in provider.slots(entry) if len(s[1]) >= 2)
    head, tail = provider.split(entry, 0, 3)
    assert [s[1] for s in provider.slots(head)][:1] == [text[:3]]
    split = [*events[:i], head, tail, *events[i + 1 :]]
    provider.renumber(split)
    assert _answer(split) == _answer(events)  # the reader sees the same answer
    assert provider.merge(head, tail) == entry
    assert provider.merge(head, tail, dry=True) is not None
    assert provider.merge(events[-1], entry) is None  # the end of the stream takes nothing more


def test_responses_renumbers_sequence_numbers_after_a_split() -> None:
    provider = providers.get("openai-responses")
    assert provider is not None
    head, tail = provider.split(RESPONSES[1], 0, 5)
    events = [RESPONSES[0], head, tail, RESPONSES[2]]
    assert provider.renumber(events) == [2, 3]
    assert [e["data"]["sequence_number"] for e in events] == [0, 1, 2, 3]


@pytest.mark.parametrize("name", list(STREAMS))
def test_each_error_event_reads_as_an_error(name: str) -> None:
    provider = providers.get(name)
    assert provider is not None
    entry = provider.error_entry(STREAMS[name], 1)
    answer = _answer([*STREAMS[name][:1], entry])
    assert answer.error is not None and ("error" in answer.error or "Overloaded" in answer.error)
    body = provider.status_body(429)
    assert isinstance(body["error"], dict) and body["error"]["message"] == "Rate limited"


@pytest.mark.parametrize("name", list(STREAMS))
def test_each_provider_measured_every_fault(name: str) -> None:
    provider = providers.get(name)
    assert provider is not None
    assert sorted(f.fault for f in provider.sdk_errors) == sorted(FAULTS)
    assert provider.sdk in ("anthropic", "openai")


def test_callback_names_belong_to_their_provider() -> None:
    anthropic, responses, assistants = (providers.get(n) for n in ("anthropic", "openai-responses", "openai-assistants"))
    assert anthropic is not None and responses is not None and assistants is not None
    assert anthropic.callback_kind("content_block_delta", {"index": 2}) == ("block", "delta", (2,))
    assert anthropic.callback_kind("message_stop", {}) == ("message", "done+end", ())
    assert responses.callback_kind("response.output_item.done", {"output_index": 1, "content_index": 0}) == ("item", "done", (1,))
    assert assistants.callback_kind("on_text_delta", {"index": 0}) == ("text", "delta", None)
    assert assistants.callback_kind("on_tool_call_delta", {"index": 0}) == ("tool_call", "delta", (0,))
    assert anthropic.callback_kind("on_end", {}) is None and assistants.callback_kind("on_end", {}) == ("run", "end", None)
    state = {("item", (0,)): "done"}
    assert responses.callback_problems("response.output_text.delta", {"output_index": 0}, "#3 x", state) == [
        "#3 x: after item [0] was done"
    ]


def test_register_adds_a_format_tried_after_the_others() -> None:
    class Echo(Provider):
        name = "echo"

        def detect(self, events: list[dict[str, Any]]) -> bool:
            return True  # claims anything: tried last, so only what no other format knows

    saved = providers.registry()
    try:
        providers.register(Echo())
        assert providers.detect(ANTHROPIC) == "anthropic"
        assert providers.detect([_e("ping", {"type": "ping"})]) == "echo"
    finally:
        providers._PROVIDERS.clear()
        providers._PROVIDERS.update(saved)
    assert providers.detect([_e("ping", {"type": "ping"})]) is None
