"""harness.cassette.merge: what a session writes (merged with other writers) and chunk moves after scrubbing."""

from __future__ import annotations

import uuid
from pathlib import Path

from harness import sse
from harness.cassette import format as fmt
from harness.cassette.merge import Loaded, merged, moved_chunks
from harness.cassette.model import Body, HttpInteraction, Request, Response, ToolInteraction
from harness.redact import Redactor

SECRET = "sk-ant-" + "a1B2c3D4e5F6g7H8"


def ask(text: str, elapsed: float = 1.0) -> HttpInteraction:
    return HttpInteraction(
        Request("POST", "http://127.0.0.1/v1/messages", {}, Body("json", {"q": text})),
        Response(200, {"content-type": "application/json"}, Body("json", {"a": text.upper()})),
        elapsed_ms=elapsed,
    )


def write(items, path: Path) -> str:
    text = fmt.dumps(items)
    path.write_text(text, encoding="utf-8")
    return text


def test_moved_chunks_keep_count_timings_and_boundaries_around_a_scrubbed_secret():
    events = [
        {"event": "a", "data": {"t": "hello"}},
        {"event": "b", "data": {"t": f"key {SECRET} end"}},
        {"event": "c", "data": {"t": "bye"}},
    ]
    wire = sse.render(events)
    parsed = Body("sse", events)
    stored = Redactor().body(parsed, wire)
    assert stored is not parsed and SECRET not in stored.bytes().decode()
    first = len(sse.render_entry(events[0]).encode())
    second = len(sse.render_entry(events[1]).encode())
    # cuts: the end of event a; in event b, one before the secret and one 5 bytes before its end;
    # the end of b, the end of c
    cuts = [first, 8, second - 8 - 5, 5, len(wire) - first - second]
    chunks = [[n, float(i * 10)] for i, n in enumerate(cuts)]
    moved = moved_chunks(chunks, wire, parsed, stored)
    new = stored.bytes()
    assert [c[1] for c in moved] == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert sum(int(c[0]) for c in moved) == len(new)
    # The boundary before the secret stays where it was, the one after it keeps its distance to
    # the event's end, and the event ends stay event ends.
    assert moved[0][0] == first and moved[1][0] == 8 and moved[3][0] == 5
    ends = [sum(int(c[0]) for c in moved[: i + 1]) for i in range(len(moved))]
    assert new[: ends[3]].endswith(b"\n\n") and new[: ends[0]].endswith(b"\n\n")


def test_moved_chunks_give_one_chunk_when_the_cuts_do_not_cover_the_body():
    wire = b'{"k": "' + SECRET.encode() + b'"}'
    parsed = Body.from_bytes(wire, "application/json")
    stored = Redactor().body(parsed, wire)
    moved = moved_chunks([[3, 1.0], [4, 2.0]], wire, parsed, stored)
    assert moved == [[len(stored.bytes()), 2.0]]


def test_an_unchanged_rerecording_keeps_the_old_timings(tmp_path):
    path = tmp_path / "c.json"
    old = [ask("one", elapsed=5.0)]
    text = write(old, path)
    again = [ask("one", elapsed=99.0)]
    out = merged(
        path,
        [(again[0], True)],
        text,
        Loaded(text, fmt.loads(text, path)),
        mode="all",
        shared=False,
        run="r1",
        scrub=Redactor().text,
    )
    assert out[0].elapsed_ms == 5.0


def test_new_episodes_keeps_what_another_session_wrote_meanwhile(tmp_path):
    path = tmp_path / "shared.json"
    loaded_text = write([ask("base")], path)
    loaded = Loaded(loaded_text, fmt.loads(loaded_text, path))
    # Another worker appended "theirs" (and also recorded "both") after this session loaded the file.
    disk = write([ask("base"), ask("theirs"), ask("both")], path)
    mine = [(ask("base"), False), (ask("both"), True), (ask("mine"), True)]
    out = merged(path, mine, disk, loaded, mode="new_episodes", shared=True, run="r2", scrub=Redactor().text)
    assert [i.request.body.value["q"] for i in out] == ["base", "theirs", "both", "mine"]


def test_all_on_a_shared_cassette_first_writer_replaces_later_ones_merge_in_pre_run_order(tmp_path):
    path = tmp_path / f"shared-{uuid.uuid4().hex}.json"
    before = write([ask("a"), ask("b"), ToolInteraction("t", {"x": 1}, result=2)], path)
    run = f"run-{uuid.uuid4().hex}"
    loaded = Loaded(before, fmt.loads(before, path))
    first = merged(path, [(ask("b", 7.0), True)], before, loaded, mode="all", shared=True, run=run, scrub=Redactor().text)
    # The first session of the run replaces the file with what it recorded.
    assert [getattr(i, "request", None) and i.request.body.value["q"] for i in first] == ["b"]
    assert first[0].elapsed_ms == 1.0  # the pre-run copy, with its place and timings
    disk = write(first, path)
    second = merged(
        path, [(ask("new"), True), (ask("a", 9.0), True)], disk, loaded, mode="all", shared=True, run=run, scrub=Redactor().text
    )
    # Later ones merge into it: pre-run interactions first in their old order, then the new ones.
    assert [i.request.body.value["q"] for i in second] == ["a", "b", "new"]
