"""The session's summary line counts the cassettes no collected test opens, for the modules that ran whole
(not for -k, a node id, --deselect, a run stopped early); under xdist the controller adds up its workers'."""

from __future__ import annotations

from tests.helpers import _summary

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
