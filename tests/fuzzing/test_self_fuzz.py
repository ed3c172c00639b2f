"""The fuzzer turned on the project's own code: the SSE codec round-trips, and the cassette loader raises
only clear errors (mutated cassettes, odd SSE entries)."""

from __future__ import annotations

import collections
import contextlib
import json
import traceback
from collections.abc import Iterator
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import sse
from harness.cassette import format as fmt
from harness.errors import CassetteFormatError
from harness.fuzz import samples

_line_char = st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n")
_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",)), max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
_eol = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def sse_bytes(draw: Any) -> bytes:
    """Arbitrary SSE-ish bodies: fields with odd spacing, comments, JSON and text data, mixed line
    ends, unknown fields, and sometimes a last event cut mid-line."""
    field = st.tuples(
        st.sampled_from(["data", "event", "id", "retry", "x", ""]),
        st.sampled_from([":", ": ", ":  ", ""]),
        st.text(_line_char, max_size=15),
    )
    line = st.one_of(
        field.map("".join),
        st.text(_line_char, max_size=10).map(lambda s: ":" + s),
        _json.map(lambda v: "data: " + json.dumps(v, ensure_ascii=False)),
    )
    out = []
    for _ in range(draw(st.integers(0, 6))):
        out += [ln + draw(_eol) for ln in draw(st.lists(line, max_size=4))]
        out.append(draw(_eol))
    if draw(st.booleans()):
        out.append(draw(field.map("".join)))
    return "".join(out).encode()


@st.composite
def sse_events(draw: Any) -> list[dict[str, Any]]:
    events = []
    for _ in range(draw(st.integers(0, 6))):
        e: dict[str, Any] = {}
        if draw(st.booleans()):
            e["comments"] = draw(st.lists(st.text(_line_char, max_size=8), min_size=1, max_size=2))
        for key in ("event", "id"):
            if draw(st.booleans()):
                e[key] = draw(st.text(_line_char, max_size=10))
        kind = draw(st.integers(0, 2))
        if kind == 1:
            e["data"] = draw(_json)
        elif kind == 2:
            e["text"] = draw(
                st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=20).filter(
                    lambda t: not _is_json(t)
                )
            )
        events.append(e or {"event": "x"})
    return events


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_sse_codec_round_trips() -> None:
    # Bytes -> events -> the same bytes, for any body (the cassette promise: byte-exact replay).
    @settings(max_examples=250, deadline=None)
    @given(sse_bytes())
    def bytes_round_trip(body: bytes) -> None:
        events, eol = sse.parse(body)
        assert sse.render(events, eol) == body
        assert sse.parse(sse.render(events, eol)) == (events, eol)  # parse is idempotent

    # Events -> bytes -> the same events, for the canonical form harness writes.
    @settings(max_examples=250, deadline=None)
    @given(sse_events(), _eol)
    def events_round_trip(events: list[dict[str, Any]], eol: str) -> None:
        body = sse.render(events, eol)
        parsed, detected = sse.parse(body)
        assert sse.render(parsed, detected) == body
        assert [{k: v for k, v in e.items() if k != "raw"} for e in parsed] == events

    bytes_round_trip()
    events_round_trip()


GOOD_CASSETTE = fmt.dumps(
    [samples.weather_stream(eol="\r\n"), samples.interaction(samples.anthropic_events(["ok"]), per_event_chunks=False)]
)
_DOC = json.loads(GOOD_CASSETTE)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield from _paths(child, (*prefix, key))


_PATHS = list(_paths(_DOC))[1:]


@st.composite
def mutated_cassette(draw: Any) -> bytes:
    """A valid cassette with bytes flipped, dropped or inserted, or JSON values replaced or removed."""
    if draw(st.booleans()):
        data = bytearray(GOOD_CASSETTE.encode())
        for _ in range(draw(st.integers(1, 4))):
            i, op = draw(st.integers(0, len(data) - 1)), draw(st.integers(0, 2))
            if op == 0:
                data[i] = draw(st.integers(0, 255))
            elif op == 1:
                del data[i]
            else:
                data.insert(i, draw(st.integers(0, 255)))
        return bytes(data)
    doc = json.loads(GOOD_CASSETTE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_PATHS))
        parent = doc
        with contextlib.suppress(KeyError, IndexError, TypeError):
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()):
                parent[path[-1]] = draw(_json)
            elif isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, list):
                parent.pop(path[-1])
    return json.dumps(doc, ensure_ascii=False).encode()


def _fuzz_loader(strategy: st.SearchStrategy[bytes], examples: int) -> collections.Counter[str]:
    stats: collections.Counter[str] = collections.Counter()
    crashes: list[str] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def check(data: bytes) -> None:
        stats["tried"] += 1
        try:
            items = fmt.loads(data, "fuzzed.json")
            for item in items:  # what loads accepts must also replay
                item.request.body.bytes()
                if item.response is not None:
                    item.response.body.bytes()
        except CassetteFormatError:
            stats["clear error"] += 1
        except Exception as exc:
            stats["crash"] += 1
            crashes.append("".join(traceback.format_exception_only(exc)).strip())
        else:
            stats["loaded"] += 1

    check()
    print(f"cassette loader fuzz: {dict(stats)}; first crashes: {crashes[:3]}")
    assert stats["crash"] == 0, crashes[:5]
    return stats


def test_cassette_loader_raises_only_clear_errors() -> None:
    stats = _fuzz_loader(mutated_cassette(), 600)
    assert stats["tried"] >= 500 and stats["clear error"] > 300 and stats["loaded"] > 0


@st.composite
def odd_sse_entries(draw: Any) -> bytes:
    """A valid cassette whose SSE entries get a known field with a value of the wrong shape."""
    doc = json.loads(GOOD_CASSETTE)
    events = doc["interactions"][draw(st.integers(0, 1))]["response"]["body"]["sse"]
    event = events[draw(st.integers(0, len(events) - 1))]
    event[draw(st.sampled_from(["comments", "fields", "event", "id", "retry", "text"]))] = draw(_json)
    return json.dumps(doc, ensure_ascii=False).encode()


def test_cassette_loader_checks_sse_entry_shapes() -> None:
    # This fuzzer found format.loads raising TypeError for an entry like {"comments": null}; now a clear error.
    stats = _fuzz_loader(odd_sse_entries(), 300)
    assert stats["clear error"] > 50
