"""The exact map of the index (a request that repeats its recording byte for byte skips parsing,
scrubbing and keying) answers exactly what the whole way answers: the same interaction, the same
miss, in the same order, whatever the settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cassette.model import Body, Cassette, HttpInteraction, Request, Response
from harness.config import Settings
from harness.engine.ledger import Ledger
from harness.errors import CassetteMiss
from harness.redact import Redactor

URL = "https://api.anthropic.com/v1/messages"
JSON = [(b"content-type", b"application/json"), (b"x-api-key", b"sk-ant-live-000000000000")]


def sdk(value: Any) -> bytes:
    """A body as the SDKs send it: compact, keys in order, non-ASCII kept."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def recorded(method: str, url: str, headers: dict[str, str], body: Body, n: int) -> HttpInteraction:
    return HttpInteraction(Request(method, url, headers, body), Response(200, {}, Body("text", f"answer {n}")))


def ledger(items: list[HttpInteraction], **settings: Any) -> Ledger:
    s = Settings(record_mode="none", allow_unplayed=True, **settings)
    return Ledger(s, Cassette(Path("c.json"), list(items)), replaying=True, recording=False)


def answer(result: Any) -> str:
    return "miss" if isinstance(result, CassetteMiss) else result.replay.response.body.value


def both_ways(
    items: list[HttpInteraction], requests: list[tuple[str, str, Any, bytes]], **settings: Any
) -> tuple[list[str], list[str]]:
    """The answers to ``requests`` through the seams' call and through the whole way, each on a fresh ledger
    whose index is built first (by a request that matches nothing)."""
    out: list[list[str]] = []
    for fast in (True, False):
        led = ledger(items, **settings)
        with pytest.raises(CassetteMiss):
            led.plan(led.http_request("GET", "https://nowhere.test/none", [], b""))
        answers = []
        for method, url, headers, body in requests:
            try:
                plan = (
                    led.plan_http(method, url, headers, body) if fast else led.plan(led.http_request(method, url, headers, body))
                )
            except CassetteMiss as miss:
                answers.append(answer(miss))
            else:
                answers.append(answer(plan))
        out.append(answers)
    return out[0], out[1]


def test_a_request_as_the_sdk_sends_it_is_answered_by_the_exact_map() -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "héllo"}]}
    led = ledger([recorded("POST", URL, {"content-type": "application/json"}, Body.from_bytes(sdk(body), "application/json"), 0)])
    led.plan(led.http_request("POST", URL, JSON, sdk(body)))
    led.replay_from_start()
    led._index = led._build_index()
    assert len(led._index.exact) == 1
    assert answer(led.plan_http("POST", URL, JSON, sdk(body))) == "answer 0"
    assert led.cassette.played == [0]


def test_identical_requests_replay_in_recorded_order_then_miss_with_the_report() -> None:
    body = sdk({"q": 1})
    items = [
        recorded("POST", URL, {"content-type": "application/json"}, Body.from_bytes(body, "application/json"), n)
        for n in range(3)
    ]
    fast, whole = both_ways(items, [("POST", URL, JSON, body)] * 4)
    assert fast == whole == ["answer 0", "answer 1", "answer 2", "miss"]


CASES: list[tuple[str, dict[str, Any], Body, str, list[tuple[bytes, bytes]], bytes, str]] = [
    # (case, settings, recorded body, recorded content type, request headers, request body, expected)
    ("same bytes", {}, Body("json", {"a": 1, "b": [1, 2]}), "application/json", JSON, b'{"a":1,"b":[1,2]}', "answer 0"),
    ("padded JSON", {}, Body("json", {"a": 1}), "application/json", JSON, b'{"a": 1}', "answer 0"),
    ("keys reordered", {}, Body("json", {"a": 1, "b": 2}), "application/json", JSON, b'{"b":2,"a":1}', "answer 0"),
    ("other value", {}, Body("json", {"a": 1}), "application/json", JSON, b'{"a":2}', "miss"),
    (
        "ignored path",
        {"ignore_paths": ("$.id",)},
        Body("json", {"id": 1, "a": 1}),
        "application/json",
        JSON,
        b'{"id":2,"a":1}',
        "answer 0",
    ),
    (
        "ignored, same bytes",
        {"ignore_paths": ("$.id",)},
        Body("json", {"id": 1}),
        "application/json",
        JSON,
        b'{"id":1}',
        "answer 0",
    ),
    (
        "body not matched",
        {"match_on": ("method", "path")},
        Body("json", {"a": 1}),
        "application/json",
        JSON,
        b'{"a":9}',
        "answer 0",
    ),
    (
        "headers matched",
        {"match_on": ("method", "path", "headers")},
        Body("json", {"a": 1}),
        "application/json",
        JSON,
        b'{"a":1}',
        "answer 0",
    ),
    (
        "other headers",
        {"match_on": ("method", "path", "headers")},
        Body("json", {"a": 1}),
        "application/json",
        [*JSON, (b"x-trace", b"1")],
        b'{"a":1}',
        "miss",
    ),
    # The same bytes sent as text: the recording's body was JSON, the request's is text.
    ("text, not JSON", {}, Body("json", {"a": 1}), "application/json", [(b"content-type", b"text/plain")], b'{"a":1}', "miss"),
    # A recording kept as text although its content type says JSON (hand-written, imported): the
    # request with those bytes parses as JSON, and so does not match it.
    ("text stored under JSON", {}, Body("text", '{"a":1}'), "application/json", JSON, b'{"a":1}', "miss"),
    ("text", {}, Body("text", "hello"), "text/plain", [(b"Content-Type", b"text/plain")], b"hello", "answer 0"),
    ("no body", {}, Body("empty"), "", [], b"", "answer 0"),
    # A recording that holds what scrubbing now removes (a pattern added since, a hand-edited file):
    # the request is scrubbed before it is matched, so its bytes are not the recording's.
    (
        "secret in the recording",
        {},
        Body("json", {"k": "sk-ant-abcdefghijklmnop"}),
        "application/json",
        JSON,
        b'{"k":"sk-ant-abcdefghijklmnop"}',
        "miss",
    ),
    (
        "new pattern",
        {"redact_patterns": ("hunter2",)},
        Body("json", {"p": "hunter2"}),
        "application/json",
        JSON,
        b'{"p":"hunter2"}',
        "miss",
    ),
    ("content type dropped", {"redact_headers": ("content-type",)}, Body("json", {"a": 1}), "", JSON, b'{"a":1}', "answer 0"),
]


@pytest.mark.parametrize(
    ("settings", "body", "ctype", "headers", "data", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_the_exact_map_answers_what_the_whole_way_answers(
    settings: dict[str, Any], body: Body, ctype: str, headers: list[tuple[bytes, bytes]], data: bytes, expected: str
) -> None:
    items = [recorded("POST", URL, {"content-type": ctype} if ctype else {}, body, 0)]
    fast, whole = both_ways(items, [("POST", URL, headers, data)], **settings)
    assert fast == whole == [expected]


def test_query_order_and_url_secrets() -> None:
    items = [
        recorded("GET", "https://api.test/v1/items?a=1&b=2", {}, Body("empty"), 0),
        recorded("GET", "https://api.test/v1/items?key=sk-ant-abcdefghijklmnop", {}, Body("empty"), 1),
    ]
    requests = [
        ("get", "https://api.test/v1/items?b=2&a=1", [], b""),
        ("GET", "https://api.test/v1/items?a=1&b=2", [], b""),
        ("GET", "https://api.test/v1/items?key=sk-ant-abcdefghijklmnop", [], b""),
    ]
    fast, whole = both_ways(items, requests)
    assert fast == whole == ["answer 0", "miss", "miss"]


def test_multipart_matches_by_its_parts_whatever_the_boundary() -> None:
    def form(boundary: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
        data = f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nhi\r\n--{boundary}--\r\n'
        return [(b"content-type", f"multipart/form-data; boundary={boundary}".encode())], data.encode()

    headers, data = form("one")
    items = [
        recorded("POST", URL, {"content-type": headers[0][1].decode()}, Body.from_bytes(data, headers[0][1].decode()), 0)
    ] * 2
    fast, whole = both_ways(items, [("POST", URL, *form("one")), ("POST", URL, *form("two")), ("POST", URL, *form("three"))])
    assert fast == whole == ["answer 0", "answer 0", "miss"]


def test_a_rebuilt_index_forgets_what_was_played() -> None:
    body = sdk({"q": 1})
    led = ledger([recorded("POST", URL, {"content-type": "application/json"}, Body.from_bytes(body, "application/json"), 0)])
    assert answer(led.plan_http("POST", URL, JSON, body)) == "answer 0"
    led.replay_from_start()
    assert answer(led.plan_http("POST", URL, JSON, body)) == "answer 0"
    with pytest.raises(CassetteMiss):
        led.plan_http("POST", URL, JSON, body)


@pytest.mark.parametrize(
    "texts",
    [
        [b'{"max_tokens":10}', b'{"api_key":"abcdef"}', b"plain", b"Bearer abcdefghijklmnopqrstu"],
        [b"sk", b"-ant-abcdefghijklmnop", b"ok"],  # a needle across a join: a false alarm only
        [b"", b"key", b"=value", "caf\u00e9 sk-ant-abcdefghijkl".encode()],
    ],
)
def test_needle_free_never_clears_a_text_that_holds_a_secret(texts: list[bytes]) -> None:
    scanner = Redactor().scanner
    for text, clean in zip(texts, scanner.needle_free(texts), strict=True):
        if clean:
            assert not Redactor().contains_secret(text.decode())
    assert scanner.needle_free([b'{"a":1}', b"plain"]) == [True, True]
    assert Redactor(patterns=("hunter2",)).scanner.needle_free([b"plain"]) == [False]
