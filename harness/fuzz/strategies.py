"""The strategies: each draws a :class:`Variant` of a recorded response (by default of every SSE
response of the running test's cassette, resolved when drawn), through the builders of
:mod:`harness.fuzz.rechunk`, :mod:`harness.fuzz.resplit` and :mod:`harness.fuzz.faults`.
The public face is :mod:`harness.strategies`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from harness.cassette.model import HttpInteraction, WebSocketInteraction
from harness.fuzz.current import ledger
from harness.fuzz.faults import KINDS, fault_strategy
from harness.fuzz.rechunk import rechunk_strategy
from harness.fuzz.resplit import resplit_strategy
from harness.fuzz.stream import Recorded, recorded
from harness.fuzz.variant import Variant

Source = HttpInteraction | Sequence[HttpInteraction] | None
At = int | Iterable[int] | None


def _interactions(source: Source) -> list[Any]:
    if source is None:
        return list(ledger().cassette.interactions)
    if isinstance(source, HttpInteraction):
        return [source]
    return list(source)


def targets(source: Source = None, at: At = None, *, sse_only: bool = True) -> list[Recorded]:
    """The recorded responses a strategy varies: those at positions ``at`` (default: every HTTP
    response that is an SSE stream; with ``sse_only=False`` or when there is none, every response)."""
    items = _interactions(source)
    if at is not None:
        wanted = [at] if isinstance(at, int) else list(at)
        for i in wanted:
            if not (0 <= i < len(items)) or not isinstance(items[i], HttpInteraction) or items[i].response is None:
                raise ValueError(f"harness.strategies: interaction #{i} is not a recorded HTTP response")
        return [recorded(i, items[i]) for i in wanted]
    http = [(i, it) for i, it in enumerate(items) if isinstance(it, HttpInteraction) and it.response is not None]
    streams = [(i, it) for i, it in http if it.response.body.kind == "sse"]  # type: ignore[union-attr]
    chosen = streams if (streams and sse_only) else http
    return [recorded(i, it) for i, it in chosen]


recorded_streams = targets


def _lazy(make: Any, source: Source, at: At, sse_only: bool = True) -> st.SearchStrategy[Variant]:
    """A strategy that looks at the cassette when it draws (so it can be built at import time)."""

    @st.composite
    def draw_variant(draw: Any) -> Variant:
        recs = targets(source, at, sse_only=sse_only)
        if not recs:
            sessions = sum(isinstance(i, WebSocketInteraction) for i in _interactions(source))
            hint = (
                f"; it has {sessions} WebSocket session{'s' if sessions > 1 else ''}: vary "
                f"{'them' if sessions > 1 else 'it'} with hs.ws_resplit() or hs.ws_faults()"
                if sessions
                else ""
            )
            raise ValueError(f"harness.strategies: the cassette has no recorded HTTP response to vary{hint}")
        rec = recs[0] if len(recs) == 1 else draw(st.sampled_from(recs))
        variant: Variant = draw(make(rec))
        return variant

    return draw_variant()


def _cached(rec: Recorded, name: str, build: Any) -> st.SearchStrategy[Variant]:
    cache = _STRATEGIES.setdefault(id(rec), (rec, {}))
    if cache[0] is not rec:
        cache = _STRATEGIES[id(rec)] = (rec, {})
    found = cache[1].get(name)
    if found is None:
        found = cache[1][name] = build()
        if len(_STRATEGIES) > 256:
            _STRATEGIES.pop(next(iter(_STRATEGIES)))
    return found


_STRATEGIES: dict[int, tuple[Recorded, dict[str, st.SearchStrategy[Variant]]]] = {}


def rechunked(at: At = None, *, source: Source = None) -> st.SearchStrategy[Variant]:
    """The recorded bytes cut at other places: a few cuts, often at bytes where naive code breaks
    (inside UTF-8, inside CRLF, after ``data:``), plus dense runs of cuts (every k bytes); and, as
    options of their own, one byte per chunk and everything in one chunk. Failures shrink to the
    earliest single cut that breaks."""
    return _lazy(lambda rec: _cached(rec, "rechunk", lambda: rechunk_strategy(rec)), source, at, sse_only=True)


def resplit(at: At = None, *, source: Source = None, max_ops: int = 6) -> st.SearchStrategy[Variant]:
    """Provider-aware rewrites that keep the meaning: deltas split at any character, adjacent
    deltas merged, the deltas of a run of events exploded every k characters or all merged."""
    return _lazy(lambda rec: _cached(rec, f"resplit{max_ops}", lambda: resplit_strategy(rec, max_ops=max_ops)), source, at)


def equivalent(at: At = None, *, source: Source = None) -> st.SearchStrategy[Variant]:
    """Every meaning-preserving variant: re-chunked, re-split, or re-split then re-chunked."""

    def make(rec: Recorded) -> st.SearchStrategy[Variant]:
        def build() -> st.SearchStrategy[Variant]:
            parts = [rechunk_strategy(rec)]
            if rec.format is not None:
                split = resplit_strategy(rec)
                parts += [split, split.flatmap(lambda v: _then_rechunk(rec, v))]
            return st.one_of(*parts)

        return _cached(rec, "equivalent", build)

    return _lazy(make, source, at)


def _then_rechunk(rec: Recorded, v: Variant) -> st.SearchStrategy[Variant]:
    assert v.response is not None and v.response.chunks is not None
    parts = []
    body = v.response.body.bytes()
    pos = 0
    for c in v.response.chunks:
        parts.append(body[pos : pos + int(c[0])])
        pos += int(c[0])
    again = Recorded(rec.index, v.interaction, parts)
    again.format = rec.format
    return rechunk_strategy(again, prefix=f"{v.label} + ", kind="resplit+rechunk", base_details=v.details)


def faults(
    at: At = None, *, source: Source = None, kinds: Sequence[str] = KINDS, statuses: Sequence[int] = (429, 529)
) -> st.SearchStrategy[Variant]:
    """Broken variants: ``truncate``, ``drop``, ``error_event``, ``status``, ``read_timeout`` (``kinds``)."""
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"harness.strategies: unknown fault kinds {sorted(unknown)}; known: {', '.join(KINDS)}")
    key = f"faults{tuple(kinds)}{tuple(statuses)}"
    return _lazy(
        lambda rec: _cached(rec, key, lambda: fault_strategy(rec, tuple(kinds), tuple(statuses))),
        source,
        at,
        sse_only=True,
    )
