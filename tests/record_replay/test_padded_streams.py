"""Real-shaped padded Anthropic streams (issue 15): recorded through the fake Anthropic API configured to pad its
JSON as the real one does, stored with each event's style and no second copy of its text (``raw``), and replayed
offline through the real ``anthropic`` SDK byte for byte, in the recorded chunks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import harness.session  # noqa: F401  (see tests/README: in-process runs keep it imported)
from harness.config import Settings
from harness.session import Session
from tests.conftest import NetworkGuard, load_cassette

PROMPT = "What is the weather in Zürich — café? 東京"


def _calls(url: str, scenario: str) -> tuple[list[bytes], Any]:
    """A raw stream (its chunks as the SDK's transport gave them) and a stream helper's final message."""
    import anthropic

    client = anthropic.Anthropic(
        api_key="sk-ant-test", base_url=url, max_retries=0, default_headers={"x-fake-scenario": scenario}
    )
    args: Any = {"model": "claude-opus-4-7", "max_tokens": 64, "messages": [{"role": "user", "content": PROMPT}]}
    with client.messages.with_streaming_response.create(**args, stream=True) as response:
        chunks = list(response.http_response.iter_raw())
    with client.messages.stream(**args) as stream:
        final = stream.get_final_message()
    return chunks, final.model_dump()


def _session(path: Path, mode: str) -> Session:
    return Session(Settings(record_mode=mode), path, "tests/test_padded.py::test_x")


@pytest.mark.parametrize(
    ("scenario", "styles"),
    [
        # json.dumps's defaults: "padded", and "padded-ascii" for the events whose text has non-ASCII escaped.
        ("padded", {"padded", "padded-ascii"}),
        ("padded,crlf", {"padded", "padded-ascii"}),
        # Compact JSON with spaces before the closing brace; the ping is the API's one padded event.
        ("brace-pad", {None, "padded"}),
    ],
)
def test_a_padded_stream_is_stored_without_raw_and_replays_byte_for_byte(
    model_server: Any, tmp_path: Path, scenario: str, styles: set[str | None]
) -> None:
    path = tmp_path / "padded.json"
    # Given a stream recorded from a server that pads its JSON
    session = _session(path, "all")
    session.start()
    try:
        live_chunks, live_final = _calls(model_server.url, scenario)
    finally:
        session.stop()
    session.check()
    live = b"".join(live_chunks)
    assert b'", "' in live or b"  }" in live

    # Then the cassette holds each event once, parsed, with the style it was written in
    doc = load_cassette(path)
    assert doc["harness_cassette"] == 2  # what an older harness, which reads 1, asks to be upgraded for
    raw_stream, helper_stream = (i["response"] for i in doc["interactions"])
    events = raw_stream["body"]["sse"]
    assert len(events) > 10
    assert not any("raw" in e for i in doc["interactions"] for e in i["response"]["body"]["sse"])
    assert {e.get("style") for e in events} == styles
    if scenario == "brace-pad":
        assert sum("pad" in e for e in events) > len(events) // 2
    assert '"raw"' not in path.read_text(encoding="utf-8")

    # When it is replayed with every connection refused
    guard = NetworkGuard()
    session = _session(path, "none")
    session.start()
    try:
        with guard:
            chunks, final = _calls("http://127.0.0.1:9", scenario)
    finally:
        session.stop()
    session.check()

    # Then the SDK gets the recorded bytes, in the recorded chunks, and the same final message
    assert guard.attempts == []
    assert b"".join(chunks) == live
    assert [len(c) for c in chunks] == [c[0] for c in raw_stream["chunks"]]
    assert final == live_final and PROMPT in final["content"][0]["text"]
    assert helper_stream["body"]["sse"] == events


@pytest.mark.parametrize("scenario", ["padded", "brace-pad"])
def test_a_secret_scrubbed_from_a_padded_stream_replays_in_the_streams_style(
    model_server: Any, tmp_path: Path, scenario: str
) -> None:
    import anthropic

    key = "sk-ant-api03-" + "Qw7" * 14
    path = tmp_path / "secret.json"
    args: Any = {"model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": f"my key is {key} ok"}]}

    def call(url: str) -> str:
        client = anthropic.Anthropic(
            api_key="sk-ant-test", base_url=url, max_retries=0, default_headers={"x-fake-scenario": scenario}
        )
        with client.messages.with_streaming_response.create(**args, stream=True) as response:
            return b"".join(response.http_response.iter_raw()).decode()

    # Given a padded stream whose text (the server repeats the prompt) holds a key
    session = _session(path, "all")
    session.start()
    try:
        live = call(model_server.url)
    finally:
        session.stop()
    session.check()
    assert key in live

    # Then the file holds no key and no raw text, and the scrubbed event kept its style
    text = path.read_text(encoding="utf-8")
    assert key not in text and '"raw"' not in text and "<REDACTED>" in text
    (item,) = load_cassette(path)["interactions"]
    events = item["response"]["body"]["sse"]
    scrubbed = [e for e in events if "<REDACTED>" in str(e.get("data"))]
    assert scrubbed and all(e.get("style") == ("padded" if scenario == "padded" else None) for e in scrubbed)

    # And the replay is the recorded stream with the key replaced, in the server's own JSON style
    replay_path = tmp_path / "replay.json"
    replay_path.write_text(text, encoding="utf-8")
    session = _session(replay_path, "none")
    session.start()
    try:
        with NetworkGuard():
            replayed = call("http://127.0.0.1:9")
    finally:
        session.stop()
    session.check()
    assert replayed == live.replace(key, "<REDACTED>")
