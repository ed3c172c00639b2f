"""Timing helpers: interleaved rounds, medians, and the rows of the results table."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def interleaved(
    cases: dict[str, Callable[..., Any]],
    rounds: int,
    *,
    setup: dict[str, Callable[[], Any]] | None = None,
    teardown: dict[str, Callable[[Any], Any]] | None = None,
    warmup: int = 1,
    clock: Callable[[], float] = time.process_time,
    budget: float | None = None,
) -> dict[str, float]:
    """Median seconds of each case, the cases taking turns round by round (drift hits all alike).

    ``setup[name]`` (untimed) runs before each timed call and its result is passed to the case;
    ``teardown[name](that result)`` (untimed) runs after it. This is how a case gets a fresh,
    unplayed cassette for every call without timing the preparation.

    The clock is this process's CPU time by default: the machine may be shared, and CPU time is
    what another process's load disturbs least. With ``budget`` (seconds), ``rounds`` is a ceiling:
    as many rounds as fit in the budget, judged from the warm-up round, and at least 3.
    """
    setup = setup or {}
    teardown = teardown or {}
    times: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    r = 0
    started = time.perf_counter()
    while r < warmup + rounds:
        if budget is not None and r == max(warmup, 1):
            per_round = (time.perf_counter() - started) / r
            rounds = max(3, min(rounds, int(budget / per_round)))
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            prepare = setup.get(name)
            arg = prepare() if prepare is not None else None
            gc.collect(1)  # the young generations: the previous case's garbage, not a full pass per call
            start = clock()
            cases[name](arg) if prepare is not None else cases[name]()
            elapsed = clock() - start
            if name in teardown:
                teardown[name](arg)
            if r >= warmup:
                times[name].append(elapsed)
        r += 1
    last_samples.clear()
    last_samples.update(times)
    return {name: statistics.median(ts) for name, ts in times.items()}


#: The per-round times of the last :func:`interleaved` call, for :func:`paired_ratio`.
last_samples: dict[str, list[float]] = {}


def paired_ratio(a: str, b: str, samples: dict[str, list[float]] | None = None) -> float:
    """Median over rounds of ``a / b`` within each round: the two ran back to back, so a slow
    patch of the machine (another process's burst) hits both sides of each ratio alike."""
    samples = samples if samples is not None else last_samples
    return statistics.median(x / y for x, y in zip(samples[a], samples[b]))


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms" if seconds < 0.1 else f"{seconds * 1e3:.0f} ms"
    return f"{seconds * 1e6:.0f} µs" if seconds >= 1e-5 else f"{seconds * 1e6:.2f} µs"


@dataclass
class Row:
    section: str
    case: str
    baseline: str
    base: float
    measured: dict[str, float] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    target: str = ""
    ok: bool | None = None
    note: str = ""


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")
