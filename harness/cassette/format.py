"""The cassette file format: versioned JSON, one SSE event per line, deterministic output.

Why JSON and not YAML: the standard library loads it about ten times faster than PyYAML with
libyaml, it has no implicit typing (``no`` stays a string, ``1.10`` stays ``1.10``), and a model
stream written one event per line reads and diffs well in a pull request.

Layout (version 1)::

    {
      "harness_cassette": 1,
      "interactions": [
        {
          "kind": "http",
          "request": {"method": "POST", "url": "...", "headers": {...}, "body": {"json": {...}}},
          "response": {
            "status": 200, "headers": {...},
            "body": {"sse": [
              {"event": "message_start", "data": {...}},
              ...
            ]},
            "chunks": [[bytes, ms], ...]
          },
          "elapsed_ms": 12.5
        }
      ]
    }

Other interaction kinds (MCP messages, tool calls) register a reader and a writer here by name.
"""

from __future__ import annotations

import itertools
import json
import math
import operator
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import sse
from harness.cassette.model import Body, Cassette, HttpInteraction, Request, Response
from harness.errors import CassetteFormatError

VERSION = 1
FORMAT_KEY = "harness_cassette"
_BODY_KINDS = ("json", "sse", "text", "base64")
# Lists whose items are written one per line, compactly: long streams stay reviewable.
_ONE_PER_LINE = frozenset({"sse", "messages_log"})
# Values written on a single line.
_ONE_LINE = frozenset({"chunks"})

#: Modules that register more interaction kinds; imported on the first read or write.
_KIND_MODULES = ("harness.seams.tools", "harness.seams.mcp")
_kinds_loaded = False

Reader = Callable[[dict[str, Any], str], Any]
Writer = Callable[[Any], dict[str, Any]]
_readers: dict[str, Reader] = {}
_writers: dict[str, Writer] = {}


def register_kind(kind: str, reader: Reader, writer: Writer) -> None:
    """Teach the format a new interaction kind (``reader(data, where)``, ``writer(obj)``)."""
    known = _readers.get(kind)
    # The same module imported again (pytester drops modules between sessions) takes its place.
    if known is not None and known.__module__ != reader.__module__:
        raise ValueError(f"interaction kind {kind!r} is already registered by {known.__module__}")
    _readers[kind] = reader
    _writers[kind] = writer


def _load_kinds() -> None:
    global _kinds_loaded
    if not _kinds_loaded:
        import importlib
        import importlib.util

        _kinds_loaded = True
        for name in _KIND_MODULES:
            if importlib.util.find_spec(name) is not None:
                importlib.import_module(name)


class _Bad(Exception):
    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem


def _get(d: Any, key: str, types: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise _Bad(where, f"expected an object, got {type(d).__name__}")
    if key not in d:
        if default is ...:
            raise _Bad(f"{where}.{key}", "missing")
        return default
    value = d[key]
    if not isinstance(value, types) or (types is int and isinstance(value, bool)):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise _Bad(f"{where}.{key}", f"expected {names}, got {type(value).__name__} {value!r:.60}")
    return value


def _headers(d: Any, where: str) -> dict[str, str]:
    headers: dict[str, str] = _get(d, "headers", dict, where, {})
    for k, v in headers.items():
        if not isinstance(v, str):
            raise _Bad(f"{where}.headers.{k}", f"expected a string, got {type(v).__name__}")
        try:
            k.encode("latin-1"), v.encode("latin-1")
        except UnicodeEncodeError:
            # An HTTP header is bytes, stored as latin-1 text: anything else cannot be replayed.
            raise _Bad(f"{where}.headers.{k}", "has characters an HTTP header cannot carry (only latin-1)") from None
        if not k or not k.isprintable() or ":" in k or " " in k:
            raise _Bad(f"{where}.headers", f"{k!r} is not a header name")
    return headers


_EVENT_KEYS = ("comments", "event", "id", "retry", "data", "text", "fields", "raw")
_EVENT_STRINGS = ("event", "id", "retry", "text", "raw")
#: Fields written on one line each: a line break in one would start another field, or another event.
_ONE_LINE_FIELDS = ("event", "id", "retry")
_SIMPLE_KEYS = frozenset(_EVENT_KEYS) - {"comments", "fields"}
_SSE_FIELD_NAMES = frozenset({"data", "event", "id", "retry"})


def _breaks(text: str) -> bool:
    return "\n" in text or "\r" in text


def _joined(events: list[Any], key: str) -> str:
    return "".join(map(dict.get, events, itertools.repeat(key), itertools.repeat("")))


def _check_events(events: list[Any], where: str) -> set[str]:
    """Every SSE entry must render to what it shows; returns the keys the entries use.

    Checked at C speed first (a stream can hold tens of thousands of events); the loop runs only
    for entries with comments or fields, or to name a bad entry."""
    if set(map(type, events)) <= {dict}:
        keys = set(itertools.chain.from_iterable(events))
        if (
            keys <= _SIMPLE_KEYS
            and all(
                set(map(type, map(dict.get, events, itertools.repeat(k), itertools.repeat("")))) <= {str}
                for k in _EVENT_STRINGS
                if k in keys
            )
            and not any(_breaks(_joined(events, k)) for k in _ONE_LINE_FIELDS if k in keys)
            and not ("text" in keys and "\r" in _joined(events, "text"))
        ):
            return keys
    keys = set()
    for i, event in enumerate(events):
        w = f"{where}[{i}]"
        if not isinstance(event, dict):
            raise _Bad(w, f"expected an event object, got {type(event).__name__}")
        for key in event:
            if key not in _EVENT_KEYS:
                raise _Bad(w, f"unknown field {key!r} (an event has {', '.join(_EVENT_KEYS)})")
            keys.add(key)
        for key in _EVENT_STRINGS:
            if key in event and not isinstance(event[key], str):
                raise _Bad(f"{w}.{key}", f"expected a string, got {type(event[key]).__name__} {event[key]!r:.40}")
        for key in _ONE_LINE_FIELDS:
            if key in event and _breaks(event[key]):
                raise _Bad(f"{w}.{key}", f"has a line break (CR or LF), which would split the event: {event[key]!r:.60}")
        if "\r" in event.get("text", ""):
            raise _Bad(f"{w}.text", "has a CR: lines of text data are split on LF only")
        comments = event.get("comments", [])
        if not (isinstance(comments, list) and all(isinstance(c, str) for c in comments)):
            raise _Bad(f"{w}.comments", f"expected a list of strings, got {comments!r:.40}")
        if any(map(_breaks, comments)):
            raise _Bad(f"{w}.comments", "a comment has a line break (CR or LF), which would split the event")
        fields = event.get("fields", [])
        if not (
            isinstance(fields, list)
            and all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) for f in fields)
        ):
            raise _Bad(f"{w}.fields", f"expected a list of [name, value] strings, got {fields!r:.40}")
        for name, value in fields:
            if not name or ":" in name or name in _SSE_FIELD_NAMES or _breaks(name) or _breaks(value):
                raise _Bad(f"{w}.fields", f"[{name!r:.30}, {value!r:.30}] is not an unknown field on one line")
    return keys


def _check_stream(body: Body, headers: dict[str, str], broken: bool, where: str, keys: set[str]) -> None:
    """A stream's exact texts (``raw`` entries, or a text body sent as ``text/event-stream``) must be
    whole events: the SDKs' decoders would otherwise join, split or drop events, and fail far
    from the cassette. Events kept as fields are rendered by harness and need no second look.
    ``broken``: the response recorded the error that cut it."""
    if body.kind == "sse":
        if "raw" not in keys:
            return
        events = body.value
        last = len(events) - 1
        for i in itertools.compress(itertools.count(), map(operator.contains, events, itertools.repeat("raw"))):
            problem = sse.check_raw(events[i], i == last)
            if problem is not None:
                raise _Bad(f"{where}.body.sse[{i}].raw", problem)
    elif body.kind == "text" and any(
        k.lower() == "content-type" and v.split(";", 1)[0].strip().lower() == "text/event-stream" for k, v in headers.items()
    ):
        found = sse.check_text(body.value, broken)
        if found is not None:
            n, problem = found
            raise _Bad(f"{where}.body.text", f"SSE event {n} {problem}")


def _body(d: Any, where: str) -> tuple[Body, set[str]]:
    raw = _get(d, "body", dict, where, {})
    kinds = [k for k in _BODY_KINDS if k in raw]
    if not kinds:
        if raw:
            raise _Bad(f"{where}.body", f"expected one of {', '.join(_BODY_KINDS)}, got {sorted(raw)}")
        return Body("empty"), set()
    if len(kinds) > 1:
        raise _Bad(f"{where}.body", f"has both {kinds[0]!r} and {kinds[1]!r}")
    kind = kinds[0]
    if kind == "sse":
        events = _get(raw, "sse", list, f"{where}.body")
        keys = _check_events(events, f"{where}.body.sse")
        eol = _get(raw, "eol", str, f"{where}.body", "\n")
        if eol not in ("\n", "\r\n", "\r"):
            raise _Bad(f"{where}.body.eol", f"expected a line ending, got {eol!r}")
        return Body("sse", events, eol), keys
    if kind in ("text", "base64"):
        value = _get(raw, kind, str, f"{where}.body")
        if kind == "base64":
            import base64
            import binascii

            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise _Bad(f"{where}.body.base64", f"not valid base64 ({exc})") from None
        return Body(kind, value), set()
    return Body("json", raw["json"]), set()


_first = operator.itemgetter(0)


def _chunks_ok(chunks: list[Any]) -> bool:
    """Every chunk is ``[bytes]`` or ``[bytes, ms]``: a byte count >= 0, finite numbers (C speed)."""
    if not chunks:
        return True
    if not (set(map(type, chunks)) <= {list} and all(chunks) and max(map(len, chunks)) <= 2):
        return False
    if not set(map(type, itertools.chain.from_iterable(chunks))) <= {int, float}:
        return False
    sizes = list(map(_first, chunks))
    if not (set(map(type, sizes)) <= {int} and min(sizes) >= 0):
        return False
    try:
        # The sum of numbers is finite only if each one is (no NaN or Infinity from a hand edit).
        return math.isfinite(sum(itertools.chain.from_iterable(chunks)))
    except OverflowError:
        return False


def _read_http(d: dict[str, Any], where: str) -> HttpInteraction:
    req = _get(d, "request", dict, where)
    request = Request(
        method=_get(req, "method", str, f"{where}.request"),
        url=_get(req, "url", str, f"{where}.request"),
        headers=_headers(req, f"{where}.request"),
        body=_body(req, f"{where}.request")[0],
    )
    response = None
    resp = _get(d, "response", (dict, type(None)), where, None)
    if resp is not None:
        w = f"{where}.response"
        chunks = _get(resp, "chunks", list, w, None)
        if chunks is not None and not _chunks_ok(chunks):
            for i, c in enumerate(chunks):
                if not _chunks_ok([c]):
                    raise _Bad(f"{w}.chunks[{i}]", f"expected [bytes, ms] (a byte count >= 0, then ms), got {c!r:.40}")
        body, keys = _body(resp, w)
        response = Response(
            status=_get(resp, "status", int, w),
            headers=_headers(resp, w),
            body=body,
            chunks=chunks,
            error=_get(resp, "error", dict, w, None),
        )
        _check_stream(body, response.headers, response.error is not None, w, keys)
        if chunks is not None and sum(map(_first, chunks)) != len(response.body.bytes()):
            raise _Bad(f"{w}.chunks", "chunk sizes do not add up to the body's length (was the body edited?)")
    error = _get(d, "error", dict, where, None)
    if response is None and error is None:
        raise _Bad(where, "has neither a response nor an error")
    return HttpInteraction(request, response, error, _get(d, "elapsed_ms", (int, float), where, None))


def _write_http(i: HttpInteraction) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "http"}
    r = i.request
    out["request"] = {"method": r.method, "url": r.url, "headers": r.headers, "body": r.body.to_json()}
    if i.response is not None:
        s = i.response
        resp: dict[str, Any] = {"status": s.status, "headers": s.headers, "body": s.body.to_json()}
        if s.chunks is not None:
            resp["chunks"] = s.chunks
        if s.error is not None:
            resp["error"] = s.error
        out["response"] = resp
    if i.error is not None:
        out["error"] = i.error
    if i.elapsed_ms is not None:
        out["elapsed_ms"] = i.elapsed_ms
    return out


register_kind("http", _read_http, _write_http)


def _not_utf8(path: Path | str, data: bytes, exc: UnicodeDecodeError) -> CassetteFormatError:
    line = data.count(b"\n", 0, exc.start) + 1
    return CassetteFormatError(path, f"not UTF-8 text (byte {exc.start}, line {line}: {data[exc.start : exc.start + 4]!r})")


def read_text(path: Path) -> str:
    """A cassette file's text. A file that is not UTF-8 is a :class:`CassetteFormatError` naming the
    file, the byte and its line; ``OSError`` (``FileNotFoundError``...) is left to the caller."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None


def _decoder() -> tuple[Callable[[str], Any], list[str]]:
    """A JSON decoder that notes NaN and Infinity (Python reads them; JSON has no such values)."""
    seen: list[str] = []

    def constant(name: str) -> float:
        seen.append(name)
        return float(name)

    return json.JSONDecoder(parse_constant=constant).decode, seen


def _first_not_finite(items: list[Any]) -> tuple[str, str] | None:
    """Where a stored stream event's data holds NaN or Infinity: rendered, it is not JSON."""
    for n, item in enumerate(items):
        for side in ("request", "response"):
            part = getattr(item, side, None) if isinstance(item, HttpInteraction) else None
            body = getattr(part, "body", None)
            if body is None or body.kind != "sse":
                continue
            for i, event in enumerate(body.value):
                if "data" in event and not sse.finite(event["data"]):
                    return f"interactions[{n}].{side}.body.sse[{i}].data", f"{event['data']!r:.60}"
    return None


def loads(text: str | bytes, path: Path | str) -> list[Any]:
    """Parse a cassette file's content into interactions; errors name the file and the place."""
    _load_kinds()
    if isinstance(text, bytes):
        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, data, exc) from None
    if not text.strip():
        raise CassetteFormatError(path, "the file is empty", hint="Delete it and record again (--record-mode=once).")
    decode, constants = _decoder()
    try:
        doc = decode(text)
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        # harness writes a closing brace last: a file that ends elsewhere was cut short.
        if exc.pos >= len(text.rstrip()) - 1 or not text.rstrip().endswith("}"):
            problem += " (the file looks truncated)"
        raise CassetteFormatError(path, problem) from None
    except RecursionError:
        raise CassetteFormatError(path, "not a cassette: JSON nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise CassetteFormatError(path, f"not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or FORMAT_KEY not in doc:
        hint = ""
        if isinstance(doc, dict) and "interactions" in doc and "version" in doc:
            hint = "It looks like a vcrpy cassette: convert it with `harness import-vcr`."
        raise CassetteFormatError(path, f"not a harness cassette (no {FORMAT_KEY!r} key)", hint=hint)
    version = doc[FORMAT_KEY]
    if version != VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            hint = "It was written by a newer harness: upgrade harness (pip install -U harness)."
        else:
            hint = "Re-record it with this harness (--record-mode=all)."
        raise CassetteFormatError(path, f"format version {version!r} is not supported (this harness reads {VERSION})", hint=hint)
    try:
        items = _get(doc, "interactions", list, "$")
        out = []
        for n, item in enumerate(items):
            where = f"interactions[{n}]"
            kind = _get(item, "kind", str, where)
            reader = _readers.get(kind)
            if reader is None:
                raise _Bad(f"{where}.kind", f"unknown interaction kind {kind!r} (known: {', '.join(sorted(_readers))})")
            out.append(reader(item, where))
    except _Bad as bad:
        raise CassetteFormatError(path, bad.problem, where=bad.where) from None
    if constants:
        found = _first_not_finite(out)
        if found is not None:
            where, value = found
            raise CassetteFormatError(
                path, f"NaN or Infinity is not JSON (harness keeps such data as text): {value}", where=where
            )
    return out


def load(path: Path) -> list[Any]:
    try:
        text = read_text(path)
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot be read: {exc.strerror}") from None
    return loads(text, path)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _pretty(value: Any, indent: str, key: str | None, out: list[str]) -> None:
    if key in _ONE_LINE:
        out.append(_compact(value))
    elif isinstance(value, dict) and value:
        inner = indent + "  "
        out.append("{\n")
        last = len(value) - 1
        for n, (k, v) in enumerate(value.items()):
            out.append(f"{inner}{json.dumps(k, ensure_ascii=False)}: ")
            _pretty(v, inner, k, out)
            out.append(",\n" if n < last else "\n")
        out.append(indent + "}")
    elif isinstance(value, list) and value:
        inner = indent + "  "
        if key in _ONE_PER_LINE:
            out.append("[\n" + ",\n".join(inner + _compact(v) for v in value) + "\n" + indent + "]")
            return
        out.append("[\n")
        last = len(value) - 1
        for n, v in enumerate(value):
            out.append(inner)
            _pretty(v, inner, None, out)
            out.append(",\n" if n < last else "\n")
        out.append(indent + "]")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def dumps(interactions: list[Any]) -> str:
    """The file's text: the same interactions always give the same text."""
    _load_kinds()
    doc = {FORMAT_KEY: VERSION, "interactions": [_writers[i.kind](i) for i in interactions]}
    out: list[str] = []
    _pretty(doc, "", None, out)
    out.append("\n")
    return "".join(out)


def read_cassette(path: Path, mode: str) -> Cassette:
    exists = path.exists()
    return Cassette(path=path, interactions=load(path) if exists else [], mode=mode, existed=exists)
