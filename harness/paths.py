"""A test's cassette path: ``<cassette_dir>/<module path>/<Class.test_name[param]>.json``, or the marker's."""

from __future__ import annotations

import re
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.\-\[\]=,+]+")


def default_path(cassette_dir: Path, module_path: str, test_name: str) -> Path:
    """``<cassette_dir>/<module path without .py>/<Class.test_name[param]>.json``."""
    module = Path(module_path)
    stem = module.with_suffix("") if module.suffix == ".py" else module
    name = _UNSAFE.sub("_", test_name).strip("_") or "test"
    return cassette_dir / stem / f"{name[:200]}.json"


def split_nodeid(nodeid: str) -> tuple[str, str]:
    module, _, rest = nodeid.partition("::")
    return module, rest.replace("::", ".")


def path_for(nodeid: str, folder: Path, name: str | None) -> Path:
    module, test = split_nodeid(nodeid)
    path = default_path(folder, module, test)
    if name:
        # A bare name shares a cassette within the module's folder; a path is relative to the cassette dir.
        path = path.with_name(name) if "/" not in name else folder / name
        path = path if path.suffix else path.with_suffix(".json")
    return path
