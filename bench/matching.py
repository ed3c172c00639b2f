"""Matching is O(1) in the number of recorded interactions: a lookup in a cassette of 10 and of 10,000.

Timed for harness: ``Ledger.plan_http(...)`` for a batch of requests (each with its own body), the
way the HTTP seam calls it. The bodies are as the SDKs send them (compact JSON, keys in order), which
repeats the recording byte for byte: the index's exact map answers. The same bodies padded with spaces
(``json.dumps``'s default) take the whole way, timed too: redaction check, JSON parse, canonical key,
the index lookup. Each batch of requests is made afresh just before it is timed (a new URL string and
new body bytes, as the SDK writes each request: the lookup hashes the body), and the other case runs
in between (so the index's structures are out of the CPU's caches). The index is built once per
cassette, on the first request (its cost is reported too). For contrast, vcrpy's
``Cassette.play_response`` on the same requests, which scans the recorded requests with each matcher.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row, interleaved, ratio

BATCH = 100


def _ns() -> float:
    # The wall clock in ns, read as seconds: a 100-lookup batch takes ~100 µs, below process_time's grain.
    return time.perf_counter_ns() / 1e9


def _exchanges(n: int) -> list[streams.Exchange]:
    return [streams.anthropic_message(i, prompt=f"question number {i}") for i in range(n)]


class HarnessLookups:
    def __init__(self, path: Path, exchanges: list[streams.Exchange], picks: list[int], *, padded: bool = False) -> None:
        from harness.config import Settings
        from harness.session import Session

        self.ledger = Session(Settings(record_mode="none", allow_unplayed=True), path, "bench::match").ledger
        headers = [
            (b"content-type", b"application/json"),
            (b"x-api-key", b"sk-ant-bench-key-000000"),
            (b"anthropic-version", b"2023-06-01"),
        ]
        separators = (", ", ": ") if padded else (",", ":")
        self.requests = [
            (
                "POST",
                exchanges[i].url,
                headers,
                json.dumps(exchanges[i].request, separators=separators, ensure_ascii=False).encode(),
            )
            for i in picks
        ]
        start = time.process_time()
        self.plan(*self.requests[0])  # builds the index
        self.index_build = time.process_time() - start
        self.ledger.replay_from_start()
        self.ledger._index = self.ledger._build_index()
        index = self.ledger._index
        assert index is not None
        # Each recorded interaction's queue, found once: putting one back touches only its queue.
        self.queues = {n: index._queues[self.ledger.key(item)] for n, item in enumerate(self.ledger.cassette.interactions)}

    def plan(self, method: str, url: str, headers: Any, body: bytes) -> Any:
        return self.ledger.plan_http(method, url, headers, body)

    def batch(self) -> list[tuple[str, str, Any, bytes]]:
        """BATCH requests as the seam hands them over: a new URL string and new body bytes each (the
        SDK serializes every request afresh: its body's hash is computed by the lookup, not cached),
        made just before the timed lookups (so in cache, as a body the SDK has just written is)."""
        repeat = max(1, BATCH // len(self.requests))
        return [(m, (u + " ")[:-1], h, bytes(bytearray(b))) for _ in range(repeat) for m, u, h, b in self.requests]

    def run(self, batch: list[tuple[str, str, Any, bytes]] | None = None) -> None:
        # BATCH lookups per sample whatever the cassette's size: a small cassette's requests are
        # looked up again after putting them back (timed); the last putting back is not.
        plan = self.plan
        n = len(self.requests)
        for at, request in enumerate(batch if batch is not None else self.batch()):
            if at and at % n == 0:
                self.reset()
            plan(*request)

    def reset(self, _: Any = None) -> None:
        # Put the taken interactions back (no rebuild: only the lookups are timed).
        c = self.ledger.cassette
        queues = self.queues
        for n in reversed(c.played):
            queues[n].appendleft(n)
        c.played.clear()


class VcrLookups:
    def __init__(self, path: Path, exchanges: list[streams.Exchange], picks: list[int]) -> None:
        from vcr import matchers
        from vcr.cassette import Cassette
        from vcr.request import Request

        match_on = tuple(getattr(matchers, m) for m in ("method", "scheme", "host", "port", "path", "query", "body"))
        self.cassette = Cassette.load(path=str(path), record_mode="none", match_on=match_on)
        self.requests = [
            Request(
                "POST",
                exchanges[i].url,
                json.dumps(exchanges[i].request, separators=(",", ":"), ensure_ascii=False),
                {"content-type": "application/json"},
            )
            for i in picks
        ]

    def run(self, _: Any = None) -> None:
        for request in self.requests:
            self.cassette.play_response(request)

    def reset(self, _: Any = None) -> None:
        self.cassette.play_counts.clear()


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[Row]:
    rng = random.Random(1)
    results: dict[int, dict[str, float]] = {}
    builds: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for n in (10, 10_000):
            exchanges = _exchanges(n)
            paths = streams.write_all(Path(tmp), f"match-{n}", exchanges)
            picks = [rng.randrange(n) for _ in range(BATCH)] if n > BATCH else list(range(n)) * (BATCH // n)
            # Each recorded request answers once: pick distinct ones (or repeat a small cassette's, after a reset).
            picks = list(dict.fromkeys(picks)) if n > BATCH else list(range(n))
            h = HarnessLookups(paths["harness"], exchanges, picks)
            full = HarnessLookups(paths["harness"], exchanges, picks, padded=True)
            t = interleaved(
                {"harness": h.run, "padded": full.run},
                30 if quick else 100,
                setup={"harness": h.batch, "padded": full.batch},
                teardown={"harness": h.reset, "padded": full.reset},
                clock=_ns,
            )
            per = max(1, BATCH // len(picks)) * len(picks)
            results[n] = {"harness": t["harness"] / per, "padded": t["padded"] / per}
            # vcrpy scans every recorded request, parsing its JSON body, for each lookup: a few suffice.
            few = picks if n <= BATCH else picks[:3]
            v = VcrLookups(paths["vcrpy"], exchanges, few)
            t = interleaved(
                {"vcrpy": v.run},
                5 if n <= BATCH else 1,
                setup={"vcrpy": lambda: None},
                teardown={"vcrpy": v.reset},
                warmup=0 if n > BATCH else 1,
            )
            results[n]["vcrpy"] = t["vcrpy"] / len(few)
            builds[n] = h.index_build
            log(
                f"  match {n:>6} recorded: harness {results[n]['harness'] * 1e6:.2f} µs/request (SDK bytes; padded JSON, "
                f"the whole way: {results[n]['padded'] * 1e6:.1f} µs; index built in "
                f"{h.index_build * 1e3:.2f} ms), vcrpy {results[n]['vcrpy'] * 1e6:.0f} µs/request"
            )
    small, big = results[10], results[10_000]
    row = Row(
        "match",
        "one request, 10 vs 10,000 recorded",
        "harness @ 10",
        small["harness"],
        {
            "harness @ 10": small["harness"],
            "harness @ 10,000": big["harness"],
            "harness padded @ 10": small["padded"],
            "harness padded @ 10,000": big["padded"],
            "vcrpy @ 10": small["vcrpy"],
            "vcrpy @ 10,000": big["vcrpy"],
        },
    )
    row.ratios = {
        "harness 10,000 / 10": ratio(big["harness"], small["harness"]),
        "vcrpy 10,000 / 10": ratio(big["vcrpy"], small["vcrpy"]),
    }
    row.target = "harness <= 2 µs per request at 10 and at 10,000; 10,000 / 10 ~ 1 (O(1))"
    row.ok = row.ratios["harness 10,000 / 10"] < 1.5 and max(small["harness"], big["harness"]) <= 2e-6
    row.note = f"index built once per cassette: {builds[10] * 1e3:.2f} ms @ 10, {builds[10_000] * 1e3:.0f} ms @ 10,000"
    return [row]


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
