"""The fake OpenAI server against the real ``openai`` SDK, no harness involved.

Chat Completions (JSON, raw streams, the ``.stream()`` helper, a two-turn tool loop), Responses (JSON, ``.stream()``,
the ``ResponsesToolRunner``), Assistants (``runs.stream`` with an ``AssistantEventHandler`` through
``requires_action`` -> ``submit_tool_outputs_stream``), and the wire: retries, errors, gzip, UTF-8, a legacy
``httpx`` client, and chunks arriving while the server is still paused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import httpx2
import openai
import pytest
from openai import AssistantEventHandler, AsyncAssistantEventHandler, AsyncOpenAI, OpenAI
from openai.lib.responses_tool_runner import (
    AsyncRegisteredFunction,
    AsyncResponsesToolRunner,
    RegisteredFunction,
    ResponsesToolRunner,
)
from starlette.applications import Starlette

from tests.servers.base import ServerThread
from tests.servers.openai_api import ARG_FRAGMENT, CREATED, routes, words

MODEL = "gpt-4o-mini"
QUESTION = "What is the weather in Paris?"
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
ARGS = '{"city":"Paris"}'
ANSWER = "Result: sunny in Paris"
N_FRAGMENTS = -(-len(ARGS) // ARG_FRAGMENT)

assistants_api = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK deprecates the Assistants API


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[ServerThread]:
    with ServerThread(Starlette(routes=routes)) as srv:
        yield srv


@pytest.fixture
def client(server: ServerThread) -> Iterator[OpenAI]:
    with OpenAI(base_url=f"{server.url}/v1", api_key="sk-test") as c:
        yield c


@pytest.fixture
async def aclient(server: ServerThread) -> Any:
    async with AsyncOpenAI(base_url=f"{server.url}/v1", api_key="sk-test") as c:
        yield c


def weather(city: str) -> str:
    return f"sunny in {city}"


def user(text: str) -> Any:
    return [{"role": "user", "content": text}]


def first_call(completion: Any) -> tuple[str, str]:
    """(name, arguments) of a chat completion's first tool call."""
    function = completion.choices[0].message.tool_calls[0].function
    return function.name, function.arguments


# --------------------------------------------------------------------------------------------- chat completions


def test_chat_create_text_and_tool_call(client: OpenAI) -> None:
    text = client.chat.completions.create(model=MODEL, messages=user("hello there"))
    assert text.object == "chat.completion" and text.id.startswith("chatcmpl-") and text.created == CREATED
    assert text.choices[0].message.content == "You said: hello there"
    assert text.choices[0].finish_reason == "stop"
    assert text.usage is not None and text.usage.total_tokens == text.usage.prompt_tokens + text.usage.completion_tokens

    call = client.chat.completions.create(model=MODEL, messages=user(QUESTION), tools=CHAT_TOOLS)
    message = call.choices[0].message
    assert call.choices[0].finish_reason == "tool_calls" and message.content is None
    assert message.tool_calls and message.tool_calls[0].id.startswith("call_")
    assert first_call(call) == ("get_weather", ARGS)


def test_chat_tool_choice_and_schema_defaults(client: OpenAI) -> None:
    tools: Any = [
        {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}},
        {"type": "function", "function": {"name": "forecast", "parameters": {"type": "object", "properties": {
            "city": {"type": "string"}, "days": {"type": "integer"}, "unit": {"enum": ["c", "f"]}, "hourly": {"type": "boolean"}},
            "required": ["city", "days", "unit", "hourly"]}}},
    ]  # fmt: skip
    by_name = client.chat.completions.create(model=MODEL, messages=user('Please forecast "New York" for me'), tools=tools)
    assert json.loads(first_call(by_name)[1]) == {
        "city": "New York", "days": 1, "unit": "c", "hourly": True}  # fmt: skip
    first = client.chat.completions.create(model=MODEL, messages=user("Anything about Rome"), tools=tools)
    assert first_call(first)[0] == "lookup"
    none = client.chat.completions.create(model=MODEL, messages=user("forecast"), tools=tools, tool_choice="none")
    assert none.choices[0].message.content == "You said: forecast"


def test_chat_raw_stream_with_and_without_usage(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=user("hi there you"), stream=True))
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content == ""
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "You said: hi there you"
    assert [c.choices[0].delta.content for c in chunks[1:-1]] == words("You said: hi there you")
    assert chunks[-1].choices[0].finish_reason == "stop" and all(c.usage is None for c in chunks)

    chunks = list(
        client.chat.completions.create(model=MODEL, messages=user("hi"), stream=True, stream_options={"include_usage": True})
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_chat_stream_helper_tool_call(client: OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=user(QUESTION), tools=CHAT_TOOLS) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    deltas = [e for e in events if e.type == "tool_calls.function.arguments.delta"]
    # the first chunk opens the call (empty arguments), then the fragments, cut mid-token
    assert [d.arguments_delta for d in deltas] == ["", *(ARGS[i : i + ARG_FRAGMENT] for i in range(0, len(ARGS), ARG_FRAGMENT))]
    done = [e for e in events if e.type == "tool_calls.function.arguments.done"]
    assert len(done) == 1 and done[0].name == "get_weather" and done[0].arguments == ARGS
    call = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert (call.function.name, call.function.arguments, final.choices[0].finish_reason) == ("get_weather", ARGS, "tool_calls")


def test_chat_stream_helper_text(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=user("stream me"), stream_options={"include_usage": True}
    ) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    assert "".join(e.delta for e in events if e.type == "content.delta") == "You said: stream me"
    assert [e.content for e in events if e.type == "content.done"] == ["You said: stream me"]
    assert final.choices[0].message.content == "You said: stream me" and final.usage is not None


def chat_tool_loop_messages(first: Any) -> Any:
    call = first.choices[0].message.tool_calls[0]
    result = weather(json.loads(call.function.arguments)["city"])
    return [*user(QUESTION), first.choices[0].message.to_dict(), {"role": "tool", "tool_call_id": call.id, "content": result}]


def test_chat_two_turn_tool_loop(client: OpenAI) -> None:
    first = client.chat.completions.create(model=MODEL, messages=user(QUESTION), tools=CHAT_TOOLS)
    with client.chat.completions.stream(model=MODEL, messages=chat_tool_loop_messages(first), tools=CHAT_TOOLS) as stream:
        assert stream.get_final_completion().choices[0].message.content == ANSWER


@pytest.mark.anyio
async def test_chat_async(aclient: AsyncOpenAI) -> None:
    first = await aclient.chat.completions.create(model=MODEL, messages=user(QUESTION), tools=CHAT_TOOLS)
    stream = await aclient.chat.completions.create(
        model=MODEL, messages=chat_tool_loop_messages(first), tools=CHAT_TOOLS, stream=True
    )
    assert "".join([c.choices[0].delta.content or "" async for c in stream]) == ANSWER
    async with aclient.chat.completions.stream(model=MODEL, messages=user(QUESTION), tools=CHAT_TOOLS) as helper:
        types = [e.type async for e in helper]
        assert first_call(await helper.get_final_completion())[1] == ARGS
    assert types.count("tool_calls.function.arguments.done") == 1


# --------------------------------------------------------------------------------------------- responses

TEXT_EVENTS = ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
CALL_EVENTS = ["response.created", "response.in_progress", "response.output_item.added"]


def test_responses_create(client: OpenAI) -> None:
    text = client.responses.create(model=MODEL, input="hello")
    assert text.id.startswith("resp_") and text.status == "completed" and text.output_text == "You said: hello"
    assert text.usage is not None and text.created_at == CREATED
    call = client.responses.create(model=MODEL, input=QUESTION, tools=[RESP_TOOL])
    item = call.output[0]
    assert item.type == "function_call" and (item.name, item.arguments) == ("get_weather", ARGS)
    follow = client.responses.create(
        model=MODEL, tools=[RESP_TOOL], previous_response_id=call.id,
        input=[{"type": "function_call_output", "call_id": item.call_id, "output": weather("Paris")}],
    )  # fmt: skip
    assert follow.output_text == ANSWER


def test_responses_stream_text(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="hello big world") as stream:
        events = list(stream)
        final = stream.get_final_response()
    n = len(words("You said: hello big world"))
    tail = ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert [e.type for e in events] == TEXT_EVENTS + ["response.output_text.delta"] * n + tail
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == "You said: hello big world" and final.status == "completed"


def test_responses_stream_function_call_and_output(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input=QUESTION, tools=[RESP_TOOL]) as stream:
        events = list(stream)
        final = stream.get_final_response()
    tail = ["response.function_call_arguments.done", "response.output_item.done", "response.completed"]
    assert [e.type for e in events] == CALL_EVENTS + ["response.function_call_arguments.delta"] * N_FRAGMENTS + tail
    item = final.output[0]
    assert item.type == "function_call" and item.arguments == ARGS
    history: Any = [
        *user(QUESTION),
        item.to_dict(),
        {"type": "function_call_output", "call_id": item.call_id, "output": weather("Paris")},
    ]
    with client.responses.stream(model=MODEL, input=history, tools=[RESP_TOOL]) as stream:
        assert stream.get_final_response().output_text == ANSWER


def test_responses_tool_runner(client: OpenAI) -> None:
    seen: list[dict[str, object]] = []

    def execute(args: dict[str, object]) -> str:
        seen.append(args)
        return weather(str(args["city"]))

    runner = ResponsesToolRunner(functions=[RegisteredFunction(tool=RESP_TOOL, execute=execute)])
    assert runner.run(client, {"model": MODEL, "input": QUESTION}).output_text == ANSWER
    events: list[str] = []
    streamed = runner.run(client, {"model": MODEL, "input": QUESTION}, stream=True, on_event=lambda e: events.append(e.type))
    assert streamed.output_text == ANSWER and seen == [{"city": "Paris"}] * 2
    assert events.count("response.completed") == 2 and "response.function_call_arguments.delta" in events


@pytest.mark.anyio
async def test_responses_async(aclient: AsyncOpenAI) -> None:
    async with aclient.responses.stream(model=MODEL, input="hi") as stream:
        types = [e.type async for e in stream]
        assert (await stream.get_final_response()).output_text == "You said: hi"
    assert types[:4] == TEXT_EVENTS and types[-1] == "response.completed"

    async def execute(args: dict[str, object]) -> str:
        return weather(str(args["city"]))

    runner = AsyncResponsesToolRunner(functions=[AsyncRegisteredFunction(tool=RESP_TOOL, execute=execute)])
    assert (await runner.run(aclient, {"model": MODEL, "input": QUESTION}, stream=True)).output_text == ANSWER


# --------------------------------------------------------------------------------------------- assistants

CALLBACKS = [
    "on_run_step_created", "on_run_step_delta", "on_run_step_done", "on_tool_call_created", "on_tool_call_delta",
    "on_tool_call_done", "on_message_created", "on_message_delta", "on_message_done", "on_text_created",
    "on_text_delta", "on_text_done", "on_end",
]  # fmt: skip


def expected_callbacks() -> list[str]:
    """What the SDK fires for our two streams (the second nested in the first's ``on_event(requires_action)``)."""
    n_words = len(words(ANSWER))
    first = ["on_run_step_created", "on_tool_call_created", "on_run_step_delta"]
    first += ["on_tool_call_delta", "on_run_step_delta"] * N_FRAGMENTS
    second = [
        "on_run_step_done",
        "on_run_step_created",
        "on_message_created",
        "on_text_created",
        "on_text_delta",
        "on_message_delta",
    ]
    second += ["on_text_delta", "on_message_delta"] * (n_words - 1)
    second += ["on_text_done", "on_message_done", "on_run_step_done", "on_end"]
    return [f"1:{c}" for c in first] + [f"2:{c}" for c in second] + ["1:on_tool_call_done", "1:on_end"]


EXPECTED_EVENTS = (
    ["1:thread.run.created", "1:thread.run.queued", "1:thread.run.in_progress", "1:thread.run.step.created",
     "1:thread.run.step.in_progress"] + ["1:thread.run.step.delta"] * (1 + N_FRAGMENTS) + ["1:thread.run.requires_action"]
    + ["2:thread.run.step.completed", "2:thread.run.queued", "2:thread.run.in_progress", "2:thread.run.step.created",
       "2:thread.run.step.in_progress", "2:thread.message.created", "2:thread.message.in_progress"]
    + ["2:thread.message.delta"] * len(words(ANSWER))
    + ["2:thread.message.completed", "2:thread.run.step.completed", "2:thread.run.completed"]
)  # fmt: skip


def _recording(name: str) -> Any:
    def callback(self: Any, *args: Any) -> None:
        self.log.append(f"{self.turn}:{name}")

    return callback


def _arecording(name: str) -> Any:
    async def callback(self: Any, *args: Any) -> None:
        self.log.append(f"{self.turn}:{name}")

    return callback


class Handler(AssistantEventHandler):
    """Records every callback; answers ``requires_action`` with a nested ``submit_tool_outputs_stream``."""

    def __init__(self, client: OpenAI, log: list[str], events: list[str], turn: int = 1) -> None:
        super().__init__()
        self.client, self.log, self.events, self.turn = client, log, events, turn

    def on_event(self, event: Any) -> None:
        self.events.append(f"{self.turn}:{event.event}")
        if event.event == "thread.run.requires_action":
            calls = event.data.required_action.submit_tool_outputs.tool_calls
            outputs: Any = [{"tool_call_id": c.id, "output": weather(json.loads(c.function.arguments)["city"])} for c in calls]
            nested = Handler(self.client, self.log, self.events, turn=2)
            with self.client.beta.threads.runs.submit_tool_outputs_stream(
                thread_id=event.data.thread_id, run_id=event.data.id, tool_outputs=outputs, event_handler=nested
            ) as stream:
                stream.until_done()


class AsyncHandler(AsyncAssistantEventHandler):
    def __init__(self, client: AsyncOpenAI, log: list[str], events: list[str], turn: int = 1) -> None:
        super().__init__()
        self.client, self.log, self.events, self.turn = client, log, events, turn

    async def on_event(self, event: Any) -> None:
        self.events.append(f"{self.turn}:{event.event}")
        if event.event == "thread.run.requires_action":
            calls = event.data.required_action.submit_tool_outputs.tool_calls
            outputs: Any = [{"tool_call_id": c.id, "output": weather(json.loads(c.function.arguments)["city"])} for c in calls]
            nested = AsyncHandler(self.client, self.log, self.events, turn=2)
            async with self.client.beta.threads.runs.submit_tool_outputs_stream(
                thread_id=event.data.thread_id, run_id=event.data.id, tool_outputs=outputs, event_handler=nested
            ) as stream:
                await stream.until_done()


for _name in CALLBACKS:  # every other callback just records its name
    setattr(Handler, _name, _recording(_name))
    setattr(AsyncHandler, _name, _arecording(_name))


@assistants_api
def test_assistants_run_stream_requires_action_round(client: OpenAI) -> None:
    assistant = client.beta.assistants.create(model=MODEL, name="weather-sync", tools=CHAT_TOOLS)
    thread = client.beta.threads.create()
    client.beta.threads.messages.create(thread_id=thread.id, role="user", content=QUESTION)
    log: list[str] = []
    events: list[str] = []
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=Handler(client, log, events)
    ) as stream:
        stream.until_done()
        run = stream.get_final_run()
    assert events == EXPECTED_EVENTS
    assert log == expected_callbacks()
    assert run.status == "requires_action"
    assert client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status == "completed"
    messages = client.beta.threads.messages.list(thread_id=thread.id, order="asc")
    assert [(m.role, m.content[0].text.value) for m in messages.data] == [("user", QUESTION), ("assistant", ANSWER)]  # type: ignore[union-attr]


@assistants_api
@pytest.mark.anyio
async def test_assistants_async_round(aclient: AsyncOpenAI) -> None:
    thread = await aclient.beta.threads.create(messages=user(QUESTION), metadata={"test": "async"})
    log: list[str] = []
    events: list[str] = []
    handler = AsyncHandler(aclient, log, events)
    async with aclient.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id="asst_unknown", tools=CHAT_TOOLS, event_handler=handler
    ) as stream:
        await stream.until_done()
    assert events == EXPECTED_EVENTS and log == expected_callbacks()


@assistants_api
def test_assistants_create_and_run_stream_text(client: OpenAI) -> None:
    with client.beta.threads.create_and_run_stream(assistant_id="asst_plain", thread={"messages": user("hello")}) as stream:
        types = [e.event for e in stream]
        messages = stream.get_final_messages()
    assert types[0] == "thread.created" and types[-1] == "thread.run.completed"
    assert "thread.run.requires_action" not in types and messages[0].content[0].text.value == "You said: hello"  # type: ignore[union-attr]


# --------------------------------------------------------------------------------------------- the wire


def test_same_request_same_bytes(server: ServerThread) -> None:
    def twice(path: str, body: Any) -> list[bytes]:
        return [httpx.post(f"{server.url}/v1{path}", json=body).content for _ in range(2)]

    for path, body in [
        ("/chat/completions", {"model": MODEL, "messages": user(QUESTION), "tools": CHAT_TOOLS}),
        ("/chat/completions", {"model": MODEL, "messages": user("hi"), "stream": True}),
        ("/responses", {"model": MODEL, "input": QUESTION, "tools": [RESP_TOOL], "stream": True}),
        (
            "/threads/runs",
            {"assistant_id": "asst_x", "thread": {"messages": user(QUESTION)}, "tools": CHAT_TOOLS, "stream": True},
        ),
    ]:
        first, second = twice(path, body)
        assert first == second and str(CREATED).encode() in first


def test_rate_limit_retried(client: OpenAI, server: ServerThread) -> None:
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=user("hi"), extra_headers={"x-fake-scenario": "status=429,retry-after=0.05,fail-times=1"}
    )
    assert raw.retries_taken == 1 and raw.parse().choices[0].message.content == "You said: hi"
    response = httpx.post(f"{server.url}/v1/responses", json={}, headers={"x-fake-scenario": "status=429,retry-after=7"})
    assert response.status_code == 429 and response.headers["retry-after"] == "7"
    assert response.headers["x-request-id"].startswith("req_")
    assert response.json() == {"error": {"message": "Rate limit reached for requests. Please try again later.",
                                         "type": "requests", "param": None, "code": "rate_limit_exceeded"}}  # fmt: skip


@pytest.mark.anyio
async def test_rate_limit_retried_async(aclient: AsyncOpenAI) -> None:
    raw = await aclient.responses.with_raw_response.create(
        model=MODEL, input="hi", extra_headers={"x-fake-scenario": "status=429,retry-after=0.06,fail-times=1"}
    )
    assert raw.retries_taken == 1 and raw.parse().output_text == "You said: hi"


def test_errors_raise_sdk_exceptions(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model=MODEL, messages=user("hi"), extra_headers={"x-fake-scenario": "status=404"})
    assert err.value.request_id and err.value.request_id.startswith("req_") and err.value.body == {
        "message": "Not found.", "type": "invalid_request_error", "param": None, "code": None}  # fmt: skip
    with pytest.raises(openai.InternalServerError):
        client.with_options(max_retries=0).responses.create(
            model=MODEL, input="x", extra_headers={"x-fake-scenario": "status=500"}
        )
    with pytest.raises(openai.APIError, match="server had an error"):
        for _ in client.chat.completions.create(
            model=MODEL, messages=user("one two three four five"), stream=True, extra_headers={"x-fake-scenario": "error-event"}
        ):
            pass


def test_gzip(server: ServerThread) -> None:
    with OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", default_headers={"x-fake-scenario": "gzip"}) as client:
        raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=user("zip"))
        assert raw.headers["content-encoding"] == "gzip" and raw.parse().choices[0].message.content == "You said: zip"
        with client.responses.stream(model=MODEL, input="zip it") as stream:
            assert stream.get_final_response().output_text == "You said: zip it"


def test_multibyte_utf8(client: OpenAI) -> None:
    text = "Grüße aus Köln — 日本語のテキスト 🎉"
    assert client.chat.completions.create(model=MODEL, messages=user(text)).choices[0].message.content == f"You said: {text}"
    stream = client.chat.completions.create(model=MODEL, messages=user(text), stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == f"You said: {text}"
    with client.responses.stream(model=MODEL, input=text) as rstream:
        assert rstream.get_final_response().output_text == f"You said: {text}"
    call = client.responses.create(model=MODEL, input="Wie ist das Wetter in München?", tools=[RESP_TOOL])
    assert call.output[0].arguments == '{"city":"München"}'  # type: ignore[union-attr]


def test_legacy_httpx_client(server: ServerThread) -> None:
    with OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", http_client=httpx.Client()) as client:  # type: ignore[arg-type]
        assert isinstance(client._client, httpx.Client) and not isinstance(client._client, httpx2.Client)
        assert client.chat.completions.create(model=MODEL, messages=user("old")).choices[0].message.content == "You said: old"
        with client.chat.completions.stream(model=MODEL, messages=user("old stream")) as stream:
            assert stream.get_final_completion().choices[0].message.content == "You said: old stream"


@pytest.mark.anyio
async def test_legacy_httpx_async_client(server: ServerThread) -> None:
    async with AsyncOpenAI(base_url=f"{server.url}/v1", api_key="sk-test", http_client=httpx.AsyncClient()) as client:  # type: ignore[arg-type]
        assert isinstance(client._client, httpx.AsyncClient)
        async with client.responses.stream(model=MODEL, input="old async") as stream:
            assert (await stream.get_final_response()).output_text == "You said: old async"


def test_chunks_arrive_before_the_pause_ends(client: OpenAI) -> None:
    start = time.monotonic()
    stream = client.chat.completions.create(
        model=MODEL, messages=user("slow"), stream=True, extra_headers={"x-fake-scenario": "pause=1.0"}
    )
    first = next(iter(stream))
    first_at = time.monotonic() - start
    rest = list(stream)
    assert first.choices[0].delta.role == "assistant" and rest[-1].choices[0].finish_reason == "stop"
    assert first_at < 0.7 and time.monotonic() - start >= 1.0
