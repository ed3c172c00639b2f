"""Cold whole-test replay with the SDK's default client: what a user's test costs with harness, against the same
test with a hand-made ``httpx2.MockTransport`` fixture.

Both cases build everything afresh every round, the way a test does:

- ``twin``: an ``httpx2.Client(transport=httpx2.MockTransport(handler))`` answering with the recorded bytes, in
  the recorded chunks (the bytes held in memory: the cheapest fixture a user can write), handed to
  ``anthropic.Anthropic(base_url=..., api_key=..., max_retries=0, http_client=...)``.
- ``harness``: from the start of the test's set-up (the cassette file loaded, the seams installed) to the final
  message, through ``anthropic.Anthropic(base_url=..., api_key=..., max_retries=0)`` and the default HTTP client
  it builds. Stopping the session (the test's teardown) is not timed.

Then ``messages.stream(...).get_final_message()``. Timed in CPU time, interleaved round by round.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row, interleaved, last_samples, paired_ratio
from bench.replay import PROMPT, _Parts, prepare

KEY = "sk-ant-bench-key-000000"
TARGET = {100: 1.05, 10_000: 1.03}
#: Seconds of measuring per stream size (a full run; --quick takes a quarter), at least 3 rounds.
BUDGET = {100: 10, 10_000: 40}


def cases(ex: streams.Exchange, path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    import anthropic
    import httpx2

    from harness.config import Settings
    from harness.session import Session

    args: Any = {"model": "claude-opus-4-7", "max_tokens": 1024, "messages": [{"role": "user", "content": PROMPT}]}

    def final(client: Any) -> Any:
        with client.messages.stream(**args) as stream:
            return stream.get_final_message()

    def handler(request: Any) -> Any:
        request.read()
        return httpx2.Response(ex.status, headers=ex.headers, stream=_Parts.make(ex.parts))

    def twin(_: Any) -> Any:
        http = httpx2.Client(transport=httpx2.MockTransport(handler))
        return final(anthropic.Anthropic(base_url=streams.ANTHROPIC_URL, api_key=KEY, max_retries=0, http_client=http))

    def harness(held: list[Any]) -> Any:
        session = Session(Settings(record_mode="none"), path, "bench::cold")
        held.append(session)
        session.start()
        return final(anthropic.Anthropic(base_url=streams.ANTHROPIC_URL, api_key=KEY, max_retries=0))

    def stop(held: list[Any]) -> None:
        for session in held:
            session.stop()
            session.check()

    run = {"twin": twin, "harness": harness}
    setup: dict[str, Callable[[], Any]] = {"twin": lambda: None, "harness": list}
    return run, setup, {"harness": stop}


def run(quick: bool = False, sizes: tuple[int, ...] = (100, 10_000), log: Callable[[str], None] = print) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for n in sizes:
            ex, paths = prepare("anthropic", n, Path(tmp))
            run_cases, setup, teardown = cases(ex, paths["harness"])
            load_before = os.getloadavg()[0]
            t = interleaved(run_cases, 400, setup=setup, teardown=teardown, budget=BUDGET[n] / (4 if quick else 1))
            rounds = len(last_samples["twin"])
            ratio = paired_ratio("harness", "twin")
            row = Row("cold", f"anthropic stream, {n:,} events", "twin", t["twin"], dict(t))
            row.ratios = {"harness": ratio}
            row.target = f"harness <= {TARGET[n]:.2f} x"
            row.ok = ratio <= TARGET[n]
            row.note = (
                f"harness adds {(ratio - 1) * t['twin'] * 1e3:+.2f} ms per test (median of paired rounds); {rounds} rounds; "
                f"load average {load_before:.1f} -> {os.getloadavg()[0]:.1f} (2 cores)"
            )
            log(f"  cold anthropic {n:>6}: twin {t['twin'] * 1e3:.2f} ms, harness {t['harness'] * 1e3:.2f} ms = x{ratio:.3f}")
            rows.append(row)
    return rows


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
