"""The command itself: colour only on a tty (NO_COLOR, FORCE_COLOR), bad input as a short report, and
``python -m harness.cli`` run for real."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.cli.helpers import (
    ROOT,
    run,
)


def test_colour_only_on_a_tty_without_no_color(monkeypatch):
    from harness.cli import color_enabled

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert color_enabled(None, Tty()) is True
    assert color_enabled(None, object()) is False
    assert color_enabled(False, Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_enabled(None, Tty()) is False
    assert color_enabled(True, object()) is True  # --color forces it
    # FORCE_COLOR colours a pipe too; NO_COLOR and --no-color still win; FORCE_COLOR=0 forces nothing
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_enabled(None, object()) is True
    assert color_enabled(False, Tty()) is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert color_enabled(None, object()) is False
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "0")
    assert color_enabled(None, object()) is False


def test_force_color_paints_show_into_a_pipe(recorded):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    shown = subprocess.run(
        [sys.executable, "-m", "harness.cli", "show", str(recorded["Paris"])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**env, "FORCE_COLOR": "1"},
        check=False,
    )
    assert shown.returncode == 0 and "\x1b[1m#0 POST /v1/messages\x1b[0m" in shown.stdout


def test_bad_input_is_a_short_report(tmp_path, capsys):
    code, out, err = run(capsys, "show", str(tmp_path / "missing.json"))
    assert (code, out) == (2, "")
    assert err == f"harness: no such cassette: {tmp_path / 'missing.json'}\n"

    bad = tmp_path / "bad.json"
    bad.write_text('{"harness_cassette": 1, "interactions": [', encoding="utf-8")
    code, out, err = run(capsys, "show", str(bad))
    assert code == 2
    assert err.splitlines() == [
        f"harness: cannot read cassette {bad}",
        "  not valid JSON: Expecting value at line 1, column 42 (the file looks truncated)",
    ]
    assert "Traceback" not in err


# --------------------------------------------------------------------------------------------------- the real command


def test_python_m_harness_cli(recorded):
    command = [sys.executable, "-m", "harness.cli"]
    shown = subprocess.run(
        [*command, "show", str(recorded["Paris"])],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert '  tool call    get_weather {"city": "Paris"}  [toolu_01]' in shown.stdout
    differs = subprocess.run(
        [*command, "diff", str(recorded["Paris"]), str(recorded["Lyon"])], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert differs.returncode == 1
    usage = subprocess.run([*command, "show"], capture_output=True, text=True, cwd=ROOT, check=False)
    assert usage.returncode == 2 and "the following arguments are required: CASSETTE" in usage.stderr
