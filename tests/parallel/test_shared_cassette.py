"""One cassette shared by tests on several xdist workers: every worker's recordings survive.

Each test loads the shared cassette when it starts and writes it when it ends. Written whole, the
last writer's file would drop what the other worker recorded meanwhile; harness re-reads the file
under a cross-process lock and merges (``harness.session.Session.save``). The tests record against
the loopback model server with two real xdist workers, then replay with the server gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from harness.cassette import format as fmt

SHARED_TESTS = """
import os, time, anthropic, pytest

def ask(n):
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
    # Long enough for the tests on the two workers to overlap: each one loads the cassette before
    # the test on the other worker writes it.
    time.sleep(float(os.environ.get("OVERLAP", "0")))
    question = f"question {n} {os.environ.get('RUN', 'one')}"
    msg = client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": question}])
    assert msg.content[0].text == f"You said: {question}"
""" + "".join(
    f"""
@pytest.mark.cassette("shared", allow_unplayed=True)
def test_{n}():
    ask({n})
"""
    for n in range(6)
)


def _questions(path: Path) -> list[str]:
    return [item.request.body.value["messages"][0]["content"] for item in fmt.load(path)]


@pytest.fixture
def shared(pytester: pytest.Pytester, model_server, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytester.makepyfile(test_shared=SHARED_TESTS)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("OVERLAP", "0.3")
    return pytester.path / "cassettes" / "test_shared" / "shared.json"


def test_new_episodes_on_two_workers_keeps_every_recording(pytester, shared, closed_url, monkeypatch):
    # Given six tests sharing one cassette, each making its own request, recorded on two workers
    pytester.runpytest("-n", "2", "--record-mode=new_episodes", "-p", "no:randomly").assert_outcomes(passed=6)

    # Then the cassette holds all six exchanges, each once, and nothing else is left in its folder
    # (no lock file, no temporary file), so `harness lint --strict` has nothing to say
    assert sorted(_questions(shared)) == [f"question {n} one" for n in range(6)]
    assert [p.name for p in shared.parent.iterdir()] == ["shared.json"]
    from harness.cli import main

    assert main(["lint", "--strict"]) == 0

    # And every test replays from it on two workers with the server gone, leaving it unchanged
    before = shared.read_bytes()
    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("OVERLAP", "0")
    pytester.runpytest("-n", "2", "-p", "no:randomly").assert_outcomes(passed=6)
    assert shared.read_bytes() == before


def test_record_mode_all_on_two_workers_rebuilds_a_shared_cassette_whole(pytester, shared, closed_url, monkeypatch):
    pytester.runpytest("-n", "2", "--record-mode=new_episodes").assert_outcomes(passed=6)
    before = shared.read_bytes()

    # Re-recorded as it is: the file is unchanged, byte for byte, whichever worker wrote first
    pytester.runpytest("-n", "2", "--record-mode=all").assert_outcomes(passed=6)
    assert shared.read_bytes() == before

    # Re-recorded after every request changed: the run's six exchanges replace the old six
    monkeypatch.setenv("RUN", "two")
    pytester.runpytest("-n", "2", "--record-mode=all").assert_outcomes(passed=6)
    assert sorted(_questions(shared)) == [f"question {n} two" for n in range(6)]
    assert [p.name for p in shared.parent.iterdir()] == ["shared.json"]

    monkeypatch.setenv("MODEL_URL", closed_url)
    monkeypatch.setenv("OVERLAP", "0")
    pytester.runpytest("-n", "2").assert_outcomes(passed=6)


def test_record_mode_all_without_xdist_keeps_every_test_of_the_run(pytester, shared, monkeypatch):
    # One process, one test after the other: the second test of the run must not drop the first's.
    monkeypatch.setenv("OVERLAP", "0")
    pytester.runpytest("--record-mode=new_episodes", "-p", "no:randomly").assert_outcomes(passed=6)
    monkeypatch.setenv("RUN", "two")
    pytester.runpytest("--record-mode=all", "-p", "no:randomly").assert_outcomes(passed=6)
    assert _questions(shared) == [f"question {n} two" for n in range(6)]


COUNTER = """
import sys, time
from pathlib import Path
from harness.cassette.store import atomic_write, write_lock

path = Path(sys.argv[1])
for _ in range(int(sys.argv[2])):
    with write_lock(path):
        n = int(path.read_text()) if path.exists() else 0
        time.sleep(0.001)  # widen the window between reading and writing
        atomic_write(path, str(n + 1))
"""


def test_write_lock_serialises_read_modify_write_across_processes(tmp_path):
    # Two processes each add one to a number in a file 60 times, reading and writing it under the
    # lock: no update is lost, and the lock file is gone afterwards.
    script = tmp_path / "counter.py"
    script.write_text(textwrap.dedent(COUNTER), encoding="utf-8")
    target = tmp_path / "cassettes" / "count.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    workers = [subprocess.Popen([sys.executable, str(script), str(target), "60"], env=env) for _ in range(2)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0]
    assert target.read_text() == "120"
    assert [p.name for p in target.parent.iterdir()] == ["count.json"]
