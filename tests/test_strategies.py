"""Issue: fuzz stream deltas. Hypothesis strategies over recorded streams, fault injection, the
test-facing API, the properties, the respx layer; and the fuzzer turned on the project's own SSE
codec and cassette loader.

The streams are recorded once per module through the real HTTP seam, against loopback servers: a
small Anthropic Messages stub (defined here, in the exact wire format) and the project's fake
OpenAI server (Chat Completions, Responses, Assistants). Then every test replays them, offline.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import math
import re
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

import harness.strategies as hs
from harness import record_callbacks, sse
from harness.cassette import format as fmt
from harness.cassette.model import HttpInteraction
from harness.config import Settings
from harness.engine.ledger import Ledger
from harness.errors import CassetteFormatError, CassetteMiss
from harness.fuzz import samples
from harness.fuzz.faults import Stall
from harness.session import Session
from tests.servers.base import Scenario, ServerThread, sse_response
from tests.servers.openai_api import routes as openai_routes

NOWHERE = "http://127.0.0.1:9"
MODEL = samples.MODEL
PROMPT = "What is the weather in Paris?"
ANSWER = "Il fait beau à Paris ☀ — 22 °C, très agréable. 東京 est nuageux."
PARAMS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"], "additionalProperties": False}
CHAT_TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city", "parameters": PARAMS}}
]
RESP_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": PARAMS,
    "strict": True,
}
QUESTION = "What is the weather in Paris? Café ☕ 東京"
FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
assistants_api = pytest.mark.filterwarnings("ignore::DeprecationWarning")
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)  # where only *that* it fails matters

# --------------------------------------------------------------------------------------------- the Anthropic stub


async def anthropic_messages(request: Request) -> Any:
    """POST /v1/messages, streaming: a thinking block, text and a tool call, then (after the tool
    result) a multi-byte answer. ``x-fake-scenario`` works as in tests/servers/base.py (crlf...)."""
    body = await request.json()
    last = body["messages"][-1]["content"]
    if isinstance(last, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in last):
        words = re.findall(r"\S+\s*", ANSWER)
        events = samples.anthropic_events(words, message_id="msg_02")
    else:
        events = samples.weather_stream(thinking=True).response.body.value  # type: ignore[union-attr]
    return sse_response(
        [(e["event"], e["data"]) for e in events],
        Scenario.parse(request),
        error_event=("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
    )


# --------------------------------------------------------------------------------------------- the code under test


def claude(url: str, **kw: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sk-ant-test", base_url=url, **kw)


def anthropic_turn(client: anthropic.Anthropic, messages: list[Any]) -> tuple[Any, list[Any]]:
    with record_callbacks(
        client.messages.stream(model=MODEL, max_tokens=1024, messages=messages, tools=[samples.WEATHER_TOOL])
    ) as stream:
        return stream.get_final_message(), stream.calls


def anthropic_agent(url: str, **kw: Any) -> tuple[Any, ...]:
    """A two-turn tool-using agent: the model asks for the weather, gets it, answers."""
    client = claude(url, **kw)
    messages: list[Any] = [{"role": "user", "content": PROMPT}]
    first, calls1 = anthropic_turn(client, messages)
    tool = next(b for b in first.content if b.type == "tool_use")
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True, exclude={"parsed_output"}) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": f"sunny in {tool.input['city']}"}],
        },
    ]
    second, calls2 = anthropic_turn(client, messages)
    return first, second, calls1, calls2


def anthropic_one(url: str, **kw: Any) -> Any:
    with claude(url, **kw).messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
    ) as stream:
        return stream.get_final_message()


async def anthropic_async_crlf(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with anthropic.AsyncAnthropic(
        api_key="sk-ant-test", base_url=url, default_headers={"x-fake-scenario": "crlf"}, **kw
    ) as client:
        async with record_callbacks(
            client.messages.stream(
                model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
            )
        ) as stream:
            return await stream.get_final_message(), stream.calls


def gpt(url: str, **kw: Any) -> openai.OpenAI:
    return openai.OpenAI(api_key="sk-test", base_url=url + "/v1", **kw)


def chat(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    with record_callbacks(
        client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}])
    ) as s1:
        text = s1.get_final_completion()
    with record_callbacks(
        client.chat.completions.stream(model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS)
    ) as s2:
        call = s2.get_final_completion()
    return text, call, s1.calls, s2.calls


async def chat_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        async with record_callbacks(
            client.chat.completions.stream(
                model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], tools=CHAT_TOOLS
            )
        ) as s:
            return await s.get_final_completion(), s.calls


def responses(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION)) as s1:
        text = s1.get_final_response()
    with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL])) as s2:
        call = s2.get_final_response()
    return text, call, s1.calls, s2.calls


class Handler(openai.AssistantEventHandler):
    pass


def assistants(url: str, **kw: Any) -> tuple[Any, ...]:
    client = gpt(url, **kw)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": QUESTION}])
    recorder = record_callbacks(Handler())
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id="asst_fuzz", tools=CHAT_TOOLS, event_handler=recorder.target
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    text_thread = client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
    recorder2 = record_callbacks(Handler())
    with client.beta.threads.runs.stream(
        thread_id=text_thread.id, assistant_id="asst_fuzz", event_handler=recorder2.target
    ) as stream:
        stream.until_done()
        messages = stream.get_final_messages()
    return run.required_action, [m.content for m in messages], recorder.calls, recorder2.calls


async def responses_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        async with record_callbacks(client.responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL])) as s:
            return await s.get_final_response(), s.calls


class AsyncHandler(openai.AsyncAssistantEventHandler):
    pass


async def assistants_async(url: str, **kw: Any) -> tuple[Any, list[Any]]:
    async with openai.AsyncOpenAI(api_key="sk-test", base_url=url + "/v1", **kw) as client:
        thread = await client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
        recorder = record_callbacks(AsyncHandler())
        async with client.beta.threads.runs.stream(
            thread_id=thread.id, assistant_id="asst_fuzz", event_handler=recorder.target
        ) as stream:
            await stream.until_done()
            messages = await stream.get_final_messages()
    return [m.content for m in messages], recorder.calls


SCENARIOS: dict[str, Callable[[str], Any]] = {
    "anthropic_agent": anthropic_agent,
    "anthropic_async_crlf": lambda url: asyncio.run(anthropic_async_crlf(url)),
    "chat": chat,
    "chat_async": lambda url: asyncio.run(chat_async(url)),
    "responses": responses,
    "responses_async": lambda url: asyncio.run(responses_async(url)),
    "assistants": assistants,
    "assistants_async": lambda url: asyncio.run(assistants_async(url)),
}


# --------------------------------------------------------------------------------------------- recording and replay


@contextlib.contextmanager
def session_on(path: Path, mode: str = "none", nodeid: str = "tests/test_strategies.py::t") -> Iterator[Ledger]:
    """A cassette session as the plugin runs one, around the block; yields its running ledger."""
    session = Session(Settings(record_mode=mode), path, nodeid)
    session.start()
    try:
        yield session.ledger
    finally:
        session.stop()


@pytest.fixture(scope="module")
def stub_server() -> Iterator[ServerThread]:
    app = Starlette(routes=[Route("/v1/messages", anthropic_messages, methods=["POST"]), *openai_routes])
    with ServerThread(app) as server:
        yield server


@pytest.fixture(scope="module")
def recordings(stub_server: ServerThread, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    import warnings

    folder = tmp_path_factory.mktemp("cassettes")
    paths = {}
    for name, scenario in SCENARIOS.items():
        paths[name] = folder / f"{name}.json"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # the Assistants API
            with session_on(paths[name], "all"):
                scenario(stub_server.url)
    return paths


@pytest.fixture
def replay(recordings: dict[str, Path], request: pytest.FixtureRequest) -> Callable[[str], Any]:
    """``with replay("chat") as session:`` replays a recording, offline, as a cassette test does."""
    return lambda name: session_on(recordings[name], "none", request.node.nodeid)


def interactions(recordings: dict[str, Path], name: str) -> list[Any]:
    return fmt.load(recordings[name])


# --------------------------------------------------------------------------------------------- reference meaning


def meaning(events: list[dict[str, Any]], fmt_name: str | None) -> Any:
    """What a stream says, independent of how its deltas are framed (a tiny reference accumulator)."""
    texts: dict[Any, str] = collections.defaultdict(str)
    skeleton: list[Any] = []
    for e in events:
        data = e.get("data")
        name = e.get("event")
        if fmt_name == "anthropic" and isinstance(data, dict) and data.get("type") == "content_block_delta":
            d = data["delta"]
            if d["type"] == "signature_delta":
                skeleton.append(("signature", data["index"], d["signature"]))
            else:
                field = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}[d["type"]]
                texts[(data["index"], d["type"])] += d[field]
            continue
        if fmt_name == "openai-chat" and isinstance(data, dict) and data.get("object") == "chat.completion.chunk":
            for c in data["choices"]:
                delta = c["delta"]
                if delta.get("role"):
                    skeleton.append(("role", delta["role"]))
                for key in ("content", "refusal"):
                    if isinstance(delta.get(key), str):
                        texts[(c["index"], key)] += delta[key]
                for tc in delta.get("tool_calls") or []:
                    fn = tc.get("function") or {}
                    texts[(c["index"], "args", tc["index"])] += fn.get("arguments") or ""
                    if "id" in tc:
                        skeleton.append(("call", tc["index"], tc["id"], fn.get("name")))
                if c.get("finish_reason"):
                    skeleton.append(("finish", c["index"], c["finish_reason"]))
            if data.get("usage"):
                skeleton.append(("usage", json.dumps(data["usage"], sort_keys=True)))
            continue
        if fmt_name == "openai-responses" and isinstance(name, str) and name.endswith(".delta"):
            texts[(name, data.get("item_id"), data.get("output_index"), data.get("content_index"))] += data["delta"]
            continue
        if fmt_name == "openai-assistants" and name == "thread.message.delta":
            for c in data["delta"]["content"]:
                texts[(data["id"], c["index"])] += c["text"]["value"]
            continue
        if fmt_name == "openai-assistants" and name == "thread.run.step.delta":
            for tc in data["delta"]["step_details"]["tool_calls"]:
                texts[(data["id"], tc["index"])] += tc["function"].get("arguments") or ""
                if "id" in tc:
                    skeleton.append(("call", tc["id"], tc["function"].get("name")))
            continue
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k != "sequence_number"}
        skeleton.append((name, data, e.get("text")))
    return dict(texts), skeleton


def sequence_numbers(events: list[dict[str, Any]]) -> list[int]:
    return [e["data"]["sequence_number"] for e in events if isinstance(e.get("data"), dict) and "sequence_number" in e["data"]]


def variant_events(v: hs.Variant) -> list[dict[str, Any]]:
    body = v.interaction.response.body  # type: ignore[union-attr]
    events, _ = sse.parse(body.bytes())
    assert events == body.value or all("raw" not in e for e in body.value)
    return list(body.value)


# =============================================================================================== strategies


def test_rechunk_keeps_the_bytes_and_describes_each_cut() -> None:
    recorded = samples.weather_stream(eol="\r\n")
    rec = hs.targets(recorded)[0]
    data = rec.data

    @FAST
    @given(hs.rechunked(source=recorded))
    def check(v: hs.Variant) -> None:
        resp = v.interaction.response
        assert resp is not None and resp.body is recorded.response.body  # rendered once, shared  # type: ignore[union-attr]
        assert sum(int(c[0]) for c in resp.chunks) == len(data) and all(c[0] > 0 for c in resp.chunks)  # type: ignore[union-attr]
        assert v.preserving and v.kind == "rechunk" and repr(v).startswith("rechunk(#0: ")

    check()

    # The interesting cuts include the middle of every multi-byte character and of every CRLF.
    cuts = set(rec.interesting_cuts())
    e_acute = data.index("é".encode())
    crlf = data.index(b"\r\n")
    assert {e_acute + 1, crlf + 1, data.index(b"data: ") + 5} <= cuts
    one = hs.rechunk(rec, [e_acute + 1])
    assert [c[0] for c in one.interaction.response.chunks] == [e_acute + 1, len(data) - e_acute - 1]  # type: ignore[union-attr]
    assert "inside 'é' (after UTF-8 byte 1 of 2)" in repr(one) and "content_block_delta" in repr(one)
    assert "between \\r and \\n" in repr(hs.rechunk(rec, [crlf + 1]))
    assert repr(hs.rechunk(rec, range(1, len(data)), mode="bytewise")) == f"rechunk(#0: one byte per chunk ({len(data)} chunks))"


# The formats, each from a real recording (OpenAI) or the hand-built Anthropic stream.
FORMATS = {
    "anthropic": ("anthropic_agent", 0),
    "openai-chat": ("chat", 1),
    "openai-responses": ("responses", 1),
    "openai-assistants": ("assistants", 1),
}


@pytest.mark.parametrize("format_name", list(FORMATS))
def test_resplit_keeps_the_meaning_of_every_format(recordings: dict[str, Path], format_name: str) -> None:
    name, index = FORMATS[format_name]
    items = interactions(recordings, name)
    rec = hs.targets(items, index)[0]
    assert rec.format == format_name
    want = meaning(rec.events, format_name)  # type: ignore[arg-type]
    seen: collections.Counter[str] = collections.Counter()

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(hs.resplit(index, source=items))
    def check(v: hs.Variant) -> None:
        events = variant_events(v)
        assert meaning(events, format_name) == want, v
        assert sse.render(events, rec.eol) == v.interaction.response.body.bytes()  # type: ignore[union-attr]
        numbers = sequence_numbers(events)
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))) if numbers else True
        seen["more" if len(events) > len(rec.events) else "fewer" if len(events) < len(rec.events) else "same"] += 1  # type: ignore[arg-type]

    check()
    assert seen["more"] > 0  # splits happened (merges too, where the format's deltas allow)


def test_resplit_rules_per_provider() -> None:
    rec = hs.targets(samples.weather_stream())[0]
    anthropic_rw = hs.rewriters()["anthropic"]
    # A signature is never split (the SDKs assign it, they do not concatenate it).
    signature = next(e for e in rec.events if e["data"].get("delta", {}).get("type") == "signature_delta")  # type: ignore[union-attr]
    assert anthropic_rw.slots(signature) == []
    # Splitting a tool call's arguments mid-token, then merging back, gives the original event.
    i, event = next(
        (i, e) for i, e in enumerate(rec.events) if e["data"].get("delta", {}).get("partial_json", "").startswith('{"cit')
    )  # type: ignore[union-attr]
    head, tail = anthropic_rw.split(event, 0, 2)
    assert head["data"]["delta"]["partial_json"] == '{"' and tail["data"]["delta"]["partial_json"] == "cit"
    assert anthropic_rw.merge(head, tail) == event
    v = hs.resplit_ops(rec, [("split", i, 0, 3)])
    assert repr(v) == f"resplit(#0 anthropic: split #{i} content_block_delta input_json_delta '{{\"c|it' at char 3)"
    # OpenAI chat: the tail of a split tool call carries no id, type or name (the SDK would concatenate them).
    chat_rw = hs.rewriters()["openai-chat"]
    first = {"data": {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": [
        {"index": 0, "delta": {"role": "assistant", "tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]}, "logprobs": None, "finish_reason": "tool_calls"}]}}  # fmt: skip
    head, tail = chat_rw.split(first, 0, 3)
    assert tail["data"]["choices"] == [
        {
            "index": 0,
            "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '":1}'}}]},
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    assert head["data"]["choices"][0]["finish_reason"] is None and head["data"]["choices"][0]["delta"]["role"] == "assistant"
    assert chat_rw.merge(head, tail) == first
    # Explode cuts every delta into single characters; the text is unchanged.
    exploded = hs.resplit_ops(rec, [("explode",)])
    assert meaning(variant_events(exploded), "anthropic") == meaning(rec.events, "anthropic")  # type: ignore[arg-type]
    assert "explode: every delta cut every 1 char" in repr(exploded)


def test_fault_variants_say_what_they_break() -> None:
    rec = hs.targets(samples.weather_stream())[0]
    n = len(rec.events)  # type: ignore[arg-type]
    cut = hs.truncate(rec, 5)
    assert len(cut.interaction.response.body.value) == 5 and not cut.preserving and cut.fault == "truncate"  # type: ignore[union-attr]
    assert "after event #4 content_block_delta; 5 of 25 events kept; never sent: content_block_stop," in repr(
        cut
    ) and "message_stop)" in repr(cut)
    dropped = hs.drop(rec, 100)
    assert dropped.interaction.response.body.bytes() == rec.data[:100]  # type: ignore[union-attr]
    assert dropped.interaction.response.error["type"] == "RemoteProtocolError" and "byte 100" in repr(dropped)  # type: ignore[index,union-attr]
    error = hs.error_event(rec, 3)
    assert error.interaction.response.body.value[-1] == {
        "event": "error",
        "data": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    }  # type: ignore[union-attr]
    overloaded = hs.status(rec, 529)
    (first,) = overloaded.before
    assert (
        first.response.status == 529
        and first.response.headers["retry-after-ms"] == "1"
        and overloaded.interaction.response is rec.response
    )  # type: ignore[union-attr]
    stalled = hs.read_timeout(rec, 4)
    assert isinstance(stalled.interaction.response, Stall) and stalled.interaction.response.stall == math.inf
    assert stalled.interaction.response.body.bytes() == b"".join(rec.parts[:4])
    assert stalled.interaction.response.error["type"] == "ReadTimeout"  # type: ignore[index]
    assert "stalls for ever after event #3" in repr(stalled) and "read timeout" in repr(stalled)
    kinds: collections.Counter[str] = collections.Counter()

    @settings(max_examples=60, deadline=None)
    @given(hs.faults(source=samples.weather_stream()))
    def check(v: hs.Variant) -> None:
        kinds[v.fault or ""] += 1
        assert not v.preserving and v.kind == "fault"

    check()
    assert set(kinds) == set(hs.KINDS) and n > 10


# =============================================================================================== real SDKs, meaning-preserving


def test_anthropic_agent_gives_the_recorded_result_for_every_variant(replay: Any) -> None:
    # Sync client, messages.stream(...).get_final_message(), two turns, thinking + text + tool_use:
    # every variant of either turn gives the same messages and the same (collapsed) event trace.
    with replay("anthropic_agent"):
        first, second, calls1, calls2 = hs.assert_equivalent(
            lambda: anthropic_agent(NOWHERE), traces="collapsed", max_examples=40
        )
    assert [b.type for b in first.content] == ["thinking", "text", "tool_use"] and first.content[2].input == {
        "city": "Paris",
        "unit": "celsius",
    }
    assert second.content[0].text == ANSWER
    assert hs.callback_violations(calls1) == [] and calls1[-1].name == "message_stop"
    assert [c.name for c in calls2][-3:] == ["content_block_stop", "message_delta", "message_stop"]


def test_anthropic_async_client_crlf_stream(replay: Any) -> None:
    # Async client; the stream uses CRLF line ends, so cuts land between \r and \n too.
    with replay("anthropic_async_crlf") as session:
        assert session.cassette.interactions[0].response.body.eol == "\r\n"
        final, calls = hs.assert_equivalent(lambda: anthropic_async_crlf(NOWHERE), max_examples=30)
    assert final.content[1].text.startswith("Je regarde la météo") and calls[0].name == "message_start"


def test_async_test_body_runs_in_its_own_loop(replay: Any) -> None:
    async def body() -> Any:
        return await anthropic_async_crlf(NOWHERE)

    with replay("anthropic_async_crlf"):
        final, _ = hs.assert_equivalent(body, hs.rechunked(), max_examples=10)
    assert final.stop_reason == "tool_use"


def test_openai_chat_sync_and_async(replay: Any) -> None:
    with replay("chat"):
        text, call, _, calls = hs.assert_equivalent(lambda: chat(NOWHERE), max_examples=30)
    assert text.choices[0].message.content == f"You said: {QUESTION}"
    assert call.choices[0].message.tool_calls[0].function.arguments == '{"city":"Café"}'
    assert "tool_calls.function.arguments.done" in [c.name for c in calls]
    with replay("chat_async"):
        completion, _ = hs.assert_equivalent(lambda: chat_async(NOWHERE), max_examples=20)
    assert completion.choices[0].finish_reason == "tool_calls"


def test_openai_chat_stream_misses_a_done_event(replay: Any) -> None:
    # Found: when one chunk both opens a tool call and carries finish_reason (a whole tool call in
    # one chunk), ChatCompletionStream emits tool_calls.function.arguments.delta but never .done:
    # get_done_events checks finish_reason before it learns the chunk's tool-call index. The final
    # completion is right; code waiting for the .done event never gets it.
    with replay("chat") as session:
        whole = hs.resplit_ops(hs.targets(at=1)[0], [("merge_all",)])
        with hs.substitute(whole):
            _, call, _, calls = chat(NOWHERE)
        assert call.choices[0].message.tool_calls[0].function.arguments == '{"city":"Café"}'
        assert [c.name for c in calls] == ["chunk", "tool_calls.function.arguments.delta"]
        # The strict property (callback traces compared too) finds it on its own and shrinks to it.
        session.replay_from_start()
        with pytest.raises(AssertionError, match=r"tool_calls.function.arguments.done") as found:
            hs.assert_equivalent(
                lambda: chat(NOWHERE),
                hs.resplit(1),
                traces="collapsed",
                max_examples=100,
                database=None,
                derandomize=True,
                phases=NO_SHRINK,
            )
    assert "merge" in str(found.value)


def test_openai_responses_stream(replay: Any) -> None:
    with replay("responses"):
        text, call, calls, _ = hs.assert_equivalent(lambda: responses(NOWHERE), traces="collapsed", max_examples=30)
    assert text.output_text == f"You said: {QUESTION}" and call.output[0].arguments == '{"city":"Café"}'
    assert calls[-1].name == "response.completed"


@assistants_api
def test_openai_assistants_event_handler(replay: Any) -> None:
    with replay("assistants"):
        required, contents, _, calls2 = hs.assert_equivalent(lambda: assistants(NOWHERE), max_examples=30)
    assert required.submit_tool_outputs.tool_calls[0].function.arguments == '{"city":"Café"}'
    assert contents[-1][0].text.value == "You said: Say café ☕ please"
    assert calls2[-1].name == "on_end" and "on_text_delta" in [c.name for c in calls2]


@assistants_api
def test_assistants_callbacks_depend_on_chunking(replay: Any) -> None:
    # Found: when a tool call's first step delta already carries argument text (a merge of the
    # opening delta and the first fragment), the handler passes it to on_tool_call_created and
    # never to on_tool_call_delta: code that concatenates on_tool_call_delta loses it.
    with replay("assistants"), pytest.raises(AssertionError) as found:
        hs.assert_equivalent(
            lambda: assistants(NOWHERE), hs.resplit(1), traces="collapsed", max_examples=60, database=None, derandomize=True
        )
    assert "on_tool_call_created" in str(found.value) or ".tool_call.function.arguments" in str(found.value), found.value


def C(name: str, **args: Any) -> Any:
    return (name, args)


GOOD_RESPONSES_TRACE = [
    C("response.created", response={"status": "in_progress"}),
    C("response.output_item.added", output_index=0, item={"type": "message"}),
    C("response.content_part.added", output_index=0, content_index=0, part={"type": "output_text"}),
    C("response.output_text.delta", output_index=0, content_index=0, delta="Hi"),
    C("response.output_text.done", output_index=0, content_index=0, text="Hi"),
    C("response.content_part.done", output_index=0, content_index=0),
    C("response.output_item.done", output_index=0, item={"type": "message"}),
    C("response.completed", response={"status": "completed"}),
]
GOOD_ANTHROPIC_TRACE = [
    C("message_start", message={"role": "assistant"}),
    C("content_block_start", index=0, content_block={"type": "text"}),
    C("content_block_delta", index=0, delta={"text": "Hi"}),
    C("text", text="Hi", snapshot="Hi"),
    C("content_block_stop", index=0),
    C("message_delta", delta={"stop_reason": "end_turn"}),
    C("message_stop"),
]
GOOD_HANDLER_TRACE = [
    C("on_run_step_created", run_step={"type": "message_creation"}),
    C("on_message_created", message={"role": "assistant"}),
    C("on_text_created", text=""),
    C("on_text_delta", delta="Hi", snapshot="Hi"),
    C("on_text_done", text="Hi"),
    C("on_message_done", message={"role": "assistant"}),
    C("on_run_step_done", run_step={"type": "message_creation"}),
    C("on_end"),
]


@pytest.mark.parametrize(
    ("trace", "problem"),
    [
        # a delta after its block was done
        ([*GOOD_ANTHROPIC_TRACE[:5], C("content_block_delta", index=0, delta={"text": "!"}), *GOOD_ANTHROPIC_TRACE[5:]],
         "#5 content_block_delta: delta after block [0] was done"),
        # a delta before its block was created
        ([GOOD_ANTHROPIC_TRACE[0], C("content_block_delta", index=1, delta={"text": "?"}), *GOOD_ANTHROPIC_TRACE[1:]],
         "#1 content_block_delta: delta before block [1] was created"),
        # a block never closed by the end
        ([*GOOD_ANTHROPIC_TRACE[:4], *GOOD_ANTHROPIC_TRACE[5:]], "block [0] was never done before the end"),
        ([*GOOD_HANDLER_TRACE[:4], *GOOD_HANDLER_TRACE[5:]], "text #1 was never done before the end"),
        # something after on_end / message_stop
        ([*GOOD_HANDLER_TRACE, C("on_text_delta", delta="late", snapshot="Hilate")], "#8 on_text_delta after the end (#7 on_end)"),
        ([*GOOD_ANTHROPIC_TRACE, C("message_delta", delta={})], "#7 message_delta after the end (#6 message_stop)"),
        # Responses: a text delta after its output item was done (another part of it, never added)
        ([*GOOD_RESPONSES_TRACE[:7], C("response.output_text.delta", output_index=0, content_index=1, delta="late"), GOOD_RESPONSES_TRACE[7]],
         "#7 response.output_text.delta: after item [0] was done"),
        # ... and one before its item and part were added
        ([GOOD_RESPONSES_TRACE[0], C("response.output_text.delta", output_index=0, content_index=0, delta="early"), *GOOD_RESPONSES_TRACE[1:]],
         "#1 response.output_text.delta: before item [0] was created"),
        ([*GOOD_RESPONSES_TRACE[:2], C("response.output_text.delta", output_index=0, content_index=0, delta="early"), *GOOD_RESPONSES_TRACE[2:]],
         "#2 response.output_text.delta: before part [0, 0] was created"),
    ],
)  # fmt: skip
def test_callback_order_checker_catches_bad_traces(trace: list[Any], problem: str) -> None:
    for good in (GOOD_ANTHROPIC_TRACE, GOOD_RESPONSES_TRACE, GOOD_HANDLER_TRACE):
        assert hs.callback_violations(good) == []
    assert problem in hs.callback_violations(trace)
    with pytest.raises(AssertionError, match=re.escape(problem)):
        hs.assert_callback_order(trace)


def test_rechunk_extremes_are_generated_and_replay(replay: Any) -> None:
    # One byte per chunk and everything in one chunk: options of their own (by chance, 0 and 1
    # in 500 draws), generated within the first examples, and replayed (async client, CRLF stream).
    with replay("anthropic_async_crlf"):
        rec = hs.targets(at=0)[0]
        expected = hs.comparable(asyncio.run(anthropic_async_crlf(NOWHERE))[0])
        seen: collections.Counter[str] = collections.Counter()

        @settings(max_examples=40, deadline=None, database=None, derandomize=True)
        @given(hs.rechunked())
        def check(v: hs.Variant) -> None:
            sizes = [c[0] for c in v.interaction.response.chunks]  # type: ignore[union-attr]
            mode = "bytewise" if sizes == [1] * len(rec.data) else "whole" if sizes == [len(rec.data)] else "cuts"
            with hs.substitute(v):
                final, _ = asyncio.run(anthropic_async_crlf(NOWHERE))
            assert hs.comparable(final) == expected
            seen[mode] += 1
            if mode != "cuts":
                assert ("one byte per chunk" if mode == "bytewise" else "everything in one chunk") in repr(v)

        check()
    assert seen["bytewise"] >= 1 and seen["whole"] >= 1 and seen["cuts"] > 30, seen


# =============================================================================================== the planted bugs


def word_accumulator(url: str) -> str:
    """Deliberately broken: assumes every text delta is one whole word (true of the recording)."""
    words = []
    with claude(url).messages.stream(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
    ) as stream:
        for text in stream.text_stream:
            words.append(text.strip())
    return " ".join(words)


def per_chunk_decoder(url: str) -> str:
    """Deliberately broken: decodes each network chunk on its own, and its lines on their own."""
    text = ""
    with claude(url).messages.with_streaming_response.create(
        model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL], stream=True
    ) as response:
        for chunk in response.iter_bytes():
            for line in chunk.decode("utf-8").splitlines():
                if line.startswith("data: "):
                    data = json.loads(line[6:])
                    if data["type"] == "content_block_delta" and data["delta"]["type"] == "text_delta":
                        text += data["delta"]["text"]
    return text


def test_fuzzer_finds_the_planted_bug_in_a_broken_accumulator(replay: Any) -> None:
    with replay("anthropic_agent"):
        assert word_accumulator(NOWHERE) == "Je regarde la météo à Paris ☕ — 東京 aussi? Un instant."  # plain replay passes
        with pytest.raises(AssertionError) as found:
            hs.assert_equivalent(
                lambda: word_accumulator(NOWHERE), hs.resplit(0), max_examples=100, database=None, derandomize=True
            )
    report = str(found.value) + "".join(getattr(found.value, "__notes__", []))
    # Shrunk to one split inside a word, printed with the event and the text around the cut.
    assert re.search(
        r"variant: resplit\(#0 anthropic: split #\d+ content_block_delta text_delta '[^']*\w\|\w[^']*' at char \d+\)", report
    ), report


def test_fuzzer_finds_the_per_chunk_decoder_and_shrinks_to_one_byte(replay: Any) -> None:
    with replay("anthropic_agent"):
        assert per_chunk_decoder(NOWHERE).startswith("Je regarde")
        with pytest.raises((UnicodeDecodeError, ValueError)) as found:
            hs.assert_equivalent(
                lambda: per_chunk_decoder(NOWHERE), hs.rechunked(0), max_examples=100, database=None, derandomize=True
            )
    notes = "\n".join(getattr(found.value, "__notes__", []))
    assert re.search(r"variant=rechunk\(#0: cuts at bytes \[\d+\]; byte \d+ = ", notes), notes


# =============================================================================================== faults

READ_TIMEOUT = 0.02  # the clients' read timeout in fault tests: a stalled stream raises ReadTimeout after it

# What reaches the caller of each SDK's stream helper, per format and fault, as the fuzzer found it
# (class names; "returned": a partial result and no error). harness.fuzz.sdk_errors must say the same.
SDK_FINDINGS: dict[str, dict[str, set[str]]] = {
    "anthropic": {
        "status": {"RateLimitError", "OverloadedError"},
        "error_event": {"APIStatusError"},
        "drop": {"RemoteProtocolError"},
        "read_timeout": {"ReadTimeout"},
        "truncate": {"returned", "AssertionError"},
    },
    "openai-chat": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"APIError"},
        "drop": {"APIConnectionError"},
        "read_timeout": {"APITimeoutError"},
        "truncate": {"returned", "AssertionError"},
    },
    "openai-responses": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"RuntimeError"},
        "drop": {"APIConnectionError"},
        "read_timeout": {"APITimeoutError"},
        "truncate": {"RuntimeError"},
    },
    "openai-assistants": {
        "status": {"RateLimitError", "InternalServerError"},
        "error_event": {"APIError"},
        "drop": {"RemoteProtocolError"},
        "read_timeout": {"ReadTimeout"},
        "truncate": {"returned", "RuntimeError"},
    },
}
# Where the SDK does not keep to its documented APIError family (the findings).
UNDOCUMENTED = {
    ("anthropic", "drop"),
    ("anthropic", "read_timeout"),
    ("anthropic", "truncate"),
    ("openai-chat", "truncate"),
    ("openai-responses", "error_event"),
    ("openai-responses", "truncate"),
    ("openai-assistants", "drop"),
    ("openai-assistants", "read_timeout"),
    ("openai-assistants", "truncate"),
}
# (recording, interaction faulted or None for every stream, the code under test) per format and mode.
FAULT_RUNS: dict[tuple[str, str], tuple[str, int | None, Callable[..., Any]]] = {
    ("anthropic", "sync"): ("anthropic_agent", 0, lambda **kw: anthropic_one(NOWHERE, **kw)),
    ("anthropic", "async"): ("anthropic_async_crlf", 0, lambda **kw: anthropic_async_crlf(NOWHERE, **kw)),
    ("openai-chat", "sync"): ("chat", None, lambda **kw: chat(NOWHERE, **kw)),
    ("openai-chat", "async"): ("chat_async", None, lambda **kw: chat_async(NOWHERE, **kw)),
    ("openai-responses", "sync"): ("responses", None, lambda **kw: responses(NOWHERE, **kw)),
    ("openai-responses", "async"): ("responses_async", None, lambda **kw: responses_async(NOWHERE, **kw)),
    ("openai-assistants", "sync"): ("assistants", None, lambda **kw: assistants(NOWHERE, **kw)),
    ("openai-assistants", "async"): ("assistants_async", None, lambda **kw: assistants_async(NOWHERE, **kw)),
}


def outcome(v: hs.Variant, fn: Callable[[], Any]) -> Any:
    """What ``fn`` returns or raises with ``v`` in place of its recording (the watchdog on: nothing hangs)."""
    try:
        with hs.substitute(v):
            return hs.call_with_timeout(fn, timeout=5)
    except hs.StreamHang:
        raise
    except Exception as exc:
        return exc


@assistants_api
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("format_name", list(SDK_FINDINGS))
def test_every_fault_fails_as_the_sdk_table_says(replay: Any, format_name: str, mode: str) -> None:
    # Every fault kind, for every format, sync and async, through the SDK's stream helper:
    # assert_fails_cleanly with its default expectation (the table of what the SDK raises) passes,
    # within the watchdog; what came out is what the findings say; the table says the same.
    name, at, run = FAULT_RUNS[format_name, mode]
    findings = SDK_FINDINGS[format_name]
    seen: dict[str, set[str]] = collections.defaultdict(set)
    with replay(name):
        for kind in hs.KINDS:
            outcomes: list[hs.Outcome] = []
            hs.assert_fails_cleanly(
                lambda: run(max_retries=0, timeout=READ_TIMEOUT),
                hs.faults(at, kinds=(kind,)),
                accept=lambda o, kind=kind: o.error is None and "returned" in findings[kind],  # type: ignore[misc]
                outcomes=outcomes,
                max_examples=6,
                timeout=5,
                database=None,
            )
            seen[kind] |= {"returned" if o.error is None else type(o.error).__name__ for o in outcomes if o.variant.played}
    for kind in hs.KINDS:
        assert seen[kind] and seen[kind] <= findings[kind], (kind, seen[kind])
        behaviour = hs.sdk_behaviour(format_name, kind)
        assert behaviour is not None and behaviour.returns == ("returned" in findings[kind])
        assert behaviour.documented == ((format_name, kind) not in UNDOCUMENTED), behaviour
        assert bool(behaviour.finding) == (behaviour.documented is False or (format_name, kind) == ("anthropic", "error_event"))


def test_openai_chat_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("chat"):
        rec = hs.targets(at=0)[0]  # the text answer
        run = lambda: chat(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: transport faults wrapped, the error event as APIError, HTTP errors by status.
        assert type(outcome(hs.drop(rec, 700), run)) is openai.APIConnectionError
        assert type(outcome(hs.read_timeout(rec, 4), run)) is openai.APITimeoutError
        assert type(outcome(hs.error_event(rec, 4), run)) is openai.APIError
        assert type(outcome(hs.status(rec, 429), run)) is openai.RateLimitError
        # Found: a stream that ends cleanly before [DONE] gives a partial completion, and no error...
        text, *_ = outcome(hs.truncate(rec, 5), run)
        assert text.choices[0].finish_reason is None and f"You said: {QUESTION}".startswith(text.choices[0].message.content)
        assert text.choices[0].message.content != f"You said: {QUESTION}"
        # ... and one that ends before its first chunk a bare AssertionError from get_final_completion().
        assert type(outcome(hs.truncate(rec, 0), run)) is AssertionError
        # Code reading the raw bytes (with_streaming_response + iter_bytes) sees httpx2's own errors.
        raw = lambda: raw_chat(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        assert type(outcome(hs.drop(rec, 700), raw)) is httpx2.RemoteProtocolError
        assert type(outcome(hs.read_timeout(rec, 4), raw)) is httpx2.ReadTimeout
        assert outcome(hs.truncate(rec, 5), raw) == b"".join(rec.parts[:5])  # a clean end: nothing says it was cut
        # The property says so (truncation was left out of this test before), shrunk to the first case:
        with pytest.raises(
            AssertionError, match=r"did not surface: the code returned normally[\s\S]*SDK itself returns normally"
        ):
            hs.assert_fails_cleanly(run, hs.faults(0, kinds=("truncate",)), max_examples=10, database=None, phases=NO_SHRINK)


def raw_chat(url: str, **kw: Any) -> bytes:
    """The first chat request of ``chat``, its body read as raw bytes."""
    with gpt(url, **kw).chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}], stream=True
    ) as response:
        return b"".join(response.iter_bytes())


def responses_events(url: str, **kw: Any) -> tuple[list[str], BaseException | None]:
    """The event types the Responses stream yields, and what get_final_response() raised then."""
    with gpt(url, **kw).responses.stream(model="gpt-4o-mini", input=QUESTION, tools=[RESP_TOOL]) as stream:
        names = [event.type for event in stream]
        try:
            stream.get_final_response()
        except Exception as exc:
            return names, exc
    return names, None


def test_openai_responses_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("responses"):
        rec = hs.targets(at=1)[0]  # the tool call
        run = lambda: responses(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: transport faults wrapped as APIConnectionError / APITimeoutError.
        assert type(outcome(hs.drop(rec, 300), run)) is openai.APIConnectionError
        assert type(outcome(hs.read_timeout(rec, 4), run)) is openai.APITimeoutError
        # Found: the documented mid-stream `error` event is handed over as an event, then
        # get_final_response() raises RuntimeError, not an APIError...
        error = hs.error_event(rec, 4)
        assert error.interaction.response.body.value[-1]["data"]["type"] == "error"  # type: ignore[union-attr]
        failed = outcome(error, run)
        assert type(failed) is RuntimeError and str(failed) == "Didn't receive a `response.completed` event."
        names, raised = outcome(error, lambda: responses_events(NOWHERE, max_retries=0))
        assert names[-1] == "error" and type(raised) is RuntimeError
        # ... and so does a stream that ends cleanly before response.completed, wherever it ends.
        for after in (0, 3, len(rec.events) - 1):  # type: ignore[arg-type]
            cut = outcome(hs.truncate(rec, after), run)
            assert type(cut) is RuntimeError and "response.completed" in str(cut)
        # The SDK raises APIError only for event data with an "error" key (not the documented shape):
        legacy_shape = b'event: error\ndata: {"error": {"message": "boom", "type": "server_error"}}\n\n'
        with hs.override() as router:
            router.post(path="/v1/responses").mock(
                side_effect=[
                    hs.from_cassette,
                    httpx.Response(200, headers={"content-type": "text/event-stream"}, content=legacy_shape),
                ]
            )
            with pytest.raises(openai.APIError, match="boom"):
                run()
        # The strict property (only the documented family) finds it and shrinks to it.
        with pytest.raises(AssertionError, match=r"undocumented exception \(expected openai.APIError\)[\s\S]*RuntimeError"):
            hs.assert_fails_cleanly(
                run, hs.faults(1, kinds=("error_event",)), expected=openai.APIError, max_examples=5, database=None
            )


def assistants_text(url: str, calls: list[Any], **kw: Any) -> list[Any]:
    """The text run of the Assistants recording alone; the handler's callbacks go to ``calls``."""
    client = gpt(url, **kw)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Say café ☕ please"}])
    recorder = record_callbacks(Handler())
    try:
        with client.beta.threads.runs.stream(thread_id=thread.id, assistant_id="asst_fuzz", event_handler=recorder.target) as s:
            s.until_done()
            return s.get_final_messages()
    finally:
        calls[:] = recorder.calls


@assistants_api
def test_openai_assistants_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("assistants"):
        rec = hs.targets(at=3)[0]  # the text run
        calls: list[Any] = []
        run = lambda: assistants_text(NOWHERE, calls, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: the error event raises APIError.
        assert type(outcome(hs.error_event(rec, 8), run)) is openai.APIError
        # Found: a connection lost or a read timeout mid-stream reaches the caller as the raw httpx2
        # exception (openai/lib/streaming/_assistants.py catches the APIConnectionError / APITimeoutError
        # the SDK's Stream raised and re-raises its __cause__); the handler's on_exception gets it too.
        dropped = outcome(hs.drop(rec, 3000), run)
        assert type(dropped) is httpx2.RemoteProtocolError and not isinstance(dropped, openai.APIError)
        assert [c.name for c in calls][-2:] == ["on_exception", "on_end"]
        assert type(outcome(hs.read_timeout(rec, 8), run)) is httpx2.ReadTimeout
        assert [c.name for c in calls][-3:] == ["on_timeout", "on_exception", "on_end"]
        # Found: a stream that ends cleanly early: until_done() returns; get_final_messages() raises
        # RuntimeError("No messages found") when no message had started ...
        early = outcome(hs.truncate(rec, 5), run)
        assert type(early) is RuntimeError and str(early) == "No messages found"
        # ... and otherwise returns what came, no error: a message cut short, or whole but the run unfinished.
        partial = outcome(hs.truncate(rec, 9), run)
        assert partial[-1].content[0].text.value == "You said: Say café ☕ please"[: len(partial[-1].content[0].text.value)]
        assert partial[-1].content[0].text.value != "You said: Say café ☕ please"
        assert outcome(hs.truncate(rec, 14), run)[-1].content[0].text.value == "You said: Say café ☕ please"
        # The handler hears on_end all the same: it cannot tell a cut run from a finished one.
        assert calls[-1].name == "on_end" and "on_exception" not in [c.name for c in calls]


def test_anthropic_faults_and_what_the_fuzzer_found(replay: Any) -> None:
    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        run = lambda: anthropic_one(NOWHERE, max_retries=0, timeout=READ_TIMEOUT)  # noqa: E731
        # Documented: HTTP errors before the stream, and the error event mid-stream.
        assert isinstance(outcome(hs.status(rec, 529), run), anthropic.OverloadedError)
        assert isinstance(outcome(hs.status(rec, 429), run), anthropic.RateLimitError)
        retried = outcome(hs.status(rec, 529), lambda: anthropic_one(NOWHERE, max_retries=2))
        assert retried.content[2].input == {"city": "Paris", "unit": "celsius"}
        mid = outcome(hs.error_event(rec, 6), run)
        # Found: an overloaded error event mid-stream raises the generic APIStatusError (status 200),
        # not OverloadedError (make_status_error keys on the HTTP status, which is 200).
        assert (
            type(mid) is anthropic.APIStatusError and mid.status_code == 200 and mid.body["error"]["type"] == "overloaded_error"
        )
        # Found: a connection lost or a read timeout mid-stream leaks the raw httpx2 exception; the SDK
        # does not wrap it as APIConnectionError / APITimeoutError (openai's Stream does).
        assert type(outcome(hs.drop(rec, 700), run)) is httpx2.RemoteProtocolError
        assert type(outcome(hs.read_timeout(rec, 6), run)) is httpx2.ReadTimeout
        # Found: a stream that ends cleanly before message_stop gives a partial message, no error
        # (after message_delta, even one that looks complete: stop_reason is set)...
        partial = outcome(hs.truncate(rec, 8), run)
        assert partial.stop_reason is None and partial.content[-1].type == "text"
        assert outcome(hs.truncate(rec, len(rec.events) - 1), run).stop_reason == "tool_use"  # type: ignore[arg-type]
        # ... and one that ends before message_start a bare AssertionError from get_final_message().
        assert type(outcome(hs.truncate(rec, 0), run)) is AssertionError
        # The strict property (the documented family only) says so, shrunk to the first case:
        with pytest.raises(AssertionError, match=r"undocumented exception \(expected anthropic.APIError\)"):
            hs.assert_fails_cleanly(
                run,
                hs.faults(at=0, kinds=("drop",)),
                expected=anthropic.APIError,
                max_examples=10,
                database=None,
                phases=NO_SHRINK,
            )
        # ... the default one (what the SDK raises) passes, and accepts what the caller handles itself.
        hs.assert_fails_cleanly(
            run, hs.faults(at=0, kinds=("truncate", "drop", "read_timeout")), max_examples=20, database=None,
            accept=lambda o: o.error is None and o.variant.fault == "truncate",
        )  # fmt: skip


def test_read_timeout_honours_the_request_timeout(replay: Any) -> None:
    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        stalled = hs.read_timeout(rec, 6)
        # A client with a read timeout: ReadTimeout after that long (not at once).
        start = time.monotonic()
        assert type(outcome(stalled, lambda: anthropic_one(NOWHERE, max_retries=0, timeout=0.3))) is httpx2.ReadTimeout
        assert 0.3 <= time.monotonic() - start < 2
        # A client without one waits, as on a real network, until the watchdog reports the hang...
        start = time.monotonic()
        with pytest.raises(hs.StreamHang, match=r"did not finish within 0\.3 s"):
            outcome(
                stalled, lambda: hs.call_with_timeout(lambda: anthropic_one(NOWHERE, max_retries=0, timeout=None), timeout=0.3)
            )
        assert time.monotonic() - start < 2
        # ... and so does one whose timeout is longer than the test's watchdog (the SDKs default to 600 s);
        # the report says what the fault waits for.
        with pytest.raises(hs.StreamHang, match=r"read_timeout fault stalls the stream[\s\S]*timeout=0.05"):
            hs.assert_fails_cleanly(
                lambda: anthropic_one(NOWHERE, max_retries=0),
                hs.faults(0, kinds=("read_timeout",)),
                timeout=0.3,
                max_examples=1,
                database=None,
                phases=NO_SHRINK,  # each attempt at shrinking a hang waits for the watchdog
            )
        # A stall shorter than the read timeout ends with the server closing the connection.
        start = time.monotonic()
        closed = outcome(hs.read_timeout(rec, 6, stall=0.2), lambda: anthropic_one(NOWHERE, max_retries=0, timeout=5))
        assert type(closed) is httpx2.RemoteProtocolError and 0.2 <= time.monotonic() - start < 2
    # Async clients: the same, on the event loop (openai wraps the ReadTimeout as APITimeoutError).
    with replay("chat_async"):
        rec = hs.targets(at=0)[0]
        start = time.monotonic()
        got = outcome(hs.read_timeout(rec, 2), lambda: chat_async(NOWHERE, max_retries=0, timeout=0.3))
        assert type(got) is openai.APITimeoutError and 0.3 <= time.monotonic() - start < 2
        with pytest.raises(hs.StreamHang):
            outcome(
                hs.read_timeout(rec, 2),
                lambda: hs.call_with_timeout(lambda: chat_async(NOWHERE, max_retries=0, timeout=None), timeout=0.3),
            )


def test_nothing_hangs(replay: Any) -> None:
    def wait_for_stop() -> None:
        """Deliberately broken: polls until it has seen message_stop, even when the stream ended."""
        client = claude(NOWHERE, max_retries=0)
        with client.messages.stream(
            model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
        ) as stream:
            events = iter(stream)
            seen = False
            while not seen:
                event = next(events, None)
                seen = event is not None and event.type == "message_stop"

    with replay("anthropic_agent"):
        rec = hs.targets(at=0)[0]
        start = time.monotonic()
        with pytest.raises(hs.StreamHang, match=r"did not finish within 0\.5 s"):
            with hs.substitute(hs.truncate(rec, 9)):
                hs.call_with_timeout(wait_for_stop, timeout=0.5)
        assert time.monotonic() - start < 3
        # The fault property reports a hang as a hang.
        with pytest.raises(hs.StreamHang):
            hs.assert_fails_cleanly(wait_for_stop, hs.faults(kinds=("truncate",)), timeout=0.5, max_examples=3, database=None)


# =============================================================================================== the test-facing API


def test_substitute_replays_the_cassette_from_the_start_and_puts_it_back(replay: Any) -> None:
    with replay("anthropic_agent") as session:
        cassette = session.cassette
        before = list(cassette.interactions)
        anthropic_agent(NOWHERE)
        assert cassette.played == [0, 1]
        v = hs.rechunk(hs.targets(at=1)[0], [10, 20, 30])
        with hs.substitute(v, cassette) as active:
            assert active is v and cassette.interactions[1] is v.interaction and cassette.played == []
            anthropic_agent(NOWHERE)
        assert cassette.interactions == before and cassette.interactions[1] is before[1] and sorted(cassette.played) == [0, 1]
        # A request the cassette cannot answer inside the block fails the block, even if swallowed.
        with pytest.raises(CassetteMiss):
            with hs.substitute(v):
                with contextlib.suppress(Exception):
                    anthropic_agent(NOWHERE)
                    anthropic_agent(NOWHERE)
        assert session.misses == []


DECORATED = """
import asyncio, os
import anthropic, pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.database import DirectoryBasedExampleDatabase
import harness.strategies as hs
from harness.fuzz import samples

URL = os.environ["MODEL_URL"]
# This session's own example database (not the repo's .hypothesis); REUSE_ONLY: replay it, nothing else.
DB = dict(database=DirectoryBasedExampleDatabase(os.environ["HYPOTHESIS_DB"]))
if os.environ.get("REUSE_ONLY"):
    DB["phases"] = [Phase.reuse]
ARGS = dict(model=samples.MODEL, max_tokens=1024, messages=[{"role": "user", "content": "What is the weather in Paris?"}], tools=[samples.WEATHER_TOOL])
RUNS = []


@pytest.mark.cassette
@hs.fuzz(hs.equivalent(), max_examples=15, **DB)
def test_sync(variant):
    RUNS.append(variant)
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
        final = stream.get_final_message()
    assert final.content[1].text == "Je regarde la météo à Paris ☕ — 東京 aussi? Un instant."


@pytest.mark.cassette
@hs.fuzz(hs.resplit(), max_examples=10, **DB)
async def test_async(cassette):
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
        final = await stream.get_final_message()
    assert final.content[2].input == {"city": "Paris", "unit": "celsius"}


@pytest.mark.cassette
@hs.fuzz(hs.rechunked(), max_examples=200, **DB)
def test_planted(variant):
    text = ""
    with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.with_streaming_response.create(stream=True, **ARGS) as response:
        for chunk in response.iter_bytes():
            text += chunk.decode("utf-8")   # the planted bug: decodes each chunk on its own
    assert "météo" in text


@pytest.mark.cassette("test_fuzzed/test_sync.json")
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], **DB)
@given(variant=hs.rechunked())
def test_plain_given(cassette, variant):
    with hs.substitute(variant, cassette):
        with anthropic.Anthropic(api_key="sk-ant-test", base_url=URL).messages.stream(**ARGS) as stream:
            assert stream.get_final_message().content[2].input == {"city": "Paris", "unit": "celsius"}


def test_counts():
    assert len(RUNS) in (1, 15)  # recording: once, as is; replay: once per variant
"""


def test_fuzz_decorator_in_cassette_tests(
    pytester: pytest.Pytester, stub_server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_fuzzed=DECORATED)
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.setenv("MODEL_URL", stub_server.url)
    database = pytester.path / "hypothesis-examples"
    monkeypatch.setenv("HYPOTHESIS_DB", str(database))
    # While recording, each body runs once, as is (and the planted bug does not show).
    pytester.runpytest("--record-mode=once", "-p", "no:randomly").assert_outcomes(passed=5)
    assert len(list((pytester.path / "cassettes").rglob("*.json"))) == 3

    monkeypatch.setenv("MODEL_URL", NOWHERE)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=4, failed=1)
    # The planted bug, shrunk to one cut inside a multi-byte character, printed readably.
    result.stdout.re_match_lines(
        [r".*variant=rechunk\(#0: cuts at bytes \[\d+\]; byte \d+ = inside '.' \(after UTF-8 byte \d of \d\).*"]
    )
    first = re.search(r"variant=(rechunk\(.*\)),", result.stdout.str()).group(1)  # type: ignore[union-attr]
    assert any(p.is_file() for p in database.rglob("*"))  # saved in this session's own database
    # The failing variant is in the hypothesis database: the next run replays it first. Only the
    # reuse phase runs (no generation, no shrinking): the failure can only come from the database.
    monkeypatch.setenv("REUSE_ONLY", "1")
    again = pytester.runpytest("-p", "no:randomly", "-k", "planted")
    again.assert_outcomes(failed=1)
    assert first in again.stdout.str()


# =============================================================================================== the respx layer


def test_respx_override_second_model_call_answers_529(replay: Any) -> None:
    overloaded = httpx.Response(
        529,
        json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        headers={"retry-after-ms": "1"},
    )
    with replay("anthropic_agent") as session:
        # No retries: the SDK raises its documented OverloadedError on the second model call.
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded])
            with pytest.raises(anthropic.OverloadedError):
                anthropic_agent(NOWHERE, max_retries=0)
        # (a route answering None, like from_cassette, counts as not matching: only the 529 counts)
        assert route.call_count == 1 and session.cassette.played == [0]

        # With retries: the 529, then the recording; the agent gets the recorded answer.
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded, hs.from_cassette])
            _, second, _, _ = anthropic_agent(NOWHERE, max_retries=2)
        assert second.content[0].text == ANSWER and route.call_count == 1 and session.cassette.played == [0, 1]

        # An async agent: the route answers its second model call with the 529.
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded])
            with pytest.raises(anthropic.OverloadedError):
                asyncio.run(anthropic_agent_async(NOWHERE, max_retries=0))
        assert route.call_count == 1 and session.cassette.played == [0]
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/messages").mock(side_effect=[hs.from_cassette, overloaded, hs.from_cassette])
            second = asyncio.run(anthropic_agent_async(NOWHERE, max_retries=2))
        assert second.content[0].text == ANSWER and route.call_count == 1 and session.cassette.played == [0, 1]

        # Async clients go through the same layer; unmatched requests fall back to the cassette.
        session.replay_from_start()
        with hs.override() as router:
            router.get(path="/unrelated").mock(return_value=httpx.Response(204))
            final, _ = asyncio.run(anthropic_async_crlf_nowhere())
        assert final.stop_reason == "tool_use"
        # A route can answer with a fuzzer variant (here: the connection drops mid-stream).
        session.replay_from_start()
        with hs.override() as router:
            router.post(path="/v1/messages").mock(side_effect=hs.respond(hs.drop(hs.targets(at=0)[0], 500)))
            with pytest.raises(httpx2.RemoteProtocolError):
                anthropic_one(NOWHERE, max_retries=0)
        # ... or stalls, honouring the request's read timeout.
        session.replay_from_start()
        with hs.override() as router:
            router.post(path="/v1/messages").mock(side_effect=hs.respond(hs.read_timeout(hs.targets(at=0)[0], 6)))
            start = time.monotonic()
            with pytest.raises(httpx2.ReadTimeout):
                anthropic_one(NOWHERE, max_retries=0, timeout=0.2)
            assert 0.2 <= time.monotonic() - start < 2
        # Outside the block, the seam answers again.
        session.replay_from_start()
        assert anthropic_one(NOWHERE).stop_reason == "tool_use"

    # OpenAI, async: a route answers 429; without retries the SDK raises RateLimitError, with them
    # it gets the recording on the retry.
    rate_limited = httpx.Response(
        429,
        json={"error": {"message": "Rate limited", "type": "rate_limit_exceeded", "param": None, "code": "rate_limit_exceeded"}},
        headers={"retry-after-ms": "1"},
    )
    with replay("chat_async") as session:
        with hs.override() as router:
            route = router.post(path="/v1/chat/completions").mock(side_effect=[rate_limited])
            with pytest.raises(openai.RateLimitError):
                asyncio.run(chat_async(NOWHERE, max_retries=0))
        assert route.call_count == 1 and session.cassette.played == []
        session.replay_from_start()
        with hs.override() as router:
            route = router.post(path="/v1/chat/completions").mock(side_effect=[rate_limited, hs.from_cassette])
            completion, _ = asyncio.run(chat_async(NOWHERE, max_retries=2))
        assert completion.choices[0].finish_reason == "tool_calls" and route.call_count == 1 and session.cassette.played == [0]


async def anthropic_agent_async(url: str, **kw: Any) -> Any:
    """The two-turn agent of ``anthropic_agent`` with an async client (the same requests): its final answer."""
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=url, **kw) as client:
        messages: list[Any] = [{"role": "user", "content": PROMPT}]
        args: Any = dict(model=MODEL, max_tokens=1024, tools=[samples.WEATHER_TOOL])
        async with client.messages.stream(messages=messages, **args) as stream:
            first = await stream.get_final_message()
        tool = next(b for b in first.content if b.type == "tool_use")
        messages += [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True, exclude={"parsed_output"}) for b in first.content]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": f"sunny in {tool.input['city']}"}],
            },
        ]
        async with client.messages.stream(messages=messages, **args) as stream:
            return await stream.get_final_message()


async def anthropic_async_crlf_nowhere() -> Any:
    async with anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=NOWHERE) as client:
        async with client.messages.stream(
            model=MODEL, max_tokens=1024, messages=[{"role": "user", "content": PROMPT}], tools=[samples.WEATHER_TOOL]
        ) as stream:
            return await stream.get_final_message(), []


# =============================================================================================== the project's own code


_line_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_eol = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_bytes(draw: Any) -> bytes:
    """Arbitrary SSE-ish bodies: fields with odd spacing, comments, JSON and text data, mixed line
    ends, unknown fields, and sometimes a last event cut mid-line."""
    field = st.tuples(
        st.sampled_from(["data", "event", "id", "retry", "x", ""]),
        st.sampled_from([":", ": ", ":  ", ""]),
        st.text(_line_char, max_size=15),
    )
    line = st.one_of(
        field.map("".join),
        st.text(_line_char, max_size=10).map(lambda s: ":" + s),
        _json.map(lambda v: "data: " + json.dumps(v, ensure_ascii=False)),
    )
    out = []
    for _ in range(draw(st.integers(0, 6))):
        out += [ln + draw(_eol) for ln in draw(st.lists(line, max_size=4))]
        out.append(draw(_eol))
    if draw(st.booleans()):
        out.append(draw(field.map("".join)))
    return "".join(out).encode()


@st.composite
def sse_events(draw: Any) -> list[dict[str, Any]]:
    events = []
    for _ in range(draw(st.integers(0, 6))):
        e: dict[str, Any] = {}
        if draw(st.booleans()):
            e["comments"] = draw(st.lists(st.text(_line_char, max_size=8), min_size=1, max_size=2))
        for key in ("event", "id"):
            if draw(st.booleans()):
                e[key] = draw(st.text(_line_char, max_size=10))
        kind = draw(st.integers(0, 2))
        if kind == 1:
            e["data"] = draw(_json)
        elif kind == 2:
            e["text"] = draw(
                st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=20).filter(
                    lambda t: not _is_json(t)
                )
            )
        events.append(e or {"event": "x"})
    return events


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_sse_codec_round_trips() -> None:
    # Bytes -> events -> the same bytes, for any body (the cassette promise: byte-exact replay).
    @settings(max_examples=250, deadline=None)
    @given(sse_bytes())
    def bytes_round_trip(body: bytes) -> None:
        events, eol = sse.parse(body)
        assert sse.render(events, eol) == body
        assert sse.parse(sse.render(events, eol)) == (events, eol)  # parse is idempotent

    # Events -> bytes -> the same events, for the canonical form harness writes.
    @settings(max_examples=250, deadline=None)
    @given(sse_events(), _eol)
    def events_round_trip(events: list[dict[str, Any]], eol: str) -> None:
        body = sse.render(events, eol)
        parsed, detected = sse.parse(body)
        assert sse.render(parsed, detected) == body
        assert [{k: v for k, v in e.items() if k != "raw"} for e in parsed] == events

    bytes_round_trip()
    events_round_trip()


GOOD_CASSETTE = fmt.dumps(
    [samples.weather_stream(eol="\r\n"), samples.interaction(samples.anthropic_events(["ok"]), per_event_chunks=False)]
)
_DOC = json.loads(GOOD_CASSETTE)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


_PATHS = list(_paths(_DOC))[1:]


@st.composite
def mutated_cassette(draw: Any) -> bytes:
    """A valid cassette with bytes flipped, dropped or inserted, or JSON values replaced or removed."""
    if draw(st.booleans()):
        data = bytearray(GOOD_CASSETTE.encode())
        for _ in range(draw(st.integers(1, 4))):
            i, op = draw(st.integers(0, len(data) - 1)), draw(st.integers(0, 2))
            if op == 0:
                data[i] = draw(st.integers(0, 255))
            elif op == 1:
                del data[i]
            else:
                data.insert(i, draw(st.integers(0, 255)))
        return bytes(data)
    doc = json.loads(GOOD_CASSETTE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS))
        parent = doc
        with contextlib.suppress(KeyError, IndexError, TypeError):
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(_json)
            elif isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list):
                parent.pop(path[-1])
    return json.dumps(doc, ensure_ascii=False).encode()


def _fuzz_loader(strategy: st.SearchStrategy[bytes], examples: int) -> collections.Counter[str]:
    stats: collections.Counter[str] = collections.Counter()
    crashes: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(data: bytes) -> None:
        stats["tried"] += 1
        try:
            items = fmt.loads(data, "fuzzed.json")
            for item in items:  # what loads accepts must also replay
                item.request.body.bytes()
                if item.response is not None:
                    item.response.body.bytes()
        except CassetteFormatError:
            stats["clear error"] += 1
        except Exception as exc:
            stats["crash"] += 1
            crashes.append("".join(traceback.format_exception_only(exc)).strip())
        else:
            stats["loaded"] += 1

    check()
    print(f"cassette loader fuzz: {dict(stats)}; first crashes: {crashes[:3]}")
    assert stats["crash"] == 0, crashes[:5]
    return stats


def test_cassette_loader_raises_only_clear_errors() -> None:
    stats = _fuzz_loader(mutated_cassette(), 600)
    assert stats["tried"] >= 500 and stats["clear error"] > 300 and stats["loaded"] > 0


@st.composite
def odd_sse_entries(draw: Any) -> bytes:
    """A valid cassette whose SSE entries get a known field with a value of the wrong shape."""
    doc = json.loads(GOOD_CASSETTE)
    events = doc["interactions"][draw(st.integers(0, 1))]["response"]["body"]["sse"]
    event = events[draw(st.integers(0, len(events) - 1))]
    event[draw(st.sampled_from(["comments", "fields", "event", "id", "retry", "text"]))] = draw(_json)
    return json.dumps(doc, ensure_ascii=False).encode()


def test_cassette_loader_checks_sse_entry_shapes() -> None:
    # This fuzzer found format.loads raising TypeError for an entry like {"comments": null}; now a clear error.
    stats = _fuzz_loader(odd_sse_entries(), 300)
    assert stats["clear error"] > 50


def test_variant_reprs_are_readable_in_hypothesis_reports(replay: Any) -> None:
    # What hypothesis prints for a failing example is the variant's one-line label.
    from hypothesis.vendor.pretty import pretty

    rec = hs.targets(samples.weather_stream())[0]
    v = hs.rechunk(rec, [rec.data.index("☕".encode()) + 2])
    assert pretty(v) == repr(v) and "inside '☕' (after UTF-8 byte 2 of 3)" in repr(v)
    assert isinstance(v.interaction, HttpInteraction) and v.explain().startswith("variant of interaction #0: rechunk(")
