"""Fuzz recorded streams: hypothesis strategies over a cassette's responses, and fault injection.

Streaming code breaks on network shapes its author never saw: a multi-byte character split across
two chunks, a CRLF split between ``\\r`` and ``\\n``, a tool call's JSON arguments cut mid-token, an
event split mid-line, a stream that stops before ``message_stop``. This module turns each recorded
stream into a family of equivalent streams (and of broken ones) and replays them through the real
SDKs, by the same HTTP seam as any replay::

    import harness.strategies as hs

    def final_message():
        with anthropic.Anthropic().messages.stream(**ARGS) as stream:
            return stream.get_final_message()

    @pytest.mark.cassette
    @hs.fuzz(hs.equivalent(), max_examples=50)     # the body runs once per variant, sync or async
    def test_any_chunking(variant):
        assert final_message().content[0].text == "Café ☕"

    @pytest.mark.cassette
    def test_properties(cassette):
        hs.assert_equivalent(final_message)        # every meaning-preserving variant: the recorded result
        hs.assert_fails_cleanly(final_message, hs.faults(kinds=("status", "error_event")))  # what the SDK raises

Strategies (each draws a :class:`Variant`; by default over every SSE response of the running
test's cassette, resolved when drawn; ``at=`` picks interactions by position, ``source=`` gives
interactions directly, e.g. for use outside a cassette test):

* :func:`rechunked` the same bytes, cut anywhere (inside UTF-8, inside ``\\r\\n``, inside ``data:``...)
* :func:`resplit`   provider-aware delta splits and merges (Anthropic, OpenAI chat, Responses, Assistants)
* :func:`equivalent` both, and both at once: every variant must give the recorded result
* :func:`faults`    truncation, dropped connection, error event, HTTP 429/529, a stalled stream (the
                    client's read timeout raises ``ReadTimeout``; give clients a short one in tests)

Using them: :func:`fuzz` (decorator), :func:`substitute` (a context manager for one variant, e.g.
with ``@given``), :func:`assert_equivalent`, :func:`assert_fails_cleanly`,
:func:`assert_callback_order`. Overriding single responses with respx: :func:`override`.
What each SDK raises for each fault, per format (the default of ``assert_fails_cleanly``):
:func:`sdk_behaviour`, :data:`SDK_BEHAVIOUR`. The whole story: ``docs/fuzzing.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from hypothesis import strategies as st

from harness.cassette.model import HttpInteraction
from harness.fuzz import faults as _faults
from harness.fuzz.properties import (
    Outcome,
    assert_callback_order,
    assert_equivalent,
    assert_fails_cleanly,
    callback_violations,
    collapse,
    comparable,
    documented_errors,
)
from harness.fuzz.rechunk import rechunk, rechunk_strategy
from harness.fuzz.resplit import Rewriter, detect, register_rewriter, resplit_strategy, rewriters
from harness.fuzz.resplit import resplit as resplit_ops
from harness.fuzz.runner import StreamHang, call_with_timeout, fuzz, is_recording, run_examples, substitute
from harness.fuzz.sdk_errors import SDK_BEHAVIOUR, SdkBehaviour, sdk_behaviour
from harness.fuzz.stream import Recorded, recorded
from harness.fuzz.variant import Variant, original

__all__ = [
    "KINDS",
    "SDK_BEHAVIOUR",
    "Outcome",
    "Recorded",
    "Rewriter",
    "SdkBehaviour",
    "StreamHang",
    "Variant",
    "assert_callback_order",
    "assert_equivalent",
    "assert_fails_cleanly",
    "call_with_timeout",
    "callback_violations",
    "collapse",
    "comparable",
    "detect",
    "documented_errors",
    "drop",
    "equivalent",
    "error_event",
    "faults",
    "from_cassette",  # noqa: F822 (from harness.respx_layer, imported on first use)
    "fuzz",
    "is_recording",
    "original",
    "override",  # noqa: F822 (from harness.respx_layer, imported on first use)
    "read_timeout",
    "rechunk",
    "rechunked",
    "recorded",
    "recorded_streams",
    "register_rewriter",
    "resplit",
    "resplit_ops",
    "respond",  # noqa: F822 (from harness.respx_layer, imported on first use)
    "rewriters",
    "run_examples",
    "sdk_behaviour",
    "status",
    "substitute",
    "targets",
    "truncate",
]

KINDS = _faults.KINDS
truncate = _faults.truncate
drop = _faults.drop
error_event = _faults.error_event
status = _faults.status
read_timeout = _faults.read_timeout

Source = HttpInteraction | Sequence[HttpInteraction] | None
At = int | Iterable[int] | None


def _interactions(source: Source) -> list[Any]:
    if source is None:
        from harness.fuzz.runner import _session

        return list(_session().cassette.interactions)
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
            raise ValueError("harness.strategies: the cassette has no recorded HTTP response to vary")
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
        lambda rec: _cached(rec, key, lambda: _faults.fault_strategy(rec, tuple(kinds), tuple(statuses))),
        source,
        at,
        sse_only=True,
    )


def __getattr__(name: str) -> Any:
    # The respx layer imports respx: only when asked for.
    if name in ("override", "from_cassette", "respond"):
        from harness import respx_layer

        return getattr(respx_layer, name)
    raise AttributeError(f"module 'harness.strategies' has no attribute {name!r}")
