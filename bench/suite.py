"""Per-test overhead: a generated suite of small agent tests, run whole by pytest, interleaved.

Each test makes one JSON call (Anthropic ``messages.create``) and one short stream (OpenAI
``chat.completions.stream``, 20 events) whose prompt is the first answer. The same test code runs
in three suites that differ only in how the model traffic is answered:

- ``floor``: a session-wide ``httpx2.MockTransport`` serving the same bytes (same chunks); no
  cassette plugin loaded (``-p no:harness -p no:recording``).
- ``harness``: ``pytestmark = pytest.mark.cassette``, one harness cassette per test.
- ``vcrpy``: ``pytestmark = pytest.mark.vcr`` (pytest-recording), one vcrpy YAML cassette per test.

Each suite runs in its own ``pytest`` process; the three take turns, round after round. The figure
is the child's CPU time (user + system, from ``getrusage``), the median over rounds; wall time is
reported beside it.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row, paired_ratio

TESTS = 200
PER_MODULE = 30
STREAM_EVENTS = 20

TEST_MODULE = """\
import pytest
{mark}

def _agent(clients, prompt):
    claude, gpt = clients
    msg = claude.messages.create(model="claude-opus-4-7", max_tokens=1024, messages=[{{"role": "user", "content": prompt}}])
    answer = msg.content[0].text
    with gpt.chat.completions.stream(model="gpt-5.1", messages=[{{"role": "user", "content": answer}}],
                                     stream_options={{"include_usage": True}}) as stream:
        final = stream.get_final_completion()
    return answer, final.choices[0].message.content

{tests}
"""

TEST = """
def test_agent_{n:03d}(clients):
    answer, summary = _agent(clients, "question {n}")
    assert answer and summary
"""

CONFTEST_LIVE = """\
import anthropic, httpx2, openai, pytest

@pytest.fixture(scope="session")
def clients():
    http = httpx2.Client()
    return (anthropic.Anthropic(api_key="sk-ant-bench-key-000000", base_url="{anthropic}", http_client=http, max_retries=0),
            openai.OpenAI(api_key="sk-bench-key-0000000000000000", base_url="{openai}", http_client=http, max_retries=0))
"""

CONFTEST_FLOOR = """\
import json, pathlib
import anthropic, httpx2, openai, pytest

_ANSWERS = json.loads(pathlib.Path(__file__).with_name("answers.json").read_text(encoding="utf-8"))

class _Parts(httpx2.SyncByteStream):
    def __init__(self, parts):
        self.parts = parts

    def __iter__(self):
        yield from self.parts

def _answer(request):
    found = _ANSWERS[request.url.path + " " + request.content.decode("utf-8")]
    return httpx2.Response(found["status"], headers=found["headers"], stream=_Parts([p.encode("utf-8") for p in found["parts"]]))

@pytest.fixture(scope="session")
def clients():
    http = httpx2.Client(transport=httpx2.MockTransport(_answer))
    return (anthropic.Anthropic(api_key="sk-ant-bench-key-000000", base_url="{anthropic}", http_client=http, max_retries=0),
            openai.OpenAI(api_key="sk-bench-key-0000000000000000", base_url="{openai}", http_client=http, max_retries=0))
"""

# The way users write it: the SDKs' default clients, made in each test (each builds its httpx2
# client, and so an SSL context unless replay skips it); the floor makes a MockTransport client per test.
CONFTEST_LIVE_DEFAULT = """\
import anthropic, openai, pytest

@pytest.fixture
def clients():
    return (anthropic.Anthropic(api_key="sk-ant-bench-key-000000", base_url="{anthropic}", max_retries=0),
            openai.OpenAI(api_key="sk-bench-key-0000000000000000", base_url="{openai}", max_retries=0))
"""

CONFTEST_FLOOR_DEFAULT = CONFTEST_FLOOR.replace('@pytest.fixture(scope="session")', "@pytest.fixture")

VARIANTS: dict[str, dict[str, Any]] = {
    "floor": {"mark": "", "args": ["-p", "no:harness", "-p", "no:recording"]},
    "harness": {"mark": "pytestmark = pytest.mark.cassette", "args": ["-p", "no:recording"]},
    "vcrpy": {"mark": "pytestmark = pytest.mark.vcr", "args": ["-p", "no:harness"]},
}
COMMON_ARGS = ["-q", "-p", "no:cacheprovider", "-p", "no:cassetter", "-p", "no:randomly", "-o", "addopts="]


def exchanges_for(n: int) -> list[streams.Exchange]:
    """The two exchanges of test ``n``, with the request bodies the SDKs really send."""
    from bench.replay import mock_client

    first = streams.anthropic_message(n, prompt=f"question {n}")
    answer = json.loads(first.body)["content"][0]["text"]
    second = streams.openai_stream(STREAM_EVENTS, seed=n, prompt=answer)
    for ex in (first, second):
        seen: list[Any] = []
        http = mock_client(ex, chunked=True, seen=seen)
        if ex is first:
            import anthropic

            anthropic.Anthropic(api_key="x", base_url=streams.ANTHROPIC_URL, http_client=http, max_retries=0).messages.create(
                model="claude-opus-4-7", max_tokens=1024, messages=[{"role": "user", "content": f"question {n}"}]
            )
        else:
            import openai

            with openai.OpenAI(api_key="x", base_url=streams.OPENAI_URL, http_client=http, max_retries=0).chat.completions.stream(
                model="gpt-5.1", messages=[{"role": "user", "content": answer}], stream_options={"include_usage": True}
            ) as s:
                s.get_final_completion()
        ex.request = json.loads(seen[0].content)
        ex.meta["raw_request"] = seen[0].content.decode("utf-8")
    return [first, second]


def generate(root: Path, tests: int = TESTS, default_clients: bool = False) -> dict[str, Path]:
    """Write the three suites under ``root``; return their folders. ``default_clients``: each test
    makes its SDK clients, the default way (the floor: on a MockTransport)."""
    from harness.paths import default_path

    all_exchanges = {n: exchanges_for(n) for n in range(tests)}
    folders = {}
    for variant, spec in VARIANTS.items():
        folder = root / variant
        folder.mkdir(parents=True)
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        if default_clients:
            conftest = CONFTEST_FLOOR_DEFAULT if variant == "floor" else CONFTEST_LIVE_DEFAULT
        else:
            conftest = CONFTEST_FLOOR if variant == "floor" else CONFTEST_LIVE
        (folder / "conftest.py").write_text(
            conftest.format(anthropic=streams.ANTHROPIC_URL, openai=streams.OPENAI_URL), encoding="utf-8"
        )
        answers = {}
        for m in range(0, tests, PER_MODULE):
            module = f"test_agents_{m // PER_MODULE:02d}.py"
            numbers = range(m, min(m + PER_MODULE, tests))
            (folder / module).write_text(
                TEST_MODULE.format(mark=spec["mark"], tests="".join(TEST.format(n=n) for n in numbers)), encoding="utf-8"
            )
            for n in numbers:
                exs = all_exchanges[n]
                if variant == "harness":
                    path = default_path(folder / "cassettes", module, f"test_agent_{n:03d}")
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(streams.harness_text(exs), encoding="utf-8")
                elif variant == "vcrpy":
                    path = folder / "cassettes" / module[:-3] / f"test_agent_{n:03d}.yaml"
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_text(streams.vcrpy_text(exs), encoding="utf-8")
                else:
                    for ex in exs:
                        answers[ex.path + " " + ex.meta["raw_request"]] = {
                            "status": ex.status,
                            "headers": ex.headers,
                            "parts": [p.decode("utf-8") for p in ex.parts],
                        }
        if answers:
            (folder / "answers.json").write_text(json.dumps(answers), encoding="utf-8")
        folders[variant] = folder
    return folders


def run_suite(folder: Path, args: list[str], tests: int) -> tuple[float, float]:
    """(child CPU seconds, wall seconds) of one whole pytest run; fails loudly if a test failed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *COMMON_ARGS, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0 or (tests and f"{tests} passed" not in proc.stdout):
        raise RuntimeError(f"suite in {folder} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def run(quick: bool = False, tests: int = TESTS, log: Callable[[str], None] = print) -> list[Row]:
    return [_run(quick, tests, log, default_clients=False), _run(quick, tests, log, default_clients=True)]


def _run(quick: bool, tests: int, log: Callable[[str], None], *, default_clients: bool) -> Row:
    rounds = 3 if quick else 5
    tests = min(tests, 100) if quick else tests
    with tempfile.TemporaryDirectory(prefix="harness-bench-suite-") as tmp:
        folders = generate(Path(tmp), tests, default_clients)
        cpu: dict[str, list[float]] = {v: [] for v in VARIANTS}
        wall: dict[str, list[float]] = {v: [] for v in VARIANTS}
        names = list(VARIANTS)
        for variant in names:  # warm the file cache, untimed
            run_suite(folders[variant], [*VARIANTS[variant]["args"], "--co"], 0)
        for r in range(rounds):
            for variant in names if r % 2 == 0 else names[::-1]:
                c, w = run_suite(folders[variant], VARIANTS[variant]["args"], tests)
                cpu[variant].append(c)
                wall[variant].append(w)
        med = {v: statistics.median(cpu[v]) for v in names}
        medw = {v: statistics.median(wall[v]) for v in names}
    ratios = {v: paired_ratio(v, "floor", cpu) for v in names}
    style = "default clients made per test" if default_clients else "one shared client"
    log(f"  suite ({style}): " + ", ".join(f"{v} {med[v]:.2f} s CPU ({medw[v]:.2f} s wall)" for v in names))
    row = Row(
        "suite",
        f"{tests} tests (1 JSON call + 1 stream of {STREAM_EVENTS} events each; {style}), whole pytest runs",
        "floor",
        med["floor"],
        {**med, **{f"{v} (wall)": medw[v] for v in names}},
    )
    row.ratios = {
        "harness": ratios["harness"],
        "vcrpy": ratios["vcrpy"],
        "harness (wall)": paired_ratio("harness", "floor", wall),
    }
    limit = 1.05 if default_clients else 1.15
    row.target = f"harness <= {limit} x"
    row.ok = row.ratios["harness"] <= limit
    per_test = (med["harness"] - med["floor"]) / tests
    row.note = f"harness adds {per_test * 1e3:.2f} ms CPU per test; {rounds} rounds"
    return row


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
