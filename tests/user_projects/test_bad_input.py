"""Bad input and odd filesystems (issue 12, item 23): a lone surrogate in a stream, a folder or a FIFO
where a cassette should be, a UTF-8 BOM, a hand-edited stream, a read-only checkout, and
``harness diff`` of two recordings of one tool loop."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from harness.cli import main
from tests.servers.base import ServerThread

CONFTEST = """
    import os

    import anthropic
    import pytest


    @pytest.fixture
    def claude():
        return anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0)
"""

# An Anthropic stream whose text delta is a lone surrogate, written as JSON's ASCII escape (what
# json.dumps(ensure_ascii=True) sends): Python reads it into a str UTF-8 cannot encode.
LONE = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
    b'"model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
    b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"a\\ud800b"}}\n\n'
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},'
    b'"usage":{"output_tokens":1}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)
LONE_JSON = b'{"id":"x","note":"\\udc80 half a pair"}'


@pytest.fixture
def odd_server() -> Any:
    async def messages(request: Request) -> Response:
        return Response(LONE, media_type="text/event-stream")

    async def note(request: Request) -> Response:
        return Response(LONE_JSON, media_type="application/json")

    app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/note", note, methods=["GET"])])
    with ServerThread(app) as server:
        yield server


LONE_TESTS = """
    import os

    import httpx
    import pytest

    STREAM = {stream!r}
    NOTE = {note!r}


    @pytest.mark.cassette
    def test_lone_surrogate(claude):
        with claude.messages.stream(model="m", max_tokens=20, messages=[{{"role": "user", "content": "hi"}}]) as s:
            assert s.get_final_message().content[0].text == "a\\ud800b"
        with httpx.Client() as client:
            raw = client.post(os.environ["MODEL_URL"] + "/v1/messages", json={{"stream": True}})
            assert raw.content == STREAM
            note = client.get(os.environ["MODEL_URL"] + "/note")
            assert note.content == NOTE
            assert note.json()["note"] == "\\udc80 half a pair"
"""


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_lone_surrogate_in_a_stream_is_recorded_replayed_byte_for_byte_and_shown(project, odd_server, capsys):
    # Given a server whose stream (and JSON body) holds a lone surrogate as a JSON escape
    project.live = {**project.live, "MODEL_URL": odd_server.url}
    project.write({"conftest.py": CONFTEST, "tests/test_odd.py": LONE_TESTS.format(stream=LONE, note=LONE_JSON)})

    # When it is recorded, then replayed offline
    recorded = project.record()
    files = project.cassettes()
    replayed = project.replay()

    # Then nothing crashed, the file is UTF-8 and replay gives the server's bytes
    recorded.assert_outcomes(passed=1)
    assert "UnicodeEncodeError" not in recorded.stdout.str()
    [(name, text)] = files.items()
    assert "\\ud800" in text
    replayed.assert_outcomes(passed=1)
    # And `harness show` renders it, `harness lint` reads it
    code, out, err = run_cli(capsys, "show", str(project.path / name))
    assert code == 0, err
    assert "Traceback" not in out + err
    code, out, err = run_cli(capsys, "lint", str(project.path / name))
    assert "UnicodeEncodeError" not in out + err
    assert code == 0, out + err


ONE_TEST = """
    import pytest


    @pytest.mark.cassette
    def test_asks(claude):
        reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
        assert reply.content[0].text
"""
CASSETTE = "cassettes/tests/test_one/test_asks.json"


def test_a_folder_where_a_cassette_should_be_is_a_clear_error(project, capsys):
    # Given a folder where the test's cassette file should be
    project.write({"conftest.py": CONFTEST, "tests/test_one.py": ONE_TEST})
    (project.path / CASSETTE).mkdir(parents=True)

    # When the test replays, records, and `harness show` reads it
    replayed = project.replay(offline_ok=True)
    recorded = project.record(mode="all")
    code, _, err = run_cli(capsys, "show", str(project.path / CASSETTE))

    # Then each says which path and that it is a folder, without a traceback of harness's insides
    for out in (replayed.stdout.str(), recorded.stdout.str()):
        assert "is a folder, not a cassette file" in out
        assert "test_asks.json" in out
        assert "IsADirectoryError" not in out
    assert code == 2 and "is a folder" in err


def _unblock_later(fifo: Path, seconds: float) -> None:
    """A reader blocked on ``fifo`` is let go after ``seconds`` (so a regression fails, not hangs)."""

    def release() -> None:
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass  # nobody is reading: good

    timer = threading.Timer(seconds, release)
    timer.daemon = True
    timer.start()


def test_a_fifo_where_a_cassette_should_be_is_a_clear_error_and_never_blocks(project, capsys):
    # Given a named pipe where the test's cassette file should be (nobody writes to it)
    project.write({"conftest.py": CONFTEST, "tests/test_one.py": ONE_TEST})
    (project.path / CASSETTE).parent.mkdir(parents=True)
    os.mkfifo(project.path / CASSETTE)
    for seconds in (10, 20, 30, 40):
        _unblock_later(project.path / CASSETTE, seconds)

    # When the test replays, and `harness show` and `lint` read it
    replayed = project.replay(offline_ok=True)
    code, _, err = run_cli(capsys, "show", str(project.path / CASSETTE))
    lint_code, lint_out, lint_err = run_cli(capsys, "lint", str(project.path / "cassettes"))

    # Then it fails at once, naming the path and what it is
    out = replayed.stdout.str()
    assert "is a FIFO (named pipe), not a cassette file" in out, out
    assert "test_asks.json" in out
    assert code == 2 and "FIFO" in err
    assert lint_code != 0 and "FIFO" in lint_out + lint_err


def test_a_utf8_bom_is_accepted(project):
    # Given a recorded cassette that an editor saved with a UTF-8 BOM
    project.write({"conftest.py": CONFTEST, "tests/test_one.py": ONE_TEST})
    project.record().assert_outcomes(passed=1)
    path = project.path / CASSETTE
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())

    # When it replays
    result = project.replay()

    # Then it is read as if the BOM were not there
    result.assert_outcomes(passed=1)


STREAM_TEST = """
    import pytest


    @pytest.mark.cassette
    def test_streams(claude):
        with claude.messages.stream(model="m", max_tokens=20, messages=[{"role": "user", "content": "Lyon?"}]) as s:
            assert s.get_final_message().content[0].text
"""


def test_a_hand_edited_delta_says_which_interaction_by_how_much_and_how_to_fix_it(project):
    # Given a recorded stream whose delta text was edited by hand (three characters longer)
    project.write({"conftest.py": CONFTEST, "tests/test_one.py": STREAM_TEST})
    project.record().assert_outcomes(passed=1)
    path = project.path / "cassettes/tests/test_one/test_streams.json"
    text = path.read_text(encoding="utf-8")
    edited = re.sub(r'"text": "Lyon\?"', '"text": "Lyon???"', text, count=1)
    assert edited != text
    path.write_text(edited, encoding="utf-8")

    # When it replays
    out = project.replay(offline_ok=True).stdout.str()

    # Then the report names the interaction, the byte difference and the ways to fix it
    assert "POST /v1/messages" in out, out
    assert "2 bytes longer" in out
    assert 'remove its "chunks"' in out
    assert "--record-mode" in out


READ_ONLY = """
    import errno
    import os
    import tempfile

    _open, _mkstemp = os.open, tempfile.mkstemp
    HERE = os.path.dirname(os.path.abspath(__file__))


    def _inside(path):
        return os.path.abspath(os.fspath(path)).startswith(os.path.join(HERE, "cassettes"))


    def read_only_open(path, flags, *args, **kwargs):
        if flags & (os.O_CREAT | os.O_WRONLY | os.O_RDWR) and _inside(path):
            raise OSError(errno.EROFS, "Read-only file system", os.fspath(path))
        return _open(path, flags, *args, **kwargs)


    def read_only_mkstemp(*args, dir=None, **kwargs):
        if dir is not None and _inside(dir):
            raise OSError(errno.EROFS, "Read-only file system", os.fspath(dir))
        return _mkstemp(*args, dir=dir, **kwargs)


    def pytest_configure(config):
        if os.environ.get("READ_ONLY_CASSETTES"):
            os.open, tempfile.mkstemp = read_only_open, read_only_mkstemp
"""


def test_new_episodes_with_nothing_new_needs_no_write_access(project, monkeypatch):
    # Given a recorded project whose cassette folder is then read-only (a CI checkout)
    project.write({"conftest.py": CONFTEST + READ_ONLY, "tests/test_one.py": ONE_TEST})
    project.record().assert_outcomes(passed=1)
    before = project.cassettes()
    monkeypatch.setenv("READ_ONLY_CASSETTES", "1")

    # When it runs in new_episodes with nothing new (the server is up but nothing is asked of it)
    result = project.record(mode="new_episodes", subprocess=True)

    # Then it passes, writes nothing and needs no lock file
    result.assert_outcomes(passed=1)
    assert "Read-only" not in result.stdout.str() + result.stderr.str()
    assert project.cassettes() == before
    assert not list((project.path / "cassettes").rglob("*.lock"))


LOOP_TEST = """
    import pytest

    TOOLS = [{"name": "get_weather", "description": "weather", "input_schema": {
        "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


    @pytest.mark.cassette
    def test_loop(claude):
        messages = [{"role": "user", "content": "What is the weather in Paris?"}]
        while True:
            reply = claude.messages.create(model="m", max_tokens=50, tools=TOOLS, messages=messages)
            if reply.stop_reason != "tool_use":
                break
            messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in reply.content]})
            calls = [b for b in reply.content if b.type == "tool_use"]
            messages.append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": c.id, "content": "sunny"} for c in calls]})
        assert reply.content[0].text
"""


def test_diff_of_two_recordings_of_one_tool_loop_ignores_the_fresh_tool_ids(project, capsys, tmp_path):
    # Given a tool loop recorded, and a second recording of it in which the server made fresh ids
    project.write({"conftest.py": CONFTEST, "tests/test_one.py": LOOP_TEST})
    project.record().assert_outcomes(passed=1)
    first = project.path / "cassettes/tests/test_one/test_loop.json"
    text = first.read_text(encoding="utf-8")
    ids = sorted(set(re.findall(r"toolu_\w+", text)))
    assert ids
    again = text
    for n, old in enumerate(ids):
        again = again.replace(old, f"toolu_01Fresh{n}xyzABC")
    second = tmp_path / "again.json"
    second.write_text(again, encoding="utf-8")
    changed = tmp_path / "changed.json"
    changed.write_text(again.replace('"content": "sunny"', '"content": "rainy"'), encoding="utf-8")

    # When the two are diffed, and a real change is diffed
    same_code, same_out, _ = run_cli(capsys, "diff", str(first), str(second))
    diff_code, diff_out, _ = run_cli(capsys, "diff", str(first), str(changed))

    # Then the unchanged loop diffs clean, and the real change still shows (and no id does)
    assert same_code == 0, same_out
    assert diff_code == 1
    assert "rainy" in diff_out
    assert "toolu_" not in diff_out


def test_show_and_diff_name_an_odd_file(tmp_path: Path, capsys):
    # A BOM read by the command too: `show` of a BOM'd file works
    doc = {"harness_cassette": 1, "interactions": []}
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(doc).encode())
    code, _, err = run_cli(capsys, "show", str(path))
    assert code == 0, err
