"""``harness lint``'s tool-surface check: an MCP server's tool list changing between recordings.

A cassette's **tool surface** for a server is the tool list its first ``tools/list`` answer from that
server holds (pages joined: a ``tools/list`` with a ``cursor`` continues the one before it). Surfaces
are keyed by the server's label (``http://127.0.0.1/mcp``, ``python server.py``). Each checked
cassette's surface is compared with the **reference** surface of its server: the one most cassettes of
the reference set hold (among equals, the first file in path order). The reference set is the checked
cassettes themselves (plain ``lint``: the cassettes disagree, so some were recorded against a tool list
the server no longer has) or the cassettes of an older copy of the project (``lint --against OLD``).
The changes are :func:`harness.cli.diff.tool_surface`'s: a tool added, removed, its description (how a
tool can redirect an agent), schemas, title or annotations changed.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cli.diff import tool_surface
from harness.cli.style import obj


@dataclass
class Surface:
    path: str  #: the cassette, as lint shows it
    line: int  #: the line of the ``tools/list`` interaction in the file
    server: str
    tools: list[Any] = field(default_factory=list)

    def key(self) -> str:
        """The surface as one canonical text (tools by name): equal keys, equal surfaces."""
        by_name = sorted(self.tools, key=lambda t: str(obj(t).get("name")))
        return json.dumps(by_name, sort_keys=True, ensure_ascii=False)


def _listing(item: Any) -> list[Any] | None:
    if not (isinstance(item, dict) and item.get("kind") == "mcp" and item.get("request") == "tools/list"):
        return None
    tools = obj(item.get("result")).get("tools")
    return tools if isinstance(tools, list) else None


def surfaces_of(path: Path) -> list[Surface]:
    """The tool surface of each MCP server a cassette lists the tools of (none for a file that is not
    a readable cassette: lint reports those on their own)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if b'"tools/list"' not in data:
        return []
    try:
        doc = json.loads(data)
    except ValueError:
        return []
    items = doc.get("interactions") if isinstance(doc, dict) else None
    text = data.decode("utf-8", "replace")
    starts = [m.start() for m in re.finditer(r'^ {6}"kind": ', text, re.MULTILINE)]
    found: dict[str, Surface] = {}
    closed: set[str] = set()
    for n, item in enumerate(items if isinstance(items, list) else []):
        tools = _listing(item)
        server = str(item.get("server")) if tools is not None else ""
        if tools is None or server in closed:
            continue
        if server in found and not obj(item.get("params")).get("cursor"):
            closed.add(server)  # a second listing (after a list_changed): the first one is the surface
            continue
        line = text.count("\n", 0, starts[n]) + 1 if n < len(starts) else 1
        found.setdefault(server, Surface(os.path.normpath(path), line, server)).tools.extend(tools)
    return list(found.values())


def references(surfaces: list[Surface]) -> dict[str, Surface]:
    """Each server's reference surface: the one most of ``surfaces`` hold; among equals, the first
    file in path order."""
    by_server: dict[str, dict[str, list[Surface]]] = {}
    for s in sorted(surfaces, key=lambda s: s.path):
        by_server.setdefault(s.server, {}).setdefault(s.key(), []).append(s)
    # max() keeps the first of equal counts: groups are in the order of their first file.
    return {server: max(groups.values(), key=len)[0] for server, groups in by_server.items()}


def changes(a: list[Any], b: list[Any]) -> list[str]:
    """:func:`tool_surface`'s lines, one text per change (its detail lines under it)."""
    out: list[str] = []
    for line in tool_surface(a, b):
        if line.startswith("TOOL SURFACE: "):
            out.append(line.removeprefix("TOOL SURFACE: "))
        elif out:
            out[-1] += f"\n    {line}"
    return out


def drift(checked: list[Surface], reference_set: list[Surface]) -> list[tuple[str, int, str]]:
    """``(path, line, what)`` for each change of a checked cassette's surface against its server's
    reference surface in ``reference_set``; a server the reference set never lists is not judged."""
    refs = references(reference_set)
    out = []
    for s in checked:
        ref = refs.get(s.server)
        if ref is None or ref.path == s.path:
            continue
        out += [(s.path, s.line, f"tool surface of {s.server} differs from {ref.path}: {c}") for c in changes(ref.tools, s.tools)]
    return out
