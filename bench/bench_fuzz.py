"""Stream fuzzing throughput: variants of a 1,000-event stream replayed per second, against plain replays.

    python -m bench --only fuzz [--quick]          # one row of the results table
    python bench/bench_fuzz.py [--events 1000] [--examples 20] [--rounds 5]   # the same, more detail

A recorded Anthropic Messages stream of 1,000 SSE events (text deltas of multi-byte words) is
replayed through the real ``anthropic`` SDK (``messages.stream(...).get_final_message()``). The
baseline is plain replay: the cassette replayed as recorded, ``--examples`` times. Measured in the
same rounds, interleaved with it (CPU time, medians of rounds; the ratio is the median of the
per-round ratios):

* end to end: ``hs.assert_equivalent(run, hs.equivalent())`` with ``--examples`` variants, that is
  hypothesis generating each variant, substituting it, the SDK replaying it, the comparison with
  the recording's result (plus the one replay of the recording itself);
* replay only, per kind: the same for variants drawn beforehand (re-chunked, re-split, faults), so
  generation and replay costs can be told apart.

The figure: variants per second / plain replays per second (1.0: a variant costs what a replay does).
"""

from __future__ import annotations

import argparse
import tempfile
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

try:  # run as ``python -m bench`` or as ``python bench/bench_fuzz.py``
    from bench.common import Row, interleaved, last_samples, paired_ratio
except ImportError:  # pragma: no cover
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.common import Row, interleaved, last_samples, paired_ratio

NOWHERE = "http://127.0.0.1:9"
TARGET = 0.8  # generating, substituting and comparing a variant adds at most a quarter to its replay
KINDS: dict[str, Callable[[], Any]] = {
    "rechunked": lambda: hs.rechunked(),
    "resplit": lambda: hs.resplit(),
    "faults": lambda: hs.faults(),
}


def draw(strategy: Any, count: int) -> list[hs.Variant]:
    out: list[hs.Variant] = []
    hs.run_examples(strategy, out.append, key="bench", name="draw", max_examples=count, database=None, phases=[Phase.generate])
    return out


def measure(n_events: int, examples: int, rounds: int, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Seconds per replay, per case (medians of interleaved rounds), and the paired ratios."""
    recorded = samples.long_stream(n_events)
    body = {k: v for k, v in recorded.request.body.value.items() if k != "stream"}
    n = len(recorded.response.body.value)  # type: ignore[union-attr]
    size = len(recorded.response.body.bytes())  # type: ignore[union-attr]
    with tempfile.TemporaryDirectory(prefix="harness-bench-fuzz-") as tmp:
        path = Path(tmp) / "long_stream.json"
        path.write_text(fmt.dumps([recorded]), encoding="utf-8")
        session = Session(Settings(record_mode="none"), path, "bench/bench_fuzz.py::long_stream")
        session.start()
        try:
            # A short read timeout: the read_timeout fault stalls until the client's runs out.
            client = anthropic.Anthropic(api_key="sk-ant-bench", base_url=NOWHERE, max_retries=0, timeout=0.001)
            replays = [0]

            def run() -> Any:
                replays[0] += 1
                with client.messages.stream(**body) as stream:
                    return stream.get_final_message()

            expected = comparable(run())
            drawn = {kind: draw(make(), examples) for kind, make in KINDS.items()}

            def plain() -> None:
                for _ in range(examples):
                    session.ledger.replay_from_start()
                    run()

            def end_to_end() -> None:
                hs.assert_equivalent(run, hs.equivalent(), max_examples=examples, database=None, timeout=None)

            def replay_only(variants: list[hs.Variant]) -> Callable[[], None]:
                def go() -> None:
                    for v in variants:
                        with hs.substitute(v, session.cassette):
                            try:
                                got = run()
                            except Exception:
                                continue
                        if v.preserving:
                            assert comparable(got) == expected, v

                return go

            cases: dict[str, Callable[..., Any]] = {"plain": plain, "end to end": end_to_end}
            cases.update({f"replay only: {k}": replay_only(v) for k, v in drawn.items()})
            replays[0] = 0
            end_to_end()  # how many replays an end-to-end run makes (the recording's own, plus each variant)
            per_run = {"plain": examples, "end to end": replays[0]}
            per_run.update({f"replay only: {k}": len(v) for k, v in drawn.items()})
            times = interleaved(cases, rounds, warmup=1)
            samples_ = {name: [t / per_run[name] for t in ts] for name, ts in last_samples.items()}
        finally:
            session.stop()
    per_item = {name: t / per_run[name] for name, t in times.items()}
    ratios = {name: paired_ratio("plain", name, samples_) for name in cases if name != "plain"}
    log(
        f"  fuzz: {n} events ({size:,} bytes), {examples} variants per run, {rounds} rounds: plain {1 / per_item['plain']:.1f} replays/s; "
        + ", ".join(f"{k} {1 / per_item[k]:.1f}/s (x{ratios[k]:.3f})" for k in ratios)
    )
    return {"events": n, "bytes": size, "examples": examples, "rounds": rounds, "per_item": per_item, "ratios": ratios}


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[Row]:
    """The ``fuzz`` section of ``python -m bench``: one row."""
    found = measure(1000, 10 if quick else 20, 3 if quick else 5, log)
    per, ratios = found["per_item"], found["ratios"]
    row = Row("fuzz", f"variants of a {found['events']:,}-event Anthropic stream, end to end", "plain replay", per["plain"])
    row.measured = dict(per)
    row.ratios = dict(ratios)
    row.target = f"variants/s >= {TARGET:.1f} x plain replays/s"
    row.ok = ratios["end to end"] >= TARGET
    row.note = (
        f"hs.assert_equivalent(run, hs.equivalent()), {found['examples']} variants a run; replay only (drawn beforehand): "
        + ", ".join(f"{k.split(': ')[1]} x{v:.3f}" for k, v in ratios.items() if k.startswith("replay only"))
        + f"; {found['rounds']} rounds, CPU time"
    )
    return [row]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    warnings.simplefilter("ignore", DeprecationWarning)
    found = measure(args.events, args.examples, args.rounds)
    per, ratios = found["per_item"], found["ratios"]
    print(
        f"stream: {found['events']} SSE events, {found['bytes']:,} bytes; anthropic {anthropic.__version__}; CPU time, medians of {args.rounds} rounds"
    )
    print(f"  {'plain replay (no fuzzing)':36s} {1 / per['plain']:8.1f} replays/s")
    for name, ratio in ratios.items():
        print(f"  {name:36s} {1 / per[name]:8.1f} variants/s   = {ratio:.3f} x plain")


if __name__ == "__main__":
    main()
