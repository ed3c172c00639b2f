"""Secrets out before anything is written; what only varies between runs out of what is matched.

Three layers, cheapest first: headers that carry credentials (or only vary between machines) are
dropped; key-shaped strings are scrubbed from every body (one path for every body kind: JSON, text,
SSE streams) and URLs; and the final text of every file is scrubbed once more, so a secret in a
place nobody thought of still never reaches the disk.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.cassette.model import Body

REDACTED = "<REDACTED>"

#: Headers that carry credentials or account identifiers: never stored.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "openai-organization",
        "openai-project",
        "anthropic-organization-id",
        "x-organization-id",
    }
)
#: Headers that change from machine to machine or run to run and mean nothing to a reviewer.
VOLATILE_HEADERS = frozenset(
    {
        "host",
        "user-agent",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "accept-encoding",
        "date",
        "server",
        "alt-svc",
        "cf-ray",
        "traceparent",
        "tracestate",
        "idempotency-key",
        "x-envoy-upstream-service-time",
    }
)
_VOLATILE_PREFIXES = ("x-stainless-",)

#: Strings shaped like credentials, anywhere in a body, a URL or a file.
DEFAULT_PATTERNS = (
    r"(?<![A-Za-z0-9_\-])sk-ant-[A-Za-z0-9_\-]{8,}",
    r"(?<![A-Za-z0-9_\-])sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}",
    r"(?<=[Bb]earer )[A-Za-z0-9._\-]{16,}",
    r"AKIA[0-9A-Z]{16}",
    r"ghp_[A-Za-z0-9]{30,}",
    r"xox[bpas]-[A-Za-z0-9\-]{10,}",
    r"(?<![A-Za-z0-9_\-])AIza[0-9A-Za-z_\-]{35}",
    r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}",
)
_SECRET_PARAMS = re.compile(
    r"(?i)([?&](?:api[_-]?key|apikey|key|token|access_token|id_token|refresh_token|auth|secret|client_secret"
    r"|password|passwd|sig|signature)=)[^&#]*"
)


class Redactor:
    def __init__(self, headers: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self.drop = SECRET_HEADERS | {h.lower() for h in headers}
        self.pattern = re.compile("|".join(f"(?:{p})" for p in (*DEFAULT_PATTERNS, *patterns)))

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            if key in self.drop or key in VOLATILE_HEADERS or key.startswith(_VOLATILE_PREFIXES):
                continue
            value = self.text(value)
            out[key] = f"{out[key]}, {value}" if key in out else value
        return dict(sorted(out.items()))

    def text(self, value: str) -> str:
        return self.pattern.sub(REDACTED, value)

    def url(self, url: str) -> str:
        return self.text(_SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, url))

    def value(self, value: Any) -> Any:
        """Scrub every string in a JSON value (keys included)."""
        if isinstance(value, str):
            return self.pattern.sub(REDACTED, value) if self.pattern.search(value) else value
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        return value

    def contains_secret(self, text: str) -> bool:
        return self.pattern.search(text) is not None

    def body(self, body: Body, wire: bytes | None = None) -> Body:
        """``body`` (read from the bytes ``wire``, when given) with its secrets scrubbed: the same
        object when it holds none (the usual case, decided on its text at C speed), else a new
        body of the same kind."""
        data = body.bytes() if wire is None else wire
        if body.kind not in _SCRUBBED_KINDS or not self.contains_secret(data.decode("utf-8", "replace")):
            return body
        return Body(body.kind, self.value(body.value), body.eol)


#: Body kinds whose values are text or JSON (``base64`` bodies are bytes; ``empty`` ones hold nothing).
_SCRUBBED_KINDS = frozenset({"json", "text", "sse"})

_LOOPBACK = re.compile(r"^(\w+://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])):\d+(?=/|$)")


def stable_url(url: str) -> str:
    """Loopback ports change on every run: drop them, so re-recording gives the same file."""
    return _LOOPBACK.sub(r"\1", url) if "://127." in url or "://localhost" in url or "://[::1]" in url else url
