"""Secret-scan throughput on mixed cassettes: MB of cassette text scanned per second of CPU.

The corpus: every cassette and snapshot under ``examples/`` and ``cassettes/`` (as they are on disk),
and a synthetic cassette of about 8 MB that mixes what real suites hold: JSON request and response
bodies (prose, ids, usage counts, URLs), SSE streams (one event per line), base64 blobs, form bodies,
credential-free headers (``anthropic-ratelimit-tokens-*``, ``x-request-id``), and a few secrets of every
catalogue kind (about one per 100 KB). Timed: ``Scanner.finditer`` over each file's text (what
``harness lint`` runs) and ``Redactor.file_text`` (the last scrub of every cassette written, and of
``harness import-vcr``), interleaved round by round, CPU time, medians. The baseline is the plain
scan: the catalogue's combined pattern run by ``finditer`` on the whole text (what the fast scanner
must find exactly).
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable
from pathlib import Path

from bench.common import Row, interleaved

ROOT = Path(__file__).resolve().parent.parent
_WORDS = (
    "the weather in Paris is sunny today with a light breeze from the west and temperatures around twenty "
    "degrees so a walk along the Seine would be pleasant this afternoon; the task-list keyboard monkey token "
    "tokens disk-usage passage café 東京 https://example.com/docs?page=2 user@example.com key: value"
).split()
#: One of each catalogue kind (fake, key-shaped): what the scan must find in the corpus.
SECRETS = (
    "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789",
    "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123",
    "Bearer abcdefghijklmnop0123456789",
    "AKIAABCDEFGHIJKLMNOP",
    "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "xoxb-0123456789-abcdefghij",
    "AIzaSyA0123456789abcdefghijklmnopqrstuv",
    "ya29.a0Abcdefghijklmnop",
    "1//0abcdefghijklmnopqrstuvwxyz",
    "GOCSPX-abcdefghijklmnop",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop",
    "https://user:hunter2hunter2@db.example.com/x",
    "https://api.example.com/v1/x?api_key=abcdefghijklmnop&page=2",
)


def _prose(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n))


def _json_exchange(rng: random.Random, i: int) -> dict[str, object]:
    request = {
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": _prose(rng, 60)}, {"role": "assistant", "content": _prose(rng, 120)}],
        "model": "claude-opus-4-7",
        "metadata": {"user_id": f"user-{i:08d}"},
    }
    response = {
        "id": f"msg_{rng.getrandbits(96):024x}",
        "type": "message",
        "content": [{"type": "text", "text": _prose(rng, 200)}],
        "usage": {"input_tokens": rng.randrange(10_000), "output_tokens": rng.randrange(1000), "cache_read_input_tokens": 0},
        "stop_reason": "end_turn",
    }
    return _interaction("https://api.anthropic.com/v1/messages", {"json": request}, {"json": response}, rng)


def _sse_exchange(rng: random.Random, i: int) -> dict[str, object]:
    events: list[dict[str, object]] = [
        {
            "event": "message_start",
            "data": {"type": "message_start", "message": {"id": f"msg_{i:024d}", "usage": {"input_tokens": 12}}},
        }
    ]
    for _ in range(rng.randrange(50, 300)):
        text = _prose(rng, rng.randrange(1, 6))
        events.append(
            {
                "event": "content_block_delta",
                "data": {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
            }
        )
    events.append({"event": "message_delta", "data": {"type": "message_delta", "usage": {"output_tokens": len(events)}}})
    return _interaction("https://api.anthropic.com/v1/messages", {"json": {"stream": True}}, {"sse": events}, rng)


def _binary_exchange(rng: random.Random, i: int) -> dict[str, object]:
    blob = base64.b64encode(rng.randbytes(rng.randrange(1_000, 20_000))).decode("ascii")
    return _interaction(f"https://files.example.com/v1/files/file-{i}/content", {"text": ""}, {"base64": blob}, rng)


def _form_exchange(rng: random.Random, i: int) -> dict[str, object]:
    form = f"grant_type=authorization_code&client_id=app-{i}&redirect_uri=https%3A%2F%2Fexample.com%2Fcb&scope=read+write&state={rng.getrandbits(64):x}"
    answer = {"token_type": "bearer", "expires_in": 3600, "scope": "read write"}
    return _interaction("https://auth.example.com/oauth/token", {"text": form}, {"json": answer}, rng)


def _interaction(url: str, request: dict[str, object], response: dict[str, object], rng: random.Random) -> dict[str, object]:
    headers = {
        "anthropic-ratelimit-tokens-limit": "400000",
        "anthropic-ratelimit-tokens-remaining": str(rng.randrange(400_000)),
        "anthropic-ratelimit-input-tokens-reset": "2026-01-01T00:00:00Z",
        "content-type": "application/json",
        "request-id": f"req_{rng.getrandbits(96):024x}",
        "x-request-id": f"req_{rng.getrandbits(96):024x}",
    }
    return {
        "kind": "http",
        "request": {"method": "POST", "url": url, "headers": {"content-type": "application/json"}, "body": request},
        "response": {"status": 200, "headers": headers, "body": response},
    }


def synthetic(size: int = 8_000_000, seed: int = 0) -> str:
    """A cassette's text of about ``size`` characters, mixing every body kind, with a few secrets."""
    rng = random.Random(seed)
    makers = (_json_exchange, _json_exchange, _sse_exchange, _binary_exchange, _form_exchange)
    items: list[dict[str, object]] = []
    total, i, next_secret = 0, 0, 100_000
    while total < size:
        item = rng.choice(makers)(rng, i)
        if total >= next_secret:
            item["note"] = f"see {rng.choice(SECRETS)} here"
            next_secret += 100_000
        items.append(item)
        total += len(json.dumps(item))
        i += 1
    lines = [json.dumps(item, indent=2, ensure_ascii=False) for item in items]
    return '{\n  "harness_cassette": 1,\n  "interactions": [\n' + ",\n".join(lines) + "\n  ]\n}\n"


def corpus(size: int = 8_000_000) -> list[str]:
    """The texts scanned: the repository's cassettes and snapshots, then the synthetic cassette."""
    files = sorted(p for d in ("examples", "cassettes") for p in (ROOT / d).rglob("*") if p.suffix in (".json", ".ambr", ".yaml"))
    return [p.read_text(encoding="utf-8") for p in files] + [synthetic(size)]


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[Row]:
    from harness.redact import Redactor

    texts = corpus(4_000_000 if quick else 8_000_000)
    mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    redactor = Redactor()
    scanner = redactor.scanner
    plain = scanner.pattern
    assert plain is not None
    fast_found = [[(s, e) for s, e, _ in scanner.finditer(t, whole=True)] for t in texts]
    plain_found = [[m.span() for m in plain.finditer(t)] for t in texts]
    assert fast_found == plain_found, "the fast scan and the plain one disagree on the corpus"
    found = sum(len(f) for f in fast_found)

    def lint_scan() -> None:
        for t in texts:
            for _ in scanner.finditer(t, whole=True):
                pass

    def file_text() -> None:
        for t in texts:
            redactor.file_text(t)

    def whole() -> None:
        for t in texts:
            for _ in plain.finditer(t):
                pass

    t = interleaved({"scan": lint_scan, "file_text": file_text, "plain": whole}, 3 if quick else 7)
    speed = {name: mb / seconds for name, seconds in t.items()}
    log(
        f"  scan {mb:.1f} MB ({len(texts)} files, {found} secrets): finditer {speed['scan']:.0f} MB/s, "
        f"file_text {speed['file_text']:.0f} MB/s, plain combined pattern {speed['plain']:.1f} MB/s"
    )
    row = Row("scan", f"secret scan, mixed cassettes ({mb:.1f} MB, {len(texts)} files)", "plain", t["plain"], dict(t))
    row.ratios = {name: speed[name] for name in speed}
    row.target = ">= 100 MB/s (lint's scan and the final scrub), finding exactly what the plain scan finds"
    row.ok = min(speed["scan"], speed["file_text"]) >= 100
    row.note = (
        f"{found} secrets found, the same as the plain scan's; CPU time, {3 if quick else 7} rounds; `bash run bench --only scan`"
    )
    return [row]
