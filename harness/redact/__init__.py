"""Secrets out before anything is written; what only varies between runs out of what is matched.

Three layers, cheapest first: headers that carry credentials (the known ones) or only vary between machines are
dropped, and any other whose name says key, token, secret, password or auth keeps only its name;
key-shaped strings are scrubbed from every body (one path for every body kind: JSON, text, form,
SSE streams reassembled across their events, binary bodies through their latin-1 and UTF-16 views)
and URLs (query parameters, userinfo); and the final text of every file is scrubbed once more, so a
secret in a place nobody thought of still never reaches the disk.

The one secret catalogue (:data:`CATALOGUE`, :data:`SECRET_HEADERS`,
:func:`is_secret_header`) is :mod:`harness.redact.catalogue`: the recorder, ``harness lint``, ``harness import-vcr`` and the agent
snapshots all use it, so lint finds what the recorder would have scrubbed. The scan of a text for
its key shapes (:class:`Scanner`) is :mod:`harness.redact.scan`.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from harness.cassette.model import Body
from harness.jsonutil import copy
from harness.redact.catalogue import (
    _SECRET_FIELD,
    _SECRET_PARAMS,
    _VOLATILE_PREFIXES,
    CATALOGUE,
    REDACTED,
    SECRET_HEADERS,
    VOLATILE_HEADERS,
    Secret,
    is_secret_header,
)
from harness.redact.scan import Scanner

__all__ = ["CATALOGUE", "REDACTED", "SECRET_HEADERS", "VOLATILE_HEADERS", "Redactor", "Scanner", "Secret", "is_secret_header"]


@functools.lru_cache(maxsize=32)
def _scanner(patterns: tuple[str, ...], defaults: bool) -> Scanner:
    """One scanner per set of patterns, shared by the tests that use it: building one compiles the
    catalogue's probes (about 1 ms, the largest part of a replayed test's set-up), and a scanner keeps
    nothing of what it scanned (its only state is a memo of compiled patterns)."""
    return Scanner(patterns, defaults=defaults)


class Redactor:
    def __init__(self, headers: Iterable[str] = (), patterns: Iterable[str] = (), *, defaults: bool = True) -> None:
        self.defaults = defaults
        self.drop = (SECRET_HEADERS if defaults else frozenset()) | {h.lower() for h in headers}
        self.scanner = _scanner(tuple(patterns), defaults)
        self.pattern = self.scanner.pattern

    def is_secret_header(self, name: str) -> bool:
        return name.lower() in self.drop or (self.defaults and is_secret_header(name))

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in headers:
            key = name.lower()
            if key in self.drop or key in VOLATILE_HEADERS or key.startswith(_VOLATILE_PREFIXES):
                continue
            # A header named like a credential (``x-auth-token``) stays, its value replaced: the
            # file shows it was sent, and what it held never reaches the disk.
            value = REDACTED if self.defaults and is_secret_header(key) else self.text(value)
            out[key] = f"{out[key]}, {value}" if key in out else value
        return dict(sorted(out.items()))

    def text(self, value: str) -> str:
        return self.scanner.sub(value)

    def file_text(self, text: str) -> str:
        """The last scrub of a cassette's whole text: :meth:`text`, but never inside a base64 value.
        A binary body or frame was scrubbed through its decoded views (:meth:`binary`); its encoding
        can hold key-shaped runs that are no key (``AIza`` and 35 more base64 characters), and cutting
        one would leave a file that cannot be read."""
        out: list[str] = []
        at = 0
        for start, end in base64_values(text):
            out += (self.text(text[at:start]), text[start:end])
            at = end
        out.append(self.text(text[at:]))
        return "".join(out)

    def url(self, url: str) -> str:
        if self.defaults:
            url = _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, url)
        return self.text(url)

    def value(self, value: Any) -> Any:
        """Scrub every string in a JSON value (keys included; the value of a credential field whole)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, Mapping):
            out = {}
            for k, v in value.items():
                if self.defaults and isinstance(k, str) and isinstance(v, str) and len(v) >= 3 and _SECRET_FIELD.fullmatch(k):
                    out[self.text(k)] = REDACTED
                else:
                    out[self.value(k)] = self.value(v)
            return out
        return value

    def contains_secret(self, text: str) -> bool:
        return next(self.scanner.finditer(text), None) is not None

    def body(self, body: Body, wire: bytes | None = None) -> Body:
        """``body`` (read from the bytes ``wire``, when given) with its secrets scrubbed: the same
        object when it holds none (the usual case, decided on its text at C speed), else a new
        body of the same kind. A stream is also scrubbed on its text reassembled across events
        (:func:`stream_edits`); a binary body through its text views (:meth:`binary`)."""
        if body.kind == "base64":
            data = base64.b64decode(body.value)
            scrubbed = self.binary(data)
            return body if scrubbed == data else Body("base64", base64.b64encode(scrubbed).decode("ascii"), body.eol)
        if body.kind not in _SCRUBBED_KINDS:
            return body
        events = body.value if body.kind == "sse" else None
        split = stream_edits(events, self.scanner) if events else []
        data = body.bytes() if wire is None else wire
        if not split and not self.contains_secret(data.decode("utf-8", "replace")):
            return body
        if events:
            events = apply_stream_edits(copy(events), split)
            return Body("sse", self.value(events), body.eol)
        return Body(body.kind, self.value(body.value), body.eol)

    def binary(self, data: bytes) -> bytes:
        """``data`` with the secrets of its latin-1 view (any ASCII or UTF-8 text in it) and, when
        it looks like UTF-16, of its UTF-16 view replaced, byte for byte in the same encoding."""
        text = data.decode("latin-1")
        if self.contains_secret(text):
            data = self.text(text).encode("latin-1")
        for codec, start in utf16_views(data):
            try:
                text = data[start:].decode(codec, "surrogatepass")
            except UnicodeDecodeError:
                continue
            if self.contains_secret(text):
                data = data[:start] + self.text(text).encode(codec, "surrogatepass")
        return data


def utf16_views(data: bytes) -> list[tuple[str, int]]:
    """(codec, offset of the text) for each UTF-16 reading of ``data`` that looks like text: a
    byte-order mark, or NUL bytes in most of the odd (LE) or even (BE) places."""
    if data[:2] == b"\xff\xfe":
        return [("utf-16-le", 2)]
    if data[:2] == b"\xfe\xff":
        return [("utf-16-be", 2)]
    half = len(data) // 2
    if half < 4:
        return []
    views = []
    if data[1::2].count(0) * 10 >= half * 7:
        views.append(("utf-16-le", 0))
    if data[0::2].count(0) * 10 >= half * 7:
        views.append(("utf-16-be", 0))
    return [(c, s) for c, s in views if (len(data) - s) % 2 == 0]


#: Body kinds whose values are text or JSON (``base64`` bodies are scanned through their views).
_SCRUBBED_KINDS = frozenset({"json", "text", "sse"})
#: Fields that tell the parallel streams of one response apart (a content block, a tool call).
_STREAM_KEYS = ("index", "output_index", "content_index", "item_id")
_STREAM_KEYSET = frozenset(_STREAM_KEYS)

Piece = tuple[int, tuple[Any, ...], str]  # (event number, path to the string in the event, the string)


def stream_pieces(events: list[Any]) -> dict[tuple[Any, ...], list[Piece]]:
    """The strings of a stream's events grouped into the texts they spell together: the same
    field (``delta.text``, ``delta.partial_json``, a tool call's ``arguments``) of the same block
    (its ``index`` and the like), in event order."""
    groups: dict[tuple[Any, ...], list[Piece]] = {}

    def walk(value: Any, n: int, path: tuple[Any, ...], names: tuple[str, ...], ctx: tuple[Any, ...]) -> None:
        if isinstance(value, str):
            groups.setdefault((names, ctx), []).append((n, path, value))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, n, (*path, i), names, ctx)
        elif isinstance(value, dict):
            keys = value.keys() & _STREAM_KEYSET
            if keys:
                ctx = ctx + tuple((k, value[k]) for k in _STREAM_KEYS if k in keys and isinstance(value[k], (int, str)))
            for k, v in value.items():
                if isinstance(v, (str, list, dict)) and k not in keys:
                    walk(v, n, (*path, k), (*names, k), ctx)

    for n, event in enumerate(events):
        if isinstance(event, Mapping):
            if "data" in event:
                walk(event["data"], n, ("data",), ("data",), ())
            elif isinstance(event.get("text"), str):
                walk(event["text"], n, ("text",), ("text",), ())
    return groups


Edit = tuple[int, tuple[Any, ...], str]  # (event number, path, the new string)


def stream_edits(events: list[Any], scanner: Scanner) -> list[Edit]:
    """The strings to change so no secret spelt across several events of a stream stays: the
    first piece a secret touches gets the placeholder, the rest of the secret leaves the pieces
    after it (so the number of events, and of pieces, stays)."""
    edits: list[Edit] = []
    for pieces in stream_pieces(events).values():
        if len(pieces) < 2:
            continue
        whole = "".join(p[2] for p in pieces)
        found = [(s, e) for s, e, _ in scanner.finditer(whole)]
        if not found:
            continue
        at = 0
        for n, path, text in pieces:
            start, end = at, at + len(text)
            at = end
            spans = [(s, e) for s, e in found if s < end and e > start]
            if not spans:
                continue
            new, cursor = "", start
            for s, e in spans:
                if s >= start:
                    new += whole[cursor:s] + REDACTED
                cursor = max(cursor, min(e, end))
            new += whole[cursor:end]
            edits.append((n, path, new))
    return edits


def apply_stream_edits(events: list[Any], edits: list[Edit]) -> list[Any]:
    """``events`` with the ``edits`` made (in place; an edited event drops its exact ``raw`` text,
    which no longer says what the event holds)."""
    for n, path, new in edits:
        target = events[n]
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = new
        if isinstance(events[n], dict):
            events[n].pop("raw", None)
    return events


# A base64 string value in a cassette's text (a binary body, a WebSocket frame), as the writer puts it:
# ``"base64": "`` and a quoted run of the alphabet (what ``"base64": "([A-Za-z0-9+/=]*)"`` matches).
_BASE64_KEY = '"base64": "'
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def base64_values(text: str) -> list[tuple[int, int]]:
    """Where the base64 string values of a cassette's text are (start, end), for the final scrub and
    ``harness lint`` to leave alone: an encoding is scanned decoded (:meth:`Redactor.binary`).
    Found by literal searches (a value's alphabet checked by ``bytes.translate``): a character
    class run over megabytes of base64 costs ``re`` about 6 ns a character."""
    out: list[tuple[int, int]] = []
    at = text.find(_BASE64_KEY)
    while at >= 0:
        start = at + len(_BASE64_KEY)
        end = text.find('"', start)
        value = text[start:end] if end >= 0 else ""
        if end >= 0 and value.isascii() and not value.encode("ascii").translate(None, _BASE64_ALPHABET):
            out.append((start, end))
            at = text.find(_BASE64_KEY, end + 1)
        else:
            at = text.find(_BASE64_KEY, at + 1)
    return out


_LOOPBACK = re.compile(r"^(\w+://(?:[^/@]*@)?(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])):\d+(?=/|$)")


def stable_url(url: str) -> str:
    """Loopback ports change on every run: drop them, so re-recording gives the same file."""
    return _LOOPBACK.sub(r"\1", url) if "127." in url or "localhost" in url or "[::1]" in url else url
