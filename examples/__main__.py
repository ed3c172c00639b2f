"""``python -m examples`` (``bash run demo``): replay every example agent loop from its committed
cassette, offline, then show what each run did, as harness sees it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    print("== Replaying the example agent loops from cassettes/examples/ (no server, no network)\n", flush=True)
    status = subprocess.call(
        [sys.executable, "-m", "pytest", "examples", "-v", "--record-mode=none", "-p", "no:cacheprovider", *argv],
        cwd=ROOT,
    )
    for path in sorted((ROOT / "cassettes" / "examples").rglob("*.json")):
        print(f"\n== harness show {path.relative_to(ROOT)}\n", flush=True)
        subprocess.call([sys.executable, "-m", "harness.cli", "show", str(path)], cwd=ROOT)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
