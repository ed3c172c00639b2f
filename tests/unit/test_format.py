"""harness.cassette.format on bad input: lone surrogates, a BOM, things that are not files, edited chunks."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from harness.cassette import format as cassette_format
from harness.cassette.model import Body, HttpInteraction, Request, Response, ToolInteraction
from harness.errors import CassetteFormatError


def _stream(data: bytes) -> HttpInteraction:
    body = Body.from_bytes(data, "text/event-stream")
    return HttpInteraction(Request("POST", "http://h/v1/messages"), Response(200, {}, body, chunks=[[len(data), 1.0]]))


def test_a_lone_surrogate_is_written_as_its_json_escape_and_reads_back_the_same() -> None:
    data = b'data: {"text":"a\\ud800b"}\n\n'
    items = [_stream(data), ToolInteraction("t", {"q": "\udc80"}, "\ud800", None)]
    text = cassette_format.dumps(items)
    text.encode("utf-8")  # nothing UTF-8 cannot hold
    assert "\\ud800" in text and "\\udc80" in text
    again = cassette_format.loads(text, "x.json")
    assert again == items
    assert again[0].response.body.bytes() == data  # type: ignore[union-attr]
    assert cassette_format.dumps(again) == text


def test_a_json_body_with_a_lone_surrogate_keeps_its_bytes() -> None:
    data = b'{"note":"\\udc80"}'
    body = Body.from_bytes(data, "application/json")
    assert body.bytes() == data
    assert json.loads(body.bytes())["note"] == "\udc80"


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    text = cassette_format.dumps([ToolInteraction("t", {}, 1, None)])
    path = tmp_path / "c.json"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    assert cassette_format.load(path) == cassette_format.loads(text, path)
    assert cassette_format.loads("\ufeff" + text, path) == cassette_format.loads(text, path)


def test_a_folder_or_a_fifo_is_named_for_what_it_is_and_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "a.json"
    folder.mkdir()
    fifo = tmp_path / "b.json"
    os.mkfifo(fifo)
    with pytest.raises(CassetteFormatError, match="is a folder, not a cassette file"):
        cassette_format.load(folder)
    with pytest.raises(CassetteFormatError, match=r"is a FIFO \(named pipe\), not a cassette file") as caught:
        cassette_format.read_text(fifo)  # would block for ever if opened for reading
    assert str(fifo) in str(caught.value)


def test_chunks_that_do_not_add_up_say_where_by_how_much_and_how_to_fix_it() -> None:
    doc = json.loads(cassette_format.dumps([_stream(b"data: 1\n\n")]))
    doc["interactions"][0]["response"]["chunks"] = [[5, 1.0]]
    with pytest.raises(CassetteFormatError) as caught:
        cassette_format.loads(json.dumps(doc), "x.json")
    message = str(caught.value)
    assert "interactions[0].response.chunks" in message
    assert "POST /v1/messages is 9 bytes, 4 bytes longer than its chunks (5)" in message
    assert 'remove its "chunks" list' in message and "--record-mode=all" in message


def test_a_cassette_whose_events_have_a_style_is_format_version_2_and_others_stay_1() -> None:
    # An older harness (it reads version 1 only) then says to upgrade, instead of "unknown field 'style'".
    padded = _stream(b'event: ping\ndata: {"type": "ping"}\n\nevent: x\ndata: {"a":1   }\n\n')
    brace = _stream(b'event: x\ndata: {"a":1   }\n\n')
    compact = _stream(b'event: x\ndata: {"a":1}\n\n')
    assert [(e.get("style"), e.get("pad")) for e in padded.response.body.value] == [("padded", None), (None, 3)]  # type: ignore[union-attr]
    for items, version in (([compact], 1), ([compact, padded], 2), ([brace], 2), ([ToolInteraction("t", {}, "r", None)], 1)):
        text = cassette_format.dumps(items)
        assert json.loads(text)["harness_cassette"] == version
        assert cassette_format.loads(text, "x.json") == items
