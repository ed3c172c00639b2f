"""Generated agent tests recorded and replayed on two xdist workers against a loopback app: every cassette
and snapshot file whole; a cassette two workers re-record at the same moment, never corrupted. Every
scenario runs real pytest sessions (pytester)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cassette import format as fmt
from tests.helpers import AGENT_TEST, _module, _summary


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
