"""Which recorded interaction answers a request: O(1) keys, canonical JSON, ignore paths, diffs.

A request's key is its method, path, query and canonical body (JSON with sorted keys, minus the
ignored paths). Host, port and headers are not part of it: loopback ports vary and SDK headers
carry versions and retry counts. Identical requests queue up and replay in recorded order.
"""

from __future__ import annotations

import base64
import json
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from harness.errors import ConfigError
from harness.jsonutil import canonical, copy, preview

if TYPE_CHECKING:
    from harness.cassette.model import Request

_PATH_TOKEN = re.compile(r"\.\.(\w+|\*)|\.(\w+|\*)|\[(\d+|\*)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def parse_path(path: str) -> list[tuple[str, Any]]:
    """A small JSONPath subset: ``$.a.b``, ``$.a[0]``, ``$.a[*].b``, ``$..key``, ``$['a.b']``."""
    if not path.startswith("$"):
        raise ConfigError(f"harness: ignore path {path!r} must start with '$' (like '$.metadata.user_id')")
    steps: list[tuple[str, Any]] = []
    pos = 1
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None:
            raise ConfigError(f"harness: cannot read ignore path {path!r} at {path[pos:]!r}")
        deep, key, index, q1, q2 = m.groups()
        if deep is not None:
            steps.append(("deep", deep))
        elif key is not None:
            steps.append(("key", key))
        elif index is not None:
            steps.append(("index", index if index == "*" else int(index)))
        else:
            steps.append(("key", q1 if q1 is not None else q2))
        pos = m.end()
    if not steps:
        raise ConfigError(f"harness: ignore path {path!r} names the whole body; ignore 'body' in match_on instead")
    return steps


class _Gone:
    """Marks a removed value until every path has been applied: a list keeps its positions meanwhile,
    so ``$.m[0]`` and ``$.m[1]`` name the original first and second items."""


_GONE = _Gone()


def _sweep(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sweep(v) for k, v in value.items() if v is not _GONE}
    if isinstance(value, list):
        return [_sweep(v) for v in value if v is not _GONE]
    return value


def _remove(value: Any, steps: list[tuple[str, Any]]) -> None:
    kind, arg = steps[0]
    last = len(steps) == 1
    if kind == "deep":
        for child in _children(value):
            _remove(child, steps)
        _remove(value, [("key", arg), *steps[1:]])
        return
    if kind == "key" and isinstance(value, dict):
        targets = list(value) if arg == "*" else [arg] if arg in value else []
        for k in targets:
            if last:
                value[k] = _GONE
            else:
                _remove(value[k], steps[1:])
    elif kind == "index" and isinstance(value, list):
        indices = range(len(value)) if arg == "*" else [arg] if -len(value) <= arg < len(value) else []
        for i in indices:
            if last:
                value[i] = _GONE
            else:
                _remove(value[i], steps[1:])


def _children(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.values()
    elif isinstance(value, list):
        yield from value


class Matcher:
    """Turns requests into keys. ``match_on`` picks the parts: method, host, path, query, body, headers."""

    PARTS = ("method", "host", "path", "query", "body", "headers")

    def __init__(self, match_on: Iterable[str] = ("method", "path", "query", "body"), ignore_paths: Iterable[str] = ()) -> None:
        self.match_on = tuple(match_on)
        unknown = [p for p in self.match_on if p not in self.PARTS]
        if unknown:
            raise ConfigError(f"harness: unknown match_on part(s) {unknown}; valid: {', '.join(self.PARTS)}")
        self.ignore = [parse_path(p) for p in ignore_paths]

    def body_view(self, body: Any) -> Any:
        """The JSON body as matching sees it: ignored paths removed (on a copy)."""
        if not self.ignore or not isinstance(body, (dict, list)):
            return body
        body = copy(body)
        for steps in self.ignore:
            _remove(body, steps)
        return _sweep(body)

    def json_key(self, value: Any) -> str:
        """A JSON value (an MCP call's params, a tool's input) as matching sees it: canonical, ignored paths removed."""
        return canonical(self.body_view(value))

    def request_key(self, request: Request) -> tuple[Any, ...]:
        return self.key(request.method, request.url, request.headers, request.body.kind, request.body.value)

    def key(self, method: str, url: str, headers: dict[str, str], body_kind: str, body: Any) -> tuple[Any, ...]:
        scheme_host, _, rest = url.partition("://")[2].partition("/")
        path, _, query = ("/" + rest).partition("?")
        parts: list[Any] = []
        for part in self.match_on:
            if part == "method":
                parts.append(method.upper())
            elif part == "host":
                parts.append(scheme_host.rsplit(":", 1)[0])
            elif part == "path":
                parts.append(path)
            elif part == "query":
                parts.append(urlencode(sorted(parse_qsl(query, keep_blank_values=True))))
            elif part == "body":
                if body_kind == "json":
                    parts.append(canonical(self.body_view(body)))
                else:
                    form = multipart(headers, body_kind, body)
                    parts.append(("multipart", canonical(self.body_view(form))) if form is not None else (body_kind, body))
            elif part == "headers":
                parts.append(tuple(sorted(headers.items())))
        return tuple(parts)


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_DISPOSITION = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def multipart(headers: dict[str, str], body_kind: str, body: Any) -> list[dict[str, Any]] | None:
    """A ``multipart/form-data`` body as its parts, ``[{"name", "filename", "content_type", "content"}]``, or
    None for any other body. The boundary (random on every run) is left out, so an upload matches by what
    it sends; ``ignore_paths`` apply (``$[1].content``). Content is text if UTF-8, else base64."""
    ctype = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
    if not ctype.lower().startswith("multipart/form-data") or body_kind not in ("text", "base64"):
        return None
    found = _BOUNDARY.search(ctype)
    if found is None:
        return None
    data = str(body).encode("utf-8") if body_kind == "text" else base64.b64decode(str(body))
    out: list[dict[str, Any]] = []
    for chunk in data.split(b"--" + found.group(1).encode("latin-1"))[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, _, content = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        fields: dict[str, Any] = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-disposition":
                fields.update(_DISPOSITION.findall(value))
            elif name.strip().lower() == "content-type":
                fields["content_type"] = value.strip()
        raw = content.removesuffix(b"\r\n")
        try:
            fields["content"] = raw.decode("utf-8")
        except UnicodeDecodeError:
            fields["content_base64"] = base64.b64encode(raw).decode("ascii")
        out.append(fields)
    return out


class Index:
    """Recorded interactions by key; each key's queue in recorded order. Lookup is O(1).

    ``exact`` maps an HTTP request as it comes off the wire, ``(METHOD, url, content-type)`` then its
    body's bytes, to the queue of the recorded requests it is byte for byte (filled by the ledger only
    with recorded requests for which those bytes give their key: see ``Ledger._build_index``), so a
    replayed request that repeats its recording skips parsing, scrubbing and canonical JSON. The
    queue is the key's own: both ways take from it."""

    def __init__(self) -> None:
        self._queues: dict[tuple[Any, ...], deque[int]] = {}
        self.exact: dict[tuple[str, str, str], dict[bytes, deque[int]]] = {}
        #: ``exact``'s entry (or None) for a (method, url, content-type bytes) as the seam hands them over.
        self.wires: dict[tuple[str, str, bytes], Any] = {}

    def add_exact(self, wire: tuple[str, str, str], data: bytes, key: tuple[Any, ...]) -> None:
        self.exact.setdefault(wire, {})[data] = self._queues[key]

    def add(self, key: tuple[Any, ...], index: int) -> None:
        self._queues.setdefault(key, deque()).append(index)

    def take(self, key: tuple[Any, ...]) -> int | None:
        queue = self._queues.get(key)
        return queue.popleft() if queue else None


def wire_kind(content_type: str, data: bytes) -> str | None:
    """The kind :meth:`harness.cassette.model.Body.from_bytes` gives ``data`` (valid UTF-8 that
    ``kind`` could hold: the bytes of a stored ``json`` or ``text`` body) under ``content_type``,
    when that follows from the content type and the first byte alone: ``json`` (JSON that parses)
    or ``text``; None when it would take parsing (a ``text`` body that may be JSON, a stream)."""
    if not data:
        return "empty"
    ctype = content_type.split(";", 1)[0].strip().lower()
    if ctype == "text/event-stream":
        return None
    if ctype == "application/json" or ctype.endswith("+json") or (not ctype and data[:1] in (b"{", b"[")):
        return "json"  # what could not parse is "text", decided by parsing: the caller's json body parses
    return "text"


#: Says how two different strings differ, as lines: ``(path, a, b) -> [...]``.
StringDiff = Callable[[str, str, str], list[str]]


def diff(recorded: Any, requested: Any, path: str = "$", limit: int = 12, *, strings: StringDiff | None = None) -> list[str]:
    """Path-level differences, ``$.messages[0].content: 'SF' != 'NY'`` (recorded != requested).

    ``strings`` tells how two differing strings differ (the CLI shows long texts as a text diff);
    by default both are shown, shortened."""
    out: list[str] = []
    _diff(recorded, requested, path, out, limit, strings)
    return out


def _key(path: str, key: Any) -> str:
    return f"{path}.{key}" if re.fullmatch(r"\w+", str(key)) else f"{path}[{json.dumps(key)}]"


def _diff(a: Any, b: Any, path: str, out: list[str], limit: int, strings: StringDiff | None) -> None:
    if len(out) >= limit or a == b:
        return
    if isinstance(a, dict) and isinstance(b, dict):
        for k in a:
            if k not in b:
                out.append(f"{_key(path, k)}: {preview(a[k])} != (missing)")
            else:
                _diff(a[k], b[k], _key(path, k), out, limit, strings)
            if len(out) >= limit:
                return
        out += [f"{_key(path, k)}: (missing) != {preview(b[k])}" for k in b if k not in a][: max(0, limit - len(out))]
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            if i >= len(a):
                out.append(f"{path}[{i}]: (missing) != {preview(b[i])}")
            elif i >= len(b):
                out.append(f"{path}[{i}]: {preview(a[i])} != (missing)")
            else:
                _diff(a[i], b[i], f"{path}[{i}]", out, limit, strings)
            if len(out) >= limit:
                return
    elif strings is not None and isinstance(a, str) and isinstance(b, str):
        out += strings(path, a, b)
    else:
        out.append(f"{path}: {preview(a)} != {preview(b)}")


def distance(recorded: Any, requested: Any) -> int:
    """How different two bodies are: the number of differing paths (capped), for ranking."""
    return len(diff(recorded, requested, limit=50))
