"""Reliability: xdist, atomic writes, bad cassettes, a fuzzed loader, a cheap start-up.

Every scenario runs real pytest sessions (pytester, in-process or as a subprocess) against a small
loopback Starlette app, or real processes writing and being killed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cassette import format as fmt
from harness.errors import CassetteFormatError
from harness.matching import Matcher

# -- a loopback app: one JSON endpoint, one SSE endpoint ----------------------------------------------


def _app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    from tests.servers.base import Scenario, json_response, sse_response

    # ``x-variant`` (a header, which matching ignores) changes the answers and their length: two tests
    # sharing a cassette with the same requests then write different files.
    async def echo(request: Request) -> Any:
        body = await request.json()
        answer = {"id": f"echo-{body['i']}", "echo": body, "text": f"answer {body['i']} café ☕"}
        variant = request.headers.get("x-variant")
        return json_response({**answer, "variant": variant} if variant else answer, Scenario())

    async def stream(request: Request) -> Any:
        body = await request.json()
        variant = request.headers.get("x-variant", "")
        events = [("message_start", {"type": "message_start", "i": body["i"]})]
        events += [("delta", {"type": "delta", "text": f" word{k}"}) for k in range(body.get("n", 20))]
        events += [("delta", {"type": "delta", "text": f" {variant}"}) for _ in variant]
        events.append(("message_stop", {"type": "message_stop"}))
        return sse_response(events, Scenario())

    return Starlette(routes=[Route("/v1/echo", echo, methods=["POST"]), Route("/v1/stream", stream, methods=["POST"])])


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    from tests.servers.base import ServerThread

    with ServerThread(_app()) as server:
        yield server.url


_AGENT_TEST = """
@pytest.mark.cassette{mark}
def test_agent_{n}({fixtures}):
    i = {i}
    answer = httpx2.post(URL + "/v1/echo", json={{"i": i}}, headers={headers}, timeout=10).json()
    assert answer["text"] == f"answer {{i}} café ☕"
    with httpx2.stream("POST", URL + "/v1/stream", json={{"i": i, "n": 30}}, headers={headers}, timeout=10) as response:
        text = "".join(response.iter_text())
    assert text.count("event: delta") == 30 + len(answer.get("variant", "")) and text.endswith("\\n\\n")
    {snapshot}
"""


class _AgentTest:
    """``AGENT_TEST.format(...)``: one generated agent test; ``headers`` (default none) go with both requests."""

    @staticmethod
    def format(**fields: Any) -> str:
        return _AGENT_TEST.format(**{"headers": "{}", **fields})


AGENT_TEST = _AgentTest()


def _module(tests: list[str]) -> str:
    return "import os\nimport httpx2\nimport pytest\n\nURL = os.environ['APP_URL']\n" + "".join(tests)


def _agents(pytester: pytest.Pytester, modules: int = 2, per_module: int = 6) -> int:
    """Generated agent tests: some with syrupy snapshots, two sharing one cassette in each module."""
    count = 0
    for m in range(modules):
        tests = []
        for k in range(per_module):
            i = m * 100 + k
            snap = "assert answer == snapshot" if k % 2 == 0 else ""
            fixtures = "snapshot" if snap else ""
            tests.append(AGENT_TEST.format(n=k, i=i, mark="", fixtures=fixtures, snapshot=snap))
        # Two tests of one module sharing one cassette, making the same requests but getting answers of
        # different lengths (``x-variant``): if their writes raced without being atomic, the file would
        # mix the two, or be cut, and not hold one test's exchange whole.
        # A test that recorded notes what it wrote: the file must end up holding each such exchange.
        for k, variant in (("shared_a", "a"), ("shared_b", "b" * 40)):
            note = (
                f"if cassette.recorded:\n        with open(os.environ['RECORDED_LOG'], 'a', encoding='utf-8') as log:\n"
                f"            log.write('{m} {variant}\\n')"
            )
            # (when both recorded, the file holds both exchanges: each test replays one of them)
            tests.append(
                AGENT_TEST.format(
                    n=k,
                    i=m * 100 + 99,
                    mark="(path='shared', allow_unplayed=True)",
                    fixtures="cassette",
                    snapshot=note,
                    headers=repr({"x-variant": variant}),
                )
            )
        pytester.makepyfile(**{f"test_agents_{m}": _module(tests)})
        count += per_module + 2
    return count


def _cassettes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "cassettes").rglob("*")) if p.is_file()}


def _summary(result: pytest.RunResult) -> str:
    lines = [line for line in result.outlines if line.startswith("harness: ")]
    assert len(lines) == 1, result.outlines[-20:]
    return lines[0]


def test_xdist_record_and_replay_keep_every_cassette_whole(pytester, app_url, closed_url, monkeypatch):
    # Given generated agent tests (two per module share one cassette), recorded with two workers
    n = _agents(pytester)
    monkeypatch.setenv("APP_URL", app_url)
    log = pytester.path / "recorded.log"
    monkeypatch.setenv("RECORDED_LOG", str(log))
    recorded = pytester.runpytest("-n", "2", "--record-mode=once", "--snapshot-update", "-p", "no:randomly")
    recorded.assert_outcomes(passed=n)

    # Then every cassette is whole, there is one per test (the shared ones once per module), and no
    # temporary file is left behind; the controller's summary line adds up both workers' counts.
    files = _cassettes(pytester.path)
    assert all(name.endswith(".json") for name in files), files.keys()
    assert len(files) == n - 2  # two modules: each pair of sharing tests has one file
    wrote = log.read_text(encoding="utf-8").split("\n")[:-1]
    for name, content in files.items():
        items = fmt.load(pytester.path / name)
        assert content.decode("utf-8") == fmt.dumps(items), name  # whole and canonical
        # exchanges, whole: each answer's variant and its stream's length agree
        pairs = [items[k : k + 2] for k in range(0, len(items), 2)]
        variants = [echo.response.body.value.get("variant", "") for echo, _ in pairs]
        for (echo, stream), variant in zip(pairs, variants):
            assert echo.request.path == "/v1/echo" and stream.response.body.kind == "sse", name
            assert len(stream.response.body.value) == 32 + len(variant), name
        if name.endswith("shared.json"):
            # what the sharing tests that recorded wrote is all there: no write lost, none torn
            module = name.split("/")[1].removeprefix("test_agents_")
            assert sorted(variants) == sorted(v.split(" ")[1] for v in wrote if v.split(" ")[0] == module), (name, wrote)
        else:
            assert variants == [""], name
    replayed_or_recorded = _summary(recorded)
    assert replayed_or_recorded.endswith(" recorded.")
    counts = [int(s) for s in replayed_or_recorded.split() if s.isdigit()]
    assert sum(counts) == n and counts[1] >= n - 2  # a sharing test may replay what its twin recorded

    # When they replay with two workers and no server
    monkeypatch.setenv("APP_URL", closed_url)
    replayed = pytester.runpytest("-n", "2", "-p", "no:randomly")

    # Then all pass, snapshots included, nothing is rewritten, and the line counts every test once
    replayed.assert_outcomes(passed=n)
    assert _cassettes(pytester.path) == files
    # (a shared file holds both tests' exchanges: what one test leaves to the other is not unplayed)
    assert _summary(replayed) == f"harness: {n} cassette(s) replayed, 0 recorded."
    snapshots = sorted(p.name for p in (pytester.path / "__snapshots__").rglob("*.ambr"))
    assert snapshots == ["test_agents_0.ambr", "test_agents_1.ambr"]
    for snap in (pytester.path / "__snapshots__").rglob("*.ambr"):
        assert snap.read_text(encoding="utf-8").count("# name: test_agent_") == 3, snap


def test_xdist_rerecording_a_shared_cassette_never_corrupts_it(pytester, app_url, monkeypatch):
    # Two tests on two workers record the same cassette path at the same moment, run after run.
    # Each run changes the exchange (so every test really writes), the same way for all four tests.
    pytester.makepyfile(
        test_shared=_module(
            [
                AGENT_TEST.format(n=k, i="int(os.environ['RUN'])", mark="(path='shared')", fixtures="", snapshot="")
                for k in ("a", "b", "c", "d")
            ]
        )
    )
    monkeypatch.setenv("APP_URL", app_url)
    path = pytester.path / "cassettes" / "test_shared" / "shared.json"
    for run in range(4):
        monkeypatch.setenv("RUN", str(run))
        result = pytester.runpytest("-n", "2", "--record-mode=all")
        result.assert_outcomes(passed=4)
        assert _summary(result) == "harness: 0 cassette(s) replayed, 4 recorded."
        items = fmt.load(path)  # whole, valid, and holding one test's two exchanges
        assert [i.request.path for i in items] == ["/v1/echo", "/v1/stream"]
        assert [p.name for p in path.parent.iterdir()] == ["shared.json"]  # no temporary file left
    pytester.runpytest("-n", "2").assert_outcomes(passed=4)


UNUSED_MODULE = """
import pytest

@pytest.mark.cassette
def test_a():
    pass

@pytest.mark.cassette
@pytest.mark.parametrize("n", [1, 2])
def test_b(n):
    pass

class TestC:
    @pytest.mark.cassette
    def test_d(self):
        pass

@pytest.mark.cassette("shared")
def test_e():
    pass

@pytest.mark.skip(reason="a skipped test keeps its cassette")
@pytest.mark.cassette
def test_skipped():
    pass

def test_no_cassette():
    pass
"""
EMPTY_CASSETTE = '{"harness_cassette": 1, "interactions": []}\n'


def test_the_session_line_counts_unused_cassettes(pytester):
    # Given a module whose tests have their cassettes, next to two cassettes no test opens any more
    # (a renamed test, a removed parameter), and another module's stale cassette
    pytester.makepyfile(test_agent=UNUSED_MODULE, test_other="import pytest\n\n@pytest.mark.cassette\ndef test_o():\n    pass\n")
    for folder, names in (
        (
            "test_agent",
            ["test_a", "test_b[1]", "test_b[2]", "TestC.test_d", "shared", "test_skipped", "test_old_name", "test_b[3]"],
        ),
        ("test_other", ["test_o", "test_gone"]),
    ):
        for name in names:
            path = pytester.path / "cassettes" / folder / f"{name}.json"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(EMPTY_CASSETTE, encoding="utf-8")

    # When the whole suite runs, then the line counts them, and -v names them
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=7, skipped=1)
    assert _summary(result) == "harness: 6 cassette(s) replayed, 0 recorded, 3 unused."
    verbose = pytester.runpytest("-p", "no:randomly", "-v")
    verbose.stdout.fnmatch_lines(
        [
            "harness: 6 cassette(s) replayed, 0 recorded, 3 unused.",
            "  unused: cassettes/test_agent/test_b[[]3].json",
            "  unused: cassettes/test_agent/test_old_name.json",
            "  unused: cassettes/test_other/test_gone.json",
        ]
    )

    # And a run of part of a module says nothing about that module: -k, a node id, --deselect
    assert (
        _summary(pytester.runpytest("-p", "no:randomly", "-k", "TestC or test_o"))
        == "harness: 2 cassette(s) replayed, 0 recorded, 1 unused."
    )
    assert (
        _summary(pytester.runpytest("-p", "no:randomly", "test_agent.py::test_a"))
        == "harness: 1 cassette(s) replayed, 0 recorded."
    )
    assert _summary(pytester.runpytest("-p", "no:randomly", "--deselect", "test_agent.py::test_a", "test_agent.py")) == (
        "harness: 4 cassette(s) replayed, 0 recorded."
    )
    # nor a run stopped early about the modules it did not finish (test_other ran whole: its stale one counts)
    (pytester.path / "test_other.py").write_text(
        "import pytest\n\n@pytest.mark.cassette\ndef test_o():\n    assert False\n", encoding="utf-8"
    )
    stopped = pytester.runpytest("-p", "no:randomly", "-x", "test_other.py", "test_agent.py")
    stopped.assert_outcomes(failed=1)
    assert _summary(stopped) == "harness: 1 cassette(s) replayed, 0 recorded, 1 unused."

    # And under xdist the controller adds up what each worker ran: the same count, once
    (pytester.path / "test_other.py").write_text(
        "import pytest\n\n@pytest.mark.cassette\ndef test_o():\n    pass\n", encoding="utf-8"
    )
    distributed = pytester.runpytest("-n", "2", "-p", "no:randomly")
    distributed.assert_outcomes(passed=7, skipped=1)
    assert _summary(distributed) == "harness: 6 cassette(s) replayed, 0 recorded, 3 unused."


WRITER = """
import sys
from pathlib import Path
from harness.cassette.store import atomic_write
path, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
for n in range(count):
    atomic_write(path, tag * 300_000 + f" {n}\\n")
"""


def test_concurrent_writers_never_expose_a_partial_file(tmp_path):
    # Two processes replace one file again and again while this one reads it: every read sees one
    # whole version, never a mix or a prefix, and no temporary file survives.
    path = tmp_path / "c.json"
    path.write_text("x" * 300_000 + " start\n", encoding="utf-8")
    script = tmp_path / "writer.py"
    script.write_text(WRITER, encoding="utf-8")
    writers = [subprocess.Popen([sys.executable, str(script), str(path), tag, "60"]) for tag in ("a", "b")]
    reads = 0
    try:
        while any(w.poll() is None for w in writers):
            text = path.read_text(encoding="utf-8")
            head, _, tail = text.partition(" ")
            assert len(head) == 300_000 and len(set(head)) == 1 and tail.endswith("\n"), (len(head), tail[:20])
            reads += 1
    finally:
        for w in writers:
            w.wait(timeout=60)
    assert [w.returncode for w in writers] == [0, 0]
    assert reads > 10
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


SLOW_WRITES = '''
import os, time
from pathlib import Path
import harness.cassette.store as store

class _SlowFile:
    """Writes half the text, flushes it to the temporary file, says so, then hangs."""

    def __init__(self, fh):
        self.fh = fh

    def write(self, text):
        self.fh.write(text[: len(text) // 2])
        self.fh.flush()
        Path(os.environ["HALF_WRITTEN"]).write_text(self.fh.name if isinstance(self.fh.name, str) else "fd")
        time.sleep(120)

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)

class _Os:
    def __getattr__(self, name):
        return getattr(os, name)

    def fdopen(self, *args, **kwargs):
        return _SlowFile(os.fdopen(*args, **kwargs))

if os.environ.get("HALF_WRITTEN"):
    store.os = _Os()
'''


def test_a_worker_killed_mid_write_leaves_the_previous_cassette_intact(pytester, app_url, closed_url, monkeypatch):
    # Given a recorded cassette
    pytester.makepyfile(
        test_kill=_module([AGENT_TEST.format(n="it", i="int(os.environ['RUN'])", mark="", fixtures="", snapshot="")])
    )
    pytester.makeconftest(SLOW_WRITES)
    monkeypatch.setenv("APP_URL", app_url)
    monkeypatch.setenv("RUN", "1")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    path = pytester.path / "cassettes" / "test_kill" / "test_agent_it.json"
    before = path.read_bytes()

    # When a re-recording that changes it is SIGKILLed half-way through writing the new file
    flag = pytester.path / "half.flag"
    env = {**os.environ, "RUN": "2", "HALF_WRITTEN": str(flag), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--record-mode=all", "-q"],
        cwd=pytester.path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not flag.exists():
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            assert time.monotonic() < deadline, "the re-recording never reached the write"
            time.sleep(0.05)
        stray = [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]
        assert len(stray) == 1 and 0 < stray[0].stat().st_size < len(before) * 2  # half of the new file is on disk
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        if proc.stdout:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL

    # Then the previous cassette is intact, byte for byte, and still replays (the stray temporary
    # file is ignored); nothing else in the folder looks like a cassette
    assert path.read_bytes() == before
    assert len(fmt.load(path)) == 2
    assert [p.name for p in path.parent.glob("*.json")] == ["test_agent_it.json"]
    monkeypatch.setenv("APP_URL", closed_url)
    pytester.runpytest().assert_outcomes(passed=1)


# -- bad cassettes: one clear report each, no traceback through harness --------------------------------


def _valid_doc() -> dict[str, Any]:
    stream = "".join(f"event: delta\ndata: {json.dumps({'type': 'delta', 'k': k}, separators=(',', ':'))}\n\n" for k in range(3))
    sizes = [len(block) + 2 for block in stream.split("\n\n")[:-1]]
    return {
        "harness_cassette": 1,
        "interactions": [
            {
                "kind": "http",
                "request": {
                    "method": "POST",
                    "url": "http://127.0.0.1/v1/echo",
                    "headers": {"content-type": "application/json"},
                    "body": {"json": {"i": 1}},
                },
                "response": {"status": 200, "headers": {"content-type": "application/json"}, "body": {"json": {"text": "hi"}}},
            },
            {
                "kind": "http",
                "request": {"method": "POST", "url": "http://127.0.0.1/v1/stream", "headers": {}, "body": {"json": {"i": 1}}},
                "response": {
                    "status": 200,
                    "headers": {"content-type": "text/event-stream"},
                    "body": {"sse": [{"event": "delta", "data": {"type": "delta", "k": k}} for k in range(3)]},
                    "chunks": [[size, 1.5 * n] for n, size in enumerate(sizes)],
                },
            },
            {"kind": "tool", "name": "get_weather", "input": {"city": "Paris"}, "result": "sunny"},
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "initialize",
                "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "mcp", "version": "1"}},
                "result": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "srv", "version": "2"},
                },
            },
            {"kind": "mcp", "server": "python -m srv", "notify": "notifications/initialized"},
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "tools/call",
                "params": {"name": "deploy", "arguments": {"env": "prod"}},
                "during": [
                    {"notify": "notifications/progress", "params": {"progressToken": 1, "progress": 1, "total": 2}},
                    {"notify": "notifications/message", "params": {"level": "info", "data": "starting"}},
                    {
                        "request": "elicitation/create",
                        "params": {"message": "Deploy?", "requestedSchema": {"properties": {"ok": {"type": "boolean"}}}},
                        "answer": {"result": {"action": "accept", "content": {"ok": True}}},
                    },
                ],
                "result": {
                    "content": [
                        {"type": "text", "text": "deployed"},
                        {"type": "image", "mimeType": "image/png", "data": "iVBORw0KGgo="},
                    ],
                    "structuredContent": {"ok": True},
                    "isError": False,
                },
            },
            {
                "kind": "mcp",
                "server": "python -m srv",
                "request": "tools/call",
                "params": {"name": "nope", "arguments": {}},
                "error": {"code": -32602, "message": "Unknown tool: nope"},
            },
        ],
    }


def _valid_text() -> str:
    return fmt.dumps(fmt.loads(json.dumps(_valid_doc()), "valid.json"))


def _edited(edit: Any) -> str:
    doc = _valid_doc()
    edit(doc)
    return json.dumps(doc, indent=2)


def _sse(doc: dict[str, Any]) -> list[Any]:
    return doc["interactions"][1]["response"]["body"]["sse"]


def _no_chunks(doc: dict[str, Any]) -> None:
    """Drop the stream's chunks: an edited body then loads unless something else is wrong with it."""
    del doc["interactions"][1]["response"]["chunks"]


BAD: dict[str, tuple[bytes, list[str]]] = {
    "truncated": (_valid_text()[:400].encode(), ["  not valid JSON: * (the file looks truncated)"]),
    "wrong_type": (
        _edited(lambda d: d["interactions"][0]["response"].update(status="200")).encode(),
        ["  interactions[0].response.status: expected int, got str '200'"],
    ),
    "missing_field": (
        _edited(lambda d: d["interactions"][0]["request"].pop("url")).encode(),
        ["  interactions[0].request.url: missing"],
    ),
    "version_0": (
        _edited(lambda d: d.update(harness_cassette=0)).encode(),
        ["  format version 0 is not supported (this harness reads 1)", "  Re-record it with this harness (--record-mode=all)."],
    ),
    "version_99": (
        _edited(lambda d: d.update(harness_cassette=99)).encode(),
        [
            "  format version 99 is not supported (this harness reads 1)",
            "  It was written by a newer harness: upgrade harness (pip install -U harness).",
        ],
    ),
    "not_utf8": (_valid_text().replace('"hi"', '"h\udcffi"').encode("utf-8", "surrogateescape"), ["  not UTF-8 text*"]),
    "vcrpy_yaml_renamed": (
        json.dumps({"version": 1, "interactions": []}).encode(),
        [
            "  not a harness cassette (no 'harness_cassette' key)",
            "  It looks like a vcrpy cassette: convert it with `harness import-vcr`.",
        ],
    ),
    "sse_not_an_event": (
        _edited(lambda d: _sse(d).__setitem__(1, "event: delta\ndata: {}")).encode(),
        ["  interactions[1].response.body.sse[1]: expected an event object, got str"],
    ),
    "sse_unknown_field": (
        _edited(lambda d: _sse(d)[0].update(evnt="delta")).encode(),
        [
            "  interactions[1].response.body.sse[0]: unknown field 'evnt' (an event has comments, event, id, retry, data, text, fields, raw)"
        ],
    ),
    "sse_bad_comments": (
        _edited(lambda d: _sse(d)[2].update(comments=5)).encode(),
        ["  interactions[1].response.body.sse[2].comments: expected a list of strings, got 5"],
    ),
    "sse_event_not_text": (
        _edited(lambda d: _sse(d)[1].update(event=["delta"])).encode(),
        ["  interactions[1].response.body.sse[1].event: expected a string, got list ['delta']"],
    ),
    "sse_edited_text": (
        _edited(lambda d: _sse(d)[0]["data"].update(k="edited by hand")).encode(),
        ["  interactions[1].response.chunks: chunk sizes do not add up to the body's length (was the body edited?)"],
    ),
    "bad_chunk": (
        _edited(lambda d: d["interactions"][1]["response"]["chunks"].__setitem__(0, [-5, 1])).encode(),
        ["  interactions[1].response.chunks[0]: expected [bytes, ms] (a byte count >= 0, then ms), got [-5, 1]"],
    ),
    # A stream body that is not valid SSE would reach the SDK, and fail inside its decoder or accumulator.
    "sse_raw_runs_on": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[0].update(raw='event: delta\ndata: {"type":"delta","k":0}\n'))).encode(),
        [
            "  interactions[1].response.body.sse[0].raw: is not a whole event: no blank line ends it, so it runs into the next event"
        ],
    ),
    "sse_raw_two_events": (
        _edited(
            lambda d: (_no_chunks(d), _sse(d)[1].update(raw='event: delta\ndata: {"type":"delta","k":1}\n\nevent: x\n\n'))
        ).encode(),
        ["  interactions[1].response.body.sse[1].raw: is not one event: it holds a blank line, so it is several events"],
    ),
    "sse_raw_not_its_fields": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[1].update(raw="garbage\n\n"))).encode(),
        [
            "  interactions[1].response.body.sse[1].raw: does not say what the entry's fields say (was one edited without "
            "the other?): the text reads {'fields': [['garbage', '']]}"
        ],
    ),
    "sse_event_crlf": (
        _edited(lambda d: _sse(d)[1].update(event="delta\r\nevent: message_stop")).encode(),
        [
            "  interactions[1].response.body.sse[1].event: has a line break (CR or LF), which would split the event: "
            "'delta\\r\\nevent: message_stop'"
        ],
    ),
    "sse_id_lf": (
        _edited(lambda d: _sse(d)[2].update(id="7\ndata: {}")).encode(),
        ["  interactions[1].response.body.sse[2].id: has a line break (CR or LF), which would split the event: '7\\ndata: {}'"],
    ),
    "sse_nan_data": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[2]["data"].update(k=float("nan")))).encode(),
        [
            "  interactions[1].response.body.sse[2].data: NaN or Infinity is not JSON (harness keeps such data as text): {'type': 'delta', 'k': nan}"
        ],
    ),
    "sse_text_body_garbage": (
        _edited(lambda d: (_no_chunks(d), d["interactions"][1]["response"].update(body={"text": "garbage"}))).encode(),
        [
            "  interactions[1].response.body.text: SSE event 0 is not a whole event: no blank line ends it, so an SDK never "
            "sees it (only a stream that broke, with its error recorded, may stop mid-event)"
        ],
    ),
    "sse_text_body_run_together": (
        _edited(
            lambda d: (
                _no_chunks(d),
                d["interactions"][1]["response"].update(
                    body={"text": 'event: delta\ndata: {"k":0}\n\nevent: delta\ndata: {"k":1}\nevent: delta\ndata: {"k":2}\n\n'}
                ),
            )
        ).encode(),
        [
            "  interactions[1].response.body.text: SSE event 1 has two 'event' or 'id' lines: two events run together (a blank line is missing)"
        ],
    ),
}


def test_bad_cassettes_give_one_clear_report_each(pytester):
    # Given one test per kind of damage, each with its damaged cassette
    tests = []
    for name, (content, _) in BAD.items():
        path = pytester.path / "cassettes" / "test_bad" / f"test_{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        tests.append(f"\n@pytest.mark.cassette\ndef test_{name}():\n    pass\n")
    pytester.makepyfile(test_bad="import pytest\n" + "".join(tests))

    result = pytester.runpytest("-p", "no:randomly")

    # Then each errors at set-up with the file named and what is wrong, line by line
    result.assert_outcomes(errors=len(BAD))
    for name, (_, lines) in BAD.items():
        expected = [
            f"*ERROR at setup of test_{name}*",
            f"CassetteFormatError: harness: cannot read cassette {pytester.path}/cassettes/test_bad/test_{name}.json",
            *lines,
        ]
        result.stdout.fnmatch_lines([line.replace("[", "[[]") for line in expected], consecutive=True)
    # and no traceback through harness's own code
    out = result.stdout.str()
    assert "Traceback" not in out
    assert not [line for line in result.outlines if "/harness/" in line and ".py" in line], out


def test_a_bad_cassette_shows_the_full_traceback_when_asked(pytester):
    path = pytester.path / "cassettes" / "test_bad" / "test_it.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(BAD["wrong_type"][0])
    pytester.makepyfile(test_bad="import pytest\n\n@pytest.mark.cassette\ndef test_it():\n    pass\n")
    result = pytester.runpytest("--tb=long")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*def loads(*", "E  *expected int, got str '200'", "*/harness/cassette/format.py:*: CassetteFormatError"]
    )


def test_a_misspelt_marker_option_lists_the_valid_ones(pytester):
    # Given tests whose cassette markers are wrong: a misspelt option, two positional arguments
    pytester.makepyfile(
        test_marker="""
        import pytest

        @pytest.mark.cassette(record_mod="all")
        def test_misspelt():
            pass

        @pytest.mark.cassette("a", "b")
        def test_two_paths():
            pass
    """
    )

    result = pytester.runpytest("-p", "no:randomly")

    # Then each fails at set-up with a small report: the option, the closest valid one, all valid ones
    result.assert_outcomes(errors=2)
    valid = "  valid options: path, record_mode, match_on, ignore_paths, allow_unplayed, replay_speed, redact_headers, redact_patterns, real_tools"
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_misspelt*",
            "ConfigError: harness: @pytest.mark.cassette has no option 'record_mod' (did you mean 'record_mode'?)",
            valid,
            "*ERROR at setup of test_two_paths*",
            "ConfigError: harness: @pytest.mark.cassette takes one positional argument (the cassette path), got 2: 'a', 'b'",
            valid,
        ],
        consecutive=False,
    )
    assert "unexpected keyword argument" not in result.stdout.str() and "Traceback" not in result.stdout.str()


def test_stream_data_that_is_not_json_is_kept_as_text():
    # A server that sends NaN or Infinity (Python's json writes them): recorded as text, the same bytes
    from harness import sse

    body = b'data: {"logprob": -Infinity}\n\nevent: x\ndata: NaN\n\ndata: {"ok":1}\n\n'
    events, eol = sse.parse(body)
    assert events == [{"text": '{"logprob": -Infinity}'}, {"event": "x", "text": "NaN"}, {"data": {"ok": 1}}]
    assert sse.render(events, eol) == body
    # and a recording whose last event never ended (no error recorded) still loads, as sent
    doc = _valid_doc()
    del doc["interactions"][1]["response"]["chunks"]
    _sse(doc)[2]["raw"] = 'event: delta\ndata: {"type":"delta","k":2}'
    (item,) = [
        i for i in fmt.loads(json.dumps(doc), "cut.json") if getattr(i, "request", None) and i.request.path == "/v1/stream"
    ]
    assert item.response.body.bytes().endswith(b'data: {"type":"delta","k":2}')


def test_read_text_names_the_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(_valid_text().replace('"hi"', '"h\udcffi"').encode("utf-8", "surrogateescape"))
    offset = path.read_bytes().index(b"\xff")
    line = path.read_bytes()[:offset].count(b"\n") + 1
    with pytest.raises(CassetteFormatError) as caught:
        fmt.read_text(path)
    assert str(caught.value).splitlines() == [
        f"harness: cannot read cassette {path}",
        f"  not UTF-8 text (byte {offset}, line {line}: b'\\xffi\"\\n')",
    ]
    path.write_text(_valid_text(), encoding="utf-8")
    assert fmt.read_text(path) == _valid_text()
    with pytest.raises(FileNotFoundError):  # left to the caller (a recording writes a missing file)
        fmt.read_text(tmp_path / "missing.json")


# -- the loader, fuzzed ---------------------------------------------------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_KNOWN_KEYS = [
    "harness_cassette",
    "interactions",
    "kind",
    "request",
    "response",
    "method",
    "url",
    "headers",
    "body",
    "json",
    "sse",
    "text",
    "base64",
    "eol",
    "status",
    "chunks",
    "error",
    "elapsed_ms",
    "event",
    "data",
    "raw",
    "comments",
    "fields",
    "id",
    "retry",
    "name",
    "input",
    "result",
    "server",
    "notify",
    "params",
    "during",
    "after",
    "answer",
    "content",
    "isError",
    "structuredContent",
    "progress",
    "message",
    "level",
    "serverInfo",
    "protocolVersion",
]


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


@st.composite
def _structural_edits(draw: Any) -> bytes:
    """A valid cassette with one to three values replaced, keys dropped or added, at any depth."""
    doc = _valid_doc()
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(_json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(_KNOWN_KEYS))] = draw(_json_values)
        else:
            parent.append(draw(_json_values))
    return json.dumps(doc).encode()


@st.composite
def _text_edits(draw: Any) -> bytes:
    """The valid cassette's text, truncated, with a slice deleted, or with characters inserted."""
    text = _valid_text()
    at = draw(st.integers(0, len(text)))
    action = draw(st.sampled_from(["truncate", "delete", "insert", "bytes"]))
    if action == "truncate":
        return text[:at].encode()
    if action == "delete":
        return (text[:at] + text[at + draw(st.integers(1, 40)) :]).encode()
    if action == "insert":
        return (text[:at] + draw(st.text(min_size=1, max_size=8)) + text[at:]).encode("utf-8", "surrogatepass")
    raw = text.encode()
    return raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]


def _expected_events(item: Any) -> list[tuple[str | None, str, bool]]:
    """(name, data, whether the cassette shows the data as JSON) of each event a stored stream
    shows, as an SSE decoder must see them."""
    from harness import sse

    events = item.response.body.value
    out = []
    for n, entry in enumerate(events):
        if "raw" in entry:
            if n == len(events) - 1 and not sse._WHOLE.fullmatch(entry["raw"]):
                continue  # the last event of a stream that broke: it never completes
            lines = [line for line in sse._EOL_SPLIT.split(entry["raw"]) if line and not line.startswith(":")]
            fields = [(name, value.removeprefix(" ")) for name, _, value in (line.partition(":") for line in lines)]
            data = [value for name, value in fields if name == "data"]
            names = [value for name, value in fields if name == "event"]
            if data:
                out.append((names[-1] if names else None, "\n".join(data), "data" in entry))
        elif "data" in entry:
            out.append((entry.get("event"), sse._encode_json(entry["data"]), True))
        elif "text" in entry:
            out.append((entry.get("event"), entry["text"], False))
    return [(name or None, data, structured) for name, data, structured in out]  # anthropic's decoder reads "" as none


def _decoded_events(body: bytes) -> list[tuple[str | None, str]]:
    """(name, data) of each event with data that anthropic's SSE decoder reads from the bytes."""
    from anthropic._streaming import SSEDecoder

    return [
        (e.event or None, e.data)
        for e in SSEDecoder().iter_bytes(iter([body]))
        if any(r.partition(":")[0] == "data" for r in e.raw)
    ]


_sse_bits = st.sampled_from(["delta", "a\nb", "x\r\ny", "\r", "\n\n", "", " lead", "data: {}", "event: x\n", ":c\n"]) | st.text(
    st.sampled_from("ab:\r\n {}"), max_size=10
)


@st.composite
def _stream_edits(draw: Any) -> bytes:
    """The valid cassette's stream, edited where an SSE decoder is sensitive: line breaks in fields,
    exact texts cut, joined or replaced, the body kept as text, NaN in data; sometimes with no
    chunks (so the body's length is not checked) or with the stream broken."""
    from harness import sse

    doc = _valid_doc()
    resp = doc["interactions"][1]["response"]
    if draw(st.booleans()):
        del resp["chunks"]
    if draw(st.booleans()):
        resp["error"] = {"type": "RemoteProtocolError", "message": "peer closed connection"}
    events = resp["body"]["sse"]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(events) - 1))
        action = draw(st.sampled_from(["field", "raw", "raw_only", "text_body", "nan"]))
        if action == "field":
            events[i][draw(st.sampled_from(["event", "id", "retry", "text"]))] = draw(_sse_bits)
        elif action in ("raw", "raw_only"):
            rendered = sse.render_entry({k: v for k, v in events[i].items() if k != "raw"})
            a = draw(st.integers(0, len(rendered)))
            b = draw(st.integers(a, len(rendered)))
            raw = rendered[:a] + draw(_sse_bits) + rendered[b:]
            events[i] = {"raw": raw} if action == "raw_only" else {**events[i], "raw": raw}
        elif action == "text_body":
            text = "".join(sse.render_entry(e) for e in events)
            a = draw(st.integers(0, len(text)))
            resp["body"] = {"text": text[:a] + draw(_sse_bits) + text[draw(st.integers(a, len(text))) :]}
            break
        else:
            events[i]["data"] = {"k": draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))}
    return json.dumps(doc).encode()


def _strict_json(text: str) -> bool:
    """False for data that Python's json reads only with NaN or Infinity in it (not JSON)."""

    def reject(name: str) -> Any:
        raise ValueError(name)

    try:
        json.loads(text)
    except ValueError:
        return True  # text data, not JSON
    try:
        json.loads(text, parse_constant=reject)
    except ValueError:
        return False
    return True


def _use(items: list[Any]) -> None:
    """What replay and re-recording do with a loaded cassette: render every body, build each
    replayed response, decode each stream as an SDK does (it must see the events the cassette
    shows), show and diff every interaction, write the cassette back out and read that again."""
    import httpx2

    from harness import cli
    from harness.cassette.model import HttpInteraction
    from harness.seams.http import _replay_response, _Streams

    streams = _Streams.of(httpx2)
    for item in items:
        if isinstance(item, HttpInteraction):
            item.request.body.bytes()
            if item.response is not None:
                response = _replay_response(httpx2, streams, item, 0)
                try:
                    response.read()
                except httpx2.TransportError:
                    # A recorded transport error is replayed as one, after the recorded part of the body.
                    assert item.response.error is not None
                if item.response.body.kind == "sse":
                    expected = _expected_events(item)
                    assert _decoded_events(item.response.body.bytes()) == [(name, data) for name, data, _ in expected]
                    # what the cassette shows as JSON is JSON: no NaN or Infinity
                    assert all(_strict_json(data) for _, data, structured in expected if structured)
        else:
            # MCP calls and local tools: the renderer and the differ of their kind (not the fallback
            # that catches a renderer's crash) read anything the loader accepts.
            item.describe()
            item.key(Matcher())
            options = cli.ShowOptions(cli.Style(True), raw_events=True)
            cli.RENDERERS[item.kind](0, item, options)
            assert cli.DIFFERS[item.kind](item, item, cli.DiffOptions(matcher=None)) == []  # type: ignore[arg-type]
    assert len(fmt.loads(fmt.dumps(items), "again.json")) == len(items)


def test_loader_fuzz_gives_clear_errors_and_never_crashes(capsys):
    counts = {"tried": 0, "loaded": 0, "clear errors": 0, "crashes": 0}
    crashes: list[str] = []

    @settings(
        max_examples=1000,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(data=st.one_of(_structural_edits(), _text_edits(), _stream_edits(), st.binary(max_size=200)))
    def fuzz(data: bytes) -> None:
        counts["tried"] += 1
        try:
            items = fmt.loads(data, "fuzzed.json")
            _use(items)
        except CassetteFormatError as exc:
            assert "fuzzed.json" in str(exc) and exc.problem
            counts["clear errors"] += 1
            return
        except Exception as exc:  # an internal crash: counted, and shown below
            counts["crashes"] += 1
            if len(crashes) < 5:
                crashes.append(f"{type(exc).__name__}: {exc} <- {data[:300]!r}")
            return
        counts["loaded"] += 1

    fuzz()
    with capsys.disabled():
        print(
            f"\nloader fuzz: {counts['tried']} inputs tried, {counts['loaded']} loaded, {counts['clear errors']} clear errors, "
            f"{counts['crashes']} internal crashes"
        )
    assert counts["crashes"] == 0, "\n".join(crashes)
    assert counts["tried"] >= 1000 and counts["clear errors"] > counts["tried"] // 3 and counts["loaded"] > 0


# -- start-up: nothing created, no SDK imported ------------------------------------------------------------


def test_plugin_start_up_creates_nothing_and_imports_no_sdk(pytester, monkeypatch):
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            import sys

            def test_plain():
                heavy = [m for m in ("anthropic", "openai", "httpx", "httpx2", "mcp", "syrupy", "hypothesis")
                         if m in sys.modules]
                engine = sorted(m for m in sys.modules if m.startswith("harness.") and m not in ("harness.plugin", "harness.usage", "harness.config", "harness.errors"))
                print("HEAVY", heavy, "ENGINE", engine)
                assert "harness.plugin" in sys.modules
                assert heavy == [] and engine == []
            """
        )
    )

    def listing() -> list[str]:
        # pytester's own: the subprocess's captured stdout and stderr, and an empty runpytest-N for its --basetemp.
        return sorted(
            str(p.relative_to(pytester.path))
            for p in pytester.path.rglob("*")
            if not p.name.startswith("runpytest-") and p.name not in ("stdout", "stderr")
        )

    before = listing()
    # Only harness is loaded (no other plugin imports anything on its behalf), in a fresh process.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    result = pytester.runpytest_subprocess("-p", "harness.plugin", "-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEAVY [[]] ENGINE [[]]*"])
    assert listing() == before
    assert all(not list(p.iterdir()) for p in pytester.path.glob("runpytest-*"))
    assert not (pytester.path / "cassettes").exists()
    assert "harness:" not in result.stdout.str()  # no summary line for a session without cassettes
