"""Stream fuzzing throughput: variants of a 1,000-event stream replayed per second.

    python bench/bench_fuzz.py [--events 1000] [--examples 200] [--runs 5]

A recorded Anthropic Messages stream of 1,000 SSE events (text deltas of multi-byte words) is
replayed through the real ``anthropic`` SDK (``messages.stream(...).get_final_message()``), once per
generated variant, and compared with the recording's final message, the way
``harness.strategies.assert_equivalent`` does. Printed: the median over ``--runs`` of

* end to end: hypothesis generating the variants + substituting each + the SDK replaying it + the
  comparison (``hs.assert_equivalent``);
* replay only, per kind: the same, for variants generated beforehand (re-chunked, re-split,
  faults), so generation and replay costs can be told apart;
* replay only, bytes: the seam alone, the variants' bytes read with ``httpx2`` (no SDK parsing);
* generation only: hypothesis drawing variants, no replay.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
from hypothesis import Phase

import harness.strategies as hs
from harness.cassette import format as fmt
from harness.config import Settings
from harness.fuzz import samples
from harness.fuzz.properties import comparable
from harness.session import Session

NOWHERE = "http://127.0.0.1:9"


def replay_once(client: anthropic.Anthropic, body: dict[str, Any]) -> Any:
    with client.messages.stream(**body) as stream:
        return stream.get_final_message()


def median_rate(runs: int, count: int, fn: Callable[[], None]) -> tuple[float, float]:
    """(median variants per second, median seconds per run) over ``runs`` runs of ``count`` variants."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return count / med, med


def draw(strategy: Any, count: int) -> list[hs.Variant]:
    out: list[hs.Variant] = []
    hs.run_examples(strategy, out.append, key="bench", name="draw", max_examples=count, database=None, phases=[Phase.generate])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)

    recorded = samples.long_stream(args.events)
    body = {k: v for k, v in recorded.request.body.value.items() if k != "stream"}
    folder = Path(tempfile.mkdtemp(prefix="harness-bench-fuzz-"))
    path = folder / "long_stream.json"
    path.write_text(fmt.dumps([recorded]), encoding="utf-8")
    n_events = len(recorded.response.body.value)  # type: ignore[union-attr]
    size = len(recorded.response.body.bytes())  # type: ignore[union-attr]
    print(f"stream: {n_events} SSE events, {size:,} bytes; anthropic {anthropic.__version__}; median of {args.runs} runs")

    session = Session(Settings(record_mode="none"), path, "bench/bench_fuzz.py::long_stream")
    session.start()
    try:
        client = anthropic.Anthropic(api_key="sk-ant-bench", base_url=NOWHERE, max_retries=0)
        run = lambda: replay_once(client, body)  # noqa: E731
        expected = comparable(run())

        def plain() -> None:
            for _ in range(20):
                session.replay_from_start()
                run()

        rate, _ = median_rate(args.runs, 20, plain)
        print(f"  {'plain replay (no fuzzing)':44s} {rate:8.1f} replays/s")

        def end_to_end() -> None:
            hs.assert_equivalent(run, hs.equivalent(), max_examples=args.examples, database=None, timeout=None)

        rate, med = median_rate(args.runs, args.examples + 1, end_to_end)
        print(f"  {'end to end: hs.assert_equivalent':44s} {rate:8.1f} variants/s   ({args.examples} variants in {med:.2f} s)")

        for label, strategy in [
            ("replay only: rechunked", hs.rechunked()),
            ("replay only: resplit", hs.resplit()),
            ("replay only: equivalent (both)", hs.equivalent()),
            ("replay only: faults", hs.faults(kinds=("truncate", "drop", "error_event", "read_timeout"))),
        ]:
            variants = draw(strategy, args.examples)

            def replay_all(variants: list[hs.Variant] = variants) -> None:
                for v in variants:
                    with hs.substitute(v, session):
                        try:
                            got = run()
                        except Exception:
                            continue
                    if v.preserving:
                        assert comparable(got) == expected, v

            rate, med = median_rate(args.runs, len(variants), replay_all)
            print(f"  {label:44s} {rate:8.1f} variants/s   ({len(variants)} variants in {med:.2f} s)")

        import httpx2

        variants = draw(hs.equivalent(), args.examples)

        def raw_bytes(variants: list[hs.Variant] = variants) -> None:
            with httpx2.Client() as http:
                for v in variants:
                    with hs.substitute(v, session):
                        with http.stream("POST", NOWHERE + "/v1/messages", json=recorded.request.body.value) as response:
                            for _ in response.iter_bytes():
                                pass

        rate, med = median_rate(args.runs, len(variants), raw_bytes)
        print(
            f"  {'replay only, equivalent, bytes (no SDK)':44s} {rate:8.1f} variants/s   ({len(variants)} variants in {med:.2f} s)"
        )

        def generate() -> None:
            draw(hs.equivalent(), args.examples)

        rate, _ = median_rate(args.runs, args.examples, generate)
        print(f"  {'generation only: hs.equivalent()':44s} {rate:8.1f} variants/s")
    finally:
        session.stop()


if __name__ == "__main__":
    main()
