"""A test's cassette path: ``<cassette_dir>/<module path>/<Class.test_name[param]>.json``, or the marker's.

A test name becomes a file name as it is when it is safe: letters, digits and ``_.-[]=,+``. When
making it safe loses something (other characters replaced, a long name cut, a key-shaped string
taken out), a short hash of the whole name follows it, so that two tests whose ids differ only
there (``[Is it sunny?]`` / ``[Is it sunny!]``) never share a file. A string shaped like a
credential (an API key given as a test parameter) never reaches a file name.
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

from harness.redact import REDACTED, Redactor

_UNSAFE = re.compile(r"[^\w.\-\[\]=,+]+")
_MAX = 200

#: Besides what :mod:`harness.redact` scrubs (its one secret catalogue): any run of 32 or more
#: letters and digits holding both, as tokens do.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])(?=[A-Za-z]*[0-9])(?=[0-9]*[A-Za-z])[A-Za-z0-9]{32,}")


@functools.cache
def _redactor() -> Redactor:
    return Redactor()


def safe_name(test_name: str) -> str:
    """The file name (without ``.json``) of a test named ``test_name`` (``Class.test[param]``)."""
    name = _TOKEN.sub("redacted", _redactor().text(test_name).replace(REDACTED, "redacted"))
    name = _UNSAFE.sub("_", name).strip("_") or "test"
    if name == test_name and len(name) <= _MAX:
        return name
    digest = hashlib.sha256(test_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{name[:_MAX]}-{digest}"


def default_path(cassette_dir: Path, module_path: str, test_name: str) -> Path:
    """``<cassette_dir>/<module path without .py>/<Class.test_name[param]>.json``."""
    module = Path(module_path)
    stem = module.with_suffix("") if module.suffix == ".py" else module
    return cassette_dir / stem / f"{safe_name(test_name)}.json"


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
