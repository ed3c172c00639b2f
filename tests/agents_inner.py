'''Agent code run *inside* pytester sessions by the record/replay tests.

Each test talks to the model server at $MODEL_URL through the real SDKs. The outer tests record
these against the live fake server, then replay them with the server gone.
'''

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
        runner = aclaude().beta.messages.tool_runner(model=MODEL, max_tokens=200, tools=[aget_weather], messages=USER, stream=True)
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
        kinds = [event.type for event in stream]
        final = stream.get_final_completion()
    assert ("content.delta" in kinds and kinds[-1] == "content.done") or "chunk" in kinds
    assert final.choices[0].message.content == f"You said: {PROMPT}"


@pytest.mark.cassette
def test_chat_completions_create_stream_async_legacy_httpx():
    async def main():
        client = agpt(http_client=httpx.AsyncClient())
        chunks = [c async for c in await client.chat.completions.create(model="gpt-5", messages=USER, stream=True)]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    assert asyncio.run(main()) == f"You said: {PROMPT}"


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
def test_identical_requests_replay_in_order():
    client = claude()
    answers = [client.messages.create(model=MODEL, max_tokens=50, messages=USER, metadata={"user_id": f"u{n}"}) for n in range(3)]
    assert len({a.id for a in answers}) == 3


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
        with http.stream("POST", URL + "/v1/messages", json={"model": MODEL, "max_tokens": 9, "stream": True, "messages": USER},
                         headers={"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}) as response:
            chunks = list(response.iter_raw())
    print("CHUNKS", [len(c) for c in chunks])
    assert len(chunks) > 3
