"""Helpers shared by the test files of several feature folders: the real SDK agents of
tests/agents_inner.py and small inner test modules that pytester sessions run."""

from __future__ import annotations

import re
from pathlib import Path

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
