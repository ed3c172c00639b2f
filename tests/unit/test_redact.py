"""harness.redact: credentials never reach a cassette (headers, URLs, bodies, any text)."""

from __future__ import annotations

import pytest

from harness.redact import REDACTED, SECRET_HEADERS, VOLATILE_HEADERS, Redactor

R = Redactor()

# One example of each default pattern, inside surrounding text.
SECRETS = {
    "anthropic": "sk-ant-api03-abcdEFGH1234_-xyz",
    "openai": "sk-abcdefghijklmnop1234",
    "openai project": "sk-proj-abcdefghijklmnopqrst",
    "openai service account": "sk-svcacct-abcdefghijklmnopqrst",
    "aws access key": "AKIAABCDEFGHIJKLMNOP",
    "github token": "ghp_" + "a1" * 15,
    "slack token": "xoxb-1234567890-abc",
    "google api key": "AIza" + "B7" * 17 + "C",
    "jwt": "eyJhbGciOiJI.eyJzdWIiOiIx.abcdefghij",
}


@pytest.mark.parametrize("secret", SECRETS.values(), ids=SECRETS.keys())
def test_each_default_pattern_is_scrubbed(secret: str) -> None:
    assert R.text(f"before {secret} after") == f"before {REDACTED} after"
    assert R.contains_secret(f"x {secret}")


def test_a_bearer_token_is_scrubbed_after_the_word() -> None:
    assert R.text("Authorization: Bearer abcdefghijklmnop.qrs") == f"Authorization: Bearer {REDACTED}"
    assert R.text("bearer abcdefghijklmnopqrstu") == f"bearer {REDACTED}"


NEAR_MISSES = [
    "sk-short",  # too short for a key
    "task-abcdefghijklmnopqrstu",  # 'sk-' inside a word
    "mysk-abcdefghijklmnop1234",
    "Bearer short",
    "AKIA123",
    "ghp_short",
    "xoxz-1234567890abc",  # not a slack token kind
    "AIza" + "B" * 34,  # one character short
    "eyJabc.eyJabc.abc",  # segments too short for a JWT
    "call_weather2 toolu_01XFDUDYJgAACzvnptvVoYEL",  # ids are not secrets
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_are_not_scrubbed(text: str) -> None:
    assert R.text(text) == text
    assert not R.contains_secret(text)


def test_extra_patterns_add_to_the_defaults() -> None:
    r = Redactor(patterns=[r"secret-\d+"])
    assert r.text("a secret-42 b sk-abcdefghijklmnop1234 c secret-x") == f"a {REDACTED} b {REDACTED} c secret-x"


# --------------------------------------------------------------------------------------------- headers


def test_headers_drops_secrets_and_volatile_ones_lowercases_merges_and_sorts() -> None:
    headers = [
        ("Zeta", "1"),
        ("Authorization", "Bearer abcdefghijklmnopqrstuv"),
        ("X-Api-Key", "k"),
        ("Cookie", "c"),
        ("Content-Type", "application/json"),
        ("Accept", "a"),
        ("accept", "b"),
        ("User-Agent", "u"),
        ("Content-Length", "12"),
        ("X-Stainless-Retry-Count", "0"),
        ("X-Custom", "Bearer abcdefghijklmnopqrstuv"),
    ]
    out = R.headers(headers)
    assert out == {
        "accept": "a, b",
        "content-type": "application/json",
        "x-custom": f"Bearer {REDACTED}",
        "zeta": "1",
    }
    assert list(out) == sorted(out)


@pytest.mark.parametrize("name", sorted(SECRET_HEADERS | VOLATILE_HEADERS | {"x-stainless-os"}))
def test_every_listed_header_is_dropped(name: str) -> None:
    assert R.headers([(name.title(), "value"), ("kept", "1")]) == {"kept": "1"}


def test_extra_headers_to_drop_are_case_insensitive() -> None:
    assert Redactor(headers=["X-Tenant"]).headers([("x-tenant", "acme"), ("X-Other", "2")]) == {"x-other": "2"}


# --------------------------------------------------------------------------------------------- urls


def test_url_scrubs_secret_query_parameters_whatever_their_case() -> None:
    assert (
        R.url("https://h/p?api_key=abc&x=1&KEY=z&token=t")
        == f"https://h/p?api_key={REDACTED}&x=1&KEY={REDACTED}&token={REDACTED}"
    )


@pytest.mark.parametrize(
    "param",
    [
        "api_key", "api-key", "apikey", "key", "token", "access_token", "id_token", "refresh_token", "auth",
        "secret", "client_secret", "password", "passwd", "sig", "signature",
    ],
)  # fmt: skip
def test_url_scrubs_each_secret_parameter(param: str) -> None:
    assert R.url(f"https://h/p?x=1&{param}=v1&y=2") == f"https://h/p?x=1&{param}={REDACTED}&y=2"


def test_url_scrubs_an_empty_secret_and_stops_at_the_next_parameter() -> None:
    assert R.url("https://h/p?key=") == f"https://h/p?key={REDACTED}"
    assert R.url("https://h/p?token=a%26b&x=1") == f"https://h/p?token={REDACTED}&x=1"


def test_url_keeps_parameters_that_only_contain_a_secret_name() -> None:
    url = "https://h/p?monkey=1&keys=2&x_key=3&tokens=4"
    assert R.url(url) == url


def test_url_scrubs_key_shaped_strings_in_the_path() -> None:
    assert R.url("https://h/v1/sk-abcdefghijklmnop1234/x") == f"https://h/v1/{REDACTED}/x"


# --------------------------------------------------------------------------------------------- values


def test_value_scrubs_keys_and_nested_strings_and_keeps_other_values() -> None:
    value = {
        "sk-abcdefghijklmnop1234": ["Bearer abcdefghijklmnopqrstuv", 1, None, True, {"n": "x sk-ant-abcdefgh1"}],
        "plain": {"k": "v", "f": 1.5},
    }
    assert R.value(value) == {
        REDACTED: [f"Bearer {REDACTED}", 1, None, True, {"n": f"x {REDACTED}"}],
        "plain": {"k": "v", "f": 1.5},
    }


def test_value_returns_clean_strings_unchanged_and_does_not_touch_its_input() -> None:
    value = {"a": ["sk-abcdefghijklmnop1234"]}
    assert R.value("clean") == "clean"
    R.value(value)
    assert value == {"a": ["sk-abcdefghijklmnop1234"]}


# -- issue 12: every placement of a secret (items 18-20) ---------------------------------------

from harness.cassette.merge import moved_chunks  # noqa: E402
from harness.cassette.model import Body  # noqa: E402
from harness.redact import is_secret_header  # noqa: E402


def _stream(pieces: list[str]) -> bytes:
    events = [
        f'event: content_block_delta\ndata: {{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":"{p}"}}}}\n\n'
        for p in pieces
    ]
    return "".join(events).encode()


def test_a_key_split_across_text_deltas_is_scrubbed_keeping_the_events_and_chunks() -> None:
    wire = _stream(["my key ", "sk-ant-api03-Ab", "cDeFgHiJkLmN", "oP done"])
    parsed = Body.from_bytes(wire, "text/event-stream")
    stored = R.body(parsed, wire)
    assert b"sk-ant" not in stored.bytes() and b"cDeFgHiJkLmN" not in stored.bytes()
    texts = [e["data"]["delta"]["text"] for e in stored.value]
    assert texts == ["my key ", REDACTED, "", " done"]
    chunks = [[len(wire) // 3, 0.0], [len(wire) // 3, 1.0], [len(wire) - 2 * (len(wire) // 3), 2.0]]
    moved = moved_chunks(chunks, wire, parsed, stored)
    assert len(moved) == 3 and sum(int(c[0]) for c in moved) == len(stored.bytes())


def test_a_key_split_across_tool_argument_chunks_of_one_tool_call_only() -> None:
    def chunk(index: int, args: str) -> str:
        return f'data: {{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":{index},"function":{{"arguments":"{args}"}}}}]}}}}]}}\n\n'

    wire = (chunk(0, "sk-proj-") + chunk(1, "sk-") + chunk(0, "Abcdefghijkl") + chunk(1, "x") + chunk(0, "mnopqrst")).encode()
    stored = R.body(Body.from_bytes(wire, "text/event-stream"), wire)
    args = [e["data"]["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for e in stored.value]
    assert args == [REDACTED, "sk-", "", "x", ""]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "latin-1"])
def test_binary_bodies_are_scanned_through_their_text_views(encoding: str) -> None:
    data = "café key sk-ant-api03-abcdEFGH1234 end".encode(encoding)
    body = Body.from_bytes(data, "application/octet-stream")
    assert body.kind == "base64"
    stored = R.body(body, data)
    assert stored.kind == "base64"
    assert "sk-ant" not in stored.bytes().decode(encoding) and REDACTED in stored.bytes().decode(encoding)


def test_a_key_inside_binary_bytes_is_replaced_keeping_the_rest() -> None:
    data = bytes(range(256)) + b"sk-ant-api03-abcdEFGH1234" + b"\xff\x00"
    stored = R.binary(data)
    assert stored == bytes(range(256)) + REDACTED.encode() + b"\xff\x00"


PLACED = {
    "form client_secret": (
        "grant_type=refresh_token&client_secret=abc123secret&x=1",
        f"grant_type=refresh_token&client_secret={REDACTED}&x=1",
    ),
    "form refresh_token first": ("refresh_token=1abcdef&grant_type=x", f"refresh_token={REDACTED}&grant_type=x"),
    "form password": ("username=svc&password=hunter22", f"username=svc&password={REDACTED}"),
    "oauth access token": ("token ya29.a0AfB2abcdefghij", f"token {REDACTED}"),
    "url userinfo": ("https://svc:PaSsWoRd@host/x", f"https://svc:{REDACTED}@host/x"),
    "upper-case BEARER": ("BEARER abcdefghijklmnopqrst", f"BEARER {REDACTED}"),
    "Bearer and spaces": ("Bearer   abcdefghijklmnopqrst", f"Bearer   {REDACTED}"),
    "json credential field": ('{"client_secret": "abcdef"}', f'{{"client_secret": "{REDACTED}"}}'),
    "query x-api-key": ("/v1?x-api-key=abcdef&b=2", f"/v1?x-api-key={REDACTED}&b=2"),
}


@pytest.mark.parametrize(("text", "scrubbed"), PLACED.values(), ids=PLACED.keys())
def test_each_placement_is_scrubbed_in_text(text: str, scrubbed: str) -> None:
    assert R.text(text) == scrubbed
    assert R.text(scrubbed) == scrubbed  # idempotent: a scrubbed file stays as it is


def test_json_credential_fields_are_scrubbed_whole_but_not_token_counts() -> None:
    value = {"client_secret": "abc", "max_tokens": 50, "token": "Hello", "usage": {"input_tokens": 3}}
    assert R.value(value) == {"client_secret": REDACTED, "max_tokens": 50, "token": "Hello", "usage": {"input_tokens": 3}}


@pytest.mark.parametrize(
    "name", ["x-portkey-api-key", "x-auth-token", "x-amz-security-token", "X-DB-Password", "x-service-secret", "x-access-token"]
)
def test_a_header_whose_name_says_credential_keeps_only_its_name(name: str) -> None:
    assert is_secret_header(name)
    assert R.headers([(name, "opaque-value"), ("accept", "*/*")]) == {"accept": "*/*", name.lower(): REDACTED}


@pytest.mark.parametrize(
    "name", ["anthropic-ratelimit-tokens-remaining", "x-ratelimit-limit-tokens", "content-type", "x-portkey-config"]
)
def test_headers_that_only_mention_tokens_are_kept(name: str) -> None:
    assert not is_secret_header(name)


def test_a_url_with_userinfo_on_loopback_loses_its_port_and_password() -> None:
    from harness.redact import stable_url

    assert R.url(stable_url("http://svc:PaSs@127.0.0.1:8123/v1")) == f"http://svc:{REDACTED}@127.0.0.1/v1"
