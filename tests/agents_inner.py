"""Agent code run *inside* pytester sessions by the record/replay tests.

Each test talks to the model server at $MODEL_URL through the real SDKs. The outer tests record
these against the live fake server, then replay them with the server gone.
"""

import asyncio
import os

import anthropic
import httpx
import httpx2
import openai
import pytest
from anthropic import beta_async_tool, beta_tool

URL = os.environ["MODEL_URL"]
ANTHROPIC_KEY = "sk-ant-api03-" + "Zx9" * 30
OPENAI_KEY = "sk-proj-" + "Qw7" * 30
#: Account values and credentials that must never reach a cassette (tests/redaction/test_redaction.py checks).
COOKIE = "session=c00kie-Vx41-never-stored"
ORGANIZATION = "org-Hq7orgNeverStored"
PROJECT = "proj_Hq7projNeverStored"
QUERY_SECRET = "plain-query-secret-Kp2"
MODEL = "claude-opus-4-7"
PROMPT = os.environ.get("PROMPT", "What is the weather in Paris?")


def claude(**kw):
    return anthropic.Anthropic(api_key=ANTHROPIC_KEY, base_url=URL, **kw)


def aclaude(**kw):
    return anthropic.AsyncAnthropic(api_key=ANTHROPIC_KEY, base_url=URL, **kw)


def gpt(**kw):
    return openai.OpenAI(api_key=OPENAI_KEY, base_url=URL + "/v1", **kw)


def agpt(**kw):
    return openai.AsyncOpenAI(api_key=OPENAI_KEY, base_url=URL + "/v1", **kw)


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


USER = [{"role": "user", "content": PROMPT}]


@pytest.mark.cassette
def test_messages_create():
    message = claude().messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": "Hello café ☕ 東京"}])
    assert message.content[0].text == "You said: Hello café ☕ 東京"


@pytest.mark.cassette
def test_messages_create_stream():
    events = list(claude().messages.create(model=MODEL, max_tokens=200, messages=USER, stream=True))
    assert events[0].type == "message_start" and events[-1].type == "message_stop"
    text = "".join(e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta")
    assert text == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_messages_stream():
    with claude().messages.stream(model=MODEL, max_tokens=200, messages=USER) as stream:
        deltas = list(stream.text_stream)
        final = stream.get_final_message()
    assert len(deltas) > 2
    assert final.content[0].text == "".join(deltas) == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_beta_messages_stream():
    with claude().beta.messages.stream(model=MODEL, max_tokens=200, messages=USER, tools=[get_weather.to_dict()]) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].input == {"city": "Paris"}


@pytest.mark.cassette
def test_async_messages_stream():
    async def main():
        async with aclaude().messages.stream(model=MODEL, max_tokens=200, messages=USER) as stream:
            return await stream.get_final_message()

    assert asyncio.run(main()).content[0].text == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_aiohttp_clients_stream():
    # The SDKs' aiohttp transport (the `aiohttp` extra), not httpx2's: recorded and replayed too.
    async def main():
        async with aclaude(http_client=anthropic.DefaultAioHttpClient()) as client:
            async with client.messages.stream(model=MODEL, max_tokens=200, messages=USER) as stream:
                message = await stream.get_final_message()
        async with agpt(http_client=openai.DefaultAioHttpClient()) as client:
            async with client.chat.completions.stream(model="gpt-4o", messages=USER) as stream:
                completion = await stream.get_final_completion()
        return message, completion

    message, completion = asyncio.run(main())
    assert message.content[0].text == f"You said: {PROMPT}"
    assert completion.choices[0].message.content == f"You said: {PROMPT}"


@pytest.mark.cassette
@pytest.mark.parametrize("stream", [False, True])
def test_tool_runner_until_done(stream):
    runner = claude().beta.messages.tool_runner(model=MODEL, max_tokens=200, tools=[get_weather], messages=USER, stream=stream)
    final = runner.until_done()
    assert final.content[-1].text == "Result: sunny in Paris"


@pytest.mark.cassette
def test_tool_runner_iteration_without_threads():
    runner = claude().beta.messages.tool_runner(model=MODEL, max_tokens=200, tools=[get_weather], messages=USER, thread=False)
    stops = [message.stop_reason for message in runner]
    assert stops == ["tool_use", "end_turn"]


@pytest.mark.cassette
def test_async_tool_runner_streaming():
    async def main():
        runner = aclaude().beta.messages.tool_runner(
            model=MODEL, max_tokens=200, tools=[aget_weather], messages=USER, stream=True
        )
        texts = []
        async for stream in runner:
            async for event in stream:
                if event.type == "text":
                    texts.append(event.text)
        return "".join(texts)

    assert asyncio.run(main()).endswith("Result: sunny in Paris")


@pytest.mark.cassette
def test_chat_completions_create():
    completion = gpt().chat.completions.create(model="gpt-5", messages=[{"role": "user", "content": "Hi there"}])
    assert completion.choices[0].message.content == "You said: Hi there"


@pytest.mark.cassette
def test_chat_completions_stream():
    with gpt().chat.completions.stream(model="gpt-5", messages=USER) as stream:
        events = list(stream)
        final = stream.get_final_completion()
    # A "content.delta" follows each chunk that carries text, the deltas add up to the answer, and
    # one "content.done" comes after the last: the accumulator saw the stream as it was sent.
    kinds = [event.type for event in events]
    deltas = [n for n, kind in enumerate(kinds) if kind == "content.delta"]
    assert len(deltas) > 2 and all(kinds[n - 1] == "chunk" for n in deltas), kinds
    assert "".join(events[n].delta for n in deltas) == f"You said: {PROMPT}"
    assert kinds.count("content.done") == 1 and kinds.index("content.done") > deltas[-1], kinds
    assert final.choices[0].message.content == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_chat_completions_create_stream_async_legacy_httpx():
    async def main():
        client = agpt(http_client=httpx.AsyncClient())
        chunks = [c async for c in await client.chat.completions.create(model="gpt-5", messages=USER, stream=True)]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    assert asyncio.run(main()) == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_chat_completions_create_sync_legacy_httpx():
    client = gpt(http_client=httpx.Client())
    completion = client.chat.completions.create(model="gpt-5", messages=USER)
    assert completion.choices[0].message.content == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_concurrent_requests():
    async def main():
        client = aclaude()
        prompts = [f"Say {word}" for word in ("alpha", "beta", "gamma", "delta")]
        results = await asyncio.gather(
            *(client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": p}]) for p in prompts)
        )
        return [r.content[0].text for r in results], prompts

    texts, prompts = asyncio.run(main())
    assert texts == [f"You said: {p}" for p in prompts]


@pytest.mark.cassette
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the Assistants API is deprecated
def test_identical_requests_replay_in_order():
    # Byte-identical requests answered differently each time: adding the same message to a thread
    # gives a new message (a new id), and listing the thread gives one more message each time.
    # Replay must hand the recorded answers back in the order they were recorded.
    client = gpt()
    thread = client.beta.threads.create(metadata={"test": "identical_requests_replay_in_order"})
    added, listed = [], []
    for _ in range(3):
        added.append(client.beta.threads.messages.create(thread.id, role="user", content="the same words"))
        listed.append([m.id for m in client.beta.threads.messages.list(thread.id, order="asc")])
    assert len({m.id for m in added}) == 3
    assert listed == [[m.id for m in added[: n + 1]] for n in range(3)]


@pytest.mark.cassette
def test_retry_after_overloaded():
    # Two identical requests: the first answered 529, the retry 200. Replay must keep that order.
    tag = f"tag={os.getpid()}-{id(object())}"
    client = claude(default_headers={"x-fake-scenario": f"status=529,retry-after=0.01,fail-times=1,{tag}"})
    raw = client.messages.with_raw_response.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "retry me"}])
    assert raw.retries_taken == 1
    assert raw.parse().content[0].text == "You said: retry me"


@pytest.mark.cassette
def test_rate_limited_error():
    client = claude(max_retries=0, default_headers={"x-fake-scenario": "status=429,retry-after=7"})
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model=MODEL, max_tokens=50, messages=USER)
    assert info.value.response.headers["retry-after"] == "7"


@pytest.mark.cassette
def test_gzip_crlf_comments():
    client = claude(default_headers={"x-fake-scenario": "gzip,crlf,comments"})
    with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        assert stream.get_final_message().content[0].text == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_raw_chunks():
    with httpx2.Client() as http:
        with http.stream(
            "POST",
            URL + "/v1/messages",
            json={"model": MODEL, "max_tokens": 9, "stream": True, "messages": USER},
            headers={"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"},
        ) as response:
            chunks = list(response.iter_raw())
    print("CHUNKS", [len(c) for c in chunks])
    assert len(chunks) > 3


# -- secrets: where they travel, none may reach the cassette; replay must still match ------------


@pytest.mark.cassette
def test_secrets_anthropic_stream():
    # Keys in the prompt (so in the request body and in the streamed answer, which echoes it), in
    # the URL query (a secret-named parameter and a key-shaped value), in a header that is not a
    # credential header, and a cookie.
    client = claude(default_headers={"cookie": COOKIE, "x-debug-token": ANTHROPIC_KEY})
    prompt = f"my keys are {ANTHROPIC_KEY} and {OPENAI_KEY}"
    query = {"api_key": QUERY_SECRET, "note": OPENAI_KEY}
    with client.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": prompt}], extra_query=query
    ) as stream:
        text = stream.get_final_message().content[0].text
    # Live, the server echoes the keys; replayed, the answer is the scrubbed one.
    assert text in (f"You said: {prompt}", "You said: my keys are <REDACTED> and <REDACTED>")


@pytest.mark.cassette
def test_secrets_openai_account():
    client = gpt(organization=ORGANIZATION, project=PROJECT)
    completion = client.chat.completions.create(
        model="gpt-5", messages=[{"role": "user", "content": f"use {OPENAI_KEY}"}], extra_query={"token": QUERY_SECRET}
    )
    assert completion.choices[0].message.content in (f"You said: use {OPENAI_KEY}", "You said: use <REDACTED>")


@beta_tool
def get_token(service: str) -> str:
    """Get an access token for a service.

    Args:
        service: the service's name
    """
    return f"token for {service}: {ANTHROPIC_KEY}"


@pytest.mark.cassette
def test_secrets_in_tool_result():
    # A tool result is stored as the tool returned it: only the last pass over the file's text scrubs it.
    runner = claude().beta.messages.tool_runner(
        model=MODEL, max_tokens=200, tools=[get_token], messages=[{"role": "user", "content": "Get a token for Jira"}]
    )
    final = runner.until_done()
    assert final.content[-1].text in (f"Result: token for Jira: {ANTHROPIC_KEY}", "Result: token for Jira: <REDACTED>")
