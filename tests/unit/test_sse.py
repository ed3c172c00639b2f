"""harness.sse: a stored stream re-renders to the bytes it was parsed from; the loader's checks."""

from __future__ import annotations

from typing import Any

import pytest

from harness import sse

ROUND_TRIPS: list[tuple[bytes, list[dict[str, Any]], str]] = [
    # The two common shapes: stored without ``raw``.
    (
        b'event: message_start\ndata: {"type":"message_start","n":1}\n\n',
        [{"event": "message_start", "data": {"type": "message_start", "n": 1}}],
        "\n",
    ),
    (b'data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n', [{"data": {"a": 1}}, {"text": "[DONE]"}], "\r\n"),
    # Comments, an empty comment, a JSON string, an empty data line.
    (b": ping\n\n:\n\ndata: 1\n\n", [{"comments": ["ping"]}, {"comments": [""]}, {"data": 1}], "\n"),
    (b'data: "x"\n\ndata: \n\n', [{"data": "x"}, {"text": ""}], "\n"),
    # Multi-line data is text joined by newlines.
    (b"data: line1\ndata: line2\n\n", [{"text": "line1\nline2"}], "\n"),
    (b'data: {"a":[1,2]}\ndata: {"b":2}\n\n', [{"text": '{"a":[1,2]}\n{"b":2}'}], "\n"),
    # NaN is not JSON: kept as text.
    (b"data: NaN\n\n", [{"text": "NaN"}], "\n"),
    # UTF-8 kept as is.
    ('data: {"t":"é😀"}\n\n'.encode(), [{"data": {"t": "é😀"}}], "\n"),
    (b"event: a\n\n", [{"event": "a"}], "\n"),
    (b"", [], "\n"),
]


@pytest.mark.parametrize(("body", "entries", "eol"), ROUND_TRIPS)
def test_parse_then_render_is_byte_for_byte(body: bytes, entries: list[dict[str, Any]], eol: str) -> None:
    parsed, found_eol = sse.parse(body)
    assert (parsed, found_eol) == (entries, eol)
    assert sse.render(parsed, found_eol) == body
    assert "".join(sse.render_entry(e, found_eol) for e in parsed).encode() == body
    assert sum(sse.entry_sizes(parsed, found_eol)) == len(body)


RAW_KEPT: list[tuple[bytes, list[dict[str, Any]]]] = [
    # Bare ``\r`` line ends (the stream's line ending is read as "\n": each entry keeps its text).
    (b'data: {"a":1}\r\rdata: x\r\r', [{"data": {"a": 1}, "raw": 'data: {"a":1}\r\r'}, {"text": "x", "raw": "data: x\r\r"}]),
    # id and retry, in the server's order, and JSON not in compact form.
    (
        b'id: 7\nretry: 3000\nevent: e\ndata: {"a": 1}\n\n',
        [{"event": "e", "id": "7", "retry": "3000", "data": {"a": 1}, "raw": 'id: 7\nretry: 3000\nevent: e\ndata: {"a": 1}\n\n'}],
    ),
    (b'data:{"a":1}\n\n', [{"data": {"a": 1}, "raw": 'data:{"a":1}\n\n'}]),
    (b"data:  two spaces\n\n", [{"text": " two spaces"}]),  # the second space is data: renders back, no raw
    # A stream cut mid-event keeps what it got.
    (b'data: {"a":1}\n\ndata: {"b"', [{"data": {"a": 1}}, {"text": '{"b"', "raw": 'data: {"b"'}]),
    # Blank lines before the first event stay with it; blank lines after the last one are an entry.
    (b"\n\ndata: 1\n\n", [{"data": 1, "raw": "\n\ndata: 1\n\n"}]),
    (b"data: 1\n\n\n\n", [{"data": 1}, {"raw": "\n\n"}]),
    # Unknown fields, and a field without a colon.
    (
        b"foo: bar\nbaz\ndata: x\n\n",
        [{"text": "x", "fields": [["foo", "bar"], ["baz", ""]], "raw": "foo: bar\nbaz\ndata: x\n\n"}],
    ),
    (b"data\n\n", [{"text": "", "raw": "data\n\n"}]),
    # Mixed line endings: the stream's ending is CRLF, the odd entry keeps its text.
    (b"data: 1\r\n\r\ndata: 2\n\n", [{"data": 1}, {"data": 2, "raw": "data: 2\n\n"}]),
]


@pytest.mark.parametrize(("body", "entries"), RAW_KEPT)
def test_raw_is_kept_exactly_where_rendering_would_differ(body: bytes, entries: list[dict[str, Any]]) -> None:
    parsed, eol = sse.parse(body)
    assert parsed == entries
    assert sse.render(parsed, eol) == body


def test_parse_writes_the_fields_in_a_fixed_order() -> None:
    (entry,), _ = sse.parse(b": c\nevent: e\nid: 1\nretry: 2\ndata: 1\n\n")
    assert list(entry.items()) == [("comments", ["c"]), ("event", "e"), ("id", "1"), ("retry", "2"), ("data", 1)]
    (entry,), _ = sse.parse(b"data: x\nevent: e\n\n")  # the server's own order is kept under raw
    assert list(entry.items()) == [("event", "e"), ("text", "x"), ("raw", "data: x\nevent: e\n\n")]


def test_the_line_ending_is_read_from_the_start_of_the_body() -> None:
    assert sse.parse(b"data: 1\r\n\r\n")[1] == "\r\n"
    assert sse.parse(b"data: 1\n\n")[1] == "\n"
    assert sse.parse(b"data: 1\r\r")[1] == "\n"


def test_a_body_that_is_not_utf8_is_not_sse() -> None:
    with pytest.raises(UnicodeDecodeError):
        sse.parse(b"data: \xff\n\n")
    with pytest.raises(UnicodeDecodeError):  # a UTF-8 character cut in two
        sse.parse("data: é\n\n".encode()[:7])


def test_render_writes_compact_json_in_key_order() -> None:
    assert sse.render([{"data": {"b": 1, "a": "é"}}]) == 'data: {"b":1,"a":"é"}\n\n'.encode()
    assert sse.render([{"event": "x", "data": [1, None, True]}], "\r\n") == b"event: x\r\ndata: [1,null,true]\r\n\r\n"


def test_render_entry_field_order() -> None:
    entry = {"text": "a\nb", "fields": [["f", "v"]], "retry": "5", "id": "1", "event": "e", "comments": ["hi", ""]}
    assert sse.render_entry(entry) == ": hi\n:\nevent: e\nid: 1\nretry: 5\nf: v\ndata: a\ndata: b\n\n"


def test_render_entry_prefers_raw_and_data_over_text() -> None:
    assert sse.render_entry({"data": 1, "raw": "data:1\n\n"}) == "data:1\n\n"
    assert sse.render_entry({"data": 1, "text": "ignored"}) == "data: 1\n\n"


def test_entry_sizes_are_utf8_byte_lengths() -> None:
    assert sse.entry_sizes([{"data": "é"}, {"text": "[DONE]"}], "\r\n") == [len('data: "é"\r\n\r\n'.encode()), 16]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ({"a": [1.0, 2, "nan"]}, True),
        ({"a": [1.0, float("nan")]}, False),
        ([{"b": float("inf")}], False),
        (float("-inf"), False),
        ("Infinity", True),
    ],
)
def test_finite(value: Any, ok: bool) -> None:
    assert sse.finite(value) is ok


RUNS_ON = "is not a whole event: no blank line ends it, so it runs into the next event"
NEVER_SEEN = (
    "is not a whole event: no blank line ends it, so an SDK never sees it "
    "(only a stream that broke, with its error recorded, may stop mid-event)"
)
SEVERAL = "is not one event: it holds a blank line, so it is several events"


@pytest.mark.parametrize(
    ("entry", "last", "problem"),
    [
        ({"raw": "data: 1\n\n"}, False, None),
        ({"raw": "data: 1\n"}, False, RUNS_ON),
        ({"raw": "data: 1\n"}, True, None),  # the last entry may stop mid-event
        ({"raw": "data: 1\n\ndata: 2\n\n"}, False, SEVERAL),
        ({"raw": "data: 1\n\n", "data": 1}, False, None),
        ({"raw": ""}, False, "is empty"),
        (
            {"raw": "data: 1\n\n", "data": 2},
            False,
            "does not say what the entry's fields say (was one edited without the other?): the text reads {'data': 1}",
        ),
    ],
)
def test_check_raw(entry: dict[str, Any], last: bool, problem: str | None) -> None:
    assert sse.check_raw(entry, last) == problem


@pytest.mark.parametrize(
    ("text", "broken", "problem"),
    [
        ("data: 1\n\ndata: 2\n\n", False, None),
        ("data: 1\n\ndata: 2", False, (1, NEVER_SEEN)),
        ("data: 1\n\ndata: 2", True, None),
        (
            "event: a\nevent: b\ndata: 1\n\n",
            False,
            (0, "has two 'event' or 'id' lines: two events run together (a blank line is missing)"),
        ),
        (
            'data: {"a":1}\ndata: {"b":2}\n\n',
            False,
            (0, "has JSON data lines that only parse one by one: two events run together (a blank line is missing)"),
        ),
        ("data: 1\ndata: 2\n\n", False, None),  # multi-line text data: one event
    ],
)
def test_check_text(text: str, broken: bool, problem: tuple[int, str] | None) -> None:
    assert sse.check_text(text, broken) == problem


@pytest.mark.parametrize(
    "body",
    [
        '\ufeffevent: e\ndata: {"a":1}\n\ndata: 2\n\n'.encode(),
        "\ufeffdata: x\r\n\r\n".encode(),
        "\ufeff: ping\n\n".encode(),
        "\ufeff".encode(),
    ],
)
def test_a_leading_byte_order_mark_is_not_part_of_the_first_field_and_replays_as_it_came(body: bytes) -> None:
    parsed, eol = sse.parse(body)
    assert sse.render(parsed, eol) == body
    assert not any(name.startswith("\ufeff") for e in parsed for name, _ in e.get("fields", ()))
    assert parsed[0]["raw"].startswith("\ufeff")
    assert sse.check_raw(parsed[0], len(parsed) == 1, first=True) is None


def test_a_byte_order_mark_parsed_as_the_event_it_starts() -> None:
    (entry, _), _ = sse.parse('\ufeffevent: e\ndata: {"a":1}\n\ndata: 2\n\n'.encode())
    assert entry == {"event": "e", "data": {"a": 1}, "raw": '\ufeffevent: e\ndata: {"a":1}\n\n'}
    # only the first entry may start with one
    assert sse.check_raw(entry, last=False) is not None


def test_a_stream_cut_inside_a_utf8_character_is_kept_byte_for_byte() -> None:
    # Decided: such a body is not UTF-8, so not SSE text; it is stored as base64, exact (fidelity kept).
    from harness.cassette.model import Body

    cut = 'data: {"t":"é"}\n\n'.encode()[:13]
    body = Body.from_bytes(cut, "text/event-stream")
    assert body.kind == "base64"
    assert body.bytes() == cut


# -- the padding style of an event: a padded stream is stored without a second copy of its text -------------

PADDED_EVENTS: list[tuple[str, Any]] = [
    ("message_start", {"type": "message_start", "message": {"id": "msg_1", "content": [], "stop_reason": None}}),
    ("ping", {"type": "ping"}),
    ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "café 東京"}}),
    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
    ("message_stop", {"type": "message_stop"}),
]


@pytest.mark.parametrize(
    ("dumps", "styles"),
    [
        # Python's json.dumps defaults: ", " and ": ", non-ASCII as \\u escapes (an event with none is "padded").
        ({}, ["padded", "padded", "padded-ascii", "padded", "padded"]),
        ({"ensure_ascii": False}, ["padded"] * 5),
        ({"separators": (",", ":")}, [None, None, "compact-ascii", None, None]),
    ],
)
def test_a_padded_stream_is_stored_with_its_style_and_no_raw(dumps: dict[str, Any], styles: list[str | None]) -> None:
    import json

    body = "".join(f"event: {name}\ndata: {json.dumps(data, **dumps)}\n\n" for name, data in PADDED_EVENTS).encode()
    parsed, eol = sse.parse(body)
    assert not any("raw" in e for e in parsed)
    assert [e.get("style") for e in parsed] == styles
    assert [e["data"] for e in parsed] == [data for _, data in PADDED_EVENTS]
    assert sse.render(parsed, eol) == body
    assert "".join(sse.render_entry(e, eol) for e in parsed).encode() == body
    assert sum(sse.entry_sizes(parsed, eol)) == len(body)


def test_a_compact_stream_with_one_padded_event_marks_that_event_only() -> None:
    # The real Anthropic API encodes every event compactly but its ping.
    body = b'event: ping\ndata: {"type": "ping"}\n\nevent: message_stop\ndata: {"type":"message_stop"}\n\n'
    parsed, eol = sse.parse(body)
    assert parsed == [
        {"event": "ping", "data": {"type": "ping"}, "style": "padded"},
        {"event": "message_stop", "data": {"type": "message_stop"}},
    ]
    assert sse.render(parsed, eol) == body


def test_spaces_before_the_last_brace_are_kept_as_a_count() -> None:
    # Recent Anthropic streams pad each event's JSON with a run of spaces before its closing brace.
    body = (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":" is"}         }\n\n'
        b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0    }\n\n'
        b'event: ping\ndata: {"type": "ping"}\n\n'
        b'data: {"a": [1, 2]  }\n\n'
    )
    parsed, eol = sse.parse(body)
    assert [(e.get("style"), e.get("pad")) for e in parsed] == [(None, 9), (None, 4), ("padded", None), ("padded", 2)]
    assert not any("raw" in e for e in parsed)
    assert sse.render(parsed, eol) == body
    assert sum(sse.entry_sizes(parsed, eol)) == len(body)


@pytest.mark.parametrize(
    "text",
    [
        'data: {"a":1,  "b":2}\n\n',  # spaces elsewhere than before the last brace
        'data: {"a" : 1}\n\n',  # a space before a colon
        'data: { "a":1}\n\n',  # a space after the opening brace
    ],
)
def test_text_no_style_renders_back_keeps_raw(text: str) -> None:
    parsed, eol = sse.parse(b"data: 0\n\n" + text.encode())
    assert parsed[1]["raw"] == text and "style" not in parsed[1] and "pad" not in parsed[1]
    assert sse.render(parsed, eol) == b"data: 0\n\n" + text.encode()


def test_render_entry_renders_data_in_the_events_style() -> None:
    data = {"a": [1, "é"], "b": None}
    assert sse.render_entry({"data": data}) == 'data: {"a":[1,"é"],"b":null}\n\n'
    assert sse.render_entry({"data": data, "style": "padded"}) == 'data: {"a": [1, "é"], "b": null}\n\n'
    assert sse.render_entry({"data": data, "style": "padded-ascii"}) == 'data: {"a": [1, "\\u00e9"], "b": null}\n\n'
    assert sse.render_entry({"data": data, "style": "compact-ascii"}) == 'data: {"a":[1,"\\u00e9"],"b":null}\n\n'
    assert (
        sse.render_entry({"event": "e", "data": data, "pad": 3}, "\r\n") == 'event: e\r\ndata: {"a":[1,"é"],"b":null   }\r\n\r\n'
    )
