"""The fake Anthropic server against the real ``anthropic`` SDK, no harness involved.

``messages.create`` (JSON and raw streams), ``messages.stream`` / ``beta.messages.stream``, the tool runner with and
without message threads (streaming or not, ``until_done()`` or iterated), threads on the wire (create / continue, a
lost thread replayed), sync and async clients, and the wire: retries, errors, gzip, CRLF, comments, an ``error``
event, UTF-8, byte-identical answers, and events arriving while the server is still paused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic import Anthropic, AsyncAnthropic, beta_async_tool, beta_tool

from tests.servers.anthropic_api import FRAGMENT, THREADS_BETA
from tests.servers.model_server import ModelServer

MODEL = "claude-opus-4-7"
QUESTION = "What is the weather in Paris?"
USER: Any = [{"role": "user", "content": QUESTION}]
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
TOOLS: Any = [{"name": "get_weather", "description": "Weather of a city", "input_schema": SCHEMA}]
ANSWER = "Result: sunny in Paris"
UNICODE = "café ☕ 東京"


@beta_tool
def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


@beta_async_tool
async def aget_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the city's name
    """
    return f"sunny in {city}"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def module_server() -> Iterator[ModelServer]:
    with ModelServer() as srv:
        yield srv


@pytest.fixture
def server(module_server: ModelServer) -> ModelServer:
    module_server.requests.clear()
    return module_server


@pytest.fixture
def client(server: ModelServer) -> Iterator[Anthropic]:
    with Anthropic(base_url=server.url, api_key="sk-ant-test") as c:
        yield c


@pytest.fixture
async def aclient(server: ModelServer) -> Any:
    async with AsyncAnthropic(base_url=server.url, api_key="sk-ant-test") as c:
        yield c


def bodies(server: ModelServer) -> list[Any]:
    return [r["json"] for r in server.requests if r["path"] == "/v1/messages"]


def sse(server: ModelServer, body: Any, scenario: str = "") -> list[tuple[str, str]]:
    """The (event, data) pairs of a raw streamed answer."""
    headers = {"x-api-key": "k", "x-fake-scenario": scenario}
    raw = httpx2.post(f"{server.url}/v1/messages", json={**body, "stream": True}, headers=headers).text
    return [
        (chunk.split("\n")[0].removeprefix("event: "), chunk.split("\n")[1].removeprefix("data: "))
        for chunk in raw.strip("\n").split("\n\n")
    ]


# --------------------------------------------------------------------------------------------------- messages


def test_create_text(client: Anthropic) -> None:
    response = client.messages.with_raw_response.create(
        model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "hello"}]
    )
    message = response.parse()
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == "You said: hello"
    assert message.stop_reason == "end_turn" and message.model == MODEL
    assert message.id.startswith("msg_") and message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    assert response.headers["request-id"].startswith("req_") and message._request_id == response.headers["request-id"]


def test_create_tool_use(client: Anthropic) -> None:
    message = client.messages.create(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS)
    text, call = message.content
    assert text.type == "text" and text.text == "Let me check."
    assert call.type == "tool_use" and call.name == "get_weather" and call.input == {"city": "Paris"}
    assert call.id.startswith("toolu_") and message.stop_reason == "tool_use"


def test_tool_choice_names_and_schema_defaults(client: Anthropic) -> None:
    schema = {
        "type": "object",
        "properties": {"q": {"type": "string"}, "n": {"type": "integer"}, "unit": {"enum": ["c", "f"]}},
        "required": ["q", "n", "unit"],
    }
    tools: Any = [*TOOLS, {"name": "search", "input_schema": schema}]
    ask: Any = [{"role": "user", "content": 'Please search for "deep dish" now'}]
    call = client.messages.create(model=MODEL, max_tokens=50, messages=ask, tools=tools).content[1]
    assert call.type == "tool_use" and call.name == "search" and call.input == {"q": "deep dish", "n": 1, "unit": "c"}
    forced = client.messages.create(
        model=MODEL, max_tokens=50, messages=ask, tools=tools, tool_choice={"type": "tool", "name": "get_weather"}
    )
    assert forced.content[1].type == "tool_use" and forced.content[1].name == "get_weather"
    none = client.messages.create(model=MODEL, max_tokens=50, messages=ask, tools=tools, tool_choice={"type": "none"})
    assert none.content[0].type == "text" and none.stop_reason == "end_turn"


def test_tool_results_answered(client: Anthropic) -> None:
    first = client.messages.create(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS)
    call = first.content[1]
    assert call.type == "tool_use"

    def result(**extra: Any) -> Any:
        block = {"type": "tool_result", "tool_use_id": call.id, "content": [{"type": "text", "text": "sunny in Paris"}], **extra}
        return [*USER, {"role": "assistant", "content": first.content}, {"role": "user", "content": [block]}]

    ok = client.messages.create(model=MODEL, max_tokens=50, messages=result(), tools=TOOLS)
    assert ok.content[0].type == "text" and ok.content[0].text == ANSWER and ok.stop_reason == "end_turn"
    failed = client.messages.create(model=MODEL, max_tokens=50, messages=result(is_error=True), tools=TOOLS)
    assert failed.content[0].type == "text" and failed.content[0].text == "The tool failed: sunny in Paris"


def test_raw_stream_events(client: Anthropic) -> None:
    with client.messages.create(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS, stream=True) as stream:
        events = list(stream)
    names = [e.type for e in events]
    assert names[:2] == ["message_start", "content_block_start"] and names[-2:] == ["message_delta", "message_stop"]
    texts = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    parts = [e.delta.partial_json for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    assert texts == ["Let ", "me ", "check."]
    assert "".join(parts) == '{"city":"Paris"}' and len(parts) == 1 + -(-len('{"city":"Paris"}') // FRAGMENT)
    final = events[-2]
    assert final.type == "message_delta" and final.delta.stop_reason == "tool_use" and final.usage.output_tokens > 1


def test_wire_shape(server: ModelServer) -> None:
    events = sse(server, {"model": MODEL, "max_tokens": 50, "messages": USER, "tools": TOOLS})
    assert [name for name, _ in events[:3]] == ["message_start", "content_block_start", "ping"]
    assert events[2][1] == '{"type": "ping"}'
    start = json.loads(events[0][1])["message"]
    assert start["content"] == [] and start["stop_reason"] is None and start["type"] == "message"
    assert all(json.loads(data)["type"] == name for name, data in events)
    tool_start = next(json.loads(d) for n, d in events if n == "content_block_start" and '"tool_use"' in d)
    assert tool_start["content_block"]["input"] == {} and tool_start["index"] == 1


def test_stream_helper(client: Anthropic) -> None:
    with client.messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "one two three"}]) as stream:
        deltas = list(stream.text_stream)
        message = stream.get_final_message()
    assert deltas == ["You ", "said: ", "one ", "two ", "three"]
    assert message.content[0].type == "text" and message.content[0].text == "You said: one two three"


def test_beta_stream_tool_call(client: Anthropic) -> None:
    with client.beta.messages.stream(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS) as stream:
        kinds = {event.type for event in stream}
        message = stream.get_final_message()
    assert {"text", "input_json", "content_block_stop"} <= kinds
    call = message.content[1]
    assert call.type == "tool_use" and call.input == {"city": "Paris"} and message.stop_reason == "tool_use"


def test_count_tokens(client: Anthropic) -> None:
    assert client.messages.count_tokens(model=MODEL, messages=USER).input_tokens > 0


# --------------------------------------------------------------------------------------------------- tool runner + threads


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("threaded", [True, False])
@pytest.mark.parametrize("iterate", [False, True])
def test_tool_runner(client: Anthropic, server: ModelServer, stream: bool, threaded: bool, iterate: bool) -> None:
    kwargs: Any = {} if threaded else {"thread": False}
    runner = client.beta.messages.tool_runner(
        model=MODEL, max_tokens=100, messages=USER, tools=[get_weather], stream=stream, **kwargs
    )
    if iterate:
        items = list(runner)
        finals = [item.get_final_message() for item in items] if stream else items
        assert [m.stop_reason for m in finals] == ["tool_use", "end_turn"]
        final = finals[-1]
    else:
        final = runner.until_done()
    assert final.content[0].type == "text" and final.content[0].text == ANSWER

    first, second = bodies(server)
    betas = [r["headers"].get("anthropic-beta") for r in server.requests]
    assert first["messages"] == USER and first["tools"][0]["name"] == "get_weather"
    assert first.get("stream", False) is stream
    if threaded:
        assert betas == [THREADS_BETA, THREADS_BETA]
        assert first["thread"] == {"type": "create"}
        assert second["thread"]["type"] == "continue" and second["thread"]["previous_message_id"].startswith("msg_")
        assert "tools" not in second and [m["role"] for m in second["messages"]] == ["user"]
        assert second["messages"][0]["content"][0]["type"] == "tool_result"
    else:
        assert betas == [None, None] and "thread" not in first and "thread" not in second
        assert [m["role"] for m in second["messages"]] == ["user", "assistant", "user"] and "tools" in second


def test_thread_send_and_lost_thread_replayed(client: Anthropic, server: ModelServer) -> None:
    thread = client.beta.messages.thread(model=MODEL, max_tokens=50, messages=USER, system="Be brief.")
    assert thread.send().content[0].type == "text"
    again = thread.send({"role": "user", "content": "and tomorrow?"}).content[0]
    assert again.type == "text" and again.text == "You said: and tomorrow?"
    server.app.state.anthropic_threads.clear()  # the server loses every thread
    reply = thread.send({"role": "user", "content": "and Sunday?"})
    assert reply.content[0].type == "text" and reply.content[0].text == "You said: and Sunday?"
    sent = bodies(server)
    assert [b["thread"]["type"] for b in sent] == ["create", "continue", "continue", "create"]
    assert "system" not in sent[1] and len(sent[1]["messages"]) == 1
    assert sent[2]["thread"]["previous_message_id"] != sent[1]["thread"]["previous_message_id"]
    assert len(sent[3]["messages"]) == 5 and sent[3]["system"] == "Be brief."  # the full history, under a new thread


def test_thread_errors(client: Anthropic) -> None:
    betas: Any = [THREADS_BETA]
    created = client.beta.messages.create(model=MODEL, max_tokens=50, messages=USER, thread={"type": "create"}, betas=betas)
    after: Any = {"type": "continue", "previous_message_id": created.id}
    more: Any = [{"role": "user", "content": "more"}]
    with pytest.raises(anthropic.BadRequestError) as no_beta:
        client.beta.messages.create(model=MODEL, max_tokens=50, messages=more, thread=after)
    assert no_beta.value.type == "invalid_request_error"
    with pytest.raises(anthropic.BadRequestError):
        client.beta.messages.create(model=MODEL, max_tokens=50, messages=more, thread=after, betas=betas, system="x")
    ok = client.beta.messages.create(model=MODEL, max_tokens=50, messages=more, thread=after, betas=betas)
    assert ok.content[0].type == "text" and ok.content[0].text == "You said: more"
    with pytest.raises(anthropic.types.ThreadAlreadyContinuedError) as twice:
        client.beta.messages.create(model=MODEL, max_tokens=50, messages=more, thread=after, betas=betas)
    assert twice.value.error_code == "thread_already_continued"
    unknown: Any = {"type": "continue", "previous_message_id": "msg_nope"}
    with pytest.raises(anthropic.types.ThreadNotFoundError) as lost:
        client.beta.messages.create(model=MODEL, max_tokens=50, messages=more, thread=unknown, betas=betas)
    assert lost.value.status_code == 404 and lost.value.request_id


@pytest.mark.anyio
async def test_async_client(aclient: AsyncAnthropic, server: ModelServer) -> None:
    message = await aclient.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": UNICODE}])
    assert message.content[0].type == "text" and message.content[0].text == f"You said: {UNICODE}"
    async with aclient.messages.stream(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS) as stream:
        final = await stream.get_final_message()
    assert final.content[1].type == "tool_use" and final.content[1].input == {"city": "Paris"}
    async with aclient.beta.messages.stream(model=MODEL, max_tokens=50, messages=USER) as bstream:
        assert [t async for t in bstream.text_stream][-1] == "Paris?"


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize("threaded", [True, False])
async def test_async_tool_runner(aclient: AsyncAnthropic, server: ModelServer, stream: bool, threaded: bool) -> None:
    kwargs: Any = {} if threaded else {"thread": False}
    runner = aclient.beta.messages.tool_runner(
        model=MODEL, max_tokens=100, messages=USER, tools=[aget_weather], stream=stream, **kwargs
    )
    if stream:
        finals = [await item.get_final_message() async for item in runner]
        final = finals[-1]
    else:
        final = await runner.until_done()
    assert final.content[0].type == "text" and final.content[0].text == ANSWER
    assert ("thread" in bodies(server)[1]) is threaded


# --------------------------------------------------------------------------------------------------- the wire


@pytest.mark.parametrize("status", [429, 529])
def test_errors_retried_then_succeed(server: ModelServer, status: int) -> None:
    scenario = f"status={status},retry-after=0.01,fail-times=1"
    with Anthropic(base_url=server.url, api_key="k", default_headers={"x-fake-scenario": scenario}) as c:
        message = c.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "retry me"}])
    assert message.content[0].type == "text" and message.content[0].text == "You said: retry me"
    assert [r["headers"]["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]


@pytest.mark.parametrize(
    ("status", "error", "kind"),
    [(429, anthropic.RateLimitError, "rate_limit_error"), (529, anthropic.OverloadedError, "overloaded_error")],
)
def test_errors_raised_without_retries(
    server: ModelServer, status: int, error: type[anthropic.APIStatusError], kind: str
) -> None:
    scenario = f"status={status},retry-after=7"
    with Anthropic(base_url=server.url, api_key="k", max_retries=0, default_headers={"x-fake-scenario": scenario}) as c:
        with pytest.raises(error) as info:
            c.messages.create(model=MODEL, max_tokens=50, messages=USER)
    assert info.value.status_code == status and info.value.type == kind
    assert info.value.response.headers["retry-after"] == "7" and info.value.request_id
    assert isinstance(info.value.body, dict) and info.value.body["type"] == "error"


def test_missing_api_key_is_401(server: ModelServer) -> None:
    response = httpx2.post(f"{server.url}/v1/messages", json={"model": MODEL, "max_tokens": 5, "messages": USER})
    assert response.status_code == 401 and response.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize("scenario", ["gzip", "crlf", "comments", "gzip,crlf,comments"])
def test_stream_scenarios(server: ModelServer, scenario: str) -> None:
    with Anthropic(base_url=server.url, api_key="k", default_headers={"x-fake-scenario": scenario}) as c:
        with c.messages.stream(model=MODEL, max_tokens=50, messages=USER, tools=TOOLS) as stream:
            message = stream.get_final_message()
        assert message.content[1].type == "tool_use" and message.content[1].input == {"city": "Paris"}
        if "gzip" in scenario:
            plain = c.messages.with_raw_response.create(model=MODEL, max_tokens=50, messages=USER)
            assert plain.headers["content-encoding"] == "gzip" and plain.parse().content[0].type == "text"


def test_crlf_and_comments_on_the_wire(server: ModelServer) -> None:
    raw = httpx2.post(
        f"{server.url}/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": USER, "stream": True},
        headers={"x-api-key": "k", "x-fake-scenario": "crlf,comments"},
    ).content
    assert raw.startswith(b": ping\r\nevent: message_start\r\ndata: {") and b"\r\n\r\n" in raw and b"\n\n" not in raw


@pytest.mark.parametrize("scenario", ["padded", "brace-pad"])
def test_padded_json_on_the_wire(server: ModelServer, scenario: str) -> None:
    # padded: json.dumps's defaults, as older Anthropic streams; brace-pad: spaces before the closing brace, as recent ones.
    raw = httpx2.post(
        f"{server.url}/v1/messages",
        json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": UNICODE}], "stream": True},
        headers={"x-api-key": "k", "x-fake-scenario": scenario},
    ).content
    datas = [line[6:] for line in raw.decode().splitlines() if line.startswith("data: ")]
    if scenario == "padded":
        assert all(d == json.dumps(json.loads(d)) for d in datas) and "\\u00e9" in raw.decode()
    else:
        assert any(d.endswith(" }") for d in datas)
        compact = [json.dumps(json.loads(d), separators=(",", ":"), ensure_ascii=False) for d in datas]
        assert all(c == d[:-1].rstrip(" ") + d[-1] for c, d in zip(compact, datas) if d != '{"type": "ping"}')
    with Anthropic(base_url=server.url, api_key="k", default_headers={"x-fake-scenario": scenario}) as c:
        with c.messages.stream(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": UNICODE}]) as stream:
            assert stream.get_final_message().content[0].text == f"You said: {UNICODE}"


def test_error_event_raises(server: ModelServer) -> None:
    with Anthropic(base_url=server.url, api_key="k", default_headers={"x-fake-scenario": "error-event"}) as c:
        seen = []
        with pytest.raises(anthropic.APIStatusError) as info:
            with c.messages.stream(model=MODEL, max_tokens=50, messages=USER) as stream:
                seen.extend(event.type for event in stream)
    assert info.value.type == "overloaded_error" and seen and "message_stop" not in seen


def test_multibyte_utf8(client: Anthropic, server: ModelServer) -> None:
    ask: Any = [{"role": "user", "content": UNICODE}]
    block = client.messages.create(model=MODEL, max_tokens=50, messages=ask).content[0]
    assert block.type == "text" and block.text == f"You said: {UNICODE}"
    with client.messages.stream(model=MODEL, max_tokens=50, messages=ask) as stream:
        assert "".join(stream.text_stream) == f"You said: {UNICODE}"
    assert (
        "東京".encode()
        in httpx2.post(
            f"{server.url}/v1/messages", json={"model": MODEL, "max_tokens": 5, "messages": ask}, headers={"x-api-key": "k"}
        ).content
    )


def test_same_request_same_bytes(server: ModelServer) -> None:
    def ask() -> httpx2.Response:
        body = {"model": MODEL, "max_tokens": 50, "messages": USER, "tools": TOOLS, "stream": True}
        return httpx2.post(f"{server.url}/v1/messages", json=body, headers={"x-api-key": "k"})

    one, two = ask(), ask()
    assert one.content == two.content and one.headers["request-id"] == two.headers["request-id"]


def test_events_arrive_before_the_pause_ends(server: ModelServer) -> None:
    with Anthropic(base_url=server.url, api_key="k", default_headers={"x-fake-scenario": "pause=1.0"}) as c:
        start = time.perf_counter()
        with c.messages.create(model=MODEL, max_tokens=50, messages=USER, stream=True) as stream:
            first = next(iter(stream))
            first_at = time.perf_counter() - start
            rest = list(stream)
        total = time.perf_counter() - start
    assert first.type == "message_start" and first_at < 0.5
    assert total >= 1.0 and rest[-1].type == "message_stop"
