"""Helpers shared by the test files of several feature folders: the real SDK agents of
tests/agents_inner.py, small inner test modules that pytester sessions run, and the session's summary line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

INNER = Path(__file__).with_name("agents_inner.py").read_text(encoding="utf-8")
N_INNER = len(re.findall(r"^def test_", INNER, re.M)) + 1  # one test is parametrized twice


def cassette_files(pytester: pytest.Pytester) -> dict[str, Path]:
    return {p.stem: p for p in (pytester.path / "cassettes").rglob("*.json")}


MISS_TEST = """
import os, time, anthropic, pytest

@pytest.mark.cassette
def test_weather():
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
    start = time.perf_counter()
    try:
        msg = client.messages.create(model="m", max_tokens=10,
                                     messages=[{"role": "user", "content": os.environ["QUESTION"]}])
    finally:
        print(f"ELAPSED={time.perf_counter() - start:.3f}")
    assert msg.content
"""


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


def _summary(result: pytest.RunResult) -> str:
    lines = [line for line in result.outlines if line.startswith("harness: ")]
    assert len(lines) == 1, result.outlines[-20:]
    return lines[0]
