"""The naive consumer passes plain replay and fails under the fuzzer; the fixed one passes both.

The cassette holds two real streams from the loopback fake OpenAI server: a text answer and a
tool call, both with multi-byte characters. Re-record: ``pytest examples/fuzz_naive_consumer
--record-mode=all`` (starts the fake server; or set MODEL_URL). While recording, the fuzzer does not
run (it replays recordings): the two tests that expect it to find the bugs skip themselves. The
README quotes what the fuzzer prints for them; those tests fail when the quote goes stale.
"""

from __future__ import annotations

import re
from pathlib import Path

import openai
import pytest

import harness.strategies as hs
from examples.fuzz_naive_consumer.consumer import Reply, fixed_reply, half_fixed_reply, naive_reply

CASSETTE = "examples/fuzz_naive_consumer/test_consumer/chat_streams.json"
QUESTION = "What is the weather in München? Café ☕ or 東京 tea?"
TOOLS: list[dict] = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]  # fmt: skip


def ask(model_url: str, consume, **kwargs) -> Reply:
    """One streamed completion, its raw bytes handed to ``consume`` chunk by chunk as they arrive."""
    client = openai.OpenAI(api_key="sk-example-not-a-key", base_url=f"{model_url}/v1", max_retries=0)
    messages = [{"role": "user", "content": QUESTION}]
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=messages, stream=True, **kwargs
    ) as response:
        return consume(response.iter_bytes())


def both_turns(model_url: str, consume) -> tuple[Reply, Reply]:
    """A text answer, then a tool call."""
    return ask(model_url, consume), ask(model_url, consume, tools=TOOLS)


def all_consumers(chunks) -> tuple[Reply, Reply, Reply]:
    chunks = list(chunks)
    return naive_reply(chunks), half_fixed_reply(chunks), fixed_reply(chunks)


def check(text: Reply, call: Reply) -> None:
    assert text.text == f"You said: {QUESTION}" and text.finish_reason == "stop"
    assert call.tool_calls[0]["name"] == "get_weather" and call.tool_calls[0]["arguments"] == '{"city":"Café"}'


@pytest.mark.cassette(CASSETTE)
def test_every_consumer_passes_plain_replay(model_url):
    texts, calls = both_turns(model_url, all_consumers)
    for text, call in zip(texts, calls):
        check(text, call)


@pytest.mark.cassette(CASSETTE)
@hs.fuzz(hs.equivalent(), max_examples=80)
def test_fixed_consumer_passes_the_fuzzer(model_url):
    check(*both_turns(model_url, fixed_reply))


def shrunk_failure(model_url: str, consume) -> str:
    """Run the fuzzer on ``consume``; return the report of the failure it shrinks to."""
    if hs.is_recording():
        pytest.skip("the fuzzer replays the recorded streams: this test runs in replay mode, after recording")
    with pytest.raises((UnicodeDecodeError, ValueError, AssertionError)) as found:
        hs.assert_equivalent(
            lambda: both_turns(model_url, consume), hs.rechunked(), max_examples=200, database=None, derandomize=True
        )
    report = f"{type(found.value).__name__}: {found.value}\n" + "\n".join(getattr(found.value, "__notes__", []))
    print(report)
    return report


README = Path(__file__).with_name("README.md")


def counterexample(report: str) -> str:
    """The part of a report the README quotes: up to the variant's explanation (what follows, the
    hypothesis version and the lines only failing cases ran, depends on the machine)."""
    lines = report.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("variant of interaction #"))
    return "\n".join(lines[: end + 1])


def kind_of(counterexample_text: str) -> tuple[str, str]:
    """What a counterexample is, whatever byte it landed on: the exception, and where the cut fell
    ("mid-line", "inside 'C' (after UTF-8 byte N of N)")."""
    exception = counterexample_text.split(":", 1)[0]
    cut = re.search(r"byte \d+ = (.*?) in the data: line", counterexample_text)
    where = re.sub(r"\d+", "N", re.sub(r"'.'", "'C'", cut.group(1))) if cut else "?"
    return exception, where


def assert_readme_quotes(name: str, report: str) -> None:
    """The README's quoted counterexample for ``name`` is of the kind the fuzzer finds now.

    Not the very same bytes: the shrinker stops at the first smallest failure it meets, which can
    be another cut of the same kind from one run to the next (another process, another release)."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- counterexample: {name} -->\n```text\n(.*?)\n```", text, re.S)
    assert found, f"README.md has no quoted counterexample for {name}"
    now = counterexample(report)
    assert kind_of(found.group(1)) == kind_of(now), (
        f"README.md quotes a stale counterexample for {name}; the fuzzer now prints:\n{now}"
    )


@pytest.mark.cassette(CASSETTE)
def test_naive_consumer_fails_the_fuzzer(model_url):
    report = shrunk_failure(model_url, naive_reply)
    # Shrunk to a single cut, in the middle of a data: line: an event is lost without a word.
    assert "variant=rechunk(#" in report and re.search(r"cuts at bytes \[\d+\]; byte \d+ = mid-line in the data: line", report)
    assert_readme_quotes("naive_reply", report)


@pytest.mark.cassette(CASSETTE)
def test_half_fixed_consumer_still_fails_the_fuzzer(model_url):
    report = shrunk_failure(model_url, half_fixed_reply)
    # Shrunk to a single cut inside a multi-byte character.
    assert "UnicodeDecodeError" in report and re.search(
        r"variant=rechunk\(#\d: cuts at bytes \[\d+\]; byte \d+ = inside '.' \(after UTF-8 byte", report
    )
    assert_readme_quotes("half_fixed_reply", report)
