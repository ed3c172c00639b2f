"""An MCP server's tool surface changing between two real recordings of one test: the test server and its
``drifted`` variant (a tool added, one removed, a description and an input schema changed), recorded through
harness and the real ``mcp`` client over streamable HTTP; then ``harness diff`` and ``harness lint`` on the
two cassettes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.helpers import run
from tests.mcp.helpers import record_tool_surface
from tests.servers.mcp_tools import DRIFTED_ECHO, McpHttpServer

CASSETTE = Path("cassettes") / "tests" / "test_agent" / "test_agent.json"


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """``old`` and ``new``: the same test recorded against the server, then against its drifted variant,
    each in a project folder of its own (the cassette at the same path in both)."""
    root = tmp_path_factory.mktemp("surface")
    paths = {}
    for name, variant in (("old", None), ("new", "drifted")):
        with McpHttpServer(variant) as server:
            paths[name] = root / name / CASSETTE
            record_tool_surface(server.url, paths[name])
    yield paths


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with one test module (its cassettes are not orphans)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_agent.py").write_text("def test_agent(): pass\n", encoding="utf-8")
    return tmp_path


def listing_line(path: Path) -> int:
    """The line of the ``tools/list`` interaction in a cassette (where its ``"kind"`` is)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index('      "request": "tools/list",')
    return max(n for n in range(at) if lines[n].startswith('      "kind": ')) + 1


def test_diff_of_two_real_recordings_reports_the_tool_surface_change(recordings, capsys):
    code, out, _ = run(capsys, "diff", str(recordings["old"]), str(recordings["new"]))
    assert code == 1
    lines = out.splitlines()
    # The tools/list answer changed, and only that (the calls of echo and add answered the same).
    assert [line for line in lines if line.startswith("~ ")] == ["~ #1 mcp tools/list @ http://127.0.0.1/mcp"]
    assert "    TOOL SURFACE: tool added: export_notes: 'Export the notes to a file.'" in lines
    assert "    TOOL SURFACE: tool removed: image" in lines
    at = lines.index("    TOOL SURFACE: echo description changed (an agent reads this):")
    assert lines[at + 1] == f"      description: 'Echo the text back.' != {DRIFTED_ECHO!r}"
    at = lines.index("    TOOL SURFACE: echo inputSchema changed")
    assert lines[at + 1] == '      inputSchema.properties.times: (missing) != {"default": 1, "title": "Times", "type": "integer"}'
    assert lines[-1].startswith("1 changed, 0 added, 0 removed")


def test_lint_warns_when_cassettes_of_one_folder_hold_different_tool_surfaces(recordings, project, capsys):
    # Given two cassettes of one module: one recorded before the server changed its tools, one after
    folder = project / CASSETTE.parent
    folder.mkdir(parents=True)
    shutil.copy(recordings["old"], folder / "test_agent.json")
    shutil.copy(recordings["new"], folder / "test_agent_again.json")
    # When lint checks the folder
    code, out, _ = run(capsys, "lint")
    # Then each change is a warning naming both files, the server and the tool; the description quoted
    old, new = "cassettes/tests/test_agent/test_agent.json", "cassettes/tests/test_agent/test_agent_again.json"
    head = f"{new}:{listing_line(recordings['new'])}: tool surface of http://127.0.0.1/mcp differs from {old}:"
    assert code == 0
    assert f"{head} tool added: export_notes: 'Export the notes to a file.'" in out
    assert f"{head} tool removed: image" in out
    assert (
        f"{head} echo description changed (an agent reads this):\n      description: 'Echo the text back.' != {DRIFTED_ECHO!r}"
        in out
    )
    assert f"{head} echo inputSchema changed\n      inputSchema.properties.times: (missing) != " in out
    assert out.splitlines()[-2] == "harness lint: 2 cassettes, 0 snapshot files checked: 4 tool-surface changes (warning)"
    # And --strict makes them fail
    code, _, _ = run(capsys, "lint", "--strict")
    assert code == 1


def test_lint_against_a_baseline_fails_on_a_tool_surface_change(recordings, project, capsys):
    # Given the project's cassette re-recorded after the server changed, and the old project as the baseline
    (project / CASSETTE).parent.mkdir(parents=True)
    shutil.copy(recordings["new"], project / CASSETTE)
    baseline = recordings["old"].parents[3]
    # When lint compares it with the baseline
    code, out, _ = run(capsys, "lint", "--against", str(baseline))
    # Then each change is an error (exit 1) naming the baseline's file
    head = (
        f"{CASSETTE}:{listing_line(recordings['new'])}: tool surface of http://127.0.0.1/mcp differs from {baseline / CASSETTE}:"
    )
    assert code == 1
    assert f"{head} tool removed: image" in out
    assert f"{head} echo description changed (an agent reads this):" in out
    assert out.splitlines()[-2] == "harness lint: 1 cassette, 0 snapshot files checked: 4 tool-surface changes"
    # And the same cassette against a baseline that holds the same surface is clean
    shutil.copy(recordings["old"], project / CASSETTE)
    code, out, _ = run(capsys, "lint", "--against", str(baseline))
    assert (code, out.splitlines()[-1]) == (0, "harness lint: 1 cassette, 0 snapshot files checked: no problems")


def test_lint_against_a_missing_folder_is_bad_usage(project, capsys):
    code, _, err = run(capsys, "lint", "--against", "nowhere")
    assert (code, err) == (2, "harness: --against: no such folder: nowhere\n")


def test_a_cassettes_surface_is_its_first_listing_with_its_pages(tmp_path):
    from harness.cassette.model import McpInteraction
    from harness.cli.surface import surfaces_of
    from tests.cli.helpers import write

    def listing(names, cursor=None, server="srv"):
        params = {"cursor": cursor} if cursor else {}
        return McpInteraction(server, "tools/list", params, result={"tools": [{"name": n} for n in names]})

    path = write(
        tmp_path / "c.json",
        [listing(["a"]), listing(["b"], cursor="2"), listing(["other"], server="srv2"), listing(["a", "b", "c"])],
    )
    found = {s.server: ([t["name"] for t in s.tools], s.line) for s in surfaces_of(path)}
    text = path.read_text(encoding="utf-8").splitlines()
    assert {k: v[0] for k, v in found.items()} == {"srv": ["a", "b"], "srv2": ["other"]}
    assert text[found["srv"][1] - 1] == '      "kind": "mcp",'
    assert surfaces_of(tmp_path / "missing.json") == []
