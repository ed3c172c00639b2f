"""``harness import-vcr``: a vcrpy cassette imported and replayed, and what it cannot read."""

from __future__ import annotations

from typing import Any

from harness.cassette import format as fmt
from harness.config import Settings
from harness.session import Session
from tests.cli.helpers import (
    KEY,
    anthropic_tool_use_stream,
    run,
)


def test_import_vcr_round_trip(tmp_path, capsys):
    import httpx2
    import vcr
    from starlette.applications import Starlette
    from starlette.routing import Route

    from tests.servers.base import Scenario, ServerThread, json_response, sse_response

    events = anthropic_tool_use_stream("Paris")

    async def messages(request: Any) -> Any:
        return sse_response(events, Scenario.parse(request))

    async def echo(request: Any) -> Any:
        return json_response({"echo": await request.json()}, Scenario.parse(request))

    # Given a vcrpy cassette recorded for real (vcrpy patches httpx2): an SSE stream sent with an API
    # key, and a gzip-encoded JSON answer
    yaml_path = tmp_path / "vcr" / "test_agent.yaml"
    with ServerThread(
        Starlette(routes=[Route("/v1/messages", messages, methods=["POST"]), Route("/echo", echo, methods=["POST"])])
    ) as server:
        with vcr.VCR().use_cassette(str(yaml_path)), httpx2.Client() as client:
            streamed_bytes = client.post(
                f"{server.url}/v1/messages", json={"stream": True, "messages": []}, headers={"x-api-key": KEY}
            ).content
            echoed = client.post(f"{server.url}/echo", json={"q": "hi"}, headers={"x-fake-scenario": "gzip"}).json()
    text = yaml_path.read_text(encoding="utf-8")
    assert KEY in text and "!!binary" in text and "content-encoding" in text

    # When it is imported into another folder
    code, out, _ = run(capsys, "import-vcr", str(yaml_path), "-o", str(tmp_path / "cassettes"))
    target = tmp_path / "cassettes" / "test_agent.json"
    assert code == 0
    assert out.splitlines() == [
        f"{yaml_path} -> {target}: 2 interactions (1 sse, 1 json); removed 1 credential header, scrubbed 0 key-shaped strings",
        "harness import-vcr: 1 converted",
    ]

    # Then it is a readable harness cassette: SSE as events, gzip decoded, no key, no port
    converted = target.read_text(encoding="utf-8")
    items = fmt.loads(converted, target)
    assert KEY not in converted and "x-api-key" not in converted and "content-encoding" not in converted
    assert [i.response.body.kind for i in items] == ["sse", "json"]
    assert items[0].request.url == "http://127.0.0.1/v1/messages"
    assert items[1].response.body.value == {"echo": {"q": "hi"}}

    # And it replays through harness, with the server gone
    session = Session(Settings(record_mode="none"), target, "tests/test_agent.py::test_x")
    session.start()
    try:
        with httpx2.Client() as client:
            with client.stream("POST", "http://127.0.0.1:9/v1/messages", json={"stream": True, "messages": []}) as response:
                assert response.read() == streamed_bytes
                assert response.headers["content-type"].startswith("text/event-stream")
            assert client.post("http://127.0.0.1:9/echo", json={"q": "hi"}, headers={"x-fake-scenario": "gzip"}).json() == echoed
    finally:
        session.stop()
    session.check()

    # And converting again next to the source refuses to overwrite without --force
    code, _, err = run(capsys, "import-vcr", str(yaml_path), "-o", str(tmp_path / "cassettes"))
    assert code == 1 and err == f"harness: {target} exists: use --force to replace it\n"
    code, out, _ = run(capsys, "import-vcr", str(tmp_path / "vcr"))
    assert code == 0 and (tmp_path / "vcr" / "test_agent.json").exists()


def test_import_vcr_rejects_what_it_cannot_read(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("interactions: [\n", encoding="utf-8")
    code, _, err = run(capsys, "import-vcr", str(bad))
    assert code == 1
    assert err.startswith(f"harness: {bad}: not valid YAML at line ")
    other = tmp_path / "other.yaml"
    other.write_text("just: text\n", encoding="utf-8")
    code, _, err = run(capsys, "import-vcr", str(other))
    assert err == f"harness: {other}: not a vcrpy cassette (no 'interactions' list)\n"
