"""Transport re-chunking: the same bytes, cut into other network chunks.

Cuts land anywhere: inside a UTF-8 sequence, between ``\\r`` and ``\\n``, inside ``data:``, in the
middle of a JSON string, on event boundaries; or the body comes one byte at a time, every k
bytes, or all in one chunk. The body object is shared with the recording (its bytes are rendered
once); only the chunk list is new.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from harness.cassette.model import HttpInteraction, Response
from harness.fuzz import links
from harness.fuzz.stream import Recorded
from harness.fuzz.variant import Variant

_SHOW = 3  # cuts described in the one-line label


def rechunk(
    rec: Recorded,
    cuts: Iterable[int],
    *,
    mode: str = "cuts",
    kind: str = "rechunk",
    prefix: str = "",
    base_details: list[str] | None = None,
) -> Variant:
    """The recorded response of ``rec``, cut at the byte offsets ``cuts`` (and, for a causal stream, where
    each chunk that followed a request began: its links are kept, see :mod:`harness.fuzz.links`)."""
    data = rec.data
    n = len(data)
    resp = rec.response
    linked = links.offsets(resp)
    points = sorted({int(c) for c in cuts if 0 < int(c) < n} | links.cuts(linked, n))
    bounds = [0, *points, n]
    chunks = _timed(bounds, resp.chunks, n) if n else [[0, 0.0]]
    new = links.relinked(resp, Response(resp.status, resp.headers, resp.body, chunks, resp.error))
    interaction = HttpInteraction(rec.interaction.request, new, None, rec.interaction.elapsed_ms)
    if mode == "whole":
        what = "everything in one chunk"
    elif mode == "bytewise":
        what = f"one byte per chunk ({n} chunks)"
    elif mode.startswith("grid:"):
        what = f"{len(points)} cuts: {mode[5:]} ({len(bounds) - 1} chunks)"
    else:
        what = f"cuts at bytes {points}" if len(points) <= 12 else f"{len(points)} cuts at bytes {points[:12]}…"
    kept = links.cuts(linked, n)
    if kept:
        what += f"; kept the cut{'s' if len(kept) > 1 else ''} at {sorted(kept)}, where the stream waited for a request"
    details = list(base_details or [])
    described = [rec.describe_byte(p) for p in points[:12]] if len(points) <= 12 else []
    details += described
    label = f"{prefix}rechunk(#{rec.index}: {what})"
    if described and len(points) <= _SHOW:
        label = f"{prefix}rechunk(#{rec.index}: {what}; " + "; ".join(described) + ")"
    return Variant(rec.index, interaction, kind=kind, label=label, details=details, format=rec.format)


def _timed(bounds: list[int], recorded: list[list[float]] | None, n: int) -> list[list[float]]:
    """Chunk sizes with, for each, the time its last byte came in the recording."""
    if not recorded:
        return [[bounds[i + 1] - bounds[i], 0.0] for i in range(len(bounds) - 1)]
    ends: list[int] = []
    times: list[float] = []
    pos = 0
    for c in recorded:
        pos += int(c[0])
        ends.append(pos)
        times.append(float(c[1]) if len(c) > 1 else 0.0)
    out = []
    k = 0
    last = len(times) - 1
    for i in range(len(bounds) - 1):
        end = bounds[i + 1]
        while k < last and ends[k] < end:
            k += 1
        out.append([end - bounds[i], times[k]])
    return out


def rechunk_strategy(
    rec: Recorded, *, prefix: str = "", kind: str = "rechunk", base_details: list[str] | None = None
) -> st.SearchStrategy[Variant]:
    """Variants of ``rec`` with other chunk boundaries: a few explicit cuts, plus (half of the time)
    a dense run of cuts, every ``step`` bytes over ``span`` bytes ending at ``last`` (fixed-size
    chunks); and the two extremes, everything in one chunk and one byte per chunk, as options of
    their own. Failures shrink well: ``span`` towards 0 leaves one cut at ``last``, and ``last``
    towards the start, so a failure ends up as the earliest single byte where code breaks."""
    n = len(rec.data)

    def whole() -> Variant:  # a new Variant per example: substitute() notes on it whether it played
        return rechunk(rec, [], mode="whole", prefix=prefix, kind=kind, base_details=base_details)

    if n < 2:
        return st.builds(whole)
    interesting = rec.interesting_cuts()
    position: st.SearchStrategy[int] = st.integers(1, n - 1)
    if interesting:
        position = st.one_of(st.integers(0, len(interesting) - 1).map(interesting.__getitem__), position)
    # One byte per chunk is the dense run at its extreme: ending at the last byte, over all of the
    # body, every byte. Drawn by chance it all but never comes (0 in 500 draws), so the run's end
    # and length each have an option of their own for it: a forced value of the same kind as the
    # free one, so a failure found with it still shrinks, by the span and then the end, to one cut.
    run_end = st.one_of(position, st.integers(n - 1, n - 1))
    run_span = st.one_of(st.integers(0, n), st.integers(n, n))

    @st.composite
    def draw_variant(draw: Any) -> Variant:
        cuts = set(draw(st.lists(position, max_size=8, unique=True)))
        grid = ""
        if draw(st.booleans()):
            last = draw(run_end)
            span = draw(run_span)
            step = draw(st.integers(1, 64))
            run = range(last, max(1, last - span) - 1, -step)
            cuts.update(run)
            grid = f"every {step} byte{'s' if step > 1 else ''} from {run[-1]} to {last}" if len(run) > 1 else ""
        mode = "cuts"
        if not cuts:
            mode = "whole"
        elif len(cuts) == n - 1:
            mode = "bytewise"
        elif grid and len(cuts) > _SHOW:
            mode = f"grid:{grid}"
        return rechunk(rec, cuts, mode=mode, prefix=prefix, kind=kind, base_details=base_details)

    # Everything in one chunk: an option of the strategy (the cuts come first, so a failure with
    # cuts never shrinks into it; hypothesis plays it once, then knows it is done).
    return st.one_of(draw_variant(), st.builds(whole))
