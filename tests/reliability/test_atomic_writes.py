"""Atomic cassette writes: concurrent writers never expose a partial file, and a worker killed mid-write
leaves the previous cassette intact (real processes writing and being killed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from harness.cassette import format as fmt
from tests.helpers import AGENT_TEST, _module

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
