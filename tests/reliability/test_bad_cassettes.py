"""Bad cassettes: one clear report each, no traceback through harness (unless asked); a misspelt marker
option lists the valid ones; stream data that is not JSON, and text that is not UTF-8."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.cassette import format as fmt
from harness.errors import CassetteFormatError
from tests.reliability.valid_cassette import _valid_doc, _valid_text


def _edited(edit: Any) -> str:
    doc = _valid_doc()
    edit(doc)
    return json.dumps(doc, indent=2)


def _sse(doc: dict[str, Any]) -> list[Any]:
    return doc["interactions"][1]["response"]["body"]["sse"]


def _no_chunks(doc: dict[str, Any]) -> None:
    """Drop the stream's chunks: an edited body then loads unless something else is wrong with it."""
    del doc["interactions"][1]["response"]["chunks"]


BAD: dict[str, tuple[bytes, list[str]]] = {
    "truncated": (_valid_text()[:400].encode(), ["  not valid JSON: * (the file looks truncated)"]),
    "wrong_type": (
        _edited(lambda d: d["interactions"][0]["response"].update(status="200")).encode(),
        ["  interactions[0].response.status: expected int, got str '200'"],
    ),
    "missing_field": (
        _edited(lambda d: d["interactions"][0]["request"].pop("url")).encode(),
        ["  interactions[0].request.url: missing"],
    ),
    "version_0": (
        _edited(lambda d: d.update(harness_cassette=0)).encode(),
        [
            "  format version 0 is not supported (this harness reads 1 and 2)",
            "  Re-record it with this harness (--record-mode=all).",
        ],
    ),
    "version_99": (
        _edited(lambda d: d.update(harness_cassette=99)).encode(),
        [
            "  format version 99 is not supported (this harness reads 1 and 2)",
            "  It was written by a newer harness: upgrade harness (pip install -U pytest-agent-harness: the package index name of harness).",
        ],
    ),
    "not_utf8": (_valid_text().replace('"hi"', '"h\udcffi"').encode("utf-8", "surrogateescape"), ["  not UTF-8 text*"]),
    "vcrpy_yaml_renamed": (
        json.dumps({"version": 1, "interactions": []}).encode(),
        [
            "  not a harness cassette (no 'harness_cassette' key)",
            "  It looks like a vcrpy cassette: convert it with `harness import-vcr`.",
        ],
    ),
    "sse_not_an_event": (
        _edited(lambda d: _sse(d).__setitem__(1, "event: delta\ndata: {}")).encode(),
        ["  interactions[1].response.body.sse[1]: expected an event object, got str"],
    ),
    "sse_unknown_field": (
        _edited(lambda d: _sse(d)[0].update(evnt="delta")).encode(),
        [
            "  interactions[1].response.body.sse[0]: unknown field 'evnt' (an event has comments, event, id, retry, data, text, fields, style, pad, raw)"
        ],
    ),
    "sse_unknown_style": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[0].update(style="spaced"))).encode(),
        [
            "  interactions[1].response.body.sse[0].style: unknown style 'spaced' (known: compact, padded, padded-ascii, "
            "compact-ascii)"
        ],
    ),
    "sse_style_without_data": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[2].pop("data"), _sse(d)[2].update(style="padded"))).encode(),
        ["  interactions[1].response.body.sse[2].style: a style is how JSON data is written, and this event has no data"],
    ),
    "sse_bad_pad": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[0].update(pad=0))).encode(),
        ["  interactions[1].response.body.sse[0].pad: expected a number of spaces >= 1 before the data's closing brace, got 0"],
    ),
    "sse_pad_on_a_string": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[0].update(data="x", pad=2))).encode(),
        ["  interactions[1].response.body.sse[0].pad: only JSON data in braces or brackets can be padded, got str 'x'"],
    ),
    "sse_bad_comments": (
        _edited(lambda d: _sse(d)[2].update(comments=5)).encode(),
        ["  interactions[1].response.body.sse[2].comments: expected a list of strings, got 5"],
    ),
    "sse_event_not_text": (
        _edited(lambda d: _sse(d)[1].update(event=["delta"])).encode(),
        ["  interactions[1].response.body.sse[1].event: expected a string, got list ['delta']"],
    ),
    "sse_edited_text": (
        _edited(lambda d: _sse(d)[0]["data"].update(k="edited by hand")).encode(),
        [
            "  interactions[1].response.chunks: the body of POST /v1/stream is 144 bytes, 15 bytes longer than its chunks (129): "
            'was it edited? To replay it as edited, remove its "chunks" list (it then replays as one chunk); '
            "or re-record the test (--record-mode=all)"
        ],
    ),
    "bad_chunk": (
        _edited(lambda d: d["interactions"][1]["response"]["chunks"].__setitem__(0, [-5, 1])).encode(),
        ["  interactions[1].response.chunks[0]: expected [bytes, ms] (a byte count >= 0, then ms), got [-5, 1]"],
    ),
    # A stream body that is not valid SSE would reach the SDK, and fail inside its decoder or accumulator.
    "sse_raw_runs_on": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[0].update(raw='event: delta\ndata: {"type":"delta","k":0}\n'))).encode(),
        [
            "  interactions[1].response.body.sse[0].raw: is not a whole event: no blank line ends it, so it runs into the next event"
        ],
    ),
    "sse_raw_two_events": (
        _edited(
            lambda d: (_no_chunks(d), _sse(d)[1].update(raw='event: delta\ndata: {"type":"delta","k":1}\n\nevent: x\n\n'))
        ).encode(),
        ["  interactions[1].response.body.sse[1].raw: is not one event: it holds a blank line, so it is several events"],
    ),
    "sse_raw_not_its_fields": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[1].update(raw="garbage\n\n"))).encode(),
        [
            "  interactions[1].response.body.sse[1].raw: does not say what the entry's fields say (was one edited without "
            "the other?): the text reads {'fields': [['garbage', '']]}"
        ],
    ),
    "sse_event_crlf": (
        _edited(lambda d: _sse(d)[1].update(event="delta\r\nevent: message_stop")).encode(),
        [
            "  interactions[1].response.body.sse[1].event: has a line break (CR or LF), which would split the event: "
            "'delta\\r\\nevent: message_stop'"
        ],
    ),
    "sse_id_lf": (
        _edited(lambda d: _sse(d)[2].update(id="7\ndata: {}")).encode(),
        ["  interactions[1].response.body.sse[2].id: has a line break (CR or LF), which would split the event: '7\\ndata: {}'"],
    ),
    "sse_nan_data": (
        _edited(lambda d: (_no_chunks(d), _sse(d)[2]["data"].update(k=float("nan")))).encode(),
        [
            "  interactions[1].response.body.sse[2].data: NaN or Infinity is not JSON (harness keeps such data as text): {'type': 'delta', 'k': nan}"
        ],
    ),
    "sse_text_body_garbage": (
        _edited(lambda d: (_no_chunks(d), d["interactions"][1]["response"].update(body={"text": "garbage"}))).encode(),
        [
            "  interactions[1].response.body.text: SSE event 0 is not a whole event: no blank line ends it, so an SDK never "
            "sees it (only a stream that broke, with its error recorded, may stop mid-event)"
        ],
    ),
    "sse_text_body_run_together": (
        _edited(
            lambda d: (
                _no_chunks(d),
                d["interactions"][1]["response"].update(
                    body={"text": 'event: delta\ndata: {"k":0}\n\nevent: delta\ndata: {"k":1}\nevent: delta\ndata: {"k":2}\n\n'}
                ),
            )
        ).encode(),
        [
            "  interactions[1].response.body.text: SSE event 1 has two 'event' or 'id' lines: two events run together (a blank line is missing)"
        ],
    ),
}


def test_bad_cassettes_give_one_clear_report_each(pytester):
    # Given one test per kind of damage, each with its damaged cassette
    tests = []
    for name, (content, _) in BAD.items():
        path = pytester.path / "cassettes" / "test_bad" / f"test_{name}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        tests.append(f"\n@pytest.mark.cassette\ndef test_{name}():\n    pass\n")
    pytester.makepyfile(test_bad="import pytest\n" + "".join(tests))

    result = pytester.runpytest("-p", "no:randomly")

    # Then each errors at set-up with the file named and what is wrong, line by line
    result.assert_outcomes(errors=len(BAD))
    for name, (_, lines) in BAD.items():
        expected = [
            f"*ERROR at setup of test_{name}*",
            f"CassetteFormatError: harness: cannot read cassette {pytester.path}/cassettes/test_bad/test_{name}.json",
            *lines,
        ]
        result.stdout.fnmatch_lines([line.replace("[", "[[]") for line in expected], consecutive=True)
    # and no traceback through harness's own code
    out = result.stdout.str()
    assert "Traceback" not in out
    assert not [line for line in result.outlines if "/harness/" in line and ".py" in line], out


def test_a_bad_cassette_shows_the_full_traceback_when_asked(pytester):
    path = pytester.path / "cassettes" / "test_bad" / "test_it.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(BAD["wrong_type"][0])
    pytester.makepyfile(test_bad="import pytest\n\n@pytest.mark.cassette\ndef test_it():\n    pass\n")
    result = pytester.runpytest("--tb=long")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*def loads(*", "E  *expected int, got str '200'", "*/harness/cassette/format.py:*: CassetteFormatError"]
    )


def test_a_misspelt_marker_option_lists_the_valid_ones(pytester):
    # Given tests whose cassette markers are wrong: a misspelt option, two positional arguments
    pytester.makepyfile(
        test_marker="""
        import pytest

        @pytest.mark.cassette(record_mod="all")
        def test_misspelt():
            pass

        @pytest.mark.cassette("a", "b")
        def test_two_paths():
            pass
    """
    )

    result = pytester.runpytest("-p", "no:randomly")

    # Then each fails at set-up with a small report: the option, the closest valid one, all valid ones
    result.assert_outcomes(errors=2)
    valid = "  valid options: path, record_mode, match_on, ignore_paths, allow_unplayed, replay_speed, redact_headers, redact_patterns, real_tools"
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_misspelt*",
            "ConfigError: harness: @pytest.mark.cassette has no option 'record_mod' (did you mean 'record_mode'?)",
            valid,
            "*ERROR at setup of test_two_paths*",
            "ConfigError: harness: @pytest.mark.cassette takes one positional argument (the cassette path), got 2: 'a', 'b'",
            valid,
        ],
        consecutive=False,
    )
    assert "unexpected keyword argument" not in result.stdout.str() and "Traceback" not in result.stdout.str()


def test_stream_data_that_is_not_json_is_kept_as_text():
    # A server that sends NaN or Infinity (Python's json writes them): recorded as text, the same bytes
    from harness import sse

    body = b'data: {"logprob": -Infinity}\n\nevent: x\ndata: NaN\n\ndata: {"ok":1}\n\n'
    events, eol = sse.parse(body)
    assert events == [{"text": '{"logprob": -Infinity}'}, {"event": "x", "text": "NaN"}, {"data": {"ok": 1}}]
    assert sse.render(events, eol) == body
    # and a recording whose last event never ended (no error recorded) still loads, as sent
    doc = _valid_doc()
    del doc["interactions"][1]["response"]["chunks"]
    _sse(doc)[2]["raw"] = 'event: delta\ndata: {"type":"delta","k":2}'
    (item,) = [
        i for i in fmt.loads(json.dumps(doc), "cut.json") if getattr(i, "request", None) and i.request.path == "/v1/stream"
    ]
    assert item.response.body.bytes().endswith(b'data: {"type":"delta","k":2}')


def test_read_text_names_the_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "c.json"
    path.write_bytes(_valid_text().replace('"hi"', '"h\udcffi"').encode("utf-8", "surrogateescape"))
    offset = path.read_bytes().index(b"\xff")
    line = path.read_bytes()[:offset].count(b"\n") + 1
    with pytest.raises(CassetteFormatError) as caught:
        fmt.read_text(path)
    assert str(caught.value).splitlines() == [
        f"harness: cannot read cassette {path}",
        f"  not UTF-8 text (byte {offset}, line {line}: b'\\xffi\"\\n')",
    ]
    path.write_text(_valid_text(), encoding="utf-8")
    assert fmt.read_text(path) == _valid_text()
    with pytest.raises(FileNotFoundError):  # left to the caller (a recording writes a missing file)
        fmt.read_text(tmp_path / "missing.json")
