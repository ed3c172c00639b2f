"""The real SDK agents of tests/agents_inner.py, recorded against the loopback model server, then replayed
with the server gone and the network refused: every test offline, a reviewable and byte-exact cassette,
an unchanged re-recording that leaves the file alone, the recorded chunk boundaries replayed. Every test
runs a real pytest session (pytester)."""

from __future__ import annotations

import json
import re

from tests.conftest import load_cassette
from tests.helpers import N_INNER, cassette_files


def test_record_then_replay_offline(agents, model_server, closed_url, no_network, monkeypatch):
    # Given a suite of agent tests recorded against the live model server
    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = agents.runpytest("--record-mode=once")
    recorded.assert_outcomes(passed=N_INNER)
    files = cassette_files(agents)
    assert len(files) == N_INNER
    snapshot = {name: path.read_text() for name, path in files.items()}

    # When they run again in the default mode, with no server and no network
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        replayed = agents.runpytest("-p", "no:randomly")

    # Then every test passes from its cassette, no connection is even attempted, nothing is rewritten
    replayed.assert_outcomes(passed=N_INNER)
    assert no_network.attempts == []
    assert {name: path.read_text() for name, path in cassette_files(agents).items()} == snapshot
    replayed.stdout.fnmatch_lines([f"harness: {N_INNER} cassette(s) replayed, 0 recorded."])


def test_cassette_is_reviewable_and_byte_exact(agents, model_server, monkeypatch):
    import httpx2

    from harness.cassette import format as fmt

    monkeypatch.setenv("MODEL_URL", model_server.url)
    agents.runpytest(
        "--record-mode=once", "-k", "gzip_crlf_comments or chat_completions_stream or messages_create"
    ).assert_outcomes(passed=4)
    files = cassette_files(agents)

    # JSON request bodies are structured; the SSE answer is one event per line, data parsed as JSON.
    doc = load_cassette(files["test_gzip_crlf_comments"])
    # Version 2: the API's ping is written padded ({"type": "ping"}), and that event says so ("style").
    assert doc["harness_cassette"] == 2
    assert next(e for e in doc["interactions"][0]["response"]["body"]["sse"] if e.get("event") == "ping")["style"] == "padded"
    (interaction,) = doc["interactions"]
    assert interaction["request"]["body"]["json"]["messages"] == [{"role": "user", "content": "What is the weather in Paris?"}]
    body = interaction["response"]["body"]
    # Stored decoded (readable), with the header saying it came gzipped: replay encodes it again to match.
    assert body["eol"] == "\r\n" and interaction["response"]["headers"]["content-encoding"] == "gzip"
    assert body["sse"][0]["event"] == "message_start" and body["sse"][0]["comments"] == ["ping"]
    assert body["sse"][0]["data"]["type"] == "message_start"
    text = files["test_gzip_crlf_comments"].read_text()
    assert '{"comments": ["ping"], "event": "message_start", "data": {"type": "message_start"' in text

    # The stored events render back to exactly the bytes the server sends (CRLF, comments, [DONE], UTF-8).
    for name, scenario in [("test_gzip_crlf_comments", "crlf,comments"), ("test_chat_completions_stream", "")]:
        (item,) = fmt.loads(files[name].read_text(), files[name])
        request = item.request
        live = httpx2.post(
            model_server.url + request.path,
            json=request.body.value,
            headers={"x-fake-scenario": scenario, "authorization": "Bearer x", "x-api-key": "x"},
        )
        assert item.response.body.bytes() == live.content, name
    (chat,) = load_cassette(files["test_chat_completions_stream"])["interactions"]
    assert chat["response"]["body"]["sse"][-1] == {"text": "[DONE]"}
    (hello,) = load_cassette(files["test_messages_create"])["interactions"]
    assert hello["response"]["body"]["json"]["content"][0]["text"] == "You said: Hello café ☕ 東京"
    assert "café ☕ 東京" in files["test_messages_create"].read_text(encoding="utf-8")


def test_rerecording_an_unchanged_exchange_leaves_the_file_unchanged(agents, model_server, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    selection = "tool_runner_until_done or chat_completions_stream or concurrent"
    agents.runpytest("--record-mode=once", "-k", selection).assert_outcomes(passed=4)
    before = {n: (p.read_text(), p.stat().st_mtime_ns) for n, p in cassette_files(agents).items()}
    agents.runpytest("--record-mode=all", "-k", selection).assert_outcomes(passed=4)
    after = {n: (p.read_text(), p.stat().st_mtime_ns) for n, p in cassette_files(agents).items()}
    assert after == before


def test_replay_yields_the_recorded_chunk_boundaries(agents, model_server, closed_url, monkeypatch):
    monkeypatch.setenv("MODEL_URL", model_server.url)
    recorded = agents.runpytest("--record-mode=once", "-k", "raw_chunks", "-s")
    monkeypatch.setenv("MODEL_URL", closed_url)
    replayed = agents.runpytest("-k", "raw_chunks", "-s")
    replayed.assert_outcomes(passed=1)
    live = re.search(r"CHUNKS (\[.*\])", recorded.stdout.str()).group(1)
    assert re.search(r"CHUNKS (\[.*\])", replayed.stdout.str()).group(1) == live
    assert len(json.loads(live)) > 3
