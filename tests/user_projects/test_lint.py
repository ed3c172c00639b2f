"""``harness lint`` finds every secret the recorder would have scrubbed (issue 12, items 22 and 23).

The placements of ``test_secrets.py`` are recorded with the redactor switched off (as a cassette
written by hand, or by an older version, would hold them), and lint must flag each one; vcrpy YAML
cassettes are scanned too, folders named env/build/dist are not skipped (only real virtualenvs),
a JSON body key named ``authorization`` is not a stored header, and a crash of lint has its own
exit status and names the file.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import harness.redact
from harness.cli import main
from tests.user_projects.test_secrets import CONFTEST, PLACEMENTS, inner_tests, leaks_of


def lint(project_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.chdir(project_path)
    status = main(["lint", *args])
    out = capsys.readouterr()
    return status, out.out + out.err


def flagged_lines(output: str) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for m in re.finditer(r"^(\S+?):(\d+): secret:", output, re.MULTILINE):
        found.setdefault(m.group(1), set()).add(int(m.group(2)))
    return found


def test_lint_flags_every_placement_of_a_secret_in_unscrubbed_files(project, monkeypatch, capsys):
    # Given the placements recorded with scrubbing off: cassettes and snapshots holding each secret
    init = harness.redact.Redactor.__init__

    def unscrubbed(self, headers=(), patterns=(), **kw):
        init(self, (), (), defaults=False)

    monkeypatch.setattr(harness.redact.Redactor, "__init__", unscrubbed)
    project.write({"conftest.py": CONFTEST, "tests/test_placements.py": inner_tests()})
    project.record("-p", "no:randomly", "--snapshot-update").assert_outcomes(passed=len(PLACEMENTS))
    monkeypatch.setattr(harness.redact.Redactor, "__init__", init)
    leaks = leaks_of(project.path)
    assert sorted(set(PLACEMENTS) - set(leaks)) == []

    # When lint checks the project
    status, output = lint(project.path, monkeypatch, capsys)

    # Then it fails, flagging each placement where it is (each file; the line holding it when it is whole)
    assert status == 1
    flagged = flagged_lines(output)
    missed = []
    for name, files in leaks.items():
        secret = PLACEMENTS[name][0]
        for file in files:
            lines = [n for n, line in enumerate((project.path / file).read_text("latin-1").split("\n"), 1) if secret in line]
            if lines:  # whole on a line: that line is flagged
                ok = bool(flagged.get(file, set()) & set(lines))
            else:  # split across a stream's events, or in a binary body: said so
                ok = bool(re.search(rf"^{re.escape(file)}:\d+: secret: a credential (spelt across|in the binary)", output, re.M))
            if not ok:
                missed.append(f"{name}: {file}")
    assert missed == [], f"lint missed {len(missed)} of {len(leaks)} placements:\n  " + "\n  ".join(missed) + "\n" + output


VCR = """
interactions:
- request:
    body: '{"model": "m"}'
    headers:
      x-api-key:
      - sk-ant-api03-vcrLEAKEDkey0000000000
      x-portkey-api-key:
      - pk9Hq3ZtW8xLm2Vb7Nc4
    method: POST
    uri: https://api.anthropic.com/v1/messages
  response:
    body:
      string: '{"ok": true}'
    headers: {}
    status:
      code: 200
      message: OK
version: 1
"""


def test_lint_scans_vcrpy_yaml_cassettes_and_folders_named_env_build_dist(tmp_path, monkeypatch, capsys):
    # Given a project migrating from pytest-recording, and cassettes in folders named env, build and dist
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "tests/cassettes/test_x").mkdir(parents=True)
    (tmp_path / "tests/cassettes/test_x/test_one.yaml").write_text(VCR)
    for folder in ("env", "build", "dist"):
        (tmp_path / folder / "cassettes").mkdir(parents=True)
        (tmp_path / folder / "cassettes/leak.yaml").write_text(VCR)
    # and a real virtualenv (pyvenv.cfg), which is skipped
    (tmp_path / "venv2/lib/cassettes").mkdir(parents=True)
    (tmp_path / "venv2/pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "venv2/lib/cassettes/vendored.yaml").write_text(VCR)

    # When lint runs with no arguments
    status, output = lint(tmp_path, monkeypatch, capsys)

    # Then every YAML cassette outside the virtualenv is flagged: the key and the gateway header
    assert status == 1, output
    flagged = flagged_lines(output)
    assert set(flagged) == {
        "tests/cassettes/test_x/test_one.yaml",
        "env/cassettes/leak.yaml",
        "build/cassettes/leak.yaml",
        "dist/cassettes/leak.yaml",
    }, output
    assert "x-portkey-api-key" in output
    # And an explicit YAML file is scanned too
    status, output = lint(tmp_path, monkeypatch, capsys, "venv2/lib/cassettes/vendored.yaml")
    assert status == 1 and "vendored.yaml:6: secret" in output, output


def _cassette(request_body: dict, headers: dict[str, str]) -> str:
    return json.dumps(
        {
            "harness_cassette": 1,
            "interactions": [
                {
                    "kind": "http",
                    "request": {
                        "method": "POST",
                        "url": "https://api.example.com/v1",
                        "headers": headers,
                        "body": {"json": request_body},
                    },
                    "response": {"status": 200, "headers": {}, "body": {"json": {"ok": True}}},
                }
            ],
        },
        indent=2,
    )


def test_a_json_body_key_named_authorization_holding_a_placeholder_is_not_a_stored_header(tmp_path, monkeypatch, capsys):
    # Given a cassette whose request body has a key "authorization" holding "<redacted>", and no credential header
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes/test_a.json").write_text(_cassette({"authorization": "<redacted>", "q": 1}, {"accept": "*/*"}))
    (tmp_path / "test_a.py").write_text("")

    # When lint checks it, then nothing is reported
    status, output = lint(tmp_path, monkeypatch, capsys)
    assert status == 0, output
    assert "secret" not in output


def test_a_stored_credential_header_is_still_reported(tmp_path, monkeypatch, capsys):
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes/test_a.json").write_text(_cassette({"q": 1}, {"x-auth-token": "opaque0value"}))
    (tmp_path / "test_a.py").write_text("")
    status, output = lint(tmp_path, monkeypatch, capsys)
    assert status == 1
    assert "credential header 'x-auth-token' is stored" in output


def test_a_crash_of_lint_has_its_own_status_and_names_the_file(tmp_path, monkeypatch, capsys):
    # Given a cassette, and lint failing on it for a reason of its own (a bug)
    (tmp_path / "cassettes").mkdir()
    (tmp_path / "cassettes/test_a.json").write_text(_cassette({"q": 1}, {}))
    (tmp_path / "test_a.py").write_text("")

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in lint")

    monkeypatch.setattr("harness.cli.lint.orphan_of", boom)

    # When lint runs, it exits 3 (not 1, a finding), naming the file and the error
    status, output = lint(tmp_path, monkeypatch, capsys)
    assert status == 3, output
    assert "cassettes/test_a.json" in output and "RuntimeError: a bug in lint" in output
