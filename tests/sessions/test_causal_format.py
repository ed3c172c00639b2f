"""The cassette keeps a stream's causal links and its client-closed end, reads them back the same, and names
the place of a link edited into something else."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cassette import format as fmt
from harness.errors import CassetteFormatError

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "cassettes/examples/managed_sessions/test_managed_sessions/test_worker_posts_the_tool_result_and_stops_when_idle.json"
)


def test_links_and_the_open_end_round_trip():
    text = EXAMPLE.read_text(encoding="utf-8")
    items = fmt.loads(text, EXAMPLE)
    stream = items[0].response
    assert stream.awaits == [[0, "POST /v1/sessions/sesn_example/events"]]
    assert stream.client_closed is True
    assert items[5].response.awaits is None and items[5].response.client_closed is False
    assert fmt.dumps(items) == text
    assert '"awaits": [[0, "POST /v1/sessions/sesn_example/events"]],' in text  # one line, reviewable


def test_a_bad_link_names_its_place(tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").replace('[[0, "POST', '[["zero", "POST', 1)
    with pytest.raises(CassetteFormatError) as err:
        fmt.loads(text, tmp_path / "c.json")
    assert 'interactions[0].response.awaits[0]: expected [chunk, "METHOD /path", ...]' in str(err.value)
