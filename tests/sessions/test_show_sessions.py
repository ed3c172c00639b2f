"""``harness show`` on a recorded managed-agents session: the stream event by event, the post its events
waited for, and where the client stopped reading."""

from __future__ import annotations

from pathlib import Path

from harness.cassette import format as fmt
from tests.cli.helpers import no_times, run

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "cassettes/examples/managed_sessions/test_managed_sessions/test_worker_posts_the_tool_result_and_stops_when_idle.json"
)


def test_show_draws_a_session_stream_with_the_post_its_events_followed(capsys):
    code, out, _ = run(capsys, "show", str(EXAMPLE))
    assert code == 0
    assert no_times(out).splitlines()[1:8] == [
        "#0 GET /v1/sessions/sesn_example/events/stream  200  sse 4 events  N ms  stream N ms",
        "  after        POST /v1/sessions/sesn_example/events  (replay waits for it)",
        "  event        [0] user.custom_tool_result  saved 'remember the milk'",
        "  event        [1] session.status_running",
        "  event        [2] agent.message  Done: saved 'remember the milk'",
        "  event        [3] session.status_idle  end_turn",
        "  open         the client stopped reading here; the server had not ended the stream",
    ]


def test_show_puts_a_post_before_the_event_of_the_chunk_that_awaited_it(tmp_path, capsys):
    items = fmt.load(EXAMPLE)
    stream = items[0].response
    assert stream is not None
    # The same stream, as if the first two events had come before the post, the rest after it.
    first_two = sum(int(c[0]) for c in stream.chunks[:2])
    rest = len(stream.body.bytes()) - first_two
    stream.chunks = [[first_two, 1.0], [rest, 2.0]]
    stream.awaits = [[1, "POST /v1/sessions/sesn_example/events"]]
    stream.client_closed = False
    path = tmp_path / "c.json"
    path.write_text(fmt.dumps(items[:1]), encoding="utf-8")
    _, out, _ = run(capsys, "show", str(path))
    assert out.splitlines()[2:6] == [
        "  event        [0] user.custom_tool_result  saved 'remember the milk'",
        "  event        [1] session.status_running",
        "  after        POST /v1/sessions/sesn_example/events  (replay waits for it)",
        "  event        [2] agent.message  Done: saved 'remember the milk'",
    ]
