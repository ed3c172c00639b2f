"""Paced replay of a WebSocket session (``replay_speed``, as for HTTP streams): instant by default; paced, each
server frame comes no earlier than its recorded gap (divided by the speed) after what preceded it. Recorded
against the loopback server sending its frames 40 ms apart, replayed with it gone, sync and async."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from tests.websocket.conftest import Project

PACED = """
    import asyncio
    import json
    import os
    import time

    import openai
    import pytest

    FIRST = {"type": "response.create", "model": "gpt-5", "input": "Weather in Paris?", "metadata": {"pace_ms": "40"}}


    def note(name, times):
        with open(os.environ["TIMES_FILE"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps([name, times]) + "\\n")


    @pytest.mark.cassette
    def test_sync_paced():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send(FIRST)
            t0, times = time.monotonic(), []
            for _ in range(7):
                ws.recv_bytes()  # raw: the SDK's first parse of each event type (slow) is not timed
                times.append((time.monotonic() - t0) * 1000)
        note("sync", times)


    @pytest.mark.cassette
    def test_async_paced():
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        async def go():
            async with client.responses.connect() as ws:
                await ws.send(FIRST)
                t0, times = time.monotonic(), []
                for _ in range(7):
                    await ws.recv_bytes()
                    times.append((time.monotonic() - t0) * 1000)
                return times

        note("async", asyncio.run(go()))
"""

SLACK_MS = 5.0  # the replayed clock starts when the client frame is matched, a moment before the test's t0


def _times(path: Path) -> dict[str, list[float]]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        name, times = json.loads(line)
        out[name] = times
    path.unlink()
    return out


def _recorded(project: Project) -> dict[str, list[float]]:
    """Each session's server frames, in ms after the client frame, as recorded."""
    out = {}
    for name, text in project.cassettes().items():
        (item,) = [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
        sent = item["frames"][0]["ms"]
        out["async" if "async" in name else "sync"] = [f["ms"] - sent for f in item["frames"][1:]]
    return out


def test_replay_is_instant_by_default_and_paced_at_the_recorded_gaps_on_request(project: Project, tmp_path: Path) -> None:
    times = tmp_path / "times.jsonl"
    project.monkeypatch.setenv("TIMES_FILE", str(times))
    # Given sessions recorded against a server that sends its 7 frames 40 ms apart
    project.write({"test_paced.py": PACED})
    project.record().assert_outcomes(passed=2)
    recorded = _recorded(project)
    for name, offsets in recorded.items():
        assert len(offsets) == 7 and offsets[-1] >= 7 * 40 * 0.9, (name, offsets)
    _times(times)
    # When they are replayed with the defaults, the frames come at once
    project.replay().assert_outcomes(passed=2)
    for name, got in _times(times).items():
        assert got[-1] < recorded[name][-1] / 2, (name, got, recorded[name])
    # When they are replayed paced as recorded, each frame comes no earlier than its recorded time, and each
    # gap is at least the recorded gap; and the whole is not much slower than the recording (loose: x10)
    project.replay("--replay-speed=1.0").assert_outcomes(passed=2)
    for name, got in _times(times).items():
        want = recorded[name]
        assert all(g >= w - SLACK_MS for g, w in zip(got, want, strict=True)), (name, got, want)
        gaps = [b - a for a, b in itertools.pairwise(got)]
        recorded_gaps = [b - a for a, b in itertools.pairwise(want)]
        assert all(g >= r - SLACK_MS for g, r in zip(gaps, recorded_gaps)), (name, gaps, recorded_gaps)
        assert got[-1] < want[-1] * 10 + 1000, (name, got, want)
    # When they are replayed at four times the speed, the gaps are a quarter of the recorded ones (and no less)
    project.replay("--replay-speed=4").assert_outcomes(passed=2)
    for name, got in _times(times).items():
        want = recorded[name]
        assert all(g >= w / 4 - SLACK_MS for g, w in zip(got, want, strict=True)), (name, got, want)
        assert got[-1] < want[-1], (name, got, want)


def test_a_paced_gap_longer_than_the_callers_recv_timeout_times_out_like_the_socket(project: Project) -> None:
    # Given a session whose first server frame came 40 ms after the client's frame
    project.write({"test_timeout.py": TIMEOUT})
    project.record().assert_outcomes(passed=1)
    # When it is replayed paced, a recv with a 5 ms timeout raises TimeoutError as websockets does, and the
    # frame still comes to the next recv
    project.monkeypatch.setenv("PACED", "1")
    project.replay("--replay-speed=1.0").assert_outcomes(passed=1)


TIMEOUT = """
    import os

    import openai
    import pytest


    @pytest.mark.cassette
    def test_recv_timeout():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "Hi", "metadata": {"pace_ms": "40"}})
            if os.environ.get("PACED") == "1":
                with pytest.raises(TimeoutError):
                    ws._connection.recv(timeout=0.005)
            assert [ws.recv().type for _ in range(7)][-1] == "response.completed"
"""
