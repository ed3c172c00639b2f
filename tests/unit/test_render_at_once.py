"""harness.sse.render with orjson (the ``fast`` extra): a stream's data written by one orjson call gives the
same bytes as the standard library's encoder, event by event, for any JSON data and any mix of entry
shapes; where orjson would write something else it is not used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from harness import sse

orjson = pytest.importorskip("orjson")

SEPARATOR = sse._SEPARATOR

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, 1e-05, 1.5e-9, 1e16, 1e22, 5e-324, -0.0, 1e-4, 123456789.125])
    | st.text()
    | st.sampled_from([SEPARATOR, "e-1", "\x00", '\u2028\x7f\x1f\b\f\n\r\t"\\/', "é😀", "\ud800"])
)
data = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12
)
names = st.text(alphabet=st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12)


@st.composite
def entries(draw: Any) -> dict[str, Any]:
    shape = draw(st.sampled_from(["event+data", "data", "styled", "padded", "text", "comments"]))
    value = draw(data)
    if shape == "event+data":
        return {"event": draw(names), "data": value}
    if shape == "data":
        return {"data": value}
    if shape == "styled":
        return {"event": draw(names), "data": value, "style": draw(st.sampled_from(sorted(sse.STYLES)))}
    if shape == "padded":
        return {"event": draw(names), "data": draw(st.dictionaries(st.text(max_size=4), data, max_size=3)), "pad": 2}
    if shape == "text":
        return {
            "event": draw(names),
            "text": draw(st.text(alphabet=st.characters(blacklist_characters="\r", blacklist_categories=("Cs",)))),
        }
    return {"comments": ["ping"], "data": value}


def plain(stream: list[dict[str, Any]], eol: str) -> bytes | str:
    """The standard library's render (orjson hidden), or the error it raises."""
    hidden, sse.orjson = sse.orjson, None
    try:
        return sse.render(stream, eol)
    except (TypeError, UnicodeEncodeError, ValueError) as exc:
        return type(exc).__name__
    finally:
        sse.orjson = hidden


@settings(max_examples=300, deadline=None)
@given(st.lists(entries(), min_size=1, max_size=40), st.sampled_from(["\n", "\r\n", "\r"]))
@example([{"event": "x", "data": {"t": SEPARATOR}}] * 20, "\n")
@example([{"data": [1e-7, 2**64]}] * 20, "\n")
def test_the_stream_rendered_at_once_is_the_plain_render(stream: list[dict[str, Any]], eol: str) -> None:
    expected = plain(stream, eol)
    at_once = sse._render_at_once(stream, eol)
    if at_once is not None:
        assert at_once == expected
    try:
        assert sse.render(stream, eol) == expected
    except (TypeError, UnicodeEncodeError, ValueError) as exc:
        assert type(exc).__name__ == expected


def test_a_model_stream_takes_the_at_once_path() -> None:
    # Given a stream shaped like a model's: named events with compact data, one padded ping among them
    stream: list[dict[str, Any]] = [{"event": "message_start", "data": {"type": "message_start", "n": 1.5}}]
    stream.append({"event": "ping", "data": {"type": "ping"}, "style": "padded"})
    stream += [{"event": "content_block_delta", "data": {"delta": {"text": f"word {i} é"}}} for i in range(200)]
    # Then orjson writes it, the same bytes as event-by-event rendering
    at_once = sse._render_at_once(stream, "\n")
    assert at_once is not None
    assert at_once == b"".join(sse.render_entry(e).encode() for e in stream) == plain(stream, "\n")
    assert b'event: ping\ndata: {"type": "ping"}\n\n' in at_once


@pytest.mark.parametrize(
    "value",
    [1e-7, 1e-05, 2**64, "\ud800", [1, SEPARATOR, 2]],
    ids=["short-exponent", "small-decimal", "beyond-64-bits", "lone-surrogate", "the-separator-in-a-list"],
)
def test_where_orjson_would_differ_the_plain_render_runs(value: Any) -> None:
    stream = [{"event": "e", "data": {"v": value}}] * 20
    assert sse._render_at_once(stream, "\n") is None
    expected = plain(stream, "\n")
    if isinstance(expected, str):  # the standard library refuses it too (a lone surrogate is not UTF-8)
        with pytest.raises(UnicodeEncodeError):
            sse.render(stream, "\n")
        return
    assert sse.render(stream, "\n") == expected
    if isinstance(value, float):
        assert f'{{"v":{json.dumps(value)}}}'.encode() in expected


def test_the_separator_as_a_value_in_an_object_is_written_at_once() -> None:
    stream = [{"event": "e", "data": {"v": SEPARATOR}}] * 20
    assert sse._render_at_once(stream, "\n") == plain(stream, "\n")


def test_every_float_orjson_writes_differently_is_caught() -> None:
    # Given floats of every magnitude (random bit patterns, and decimals scaled by 10 ** -330 .. 10 ** 308)
    import random
    import struct

    rng = random.Random(7)
    floats = [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(20_000)]
    floats += [rng.uniform(-1, 1) * 10 ** rng.randint(-330, 308) for _ in range(20_000)]
    differ = 0
    for x in floats:
        if x != x or x in (float("inf"), float("-inf")):
            continue
        written = orjson.dumps(x)
        if written != json.dumps(x).encode():
            differ += 1
            # Then where orjson's text differs from the standard library's, the render sees it
            assert sse._SMALL_DECIMAL in written or sse._SHORT_EXPONENT.search(written), (x, written)
    assert differ > 100


def test_entries_the_loader_would_refuse_take_the_plain_render() -> None:
    # (a hand-built stream: the loader refuses an event name that is not a string, the fuzzer never makes one)
    stream: list[Any] = [{"event": ["x"], "data": {"v": i}} for i in range(20)]
    assert sse._render_at_once(stream, "\n") is None
    assert sse.render(stream) == plain(stream, "\n")
    assert sse._render_at_once([*stream[:19], ["not", "a", "dict"]], "\n") is None
