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
