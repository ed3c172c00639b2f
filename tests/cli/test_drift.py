"""``harness drift``, run on cassettes recorded through harness against the loopback fake APIs, and on
hand-altered copies of them: what the installed SDKs drop or cannot parse, and the SDK versions stored."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tests.cli.helpers import record_agent_run, run


def altered(src: Path, dest: Path, n: int, edit: Any) -> Path:
    """A copy of ``src`` whose interaction ``n`` response body is edited by ``edit`` (its chunks dropped:
    they no longer add up to the edited body), and without SDK versions, as a cassette of an older harness."""
    doc = json.loads(src.read_text(encoding="utf-8"))
    doc.pop("sdk", None)
    response = doc["interactions"][n]["response"]
    response.pop("chunks", None)
    edit(response["body"])
    dest.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return dest


def test_drift_clean_recorded_cassette(recorded, capsys):
    # Given an agent run recorded through harness (an Anthropic stream and JSON answer, an OpenAI chat stream)
    # When drift checks it with the installed SDKs
    code, out, _ = run(capsys, "drift", str(recorded["Paris"]))
    # Then nothing is dropped and it exits 0
    assert code == 0, out
    assert out.splitlines()[-1].startswith("1 cassette, 1 bodies, 20 events checked with anthropic ")
    assert out.splitlines()[-1].endswith(": 0 findings")


def test_drift_unknown_field_in_body(recorded, tmp_path, capsys):
    def edit(body):
        body["json"]["content"][0]["foo"] = 1

    path = altered(recorded["Paris"], tmp_path / "body.json", 2, edit)
    code, out, _ = run(capsys, "drift", str(path))
    assert code == 1
    assert out.splitlines()[:2] == [
        f"{path}  versions not recorded",
        "  #2 body content[0].foo: not modelled by the SDK (dropped)",
    ]
    assert out.splitlines()[-1].endswith(": 1 finding")


def test_drift_unknown_field_in_stream_event(recorded, tmp_path, capsys):
    def edit(body):
        body["sse"][1]["data"]["content_block"]["foo"] = "bar"  # content_block_start of the text block

    path = altered(recorded["Paris"], tmp_path / "event.json", 0, edit)
    code, out, _ = run(capsys, "drift", str(path))
    assert code == 1
    assert "  #0 event 1 content_block.foo: not modelled by the SDK (dropped)" in out.splitlines()


def test_drift_wrong_type_and_missing_field(recorded, tmp_path, capsys):
    def edit(body):
        body["sse"][0]["data"]["message"]["usage"]["input_tokens"] = "25"
        del body["sse"][6]["data"]["content_block"]["name"]  # the tool_use block start

    path = altered(recorded["Paris"], tmp_path / "types.json", 0, edit)
    code, out, _ = run(capsys, "drift", "--json", str(path))
    assert code == 1
    doc = json.loads(out)
    assert doc["cassettes"][0]["findings"] == [
        "#0 event 0 message.usage.input_tokens: input should be a valid integer (int_type)",
        "#0 event 6 content_block.name: field required (missing)",
    ]
    assert doc["installed"]["anthropic"] == version("anthropic")


def test_drift_stores_sdk_versions_on_record(tmp_path, capsys):
    import anthropic  # noqa: F401  (an SDK imported at record time)
    import openai  # noqa: F401

    from tests.cli.helpers import fake_api
    from tests.servers.base import ServerThread

    path = tmp_path / "versions.json"
    with ServerThread(fake_api()) as server:
        record_agent_run(server.url, path, "Paris")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["sdk"]["anthropic"] == version("anthropic")
    assert doc["sdk"]["openai"] == version("openai")
    assert list(doc)[:2] == ["harness_cassette", "sdk"]
    code, out, _ = run(capsys, "drift", "-v", str(path))
    assert code == 0
    assert out.splitlines()[0].startswith(f"{path}  recorded with anthropic {version('anthropic')}, ")
    assert f"openai {version('openai')}" in out.splitlines()[0]


def test_drift_old_cassette_and_unknown_block_type(recorded, tmp_path, capsys):
    # Given a cassette without SDK versions whose answer has a content block type the SDK does not know
    def edit(body):
        body["json"]["content"].append({"type": "hologram", "frames": 3})

    path = altered(recorded["Paris"], tmp_path / "block.json", 2, edit)
    code, out, _ = run(capsys, "drift", str(path))
    # Then one finding names the type, not one per union member tried
    assert code == 1
    assert out.splitlines()[:2] == [
        f"{path}  versions not recorded",
        "  #2 body content[1].type: type 'hologram' is not one the SDK models",
    ]


def test_drift_unreadable_cassette_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"harness_cassette": 1, "interactions": [', encoding="utf-8")
    code, out, _ = run(capsys, "drift", str(bad))
    assert code == 2
    assert str(bad) in out


DRIFT_MODULE = """
import pytest

@pytest.mark.cassette(allow_unplayed=True)
def test_a():
    pass

@pytest.mark.cassette(allow_unplayed=True)
def test_b():
    pass
"""


def _drift_project(pytester, recorded) -> None:
    def edit(body):
        body["sse"][1]["data"]["content_block"]["foo"] = "bar"

    pytester.makepyfile(test_agent=DRIFT_MODULE)
    folder = pytester.path / "cassettes" / "test_agent"
    folder.mkdir(parents=True)
    altered(recorded["Paris"], folder / "test_a.json", 0, edit)
    (folder / "test_b.json").write_text(recorded["Lyon"].read_text(encoding="utf-8"), encoding="utf-8")


def test_pytest_option_fails_the_session_on_drift(pytester, recorded):
    # Given two replayed tests, one of whose cassettes carries a field the installed SDK does not model
    _drift_project(pytester, recorded)
    # When the suite runs without the option, then nothing is checked
    plain = pytester.runpytest("-p", "no:randomly")
    assert plain.ret == 0
    # When it runs with --harness-drift, then the tests pass but the session fails, naming the field
    result = pytester.runpytest("-p", "no:randomly", "--harness-drift")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    lines = result.outlines
    at = lines.index("cassettes/test_agent/test_a.json  versions not recorded")
    assert lines[at + 1] == "  #0 event 1 content_block.foo: not modelled by the SDK (dropped)"
    assert any(line.startswith("harness drift: 1 of 2 cassette(s) used hold") for line in lines)


def test_pytest_option_under_xdist(pytester, recorded):
    # Given the same project, when it runs on two workers, then the controller checks what the workers used
    _drift_project(pytester, recorded)
    result = pytester.runpytest("-p", "no:randomly", "-n", "2", "--harness-drift")
    result.assert_outcomes(passed=2)
    assert result.ret == 1
    assert "  #0 event 1 content_block.foo: not modelled by the SDK (dropped)" in result.outlines


def test_a_save_that_recorded_nothing_keeps_the_files_versions(recorded, tmp_path):
    # Given a cassette recorded with an older SDK
    from harness.config import Settings
    from harness.session import Session

    path = tmp_path / "old.json"
    interactions = json.loads(recorded["Paris"].read_text(encoding="utf-8"))["interactions"]
    doc = {"harness_cassette": 1, "sdk": {"anthropic": "2.0.0"}, "interactions": interactions}
    path.write_text(json.dumps(doc), encoding="utf-8")
    # When a test opens it in new_episodes mode and records nothing
    session = Session(Settings(record_mode="new_episodes", allow_unplayed=True), path, "tests/test_cli.py::agent")
    session.start()
    session.stop()
    # Then the file still says which SDK recorded it
    assert json.loads(path.read_text(encoding="utf-8"))["sdk"] == {"anthropic": "2.0.0"}


WS_CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "examples" / "openai_agents_ws" / "test_openai_agents_ws"


def test_drift_checks_websocket_server_frames(tmp_path, capsys):
    # Given the openai-agents example's Responses WebSocket session, recorded through the real SDK
    src = WS_CASSETTES / "test_function_tool_over_the_websocket.json"
    doc = json.loads(src.read_text(encoding="utf-8"))
    (ws,) = [i for i in doc["interactions"] if i["kind"] == "websocket"]
    server = [f for f in ws["frames"] if f["from"] == "server" and "json" in f]
    # When drift checks it as recorded: every server frame is parsed with openai's ResponsesServerEvent
    code, out, _ = run(capsys, "drift", str(src))
    assert code == 0, out
    assert f"0 bodies, {len(server)} events checked" in out.splitlines()[-1]
    # When a server frame carries a field the SDK does not model, and another a type it does not know
    n = ws["frames"].index(server[0])
    server[0]["json"]["response"]["foo"] = 1
    server[1]["json"]["type"] = "response.teleported"
    altered_ws = tmp_path / "ws.json"
    altered_ws.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    code, out, _ = run(capsys, "drift", str(altered_ws))
    # Then both are findings, named by frame
    assert code == 1, out
    k = doc["interactions"].index(ws)
    assert f"  #{k} frame {n} response.foo: not modelled by the SDK (dropped)" in out.splitlines()
    assert (
        f"  #{k} frame {ws['frames'].index(server[1])} type: event type 'response.teleported' is not modelled by the SDK"
        in out.splitlines()
    )


def test_drift_checks_realtime_frames(tmp_path, capsys):
    from harness.cassette import format as fmt
    from harness.cassette.model import WebSocketInteraction

    delta = {"type": "response.output_text.delta", "event_id": "e1", "response_id": "r1", "item_id": "i1",
             "output_index": 0, "content_index": 0, "delta": "Hi"}  # fmt: skip
    frames = [
        {"from": "client", "ms": 1.0, "json": {"type": "response.create"}},
        {"from": "server", "ms": 2.0, "json": delta},
        {"from": "server", "ms": 3.0, "json": {**delta, "extra": True}},
    ]
    path = tmp_path / "realtime.json"
    path.write_text(
        fmt.dumps([WebSocketInteraction("wss://api.openai.com/v1/realtime?model=gpt-realtime", {}, frames)]), encoding="utf-8"
    )
    code, out, _ = run(capsys, "drift", str(path))
    assert code == 1, out
    assert "  #0 frame 2 extra: not modelled by the SDK (dropped)" in out.splitlines()
    assert "0 bodies, 2 events checked" in out.splitlines()[-1]


EXAMPLES = Path(__file__).resolve().parents[2] / "cassettes" / "examples"


def test_drift_checks_session_event_streams(tmp_path, capsys):
    # Given a managed-agents session (anthropic SessionToolRunner) and an openai beta agents session, recorded
    managed = next((EXAMPLES / "managed_sessions").rglob("*.json"))
    agents = sorted((EXAMPLES / "openai_agent_sessions").rglob("*.json"))
    # When drift checks them: each stream's events parse with the SDK's session event union (their
    # date-times, strings in JSON, read as JSON carries them), nothing dropped
    for path in [managed, *agents]:
        code, out, _ = run(capsys, "drift", str(path))
        assert code == 0, out
        assert " 0 events checked" not in out.splitlines()[-1], out
    # When a managed-agents event carries a field the SDK does not model
    doc = json.loads(managed.read_text(encoding="utf-8"))
    n, item = next(
        (n, i)
        for n, i in enumerate(doc["interactions"])
        if i["kind"] == "http" and i["request"]["url"].endswith("/events/stream")
    )
    item["response"].pop("chunks", None)
    item["response"]["body"]["sse"][0]["data"]["foo"] = 1
    path = tmp_path / "session.json"
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    code, out, _ = run(capsys, "drift", str(path))
    # Then it is a finding
    assert code == 1, out
    assert f"  #{n} event 0 foo: not modelled by the SDK (dropped)" in out.splitlines()
