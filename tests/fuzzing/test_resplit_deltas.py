"""The re-splitter knows every delta type of the installed SDKs' stream accumulators.

The list of delta types is read from the SDKs themselves (the members of anthropic's ``RawContentBlockDelta``
and ``BetaRawContentBlockDelta`` unions, the leaf fields of openai's ``ChoiceDelta`` and ``ChoiceLogprobs``, the
``response.*.delta`` events openai's ``ResponseStreamState.accumulate_event`` handles, the members of openai's
Assistants ``MessageContentDelta`` and ``ToolCallDelta`` unions): a delta type a later SDK
adds fails here until its provider module says whether it is cut or passed whole. Every type that is cut is then
fed, cut every 1, 2, 3 and 7 characters, cut and merged back, and as hypothesis draws it, through the SDK's own
accumulator, which must build the same final message as from the recorded stream.
"""

from __future__ import annotations

import inspect
import re
import types
import typing
from typing import Any

import httpx2
import pytest
from anthropic.lib.streaming import _beta_messages, _messages
from anthropic.types import RawContentBlockDelta, RawMessageStreamEvent
from anthropic.types.beta import BetaRawContentBlockDelta, BetaRawMessageStreamEvent
from hypothesis import HealthCheck, given, settings
from openai.lib.streaming.chat import ChatCompletionStreamState
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.beta import AssistantStreamEvent
from openai.types.beta.threads import MessageContentDelta
from openai.types.beta.threads.runs import ToolCallDelta
from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import ChoiceDelta, ChoiceLogprobs
from openai.types.responses import ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

import harness.strategies as hs
from harness.cassette.model import Body, HttpInteraction, Request, Response
from harness.fuzz.resplit import resplit_strategy
from harness.providers import anthropic as anthropic_provider
from harness.providers import openai_assistants, openai_chat, openai_responses

Json = dict[str, Any]
STEPS = (1, 2, 3, 7)
OPS: list[list[tuple[Any, ...]]] = [[("explode", 0, None, step)] for step in STEPS] + [[("explode",), ("merge_all",)]]
TRICKY = '{"path": "C:\\\\dir\\n\\u00e9", "n": -12.5e-3, "ok": true, "none": null, "list": [1, {"x": "café ☕"}]}'


def recorded(events: list[Json], named: bool = True) -> hs.Recorded:
    entries = [{"event": e["type"], "data": e} if named else {"data": e} for e in events]
    body = Body("sse", entries)
    return hs.Recorded(0, HttpInteraction(Request("POST", "http://h/v1/x"), Response(200, {}, body)))


def variants(rec: hs.Recorded) -> list[tuple[str, list[Json]]]:
    """The recording's data cut by every op list of ``OPS``, each checked to have changed the stream."""
    out = []
    for ops in OPS:
        variant = hs.resplit_ops(rec, ops)
        events = [e["data"] for e in variant.interaction.response.body.value]
        assert events != [e["data"] for e in rec.events] or ops[-1][0] == "merge_all", variant.label
        out.append((variant.label, events))
    return out


def literal_types(union: Any) -> set[str]:
    """The ``type`` literal of every member of a (possibly ``Annotated``) union of models."""
    args = typing.get_args(union)
    if typing.get_origin(union) is typing.Annotated:
        args = typing.get_args(args[0])
    return {typing.get_args(cls.model_fields["type"].annotation)[0] for cls in args}


def leaf_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every leaf field of ``model`` as a dotted path (``tool_calls[].function.arguments``)."""
    out = set()
    for name, info in model.model_fields.items():
        kind, path = info.annotation, prefix + name
        inner = [a for a in typing.get_args(kind) if a is not type(None)] if _is_union(kind) else [kind]
        kind = inner[0] if len(inner) == 1 else kind
        if typing.get_origin(kind) in (list, typing.List) and isinstance(typing.get_args(kind)[0], type):  # noqa: UP006
            element = typing.get_args(kind)[0]
            if issubclass(element, BaseModel) and "index" in element.model_fields:
                out |= leaf_paths(element, path + "[].")
                continue
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out |= leaf_paths(kind, path + ".")
        else:
            out.add(path)
    return out


def _is_union(kind: Any) -> bool:
    return typing.get_origin(kind) in (typing.Union, types.UnionType)


# ------------------------------------------------------------------------------------------------ the lists


def test_every_anthropic_delta_type_is_cut_or_passed_whole_by_design() -> None:
    sdk = literal_types(RawContentBlockDelta) | literal_types(BetaRawContentBlockDelta)
    split, whole = set(anthropic_provider.SPLIT_DELTAS), set(anthropic_provider.WHOLE_DELTAS)
    assert not split & whole
    assert sdk == split | whole, f"classify in harness/providers/anthropic.py: {sorted(sdk - split - whole)}"
    assert {"compaction_delta", "signature_delta", "citations_delta"} <= whole


def test_every_openai_chat_delta_field_is_cut_or_passed_whole_by_design() -> None:
    sdk = leaf_paths(ChoiceDelta) | {f"logprobs.{p}" for p in leaf_paths(ChoiceLogprobs)}
    split, whole = set(openai_chat.SPLIT_FIELDS), set(openai_chat.WHOLE_FIELDS)
    assert not split & whole
    assert sdk == split | whole, f"classify in harness/providers/openai_chat.py: {sorted(sdk - split - whole)}"
    assert {"content", "refusal", "tool_calls[].function.arguments", "function_call.arguments"} <= split


def test_every_delta_the_responses_accumulator_handles_is_cut() -> None:
    handled = set(re.findall(r'event\.type == "(response\.[a-z_.]+\.delta)"', inspect.getsource(ResponseStreamState)))
    assert {"response.output_text.delta", "response.function_call_arguments.delta"} <= handled
    assert handled <= openai_responses.SPLIT_DELTAS, sorted(handled - openai_responses.SPLIT_DELTAS)


# ---------------------------------------------------------------------------------------------- anthropic


def block(index: int, content_block: Json, *deltas: Json) -> list[Json]:
    start = {"type": "content_block_start", "index": index, "content_block": content_block}
    body = [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
    return [start, *body, {"type": "content_block_stop", "index": index}]


CITATION = {"type": "char_location", "cited_text": "Paris", "document_index": 0, "document_title": "Atlas",
            "start_char_index": 0, "end_char_index": 5, "file_id": None}  # fmt: skip
MESSAGE = {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-x", "content": [],
           "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 0}}  # fmt: skip
END = [
    {"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": None}, "usage": {"output_tokens": 9}},
    {"type": "message_stop"},
]
ANTHROPIC = [
    {"type": "message_start", "message": MESSAGE},
    *block(
        0,
        {"type": "thinking", "thinking": "", "signature": ""},
        {"type": "thinking_delta", "thinking": "Paris? ça va ☕"},
        {"type": "signature_delta", "signature": "EqQBCkYIBRgCKkB"},
    ),
    *block(
        1,
        {"type": "text", "text": "", "citations": None},
        {"type": "text_delta", "text": "Paris is a city. "},
        {"type": "citations_delta", "citation": CITATION},
        {"type": "text_delta", "text": "Café ☕ \u00e9"},
    ),
    *block(
        2,
        {"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}},
        {"type": "input_json_delta", "partial_json": TRICKY},
    ),
    *block(
        3,
        {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
        {"type": "input_json_delta", "partial_json": '{"query": "Paris \\"weather\\""}'},
    ),
]
BETA_ONLY = [
    *block(
        4,
        {"type": "mcp_tool_use", "id": "mcptoolu_1", "name": "find", "server_name": "atlas", "input": {}},
        {"type": "input_json_delta", "partial_json": '{"q": [1, 2.5, -3]}'},
    ),
    *block(
        5,
        {"type": "compaction", "content": None},
        {"type": "compaction_delta", "content": "Summary: Paris.", "encrypted_content": None},
    ),
]


def anthropic_final(events: list[Json], beta: bool) -> Json:
    adapter: TypeAdapter[Any] = TypeAdapter(BetaRawMessageStreamEvent if beta else RawMessageStreamEvent)
    snapshot, bufs = None, {}
    for data in events:
        event = adapter.validate_python(data)
        if beta:
            snapshot = _beta_messages.accumulate_event(
                event=event, current_snapshot=snapshot, json_bufs=bufs, request_headers=httpx2.Headers()
            )
        else:
            snapshot = _messages.accumulate_event(event=event, current_snapshot=snapshot, json_bufs=bufs)
    assert snapshot is not None
    return snapshot.model_dump()


@pytest.mark.parametrize("beta", [False, True], ids=["messages", "beta"])
def test_anthropic_split_deltas_rebuild_the_same_message(beta: bool) -> None:
    events = ANTHROPIC + (BETA_ONLY if beta else []) + END
    rec = recorded(events)
    want = anthropic_final(events, beta)
    assert want["content"][2]["input"]["list"][1]["x"] == "café ☕"
    cut = {e["data"]["delta"]["type"] for e in hs.resplit_ops(rec, [("explode",)]).interaction.response.body.value
           if e["data"]["type"] == "content_block_delta" and e["data"] not in events}  # fmt: skip
    assert cut == set(anthropic_provider.SPLIT_DELTAS)
    for label, variant in variants(rec):
        assert anthropic_final(variant, beta) == want, label


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=resplit_strategy(recorded(ANTHROPIC + BETA_ONLY + END)))
def test_anthropic_drawn_resplits_rebuild_the_same_message(data: Any) -> None:
    events = [e["data"] for e in data.interaction.response.body.value]
    assert anthropic_final(events, True) == anthropic_final(ANTHROPIC + BETA_ONLY + END, True)


# -------------------------------------------------------------------------------------------- openai chat


def chunk(delta: Json, finish: str | None = None, **extra: Any) -> Json:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish, **extra}]}  # fmt: skip


FUNCTION = {"type": "function", "function": {"name": "look", "parameters": {"type": "object"}, "strict": True}}
CHAT = [
    chunk({"role": "assistant", "content": "Paris, ça va ☕? "}),
    chunk({"content": "Yes."}),
    chunk({"refusal": "I can't say more."}),
    chunk({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "look", "arguments": TRICKY}}]}),
    chunk(
        {
            "tool_calls": [
                {"index": 1, "id": "call_2", "type": "function", "function": {"name": "look", "arguments": '{"b": [1, 2]}'}}
            ]
        }
    ),
    chunk({"function_call": {"name": "legacy", "arguments": '{"city": "Lyon"}'}}),
    chunk({"audio": {"id": "audio_1", "transcript": "Bonjour à tous", "data": "UklGRiQAAABXQVZFZm10"}}),
    chunk({"audio": {"expires_at": 1700000000}}),
    chunk(
        {"content": " Logged."},
        logprobs={"content": [{"token": " Logged.", "logprob": -0.5, "bytes": None, "top_logprobs": []}], "refusal": None},
    ),
    chunk(
        {"content": " Twice"},
        logprobs={"content": [{"token": " Twice", "logprob": -0.1, "bytes": [32], "top_logprobs": []}], "refusal": None},
    ),
    chunk({}, "tool_calls"),
]


def chat_final(events: list[Json]) -> Json:
    state: ChatCompletionStreamState[Any] = ChatCompletionStreamState(input_tools=[FUNCTION])
    for data in events:
        for _ in state.handle_chunk(ChatCompletionChunk.model_validate(data)):
            pass
    return state.get_final_completion().model_dump()


def test_openai_chat_split_fields_rebuild_the_same_completion() -> None:
    rec = recorded(CHAT, named=False)
    want = chat_final(CHAT)
    message = want["choices"][0]["message"]
    assert message["audio"]["transcript"] == "Bonjour à tous" and message["function_call"]["arguments"] == '{"city": "Lyon"}'
    assert message["tool_calls"][0]["function"]["parsed_arguments"]["list"][1]["x"] == "café ☕"
    exploded = hs.resplit_ops(rec, [("explode",)]).interaction.response.body.value
    assert len(exploded) - len(CHAT) == sum(
        len(text) - 1 for e in CHAT for _, text in openai_chat.OpenAIChat().slots({"data": e})
    )
    assert [t["token"] for t in want["choices"][0]["logprobs"]["content"]] == [" Logged.", " Twice"]
    merged = hs.resplit_ops(rec, [("merge", len(CHAT) - 3)]).interaction.response.body.value
    assert merged[-2]["data"]["choices"][0]["delta"]["content"] == " Logged. Twice"  # the two logprobs chunks
    assert chat_final([e["data"] for e in merged]) == want
    for label, variant in variants(rec):
        assert chat_final(variant) == want, label


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=resplit_strategy(recorded(CHAT, named=False)))
def test_openai_chat_drawn_resplits_rebuild_the_same_completion(data: Any) -> None:
    assert chat_final([e["data"] for e in data.interaction.response.body.value]) == chat_final(CHAT)


# ------------------------------------------------------------------------------------------ openai responses


def response_event(kind: str, n: int, **fields: Any) -> Json:
    return {"type": kind, "sequence_number": n, **fields}


RESPONSE = {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-x", "status": "in_progress", "output": [],
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}  # fmt: skip
TEXT_ITEM = {"type": "message", "id": "msg_1", "role": "assistant", "status": "in_progress", "content": []}
CALL_ITEM = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "look", "arguments": "", "status": "in_progress"}
DONE_TEXT = {**TEXT_ITEM, "status": "completed", "content": [{"type": "output_text", "text": "Paris ☕ é", "annotations": []}]}
DONE_CALL = {**CALL_ITEM, "status": "completed", "arguments": TRICKY}
RESPONSES = [
    response_event("response.created", 0, response=RESPONSE),
    response_event("response.output_item.added", 1, output_index=0, item=TEXT_ITEM),
    response_event(
        "response.content_part.added",
        2,
        output_index=0,
        content_index=0,
        item_id="msg_1",
        part={"type": "output_text", "text": "", "annotations": []},
    ),
    response_event(
        "response.output_text.delta", 3, output_index=0, content_index=0, item_id="msg_1", delta="Paris ☕ é", logprobs=[]
    ),
    response_event("response.output_item.added", 4, output_index=1, item=CALL_ITEM),
    response_event("response.function_call_arguments.delta", 5, output_index=1, item_id="fc_1", delta=TRICKY),
    response_event("response.output_item.done", 6, output_index=0, item=DONE_TEXT),
    response_event("response.output_item.done", 7, output_index=1, item=DONE_CALL),
    response_event("response.completed", 8, response={**RESPONSE, "status": "completed", "output": [DONE_TEXT, DONE_CALL]}),
]


def responses_snapshots(events: list[Json]) -> tuple[Json, Json]:
    """The snapshot the accumulator built before ``response.completed``, and the final response."""
    adapter: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[], text_format=openai_responses_omit())
    for data in events[:-1]:
        state.handle_event(adapter.validate_python(data))
    before = state._ResponseStreamState__current_snapshot.model_dump(warnings=False)  # type: ignore[attr-defined]
    state.handle_event(adapter.validate_python(events[-1]))
    final = state._completed_response
    assert final is not None
    return before, final.model_dump(warnings=False)


def openai_responses_omit() -> Any:
    from openai import omit

    return omit


def test_openai_responses_split_deltas_rebuild_the_same_response() -> None:
    rec = recorded(RESPONSES)
    want = responses_snapshots(RESPONSES)
    assert want[0]["output"][0]["content"][0]["text"] == "Paris ☕ é" and want[0]["output"][1]["arguments"] == TRICKY
    for label, variant in variants(rec):
        assert [e["sequence_number"] for e in variant] == list(range(len(variant))), label
        assert responses_snapshots(variant) == want, label


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=resplit_strategy(recorded(RESPONSES)))
def test_openai_responses_drawn_resplits_rebuild_the_same_response(data: Any) -> None:
    assert responses_snapshots([e["data"] for e in data.interaction.response.body.value]) == responses_snapshots(RESPONSES)


# ---------------------------------------------------------------------------------------- openai assistants


def test_every_openai_assistants_delta_type_is_cut_or_passed_whole_by_design() -> None:
    sdk = {f"content.{t}" for t in literal_types(MessageContentDelta)} | {f"tool_call.{t}" for t in literal_types(ToolCallDelta)}
    split, whole = set(openai_assistants.SPLIT_DELTAS), set(openai_assistants.WHOLE_DELTAS)
    assert not split & whole
    assert sdk == split | whole, f"classify in harness/providers/openai_assistants.py: {sorted(sdk - split - whole)}"


def thread_event(event: str, data: Json) -> Json:
    return {"event": event, "data": data}


MSG = {"id": "msg_1", "object": "thread.message", "created_at": 1, "thread_id": "thread_1", "role": "assistant",
       "content": [], "status": "in_progress", "attachments": [], "metadata": {}, "assistant_id": "asst_1", "run_id": "run_1",
       "completed_at": None, "incomplete_at": None, "incomplete_details": None}  # fmt: skip
STEP = {"id": "step_1", "object": "thread.run.step", "created_at": 1, "assistant_id": "asst_1", "thread_id": "thread_1",
        "run_id": "run_1", "type": "tool_calls", "status": "in_progress", "step_details": {"type": "tool_calls", "tool_calls": []},
        "last_error": None, "expired_at": None, "cancelled_at": None, "failed_at": None, "completed_at": None, "metadata": {},
        "usage": None}  # fmt: skip


def message_delta(item: Json) -> Json:
    return thread_event("thread.message.delta", {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [item]}})


def step_delta(call: Json) -> Json:
    details = {"type": "tool_calls", "tool_calls": [call]}
    return thread_event(
        "thread.run.step.delta", {"id": "step_1", "object": "thread.run.step.delta", "delta": {"step_details": details}}
    )


ASSISTANTS = [
    thread_event("thread.run.step.created", STEP),
    step_delta(
        {"index": 0, "type": "function", "id": "call_1", "function": {"name": "look", "arguments": TRICKY, "output": None}}
    ),
    step_delta({"index": 1, "type": "code_interpreter", "id": "ci_1", "code_interpreter": {"input": "print('café ☕')\nx = 1"}}),
    thread_event("thread.message.created", MSG),
    message_delta({"index": 0, "type": "text", "text": {"value": "Paris, ça va ☕?"}}),
    message_delta({"index": 1, "type": "refusal", "refusal": "I can't say more."}),
]


def assistants_final(entries: list[Json]) -> tuple[Json, Json]:
    from openai.lib.streaming._assistants import accumulate_event, accumulate_run_step

    adapter: TypeAdapter[Any] = TypeAdapter(AssistantStreamEvent)
    message, steps = None, {}
    for entry in entries:
        event = adapter.validate_python({"event": entry["event"], "data": entry["data"]})
        accumulate_run_step(event=event, run_step_snapshots=steps)
        message, _ = accumulate_event(event=event, current_message_snapshot=message)
    assert message is not None
    return message.model_dump(warnings=False), steps["step_1"].model_dump(warnings=False)


def test_openai_assistants_split_deltas_rebuild_the_same_message_and_step() -> None:
    entries = [{"event": e["event"], "data": e["data"]} for e in ASSISTANTS]
    body = Body("sse", entries)
    rec = hs.Recorded(0, HttpInteraction(Request("POST", "http://h/v1/threads/runs"), Response(200, {}, body)))
    want = assistants_final(entries)
    assert want[0]["content"][1]["refusal"] == "I can't say more."
    assert want[1]["step_details"]["tool_calls"][1]["code_interpreter"]["input"] == "print('café ☕')\nx = 1"
    exploded = hs.resplit_ops(rec, [("explode",)]).interaction.response.body.value
    cut = sum(len(text) - 1 for e in entries for _, text in openai_assistants.OpenAIAssistants().slots(e))
    assert (
        len(exploded) - len(entries)
        == cut
        == sum(len(t) - 1 for t in (TRICKY, "print('café ☕')\nx = 1", "Paris, ça va ☕?", "I can't say more."))
    )
    for ops in OPS:
        variant = hs.resplit_ops(rec, ops)
        assert assistants_final(variant.interaction.response.body.value) == want, variant.label
