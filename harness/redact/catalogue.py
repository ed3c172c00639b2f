"""The one secret catalogue: the headers that carry credentials, and the key-shaped strings
(:data:`CATALOGUE`) with the needles the scan looks for first. The recorder, ``harness lint``,
``harness import-vcr`` and the agent snapshots all read it (through :mod:`harness.redact`), so lint
finds what the recorder would have scrubbed."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
#: A header is a credential too when a word of its name is one of these (``x-portkey-api-key``,
#: ``x-auth-token``, ``x-amz-security-token``, ``x-db-password``): it is stored with its value
#: replaced; ``anthropic-ratelimit-tokens-*`` is not (``tokens`` is a count).
SECRET_HEADER_WORDS = frozenset(
    {
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "auth",
        "authorization",
        "credential",
        "credentials",
        "cookie",
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
_WORD = re.compile(r"[a-z0-9]+")


def is_secret_header(name: str) -> bool:
    """Whether a header of this name carries a credential (it is never stored)."""
    key = name.lower()
    return key in SECRET_HEADERS or any(w in SECRET_HEADER_WORDS for w in _WORD.findall(key))


# Parameter and field names whose value is a credential, in a query string, a form body, any text
# (``name=value``) or a JSON document (``"name": "value"``).
_SECRET_NAMES = (
    r"x-api-key|api[_-]?key|apikey|access[_-]?token|id[_-]?token|refresh[_-]?token|auth[_-]?token|session[_-]?token"
    r"|client[_-]?secret|secret[_-]?key|private[_-]?key|aws[_-]?secret[_-]?access[_-]?key|secret|password|passwd"
    r"|client[_-]?assertion|code[_-]?verifier|x-amz-security-token|x-amz-signature|x-amz-credential"
)
_NOT_AFTER = r"(?<![A-Za-z0-9_\-])"
#: How far into a credential name (or its opening quote) its needle may start: ``aws_secret_access_key=``
#: has ``key=`` 18 characters after its start.
_NAME_REACH = 24


@dataclass(frozen=True)
class Secret:
    """One entry of the catalogue: a pattern (a ``(?P<keep>...)`` part is kept, the rest replaced)
    and the lower-case ASCII strings one of which any match contains (the prefilter: a text
    without any of them is not searched for this pattern), ``reach`` characters or fewer after
    the match's start (the scan tries the pattern only there). Case-insensitive parts of a pattern
    are ASCII-only (``(?ai:...)``), so the prefilter can read the text lower-cased as ASCII. The
    scan's faster probes (:mod:`harness.redact.scan`) are written for each pattern as it is: change
    a pattern here and its entry is found through these needles until its probe is updated."""

    name: str
    pattern: str
    needles: tuple[str, ...]
    reach: int = 0


#: Strings shaped like credentials, anywhere in a body, a URL or a file.
CATALOGUE: tuple[Secret, ...] = (
    Secret("anthropic key", _NOT_AFTER + r"sk-ant-[A-Za-z0-9_\-]{8,}", ("sk-ant-",)),
    Secret("openai key", _NOT_AFTER + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{16,}", ("sk-",)),
    Secret("bearer token", r"(?P<keep>\b(?ai:bearer)\s+)(?!<REDACTED>)[A-Za-z0-9._\-~+/]{16,}=*", ("bearer",)),
    Secret("aws access key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b", ("akia", "asia")),
    Secret(
        "github token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    ),
    Secret("slack token", r"xox[bpas]-[A-Za-z0-9\-]{10,}", ("xox",)),
    Secret("google api key", _NOT_AFTER + r"AIza[0-9A-Za-z_\-]{35}", ("aiza",)),
    Secret("google oauth token", _NOT_AFTER + r"ya29\.[A-Za-z0-9_\-]{10,}", ("ya29.",)),
    Secret("google refresh token", _NOT_AFTER + r"1//0[A-Za-z0-9_\-]{20,}", ("1//0",)),
    Secret("google client secret", _NOT_AFTER + r"GOCSPX-[A-Za-z0-9_\-]{10,}", ("gocspx-",)),
    Secret("jwt", _NOT_AFTER + r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}", ("eyj",)),
    Secret("url userinfo", r"(?P<keep>://[^/\s:@\"'<>\\]{1,128}:)(?!<REDACTED>)[^/\s@\"'<>\\]{1,256}(?=@)", ("://",)),
    Secret(
        "credential parameter",
        rf"(?P<keep>{_NOT_AFTER}(?ai:{_SECRET_NAMES}|(?<=[?&])(?:key|token|auth|sig|signature))=)(?!<REDACTED>)[^&#\s\"'<>\\]{{3,}}",
        (
            "key=",
            "token=",
            "secret=",
            "password=",
            "passwd=",
            "assertion=",
            "verifier=",
            "signature=",
            "credential=",
            "auth=",
            "sig=",
        ),
        _NAME_REACH,
    ),
    Secret(
        "credential field",
        rf"(?P<keep>\"(?ai:{_SECRET_NAMES})\"\s*:\s*\")(?!<REDACTED>)[^\"\\]{{3,}}(?=\")",
        ('key"', 'token"', 'secret"', 'password"', 'passwd"', 'assertion"', 'verifier"', 'signature"', 'credential"'),
        _NAME_REACH,
    ),
    Secret(  # the same in a Python repr (an amber snapshot, a logged dict)
        "credential field",
        rf"(?P<keep>'(?ai:{_SECRET_NAMES})'\s*:\s*')(?!<REDACTED>)[^'\\]{{3,}}(?=')",
        ("key'", "token'", "secret'", "password'", "passwd'", "assertion'", "verifier'", "signature'", "credential'"),
        _NAME_REACH,
    ),
)
#: The catalogue's patterns (kept for callers that want the plain list).
DEFAULT_PATTERNS = tuple(s.pattern for s in CATALOGUE)
_SECRET_FIELD = re.compile(rf"(?i:{_SECRET_NAMES})")
_SECRET_PARAMS = re.compile(rf"(?i)([?&](?:{_SECRET_NAMES}|key|token|auth|sig|signature)=)[^&#]*")
