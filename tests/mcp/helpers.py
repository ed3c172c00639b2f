"""Helpers of the MCP tests: the repository's root, the process's children, a recorded cassette's MCP calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_cassette

ROOT = Path(__file__).resolve().parents[2]


def children() -> set[int]:
    pids: set[int] = set()
    for task in Path("/proc/self/task").iterdir():
        try:
            pids.update(int(p) for p in (task / "children").read_text().split())
        except OSError:
            pass
    return pids


def cassettes(pytester: pytest.Pytester) -> dict[str, Path]:
    return {p.stem: p for p in (pytester.path / "cassettes").rglob("*.json")}


def interactions(path: Path) -> list[dict[str, Any]]:
    return load_cassette(path)["interactions"]


def calls(items: list[dict[str, Any]], tool: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("request") == "tools/call" and i["params"]["name"] == tool]
