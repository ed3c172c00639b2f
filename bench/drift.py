"""`harness drift` speed on cassettes/examples: cold (a fresh process: SDK imports, model builds) and warm.

Run from the repository root: ``python -m bench.drift``.
"""

from __future__ import annotations

import importlib
import statistics
import subprocess
import sys
import time
from pathlib import Path

SDK_MODULES = ("anthropic.types", "anthropic.types.beta", "openai.types.chat", "openai.types.responses", "openai.types.beta")


def main() -> None:
    files = sorted(Path("cassettes/examples").rglob("*.json"))
    cold = []
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "harness.cli", "drift", "cassettes/examples"], capture_output=True, check=False)
        cold.append(time.perf_counter() - start)
    start = time.perf_counter()
    from harness.drift import check_file

    for name in SDK_MODULES:
        importlib.import_module(name)
    imports = time.perf_counter() - start
    start = time.perf_counter()
    for path in files:
        check_file(path)
    first = time.perf_counter() - start
    runs, events, bodies = [], 0, 0
    for _ in range(7):
        start, events, bodies = time.perf_counter(), 0, 0
        for path in files:
            drift = check_file(path)
            events, bodies = events + drift.events, bodies + drift.bodies
        runs.append(time.perf_counter() - start)
    warm = statistics.median(runs)
    print(f"{len(files)} cassettes, {bodies} bodies, {events} events")
    print(f"cold command (median of 3 processes): {statistics.median(cold):.2f} s")
    print(f"  of which SDK imports {imports:.2f} s, first pass (pydantic builds the models) {first:.2f} s")
    print(
        f"warm check (median of 7): {warm * 1000:.1f} ms = {len(files) / warm:.0f} files/s, {events / warm:.0f} events/s, "
        f"{(events + bodies) / warm:.0f} bodies+events/s"
    )


if __name__ == "__main__":
    main()
