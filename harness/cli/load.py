"""Reading cassettes for the ``harness`` command: a cassette file, one interaction as JSON or as a title, files under a folder."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.cli.style import CliError, short

SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})


def load_cassette(path: Path) -> list[Any]:
    """The interactions of a cassette file; a missing or bad file is a short report."""
    from harness.cassette import format as cassette_format

    if not path.exists():
        raise CliError(f"no such cassette: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a cassette file")
    return cassette_format.load(path)


def as_json(item: Any) -> dict[str, Any]:
    """An interaction as its cassette JSON (without timings where the kind can drop them)."""
    from harness.cassette import format as cassette_format

    timeless = getattr(item, "timeless", None)
    if callable(timeless):
        item = timeless()
    data: dict[str, Any] = json.loads(cassette_format.dumps([item]))["interactions"][0]
    data.pop("kind", None)
    return data


def title(item: Any) -> str:
    """One line naming an interaction: ``POST /v1/messages``, ``tool get_weather({...})``."""
    request = getattr(item, "request", None)
    if item.kind == "http" and request is not None:
        return f"{request.method} {request.path}"
    describe = getattr(item, "describe", None)
    if callable(describe):
        return str(describe())
    return f"{item.kind} {short(as_json(item), 100)}"


def walk(root: Path) -> Iterator[Path]:
    """The files under ``root``, in order, skipping hidden and tool folders."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            yield Path(folder) / name
