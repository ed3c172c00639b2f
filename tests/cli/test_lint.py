"""``harness lint``: planted secrets in cassettes and snapshots, the cassette folder from the ini file, unused
cassettes, truncated and future files, orphans."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.cassette import format as fmt
from harness.cassette.model import Body, HttpInteraction, Request, Response, ToolInteraction
from tests.cli.helpers import (
    KEY,
    post,
    run,
    write,
)


def clean_cassette() -> list[Any]:
    return [
        HttpInteraction(
            post("/v1/messages", {"messages": [{"role": "user", "content": "hi"}]}),
            Response(200, {}, Body("json", {"ok": True})),
            elapsed_ms=1.0,
        )
    ]


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A project tree: one test module, its cassette, and a syrupy snapshot, all clean."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_agent.py").write_text("def test_x(): pass\n", encoding="utf-8")
    write(tmp_path / "cassettes" / "tests" / "test_agent" / "test_x.json", clean_cassette())
    snaps = tmp_path / "tests" / "__snapshots__"
    snaps.mkdir()
    (snaps / "test_agent.ambr").write_text("# serializer version: 1\n# name: test_x\n  'It is sunny.'\n# ---\n", encoding="utf-8")
    return tmp_path


def test_lint_passes_a_clean_tree(project, capsys):
    code, out, _ = run(capsys, "lint")
    assert (code, out) == (0, "harness lint: 1 cassette, 1 snapshot file checked: no problems\n")


def test_lint_finds_planted_keys(project, capsys):
    leak = HttpInteraction(
        Request(
            "POST",
            "https://api.anthropic.com/v1/messages",
            {"authorization": "Bearer x", "content-type": "application/json"},
            Body("json", {"note": f"key {KEY}"}),
        ),
        Response(200),
    )
    write(project / "cassettes" / "tests" / "test_agent" / "test_leak.json", [leak])
    (project / "tests" / "__snapshots__" / "test_agent.ambr").write_text(
        f"# name: test_x\n  dict({{\n    'key': '{KEY}',\n  }})\n# ---\n", encoding="utf-8"
    )

    code, out, _ = run(capsys, "lint")
    assert code == 1
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_leak.json:10: secret: credential header 'authorization' is stored",
        "cassettes/tests/test_agent/test_leak.json:15: secret: sk-ant-a… (49 chars) looks like a credential",
        "tests/__snapshots__/test_agent.ambr:3: secret: sk-ant-a… (49 chars) looks like a credential",
        "harness lint: 2 cassettes, 1 snapshot file checked: 3 secrets",
    ]
    assert KEY not in out


def test_lint_finds_query_string_google_and_jwt_secrets(project, capsys):
    # Given cassettes holding an API key in a URL's query string, a Google API key, and a JWT
    google = "AIza" + "Sy0-fake_Google_key_1234567890abcde"
    jwt = "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0." + "dBjftJeZ4CVPmB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    folder = project / "cassettes" / "tests" / "test_agent"
    write(
        folder / "test_url.json",
        [
            HttpInteraction(
                Request("GET", "https://maps.example.com/v1/geocode?q=Paris&api_key=live_51Hx9QfakeKEY123", {}), Response(200)
            )
        ],
    )
    write(folder / "test_google.json", [ToolInteraction("geocode", {"key": google}, result="ok")])
    write(folder / "test_jwt.json", [HttpInteraction(post("/v1/x", {"session": jwt}), Response(200))])
    # and a URL whose key the recorder already scrubbed, which is fine
    write(
        folder / "test_x.json",
        [HttpInteraction(Request("GET", "https://maps.example.com/v1/geocode?key=<REDACTED>", {}), Response(200))],
    )

    code, out, _ = run(capsys, "lint")

    # Then each is reported, masked, with its file and line
    assert code == 1
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_google.json:8: secret: AIzaSy0-… (39 chars) looks like a credential",
        "cassettes/tests/test_agent/test_jwt.json:14: secret: eyJhbGci… (91 chars) looks like a credential",
        "cassettes/tests/test_agent/test_url.json:8: secret: api_key=… (29 chars) looks like a credential",
        "harness lint: 4 cassettes, 1 snapshot file checked: 3 secrets",
    ]
    assert google not in out and jwt not in out and "live_51" not in out


def test_lint_reads_the_cassette_dir_from_the_ini_file(project, capsys):
    # Given a project whose cassettes live where pyproject says, with a key planted in one
    (project / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nharness_cassette_dir = "tests/recordings"\n', encoding="utf-8"
    )
    leak = [HttpInteraction(post("/v1/messages", {"note": f"key {KEY}"}), Response(200))]
    write(project / "tests" / "recordings" / "tests" / "test_agent" / "test_x.json", leak)

    # When lint runs from the project, or from a folder inside it
    code, out, _ = run(capsys, "lint")
    (project / "tests" / "sub").mkdir()
    os.chdir(project / "tests" / "sub")
    code_inside, out_inside, _ = run(capsys, "lint")

    # Then it checks that folder (and finds the key), and its module paths are rootdir-relative (no orphan)
    assert code == 1 and code_inside == 1
    assert out.splitlines() == [
        "tests/recordings/tests/test_agent/test_x.json:14: secret: sk-ant-a… (49 chars) looks like a credential",
        "harness lint: 1 cassette, 1 snapshot file checked: 1 secret",
    ]
    assert out_inside.splitlines()[0].startswith("../recordings/tests/test_agent/test_x.json:14: secret: sk-ant-a…")
    # and --cassette-dir still wins
    os.chdir(project)
    assert (
        run(capsys, "lint", "--cassette-dir", "cassettes")[1]
        == "harness lint: 1 cassette, 1 snapshot file checked: no problems\n"
    )


UNUSED_TESTS = """
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

def test_no_cassette():
    pass
"""


def test_lint_unused_finds_cassettes_no_collected_test_opens(project, capsys):
    # Given a test module whose tests (a parametrized one, a method, a shared cassette) have their
    # cassettes, and cassettes of tests that are gone: a renamed test, a removed parameter
    (project / "tests" / "test_agent.py").write_text(UNUSED_TESTS, encoding="utf-8")
    folder = project / "cassettes" / "tests" / "test_agent"
    for name in ("test_a", "test_b[1]", "test_b[2]", "TestC.test_d", "shared", "test_old_name", "test_b[3]"):
        write(folder / f"{name}.json", clean_cassette())
    folder.joinpath("test_x.json").unlink()

    # When lint runs with --unused (it collects the tests with pytest)
    code, out, _ = run(capsys, "lint", "--unused")

    # Then exactly the two stale cassettes are reported, as warnings
    assert out.splitlines() == [
        "cassettes/tests/test_agent/test_b[3].json:1: unused: no collected test of tests/test_agent.py (6 tests collected) opens it",
        "cassettes/tests/test_agent/test_old_name.json:1: unused: no collected test of tests/test_agent.py (6 tests collected) opens it",
        "harness lint: 7 cassettes, 1 snapshot file checked: 2 unused cassettes (warning)",
    ]
    assert code == 0
    assert run(capsys, "lint", "--unused", "--strict")[0] == 1
    # and without --unused, nothing is collected and nothing is said
    assert run(capsys, "lint")[1] == "harness lint: 7 cassettes, 1 snapshot file checked: no problems\n"


def test_lint_reports_truncated_and_future_files_and_orphans(project, capsys):
    good = fmt.dumps(clean_cassette())
    folder = project / "cassettes" / "tests" / "test_agent"
    cut = good[: len(good) // 2]
    (folder / "test_cut.json").write_text(cut, encoding="utf-8")
    (folder / "test_future.json").write_text(good.replace('"harness_cassette": 1', '"harness_cassette": 99'), encoding="utf-8")
    write(project / "cassettes" / "tests" / "test_gone" / "test_y.json", clean_cassette())

    code, out, _ = run(capsys, "lint")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"cassettes/tests/test_agent/test_cut.json:{cut.count(chr(10)) + 1}: unreadable: not valid JSON: ")
    assert lines[0].endswith("(the file looks truncated)")
    assert lines[1:] == [
        "cassettes/tests/test_agent/test_future.json:2: old or unknown format: format version 99 is not supported (this harness reads 1 and 2); "
        "it was written by a newer harness: upgrade harness (pip install -U pytest-agent-harness: the package index name of harness)",
        "cassettes/tests/test_gone/test_y.json:1: orphaned: its test module tests/test_gone.py does not exist",
        "harness lint: 4 cassettes, 1 snapshot file checked: 1 unreadable file, 1 old/unknown format, 1 orphaned cassette (warning)",
        "  (orphaned = the test module file is missing; cassettes shared by name through the marker may be false alarms)",
    ]


def test_lint_orphans_are_warnings_unless_strict(project, capsys):
    write(project / "cassettes" / "tests" / "test_gone" / "test_y.json", clean_cassette())
    assert run(capsys, "lint")[0] == 0
    assert run(capsys, "lint", "--strict")[0] == 1
    code, out, _ = run(capsys, "lint", "cassettes/tests/test_agent")  # explicit paths
    assert (code, out) == (0, "harness lint: 1 cassette, 0 snapshot files checked: no problems\n")
