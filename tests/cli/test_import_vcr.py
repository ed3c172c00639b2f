"""``harness import-vcr``: a vcrpy cassette imported and replayed, and what it cannot read."""

from __future__ import annotations

import json
from typing import Any

import pytest

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


# Cassettes shaped as real suites write them: pydantic-ai's serializer (JSON bodies under
# `parsed_body`, its own form scrubbing), vcrpy's older httpx format, aiohttp's istr header keys.
PARSED_BODY = """\
interactions:
- request:
    headers:
      accept:
      - application/json
      content-length:
      - '139'
      content-type:
      - application/json
      host:
      - api.anthropic.com
    method: POST
    parsed_body:
      messages:
      - content:
        - text: The quick brown fox jumps over the lazydog.
          type: text
        role: user
      model: claude-sonnet-4-5
    uri: https://api.anthropic.com/v1/messages/count_tokens?beta=true
  response:
    headers:
      connection:
      - keep-alive
      content-length:
      - '19'
      content-type:
      - application/json
    parsed_body:
      input_tokens: 19
    status:
      code: 200
      message: OK
version: 1
"""


def _pydantic_ai_deserialize(cassette_string: str) -> Any:
    """pydantic-ai's vcrpy deserializer (tests/json_body_serializer.py): `parsed_body` back to a body."""
    import yaml

    cassette_dict = yaml.load(cassette_string, Loader=yaml.SafeLoader)
    for interaction in cassette_dict["interactions"]:
        for kind, data in interaction.items():
            parsed_body = data.pop("parsed_body", None)
            if parsed_body is not None:
                dumped_body = json.dumps(parsed_body)
                data["body"] = {"string": dumped_body} if kind == "response" else dumped_body
    return cassette_dict


class _PydanticAiSerializer:
    deserialize = staticmethod(_pydantic_ai_deserialize)

    @staticmethod
    def serialize(cassette_dict: Any) -> str:
        raise AssertionError("replay only")


def _replay_with_vcrpy(path: Any, send: Any, serializer: str = "yaml") -> Any:
    import httpx2
    import vcr

    my_vcr = vcr.VCR(record_mode="none")
    my_vcr.register_serializer("pydantic_ai", _PydanticAiSerializer)
    with my_vcr.use_cassette(str(path), serializer=serializer), httpx2.Client() as client:
        return send(client)


def _replay_with_harness(path: Any, send: Any) -> Any:
    import httpx2

    session = Session(Settings(record_mode="none"), path, "tests/test_agent.py::test_x")
    session.start()
    try:
        with httpx2.Client() as client:
            result = send(client)
    finally:
        session.stop()
    session.check()
    return result


def _answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.json()


def test_import_vcr_reads_bodies_under_parsed_body_and_replays_as_vcrpy_does(tmp_path, capsys):
    # Given a cassette written by pydantic-ai's serializer (JSON bodies under `parsed_body`)
    src = tmp_path / "test_count_tokens.yaml"
    src.write_text(PARSED_BODY, encoding="utf-8")

    # When it is imported
    code, out, err = run(capsys, "import-vcr", str(src))
    target = tmp_path / "test_count_tokens.json"

    # Then the bodies are there, as JSON
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "harness import-vcr: 1 converted"
    (item,) = fmt.loads(target.read_text(encoding="utf-8"), target)
    assert item.request.body.value == {
        "messages": [{"content": [{"text": "The quick brown fox jumps over the lazydog.", "type": "text"}], "role": "user"}],
        "model": "claude-sonnet-4-5",
    }
    assert item.response.body.value == {"input_tokens": 19}

    # And harness replays it with the answer vcrpy (with pydantic-ai's serializer) gives
    def send(client: Any) -> Any:
        return _answer(client.post("https://api.anthropic.com/v1/messages/count_tokens?beta=true", json=item.request.body.value))

    assert _replay_with_harness(target, send) == _replay_with_vcrpy(src, send, "pydantic_ai") == (200, {"input_tokens": 19})


OLD_HTTPX = """\
interactions:
- request:
    body: '{"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hello"}]}'
    headers:
      accept:
      - application/json
      content-type:
      - application/json
      host:
      - api.openai.com
    method: POST
    uri: https://api.openai.com/v1/chat/completions
  response:
    content: "{\\n  \\"error\\": {\\n    \\"message\\": \\"Sorry! We've encountered an issue
      with repetitive patterns in your prompt.\\",\\n    \\"type\\": \\"invalid_request_error\\",\\n
      \\   \\"param\\": \\"prompt\\",\\n    \\"code\\": \\"invalid_prompt\\"\\n  }\\n}\\n"
    headers:
      Content-Encoding:
      - gzip
      Content-Type:
      - application/json
      Date:
      - Thu, 09 May 2024 10:07:18 GMT
    http_version: HTTP/1.1
    status_code: 400
version: 1
"""


def test_import_vcr_reads_vcrpys_older_httpx_format(tmp_path, capsys):
    # Given a cassette in the format vcrpy's httpx stubs wrote before 4.x (`status_code`, `content`),
    # which vcrpy still replays
    src = tmp_path / "test_old.yaml"
    src.write_text(OLD_HTTPX, encoding="utf-8")

    # When it is imported
    code, out, err = run(capsys, "import-vcr", str(src))
    target = tmp_path / "test_old.json"

    # Then it converts, and harness replays it with vcrpy's answer
    assert (code, err) == (0, ""), err
    assert out.splitlines()[-1] == "harness import-vcr: 1 converted"
    (item,) = fmt.loads(target.read_text(encoding="utf-8"), target)
    assert item.response.status == 400 and item.response.body.value["error"]["code"] == "invalid_prompt"

    def send(client: Any) -> Any:
        body = {"model": "gpt-3.5-turbo", "messages": [{"role": "user", "content": "hello"}]}
        return _answer(client.post("https://api.openai.com/v1/chat/completions", json=body))

    assert _replay_with_harness(target, send) == _replay_with_vcrpy(src, send)


AIOHTTP_HEADERS = """\
interactions:
- request:
    body: '{"foo": "bar"}'
    headers:
      ? !!python/object/apply:multidict._multidict.istr
      - Accept
      : - '*/*'
      ? !!python/object/new:multidict._multidict.istr
      - Content-Type
      : - application/json
      Connection:
      - keep-alive
    method: POST
    uri: http://127.0.0.1:49221/serve
  response:
    body:
      string: OK
    headers:
      ? !!python/object/apply:multidict._multidict.istr
      - Content-Type
      : - text/plain; charset=utf-8
    status:
      code: 200
      message: OK
    url: !!python/object/new:yarl.URL
      state: !!python/tuple
      - !!python/tuple
        - http
        - 127.0.0.1:49221
        - /serve
        - ''
        - ''
version: 1
"""


def test_import_vcr_reads_aiohttp_istr_headers_and_refuses_other_python_tags(tmp_path, capsys):
    # Given a cassette recorded through aiohttp (header names as multidict's istr, a yarl URL)
    src = tmp_path / "test_aiohttp.yaml"
    src.write_text(AIOHTTP_HEADERS, encoding="utf-8")

    # When it is imported, then its headers are plain names
    code, out, err = run(capsys, "import-vcr", str(src))
    assert (code, err) == (0, "")
    (item,) = fmt.loads((tmp_path / "test_aiohttp.json").read_text(encoding="utf-8"), src)
    assert item.request.headers == {"accept": "*/*", "content-type": "application/json"}  # hop-by-hop dropped
    assert item.response.headers == {"content-type": "text/plain; charset=utf-8"}
    assert item.response.body.value == "OK"

    # And a tag that would run code is refused, not run, with the file and the tag named
    marker = tmp_path / "ran"
    evil = tmp_path / "test_evil.yaml"
    evil.write_text(AIOHTTP_HEADERS.replace("string: OK", f"string: !!python/object/apply:os.system ['touch {marker}']"))
    code, out, err = run(capsys, "import-vcr", str(evil))
    assert code == 1 and not marker.exists() and not (tmp_path / "test_evil.json").exists()
    assert err == (
        f"harness: {evil}: the YAML tag !!python/object/apply:os.system at line 17 is not read "
        "(it would run code; harness reads only multidict's istr, yarl's URL and plain Python tags)\n"
    )
    assert out.splitlines()[-1] == "harness import-vcr: 0 converted, 1 refused (1 Python tag not read)"


def test_import_vcr_scrubs_credentials_in_form_and_json_bodies(tmp_path, capsys):
    # Given an OAuth refresh as recorded (a form body with the client secret and refresh token, the
    # access token in the JSON answer)
    secret, refresh, access = "GOCSPX-" + "q7MQmFpd7h" * 2, "1//0g" + "Lyon5Paris" * 3, "ya29.a0AfH6SMB" + "xYz9" * 10
    src = tmp_path / "test_token.yaml"
    src.write_text(
        f"""\
interactions:
- request:
    body: grant_type=refresh_token&client_id=32555940559.apps.googleusercontent.com&client_secret={secret}&refresh_token={refresh}
    headers:
      content-type:
      - application/x-www-form-urlencoded
    method: POST
    uri: https://oauth2.googleapis.com/token
  response:
    headers:
      content-type:
      - application/json; charset=utf-8
    parsed_body:
      access_token: {access}
      expires_in: 3599
      token_type: Bearer
    status:
      code: 200
      message: OK
version: 1
""",
        encoding="utf-8",
    )

    # When it is imported, then none of the three is on disk, and the summary says so
    code, out, err = run(capsys, "import-vcr", str(src))
    text = (tmp_path / "test_token.json").read_text(encoding="utf-8")
    assert (code, err) == (0, "")
    assert secret not in text and refresh not in text and access not in text
    (item,) = fmt.loads(text, src)
    assert item.response.body.value == {"access_token": "<REDACTED>", "expires_in": 3599, "token_type": "Bearer"}
    assert "client_secret=<REDACTED>&refresh_token=<REDACTED>" in item.request.body.value
    assert "scrubbed 3 key-shaped strings" in out


def test_import_vcr_refuses_a_header_name_harness_cannot_store(tmp_path, capsys):
    # Given a cassette whose header name holds a tab (vcrpy replays it: it never checks names)
    src = tmp_path / "test_tab.yaml"
    src.write_text(PARSED_BODY.replace("      accept:\n", '      "acc\\tept":\n'), encoding="utf-8")

    # When it is imported, then it is refused, naming the header, and nothing is written
    code, out, err = run(capsys, "import-vcr", str(src))
    assert code == 1 and not (tmp_path / "test_tab.json").exists()
    assert err == f"harness: {src}: interaction 0: the request header name 'acc\\tept' is not a valid HTTP header name\n"
    assert out.splitlines()[-1] == "harness import-vcr: 0 converted, 1 refused (1 invalid header)"


def test_import_vcr_counts_what_it_converted_and_refused_by_reason(tmp_path, capsys):
    # Given a suite's folder: two cassettes vcrpy replays, a broken file, and a recording of another
    # tool (pydantic-ai's gRPC samples: `interactions`, but no request / response)
    suite = tmp_path / "cassettes"
    (suite / "a").mkdir(parents=True)
    (suite / "a" / "test_one.yaml").write_text(PARSED_BODY, encoding="utf-8")
    (suite / "a" / "test_two.yaml").write_text(OLD_HTTPX, encoding="utf-8")
    (suite / "test_broken.yaml").write_text("interactions: [\n", encoding="utf-8")
    (suite / "test_grpc.yaml").write_text(
        "version: 1\ninteractions:\n- request_sample:\n    json: {model: grok}\n  response_sample:\n    json: {id: x}\n",
        encoding="utf-8",
    )

    # When the folder is imported
    code, out, err = run(capsys, "import-vcr", str(suite), "-o", str(tmp_path / "out"))

    # Then each refusal names its file and reason, and the last line counts them by reason
    assert code == 1
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.json")) == [
        "a/test_one.json",
        "a/test_two.json",
    ]
    assert err.splitlines() == [
        f"harness: {suite / 'test_broken.yaml'}: not valid YAML at line 2: did not find expected node content",
        f"harness: {suite / 'test_grpc.yaml'}: not a vcrpy cassette: interaction 0 has no 'request' and 'response' "
        "(keys: request_sample, response_sample)",
    ]
    assert out.splitlines()[-1] == "harness import-vcr: 2 converted, 2 refused (1 not a vcrpy cassette, 1 not valid YAML)"


@pytest.mark.parametrize("scenario", ["padded", "brace-pad"])
def test_import_vcr_of_a_padded_stream_keeps_no_second_copy_of_its_text(model_server, tmp_path, capsys, scenario):
    import httpx2
    import vcr

    from tests.conftest import NetworkGuard

    # Given a vcrpy cassette of a stream whose JSON the server padded, as the Anthropic API does
    yaml_path = tmp_path / "vcr" / "test_padded.yaml"
    body = {"model": "m", "max_tokens": 20, "stream": True, "messages": [{"role": "user", "content": "Grüße aus Köln"}]}
    headers = {"x-api-key": KEY, "x-fake-scenario": scenario}
    with vcr.VCR().use_cassette(str(yaml_path)), httpx2.Client() as client:
        live = client.post(f"{model_server.url}/v1/messages", json=body, headers=headers).content
    assert b'"type": "ping"' in live and (b'", "' in live or b"  }" in live)

    # When it is imported
    code, _, _ = run(capsys, "import-vcr", str(yaml_path), "-o", str(tmp_path / "cassettes"))
    target = tmp_path / "cassettes" / "test_padded.json"
    assert code == 0

    # Then its events are stored once each (no "raw"), and they replay as the server sent them
    (item,) = fmt.load(target)
    assert item.response.body.kind == "sse" and not any("raw" in e for e in item.response.body.value)
    assert '"raw"' not in target.read_text(encoding="utf-8")
    session = Session(Settings(record_mode="none"), target, "tests/test_padded.py::test_x")
    session.start()
    try:
        with NetworkGuard(), httpx2.Client() as client:
            assert client.post("http://127.0.0.1:9/v1/messages", json=body, headers=headers).content == live
    finally:
        session.stop()
    session.check()
