"""Realistic model streams and the cassettes that hold them, in every format the benchmarks compare.

An *exchange* is one request and its recorded answer: the request body (JSON), the response
headers, and the response body cut into the chunks it came off the network in (one SSE event
per write, as the Anthropic and OpenAI APIs send them). From an exchange this module writes:

- a harness cassette, through harness's own writer (what recording would have written);
- a vcrpy YAML cassette (the body as one string, as vcrpy stores it);
- a cassetter YAML cassette (JSON bodies structured, SSE as text, as cassetter stores them).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ANTHROPIC_URL = "https://api.anthropic.com"
OPENAI_URL = "https://api.openai.com/v1"
_WORDS = (
    "the weather in Paris is sunny today with a light breeze from the west and temperatures around "
    "twenty degrees so a walk along the Seine — café, croissant, 東京 — would be pleasant this afternoon"
).split()


def _compact(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Exchange:
    """One request and the answer to it, as the wire carried them."""

    name: str
    method: str
    url: str
    request: dict[str, Any]
    status: int
    headers: dict[str, str]
    parts: list[bytes]
    events: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)

    @property
    def path(self) -> str:
        rest = self.url.split("://", 1)[1]
        return rest[rest.index("/") :]


def _text(n: int, rng: random.Random) -> list[str]:
    return [("" if i == 0 else " ") + rng.choice(_WORDS) for i in range(n)]


def anthropic_request(prompt: str = "What is the weather in Paris?", stream: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": prompt}],
        "model": "claude-opus-4-7",
    }
    if stream:
        body["stream"] = True
    return body


def openai_request(prompt: str = "What is the weather in Paris?", stream: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": prompt}], "model": "gpt-5.1"}
    if stream:
        body.update({"stream": True, "stream_options": {"include_usage": True}})
    return body


def anthropic_stream(n: int, seed: int = 0, prompt: str = "What is the weather in Paris?") -> Exchange:
    """An N-event ``/v1/messages`` stream: message_start, a ping, N-6 text deltas, the closing events.

    The ping's data is ``{"type": "ping"}`` with a space, as the real API sends it (harness keeps
    that event's exact text).
    """
    rng = random.Random(seed)
    deltas = max(n - 6, 1)
    msg_id = f"msg_01{rng.getrandbits(80):020x}"
    events: list[tuple[str, str]] = [
        (
            "message_start",
            _compact(
                {
                    "type": "message_start",
                    "message": {
                        "id": msg_id,
                        "type": "message",
                        "role": "assistant",
                        "model": "claude-opus-4-7",
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {
                            "input_tokens": 25,
                            "cache_creation_input_tokens": 0,
                            "cache_read_input_tokens": 0,
                            "output_tokens": 1,
                        },
                    },
                }
            ),
        ),
        (
            "content_block_start",
            _compact({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ("ping", '{"type": "ping"}'),
    ]
    for word in _text(deltas, rng):
        events.append(
            (
                "content_block_delta",
                _compact({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": word}}),
            )
        )
    events += [
        ("content_block_stop", _compact({"type": "content_block_stop", "index": 0})),
        (
            "message_delta",
            _compact(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": deltas},
                }
            ),
        ),
        ("message_stop", _compact({"type": "message_stop"})),
    ]
    parts = [f"event: {name}\ndata: {data}\n\n".encode() for name, data in events]
    headers = {"content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "request-id": f"req_{seed:024d}"}
    return Exchange(
        f"anthropic-{n}", "POST", ANTHROPIC_URL + "/v1/messages", anthropic_request(prompt), 200, headers, parts, len(events)
    )


def openai_stream(n: int, seed: int = 0, prompt: str = "What is the weather in Paris?") -> Exchange:
    """An N-event ``/v1/chat/completions`` stream: a role chunk, N-4 content chunks, finish, usage, ``[DONE]``."""
    rng = random.Random(seed)
    deltas = max(n - 4, 1)
    cid = f"chatcmpl-{rng.getrandbits(96):024x}"

    def chunk(delta: dict[str, Any], finish: str | None = None, usage: Any = None, choices: bool = True) -> str:
        body: dict[str, Any] = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": 1767225600,
            "model": "gpt-5.1-2025-11-13",
            "service_tier": "default",
            "system_fingerprint": "fp_0123456789",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}] if choices else [],
        }
        if usage is not None:
            body["usage"] = usage
        return _compact(body)

    datas = [chunk({"role": "assistant", "content": "", "refusal": None})]
    datas += [chunk({"content": word}) for word in _text(deltas, rng)]
    datas.append(chunk({}, "stop"))
    datas.append(chunk({}, usage={"prompt_tokens": 14, "completion_tokens": deltas, "total_tokens": 14 + deltas}, choices=False))
    datas.append("[DONE]")
    parts = [f"data: {d}\n\n".encode() for d in datas]
    headers = {
        "content-type": "text/event-stream; charset=utf-8",
        "openai-processing-ms": "180",
        "x-request-id": f"req_{seed:032x}",
    }
    return Exchange(
        f"openai-{n}", "POST", OPENAI_URL + "/chat/completions", openai_request(prompt), 200, headers, parts, len(datas)
    )


def anthropic_message(seed: int = 0, prompt: str = "What is the weather in Paris?") -> Exchange:
    """One non-streaming ``/v1/messages`` call with a JSON answer."""
    rng = random.Random(seed)
    text = "".join(_text(12, rng))
    body = {
        "id": f"msg_01{rng.getrandbits(80):020x}",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-7",
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 25, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0, "output_tokens": 12},
    }
    headers = {"content-type": "application/json", "request-id": f"req_{seed:024d}"}
    return Exchange(
        f"anthropic-json-{seed}",
        "POST",
        ANTHROPIC_URL + "/v1/messages",
        anthropic_request(prompt, stream=False),
        200,
        headers,
        [_compact(body).encode()],
    )


def openai_completion(seed: int = 0, prompt: str = "What is the weather in Paris?") -> Exchange:
    rng = random.Random(seed)
    text = "".join(_text(12, rng))
    body = {
        "id": f"chatcmpl-{rng.getrandbits(96):024x}",
        "object": "chat.completion",
        "created": 1767225600,
        "model": "gpt-5.1-2025-11-13",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 14, "completion_tokens": 12, "total_tokens": 26},
        "service_tier": "default",
        "system_fingerprint": "fp_0123456789",
    }
    headers = {"content-type": "application/json", "x-request-id": f"req_{seed:032x}"}
    return Exchange(
        f"openai-json-{seed}",
        "POST",
        OPENAI_URL + "/chat/completions",
        openai_request(prompt, stream=False),
        200,
        headers,
        [_compact(body).encode()],
    )


def stream(api: str, n: int, seed: int = 0, prompt: str = "What is the weather in Paris?") -> Exchange:
    return (anthropic_stream if api == "anthropic" else openai_stream)(n, seed, prompt)


# -- cassettes -------------------------------------------------------------------------------------


def harness_interaction(ex: Exchange) -> Any:
    """The interaction harness records for ``ex`` (built with harness's own model and SSE parser)."""
    from harness.cassette.model import Body, HttpInteraction, Request, Response

    request = Request(ex.method, ex.url, {"content-type": "application/json"}, Body("json", ex.request))
    chunks: list[list[float]] | None = None
    if len(ex.parts) > 1:
        chunks = [[len(p), round(0.4 * i, 1)] for i, p in enumerate(ex.parts)]
    response = Response(ex.status, dict(sorted(ex.headers.items())), Body.from_bytes(ex.body, ex.headers["content-type"]), chunks)
    return HttpInteraction(request, response, None, 210.0)


def harness_text(exchanges: list[Exchange]) -> str:
    from harness.cassette import format as fmt

    return fmt.dumps([harness_interaction(ex) for ex in exchanges])


def _yaml_dump(doc: Any) -> str:
    import yaml

    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False, width=4096)


def vcrpy_text(exchanges: list[Exchange]) -> str:
    """vcrpy's YAML (cassette format version 1), as vcrpy writes it: bodies as strings."""
    interactions = []
    for ex in exchanges:
        interactions.append(
            {
                "request": {
                    "body": _compact(ex.request),
                    "headers": {"content-type": ["application/json"], "host": [ex.url.split("/")[2]]},
                    "method": ex.method,
                    "uri": ex.url,
                },
                "response": {
                    "content": ex.body.decode("utf-8"),
                    "headers": {k: [v] for k, v in ex.headers.items()},
                    "http_version": "HTTP/1.1",
                    "status_code": ex.status,
                },
            }
        )
    return _yaml_dump({"interactions": interactions, "version": 1})


def cassetter_text(exchanges: list[Exchange]) -> str:
    """cassetter's YAML: JSON bodies structured, an SSE body as one text block."""
    interactions = []
    for ex in exchanges:
        if ex.headers["content-type"].startswith("application/json"):
            body = {"type": "json", "content": json.loads(ex.body)}
        else:
            body = {"type": "text", "content": ex.body.decode("utf-8")}
        interactions.append(
            {
                "request": {
                    "method": ex.method,
                    "uri": ex.url,
                    "headers": {"content-type": ["application/json"]},
                    "body": {"type": "json", "content": ex.request},
                },
                "response": {"status": ex.status, "headers": {k: [v] for k, v in ex.headers.items()}, "body": body},
                "recorded_at": "2026-01-01T00:00:00Z",
            }
        )
    return _yaml_dump({"version": 1, "interactions": interactions})


def write_all(folder: Path, name: str, exchanges: list[Exchange]) -> dict[str, Path]:
    """The same exchanges as a harness, a vcrpy and a cassetter cassette."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "harness": folder / f"{name}.json",
        "vcrpy": folder / f"{name}.vcr.yaml",
        "cassetter": folder / f"{name}.cassetter.yaml",
    }
    paths["harness"].write_text(harness_text(exchanges), encoding="utf-8")
    paths["vcrpy"].write_text(vcrpy_text(exchanges), encoding="utf-8")
    paths["cassetter"].write_text(cassetter_text(exchanges), encoding="utf-8")
    return paths
