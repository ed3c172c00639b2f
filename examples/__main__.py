"""``python -m examples`` (``bash run demo``): harness doing its main job, offline.

1. Replay every example agent loop from its committed cassette (no server, no network, no key).
2. Show what three of those runs did, as ``harness show`` tells it: a tool-runner agent, the Jira
   agent (chat completions over an MCP server), an Assistants run; and one line for each other one.
3. Edit a prompt in a copy of an example and replay it: the prompt regression is caught, with the
   request diff and the command that re-records.

``python -m examples --all`` shows every cassette in full; other arguments go to pytest.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes" / "examples"
SHOWN = (
    "weather_agent/test_weather_agent/test_weather_agent.json",
    "jira_agent/test_jira_agent/test_jira_agent.json",
    "openai_assistants/test_openai_assistants/test_assistant_run.json",
)


def _title(text: str) -> None:
    print(f"\n== {text}\n", flush=True)


def _show(path: Path, *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "harness.cli", "show", str(path.relative_to(ROOT)), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return run.stdout + run.stderr


def replay(pytest_args: list[str]) -> int:
    _title("1. Replaying the example agent loops from cassettes/examples/ (no server, no network, no API key)")
    cmd = [sys.executable, "-m", "pytest", "examples", "-v", "--record-mode=none", "-p", "no:cacheprovider", *pytest_args]
    return subprocess.call(cmd, cwd=ROOT)


def show(everything: bool) -> None:
    paths = sorted(CASSETTES.rglob("*.json"))
    full = paths if everything else [CASSETTES / p for p in SHOWN]
    for path in full:
        _title(f"2. harness show {path.relative_to(ROOT)}")
        print(_show(path), end="", flush=True)
    rest = [p for p in paths if p not in full]
    if rest:
        _title("   the other cassettes (harness show PATH for the whole run; python -m examples --all shows them all)")
        for path in rest:
            print("  " + _show(path).splitlines()[0].replace(str(ROOT) + os.sep, ""), flush=True)


def prompt_regression() -> int:
    """Copy the weather example, change its question, replay: the miss report is what a reviewer sees."""
    _title("3. A prompt changes: replaying the weather agent with 'Paris' edited to 'Rome'")
    with tempfile.TemporaryDirectory(prefix="harness-demo-") as tmp:
        work = Path(tmp)
        (work / "examples").mkdir()
        for name in ("__init__.py", "conftest.py"):
            shutil.copy(ROOT / "examples" / name, work / "examples" / name)
        shutil.copytree(
            ROOT / "examples" / "weather_agent", work / "examples" / "weather_agent", ignore=shutil.ignore_patterns("__pycache__")
        )
        shutil.copytree(CASSETTES / "weather_agent", work / "cassettes" / "examples" / "weather_agent")
        (work / "pyproject.toml").write_text(
            "[tool.pytest.ini_options]\naddopts = ['-p', 'no:cacheprovider', '-p', 'no:cassetter']\nasyncio_default_fixture_loop_scope = 'function'\n"
        )
        test = work / "examples" / "weather_agent" / "test_weather_agent.py"
        test.write_text(test.read_text(encoding="utf-8").replace("weather in Paris?", "weather in Rome?"), encoding="utf-8")
        print("$ sed -i 's/weather in Paris?/weather in Rome?/' examples/weather_agent/test_weather_agent.py")
        print("$ pytest examples/weather_agent\n", flush=True)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("MODEL_URL", None)
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "examples/weather_agent", "-q", "--tb=line", "-p", "no:randomly"],
            cwd=work,
            capture_output=True,
            text=True,
            env=env,
        )
        out = run.stdout + run.stderr
        # The report as pytest prints it, from its headline to the last way to fix it.
        report = re.search(r"^E\s+harness\.errors\.CassetteMiss: .*?\n[^\n]*2\. If a field[^\n]*", out, re.M | re.S)
        print(report.group(0) if report else out.rstrip())
        summary = [line for line in out.splitlines() if re.match(r"^\d+ (failed|passed)", line) or line.startswith("harness: ")]
        print("\n" + "\n".join(summary))
        caught = run.returncode == 1 and report is not None
        print(
            "\nCaught offline, before any model was called; to accept the change, re-record with the command above."
            if caught
            else "\nUNEXPECTED: the edited prompt was not caught."
        )
        return 0 if caught else 1


def main(argv: list[str]) -> int:
    everything = "--all" in argv
    status = replay([a for a in argv if a != "--all"])
    show(everything)
    return status or prompt_regression()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
