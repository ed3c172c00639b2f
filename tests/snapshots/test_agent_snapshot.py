"""The agent_snapshot extension: ids and timestamps become stable placeholders, recorded calls serialize one
per line, the plugin's fixture, and a snapshot round trip in a real pytest session (pytester)."""

from __future__ import annotations

import textwrap
from typing import Any

import anthropic
import openai
import pytest

from harness.callbacks import Call
from harness.snapshot import AgentSnapshotExtension, normalize

# (``agent_snapshot`` below is the plugin's own fixture: the harness plugin is loaded by its entry point.)
from tests.snapshots.wire import (
    CREATED,
    anthropic_events,
    sse,
)

# --------------------------------------------------------------------------------------------- the extension


def serialize(data: Any) -> str:
    return AgentSnapshotExtension().serialize(data)


def test_ids_and_timestamps_become_stable_placeholders() -> None:
    message = anthropic.types.Message.model_validate(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-test-model",
            "content": [
                {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_01B77zzzzzzzzzzzzzzzzzzzz", "name": "call_weather", "input": {"when": "2025-01-02T03:04:05Z"}},
            ],
            "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 2},
        }
    )  # fmt: skip
    follow_up = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "18C"}],
    }
    data = normalize([message, follow_up, {"created": CREATED, "created_at": CREATED + 0.5, "completed_at": None}])
    msg, user, times = data
    assert msg["id"] == "<msg_1>"
    assert [b["id"] for b in msg["content"]] == ["<toolu_1>", "<toolu_2>"]  # two ids, two placeholders
    assert user["content"][0]["tool_use_id"] == "<toolu_1>"  # the same id, the same placeholder
    assert msg["content"][1]["name"] == "call_weather"  # a tool name, not an id
    assert msg["content"][1]["input"] == {"when": "<timestamp>"}
    assert times == {"created": "<timestamp>", "created_at": "<timestamp>", "completed_at": None}
    assert "stop_sequence" not in msg  # None fields are left out

    text = serialize([message, follow_up])
    assert "msg_01" not in text and "toolu_01" not in text
    assert "'id': '<toolu_1>'" in text and "'tool_use_id': '<toolu_1>'" in text

    # Placeholders are numbered per serialized value: the same shape gives the same text.
    other = message.model_copy(
        update={"id": "msg_01ZZZ", "content": [message.content[0].model_copy(update={"id": "toolu_9Q"}), message.content[1]]}
    )
    assert serialize([other, {**follow_up, "content": [{**follow_up["content"][0], "tool_use_id": "toolu_9Q"}]}]) == text


def test_only_what_looks_like_a_time_or_an_id_is_replaced() -> None:
    # Values of *_at / created / timestamp fields: times are replaced, other data is kept
    times = {
        "created": CREATED, "created_at": CREATED * 1000 + 5, "expires_at": "2025-01-02T03:04:05Z",
        "timestamp": "2025-01-02", "completed_at": None,
    }  # fmt: skip
    assert set(normalize(times).values()) == {"<timestamp>", None}
    data = {
        "look_at": "the Eiffel tower", "created": 3, "timestamp": True, "stared_at": [1, 2],
        "created_at": 1.5, "updated_at": "yesterday", "cut_at": 12_345_678_901_234_567,
    }  # fmt: skip
    assert normalize(data) == data

    # Prefixed words: ids when their suffix looks generated, or when they are the value of an id field
    tool_names = {"name": "call_weather2", "other": "run_tests", "more": "call_getWeather2", "last": "step_twenty_two"}
    assert normalize(tool_names) == tool_names
    generated = ["call_Xk3vQ9aLp2", "toolu_e2ed7685611d772c70ef9890", "fp_44709d6fcb", "msg_ABCDEFGHIJKLMNOPQRSTabcdefgh1234"]
    assert normalize(generated) == ["<call_1>", "<toolu_1>", "<fp_1>", "<msg_1>"]
    assert normalize("resp_zQkWmPtYbNcXvLrAsDfGhJ") == "<resp_1>"  # random letters, no digit
    call = {"id": "call_T1me", "name": "get_time", "arguments": '{"after": "call_T1me", "tool": "call_weather2"}'}
    assert normalize(call) == {
        "id": "<call_1>",
        "name": "get_time",
        "arguments": '{"after": "<call_1>", "tool": "call_weather2"}',
    }
    # (the id field may come after the text that mentions it)
    assert normalize({"text": "see call_T1me", "tool_call_id": "call_T1me"}) == {
        "text": "see <call_1>",
        "tool_call_id": "<call_1>",
    }
    assert normalize({"system_fingerprint": "fp_fake0001", "file_ids": ["file-a1", "file-b2"]}) == {
        "system_fingerprint": "<fp_1>", "file_ids": ["<file-1>", "<file-2>"],
    }  # fmt: skip


def test_placeholders_are_numbered_per_serialized_value() -> None:
    # One extension serializes every snapshot of a test: each value still numbers from 1, so a
    # snapshot's text does not depend on the snapshots taken before it.
    extension = AgentSnapshotExtension()
    first = extension.serialize({"id": "msg_01XFDUDYJgAACzvnptvVoYEL", "reply_to": "msg_01ZZZZZZZZZZZZZZZZZZZZZ9"})
    second = extension.serialize({"id": "msg_01ZZZZZZZZZZZZZZZZZZZZZ9"})
    assert "'id': '<msg_1>'" in first and "'reply_to': '<msg_2>'" in first
    assert "'id': '<msg_1>'" in second


def test_openai_objects_and_ids_in_strings() -> None:
    completion = openai.types.chat.ChatCompletion.model_validate(
        {
            "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", "object": "chat.completion", "created": CREATED, "model": "gpt-4o",
            "system_fingerprint": "fp_44709d6fcb",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
                "role": "assistant", "content": None, "refusal": None,
                "tool_calls": [{"id": "call_Xk3vQ9aLp2", "type": "function", "function": {"name": "run_tests", "arguments": '{"ref": "call_Xk3vQ9aLp2"}'}}],
            }}],
        }
    )  # fmt: skip
    data = normalize(completion)
    assert data["id"] == "<chatcmpl-1>" and data["created"] == "<timestamp>" and data["system_fingerprint"] == "<fp_1>"
    call = data["choices"][0]["message"]["tool_calls"][0]
    assert call["id"] == "<call_1>" and call["function"] == {"name": "run_tests", "arguments": '{"ref": "<call_1>"}'}
    assert normalize({"a": "9b2f1c3e-4d5a-4b6c-8d7e-0f1a2b3c4d5e", "b": "9B2F1C3E-4D5A-4B6C-8D7E-0F1A2B3C4D5E", "sig": {"signature": "EqQBCk"}}) == {
        "a": "<uuid_1>", "b": "<uuid_1>", "sig": {"signature": "<signature>"},
    }  # fmt: skip
    assert normalize("<msg_1>") == "<msg_1>"  # idempotent


def test_recorded_calls_serialize_one_per_line() -> None:
    calls = [
        Call("on_tool_call_created", {"tool_call": {"id": "call_W3ath3r", "type": "function"}}),
        Call("on_tool_call_done", {"tool_call": {"id": "call_W3ath3r", "type": "function"}}),
        Call("on_end", {}),
    ]
    assert serialize(calls) == textwrap.dedent(
        """\
        list([
          on_tool_call_created(tool_call={'id': '<call_1>', 'type': 'function'}),
          on_tool_call_done(tool_call={'id': '<call_1>', 'type': 'function'}),
          on_end(),
        ])"""
    )


def test_agent_snapshot_fixture(agent_snapshot: Any) -> None:
    # The plugin's fixture: syrupy's snapshot with the harness extension (test_snapshot_round_trip
    # writes and compares snapshot files with it)
    assert isinstance(agent_snapshot.extension, AgentSnapshotExtension)
    message = anthropic.types.Message.model_validate(
        {
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-test-model",
            "content": [{"type": "text", "text": "Hi"}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 2},
        }
    )  # fmt: skip
    assert "'id': '<msg_1>'" in agent_snapshot.extension.serialize(message)


# --------------------------------------------------------------------------------------------- round trip

INNER = """
import json
import pathlib

import anthropic
import httpx2
import pytest

from harness.callbacks import record_callbacks


def handle(request):
    body = (pathlib.Path(__file__).parent / "canned.sse").read_bytes()
    return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def test_agent(agent_snapshot):
    client = anthropic.Anthropic(api_key="x", base_url="http://test", http_client=httpx2.Client(transport=httpx2.MockTransport(handle)))
    with record_callbacks(client.messages.stream(model="m", max_tokens=8, messages=[{"role": "user", "content": "hi"}])) as stream:
        message = stream.get_final_message()
    assert stream.calls == agent_snapshot
    assert message == agent_snapshot
"""


def test_snapshot_round_trip(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_inner=INNER)
    canned = pytester.path / "canned.sse"

    canned.write_bytes(sse(anthropic_events()))
    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio", "--snapshot-update").assert_outcomes(passed=1)
    (ambr,) = (pytester.path / "__snapshots__").glob("*.ambr")
    written = ambr.read_text()
    assert "<msg_1>" in written and "<toolu_1>" in written and "toolu_01A" not in written
    assert "text(snapshot='Let me ', text='Let me ')" in written  # one line per entry, keys sorted

    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio").assert_outcomes(passed=1)

    # Re-recorded: new ids, same conversation. Still passes, the snapshot file untouched.
    canned.write_bytes(sse(anthropic_events(msg_id="msg_01NEWNEWNEWNEWNEWNEW", tool_id="toolu_01OTHEROTHEROTHER")))
    pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio").assert_outcomes(passed=1)
    assert ambr.read_text() == written

    # A different answer fails.
    canned.write_bytes(sse(anthropic_events(text=("Let me ", "look."))))
    result = pytester.runpytest("-p", "no:cassetter", "-p", "no:asyncio")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*look.*"])
