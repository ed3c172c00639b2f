"""Where cassettes live, and writing them so that nothing is ever half-written or lost."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

_UNSAFE = re.compile(r"[^\w.\-\[\]=,+]+")


def default_path(cassette_dir: Path, module_path: str, test_name: str) -> Path:
    """``<cassette_dir>/<module path without .py>/<Class.test_name[param]>.json``."""
    module = Path(module_path)
    stem = module.with_suffix("") if module.suffix == ".py" else module
    name = _UNSAFE.sub("_", test_name).strip("_") or "test"
    return cassette_dir / stem / f"{name[:200]}.json"


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file in the same folder + ``os.replace``).

    A process killed mid-write leaves the previous file intact and, at worst, a stray ``.tmp`` file.
    Writers racing on one path (xdist workers) each replace the file whole; the last one wins.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
