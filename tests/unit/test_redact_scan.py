"""The fast secret scan finds exactly what the whole combined pattern finds (no pattern lost)."""

from __future__ import annotations

import random
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harness.redact.scan as scan
from harness.redact import CATALOGUE, REDACTED, Scanner, base64_values
from harness.redact.catalogue import Secret

FRAGMENTS = [
    *("sk-ant-", "sk-", "proj-", "Bearer ", "bearer\t", "AKIA", "ASIA", "ghp_", "github_pat_", "xoxb-", "AIza"),
    *("ya29.", "1//0", "GOCSPX-", "eyJ", ".", "://", "user:", "@", "host", "?", "&", "=", '"', "'", ":", " ", "\n"),
    *("api_key", "API-KEY", "x-api-key", "aws_secret_access_key", "client_secret", "token", "access_token"),
    *("password", "passwd", "signature", "sig", "auth", "key", "x-amz-security-token", "code_verifier"),
    *("client_assertion", "ABCDEFGHIJKLMNOP0123", "abcdefghij", "0123456789", "_", "-", "é", "\u212a", "<REDACTED>"),
]


def test_fast_scan_finds_what_the_whole_pattern_finds():
    scanner, rng = Scanner(), random.Random(1)
    for _ in range(30_000):
        text = "".join(rng.choice(FRAGMENTS) for _ in range(rng.randint(1, 14)))
        whole = [(m.start(), m.end(), m.lastgroup) for m in scanner.pattern.finditer(text)]
        assert [(m.start(), m.end(), m.lastgroup) for m in scanner.matches(text)] == whole, text


def test_every_catalogue_entry_has_needles():
    assert all(entry.needles for entry in CATALOGUE)


# -- the probes (harness/redact/scan.py) against the plain scan, on generated texts -------------------

#: Every name of the catalogue's credential names (``_SECRET_NAMES``), spelt every way it allows.
NAMES = (
    *("x-api-key", "api_key", "api-key", "apikey", "access_token", "accesstoken", "id-token", "refresh_token"),
    *("auth_token", "session-token", "client_secret", "secret_key", "private-key", "aws_secret_access_key"),
    *("aws-secret-access-key", "secret", "password", "passwd", "client_assertion", "code_verifier", "code-verifier"),
    *("x-amz-security-token", "x-amz-signature", "x-amz-credential", "key", "token", "auth", "sig", "signature"),
)
VALUE = st.text(alphabet="abcXYZ0189_-./+=~%&#@:", min_size=0, max_size=40)
_TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
TOKEN = st.one_of(st.text(alphabet=_TOKEN_CHARS, max_size=20), st.text(alphabet=_TOKEN_CHARS, min_size=30, max_size=60))
SPACE = st.sampled_from(["", " ", "  ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\x1c", "\r\n"])
#: Around and between secrets: JSON punctuation and escapes, SSE framing, form and query syntax,
#: non-ASCII letters (some of which case-fold to ASCII: the Kelvin sign, the long s), base64.
FILLER = st.lists(
    st.sampled_from(
        [
            *('"', "'", ":", ": ", '": "', "=", "&", "?", "/", "//", "://", "@", "\\", '\\"', "\\n", "\\u0041", "{", "}"),
            *("data: ", "event: ", "\n\n", ",", " ", "-", "_", ".", "é", "東京", "\u212a", "\u017f", "İ", "+/=", "QUJD"),
            *("tokens", "keyboard", "task-list", "http://", "Bearer", "bearer\t", "AK", "eyJ", "gh", "xox", "1//", "ya29"),
        ]
    ),
    max_size=6,
).map("".join)


def _case(draw: st.DrawFn, word: str) -> str:
    return "".join(c.upper() if draw(st.booleans()) else c for c in word)


@st.composite
def secrets(draw: st.DrawFn) -> str:
    """One secret-shaped string of a kind of the catalogue (or a near miss of it)."""
    token = draw(TOKEN)
    kind = draw(st.integers(0, 14))
    if kind == 0:
        return "sk-ant-" + token
    if kind == 1:
        return "sk-" + draw(st.sampled_from(["", "proj-", "svcacct-", "admin-"])) + token
    if kind == 2:
        return (
            _case(draw, "bearer")
            + draw(SPACE)
            + draw(st.sampled_from(["", "<REDACTED>"]))
            + token
            + draw(st.sampled_from(["", "=", "=="]))
        )
    if kind == 3:
        return draw(st.sampled_from(["AKIA", "ASIA", "AKIa"])) + draw(st.text(alphabet="ABCXYZ0129", min_size=14, max_size=18))
    if kind == 4:
        return draw(st.sampled_from(["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "ghx_", "github_pat_"])) + token
    if kind == 5:
        return draw(st.sampled_from(["xoxb-", "xoxp-", "xoxa-", "xoxs-", "xoxz-"])) + token
    if kind == 6:
        return draw(st.sampled_from(["AIza", "aiza"])) + token
    if kind == 7:
        return draw(st.sampled_from(["ya29.", "1//0", "GOCSPX-", "gocspx-"])) + token
    if kind == 8:
        return "eyJ" + token + "." + draw(st.sampled_from(["eyJ", "eyj"])) + token + "." + draw(TOKEN)
    if kind == 9:
        user = draw(st.text(alphabet="abc:@/ é", max_size=12))
        return draw(st.sampled_from(["https", "redis", ""])) + "://" + user + ":" + draw(VALUE) + "@host"
    name = _case(draw, draw(st.sampled_from(NAMES)))
    if kind in (10, 11):  # a query or form parameter
        return (
            draw(st.sampled_from(["", "?", "&", "x", "_"])) + name + "=" + draw(st.sampled_from(["", "<REDACTED>"])) + draw(VALUE)
        )
    quote = draw(st.sampled_from(['"', "'"]))
    other = draw(st.sampled_from([quote, quote, '"', "'"]))
    return quote + name + other + draw(SPACE) + ":" + draw(SPACE) + other + draw(VALUE) + draw(st.sampled_from([other, "", "\\"]))


TEXTS = st.lists(st.tuples(FILLER, secrets()), min_size=1, max_size=6).map(lambda parts: "".join(f + s for f, s in parts))


SCANNER = Scanner()


def _plain_sub(pattern: re.Pattern[str], text: str) -> str:
    def replace(m: re.Match[str]) -> str:
        keep = f"k{(m.lastgroup or 's0')[1:]}"
        return ((m.group(keep) if keep in pattern.groupindex else None) or "") + REDACTED

    return pattern.sub(replace, text)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, cut=st.integers(0, 200))
def test_probes_find_exactly_what_the_plain_scan_finds(text: str, cut: int) -> None:
    # Given a text with secrets of every catalogue kind at random places, and slices of it (a text
    # cut through a secret, as the final scrub cuts a file around its base64 values)
    pattern = SCANNER.pattern
    assert pattern is not None
    for part in (text, text[cut:], text[:cut]):
        # When the fast scan and the plain one (the combined pattern run by finditer) read it
        plain = [(m.start(), m.end(), m.lastgroup) for m in pattern.finditer(part)]
        # Then they find the same matches, and scrub them the same way
        assert [(m.start(), m.end(), m.lastgroup) for m in SCANNER.matches(part)] == plain, part
        assert SCANNER.sub(part) == _plain_sub(pattern, part), part


def test_every_catalogue_entry_has_a_fast_probe():
    # Every entry is found by the probes, not by the slow needle search (a changed pattern whose
    # probe was not updated falls back to it, and this test names it)
    scanner = Scanner()
    slow = [scanner.entries[i].name for i in range(len(scanner.entries)) if i not in scanner.covered]
    assert slow == [], f"update harness/redact/scan.py _PROBES and _COVERED for: {slow}"


def test_an_entry_no_probe_covers_is_found_through_its_needles(monkeypatch):
    # Given the catalogue with the openai key widened to any case (its probe was written for "sk-")
    widened = tuple(
        Secret(e.name, e.pattern.replace("sk-(?:proj-", "(?i:sk)-(?:proj-"), e.needles, e.reach) if e.name == "openai key" else e
        for e in CATALOGUE
    )
    monkeypatch.setattr(scan, "CATALOGUE", widened)
    scanner = Scanner()
    assert "openai key" not in {scanner.entries[i].name for i in scanner.covered}
    # When a text holds an upper-case key, Then the scan finds it all the same
    text = 'x "SK-ABCDEFGHIJKLMNOPQRSTUV" and sk-abcdefghijklmnopqrstuv é'
    assert [(s, e) for s, e, _ in scanner.finditer(text)] == [m.span() for m in scanner.pattern.finditer(text)]
    assert len(list(scanner.finditer(text))) == 2


BASE64_VALUE = re.compile(r'"base64": "([A-Za-z0-9+/=]*)"')


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(st.sampled_from(['"base64": "', '"', "QUJD", "+/=", "é", "-", " ", "\n", '"base64"', ": "]), max_size=12).map(
        "".join
    )
)
def test_base64_values_are_where_the_pattern_finds_them(text: str) -> None:
    # The base64 values a file's final scrub and lint leave alone: found by literal searches, as the
    # pattern of a base64 value (a quoted run of its alphabet after "base64": ) finds them
    assert base64_values(text) == [m.span(1) for m in BASE64_VALUE.finditer(text)], text


@settings(max_examples=300, deadline=None)
@given(text=TEXTS, extra=st.sampled_from(["hunter2", r"tok-\d+", r"(?i:secret)\w*"]))
def test_with_a_users_pattern_the_scan_finds_what_the_plain_scan_finds(text: str, extra: str) -> None:
    # A pattern without needles (a user's redact_patterns) is searched in the whole text, beside the catalogue's
    scanner = Scanner([extra])
    assert scanner.pattern is not None
    text = f"{text} hunter2 tok-12 "
    plain = [(m.start(), m.end(), m.lastgroup) for m in scanner.pattern.finditer(text)]
    assert [(m.start(), m.end(), m.lastgroup) for m in scanner.matches(text)] == plain, text
