"""The fast secret scan finds exactly what the whole combined pattern finds (no pattern lost)."""

from __future__ import annotations

import random

from harness.redact import CATALOGUE, Scanner

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
