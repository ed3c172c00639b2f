"""Which cassettes the collected tests open, which ran, and which files no test opens.

A cassette file is unused when no collected test would open it. That can only be said of a test
module whose every test was collected and run in this session (no -k/-m/--deselect/--lf, no
node id selection, no early stop): each such module's cassette folder is listed at the end and
its files that no test's cassette path names are counted. Paths come from collection, not from
the tests that ran, so a skipped or failing test still keeps its cassette. Under xdist every
worker collects the whole suite and runs part of it: the controller adds up what they ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class Usage:
    """What this session collected (per test module) and ran, for the unused-cassette count."""

    def __init__(self) -> None:
        #: module nodeid part -> {"folder": its cassette folder, "items": its collected node ids}
        self.modules: dict[str, dict[str, Any]] = {}
        #: cassette files the collected tests would open
        self.expected: set[str] = set()
        self.ran: set[str] = set()
        self.partial: set[str] = set()  # modules not collected or run whole
        self.partial_paths: set[Path] = set()  # module files named with ::node ids on the command line

    def to_json(self) -> dict[str, Any]:
        return {
            "modules": {m: {"folder": d["folder"], "items": sorted(d["items"])} for m, d in self.modules.items()},
            "expected": sorted(self.expected),
            "ran": sorted(self.ran),
            "partial": sorted(self.partial),
        }

    def merge(self, data: dict[str, Any]) -> None:
        for module, d in data.get("modules", {}).items():
            mine = self.modules.setdefault(module, {"folder": d["folder"], "items": set()})
            mine["items"].update(d["items"])
        self.expected.update(data.get("expected", ()))
        self.ran.update(data.get("ran", ()))
        self.partial.update(data.get("partial", ()))

    def unused(self, *, ran: bool = True) -> list[tuple[Path, str]]:
        """(cassette file, its test module) for the files in the folder of a module collected whole
        that no collected test opens; ``ran``: only modules whose tests all ran (a session's end;
        ``harness lint --unused`` only collects)."""
        found: list[tuple[Path, str]] = []
        for module, d in sorted(self.modules.items()):
            if module in self.partial or (ran and not d["items"] <= self.ran):
                continue
            folder = Path(d["folder"])
            if folder.is_dir():
                found += [(p, module) for p in sorted(folder.glob("*.json")) if p.is_file() and str(p) not in self.expected]
        return found
