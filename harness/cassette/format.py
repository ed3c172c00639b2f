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

Every interaction kind of :mod:`harness.cassette.model` has a reader and a writer in :data:`KINDS`.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from harness import sse
from harness.cassette.checks import Bad, check_stream, chunks_ok, get, read_body, read_headers
from harness.cassette.decode import document, no_cycle_collection

# The file readers live in files.py; read here as the format module's own (session, lint and tests call them so).
from harness.cassette.files import not_a_file as not_a_file
from harness.cassette.files import read_bytes as read_bytes
from harness.cassette.files import read_text as read_text
from harness.cassette.model import (
    HttpInteraction,
    Interaction,
    McpInteraction,
    Request,
    Response,
    ToolInteraction,
    WebSocketInteraction,
)
from harness.errors import CassetteFormatError

VERSION = 2
#: The versions this harness reads. Version 2 is version 1 with stream events that say the style of their
#: JSON (``style``, ``pad``): a file is written as version 2 only when one does, so an older harness asks
#: to be upgraded instead of failing on a field it does not know, and every other file stays as it was.
READS = (1, 2)
FORMAT_KEY = "harness_cassette"
# Optional: the versions of the model SDKs imported when the cassette was recorded (``harness drift``).
SDK_KEY = "sdk"
# Lists whose items are written one per line, compactly: long streams stay reviewable.
_ONE_PER_LINE = frozenset({"sse", "messages_log", "frames"})
# Values written on a single line.
_ONE_LINE = frozenset({"chunks", "awaits"})

_first = operator.itemgetter(0)


def _read_http(d: dict[str, Any], where: str) -> HttpInteraction:
    req = get(d, "request", dict, where)
    request = Request(
        method=get(req, "method", str, f"{where}.request"),
        url=get(req, "url", str, f"{where}.request"),
        headers=read_headers(req, f"{where}.request"),
        body=read_body(req, f"{where}.request")[0],
    )
    response = None
    resp = get(d, "response", (dict, type(None)), where, None)
    if resp is not None:
        w = f"{where}.response"
        chunks = get(resp, "chunks", list, w, None)
        if chunks is not None and not chunks_ok(chunks):
            for i, c in enumerate(chunks):
                if not chunks_ok([c]):
                    raise Bad(f"{w}.chunks[{i}]", f"expected [bytes, ms] (a byte count >= 0, then ms), got {c!r:.40}")
        body, keys = read_body(resp, w)
        response = Response(
            status=get(resp, "status", int, w),
            headers=read_headers(resp, w),
            body=body,
            chunks=chunks,
            error=get(resp, "error", dict, w, None),
            awaits=_read_awaits(resp, w),
            client_closed=get(resp, "client_closed", bool, w, False),
        )
        check_stream(body, response.headers, response.error is not None, w, keys)
        if chunks is not None:
            _check_chunk_total(chunks, response.body.bytes(), request, w)
    error = get(d, "error", dict, where, None)
    if response is None and error is None:
        raise Bad(where, "has neither a response nor an error")
    return HttpInteraction(request, response, error, get(d, "elapsed_ms", (int, float), where, None))


def _read_awaits(resp: dict[str, Any], where: str) -> list[list[Any]] | None:
    """A stream's causal links: ``[[chunk, "POST /path", ...], ...]`` (see :class:`Response`)."""
    awaits: list[list[Any]] | None = get(resp, "awaits", list, where, None)
    for n, entry in enumerate(awaits or ()):
        ok = isinstance(entry, list) and len(entry) > 1 and isinstance(entry[0], int) and entry[0] >= 0
        if not (ok and all(isinstance(e, str) for e in entry[1:])):
            raise Bad(f"{where}.awaits[{n}]", f'expected [chunk, "METHOD /path", ...], got {entry!r:.60}')
    return awaits


def _check_chunk_total(chunks: list[Any], body: bytes, request: Request, where: str) -> None:
    """The chunks a body came in must add up to the body: a body edited by hand no longer does."""
    total, size = sum(map(_first, chunks)), len(body)
    if total == size:
        return
    by = f"{abs(size - total)} byte{'s' * (abs(size - total) != 1)} {'longer' if size > total else 'shorter'}"
    raise Bad(
        f"{where}.chunks",
        f"the body of {request.method} {request.path} is {size} bytes, {by} than its chunks ({total}): was it "
        'edited? To replay it as edited, remove its "chunks" list (it then replays as one chunk); '
        "or re-record the test (--record-mode=all)",
    )


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
        if s.awaits:
            resp["awaits"] = s.awaits
        if s.client_closed:
            resp["client_closed"] = True
        out["response"] = resp
    if i.error is not None:
        out["error"] = i.error
    if i.elapsed_ms is not None:
        out["elapsed_ms"] = i.elapsed_ms
    return out


def _read_tool(d: dict[str, Any], where: str) -> ToolInteraction:
    if not isinstance(d.get("name"), str):
        raise Bad(f"{where}.name", "missing or not a string")
    if "result" not in d and "error" not in d:
        raise Bad(where, "a tool call needs a result or an error")
    return ToolInteraction(d["name"], d.get("input"), d.get("result"), d.get("error"))


def _write_tool(i: ToolInteraction) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "tool", "name": i.name, "input": i.input}
    if i.error is not None:
        out["error"] = i.error
    else:
        out["result"] = i.result
    return out


def _read_mcp(d: dict[str, Any], where: str) -> McpInteraction:
    server = d.get("server")
    if not isinstance(server, str):
        raise Bad(f"{where}.server", "missing or not a string")
    if isinstance(d.get("request"), str):
        method, notification = d["request"], False
    elif isinstance(d.get("notify"), str):
        method, notification = d["notify"], True
    else:
        raise Bad(where, "an mcp interaction needs a 'request' or a 'notify' (the method, a string)")
    if "error" in d and not isinstance(d["error"], dict):
        raise Bad(f"{where}.error", "expected an object")
    lists = {}
    for name in ("during", "after"):
        entries = d.get(name, [])
        if not isinstance(entries, list):
            raise Bad(f"{where}.{name}", "expected a list")
        for n, entry in enumerate(entries):
            if not (isinstance(entry, dict) and (isinstance(entry.get("notify"), str) or isinstance(entry.get("request"), str))):
                raise Bad(f"{where}.{name}[{n}]", 'expected {"notify": method, ...} or {"request": method, ...}')
        lists[name] = entries
    return McpInteraction(
        server, method, d.get("params"), notification, d.get("result"), d.get("error"), lists["during"], lists["after"]
    )


def _write_mcp(i: McpInteraction) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "mcp", "server": i.server, ("notify" if i.notification else "request"): i.method}
    if i.params is not None:
        out["params"] = i.params
    if i.during:
        out["during"] = i.during
    if i.error is not None:
        out["error"] = i.error
    elif i.result is not None:
        out["result"] = i.result
    if i.after:
        out["after"] = i.after
    return out


_FRAME_DATA = ("json", "text", "base64")


def _read_websocket(d: dict[str, Any], where: str) -> WebSocketInteraction:
    url = get(d, "url", str, where)
    frames = d.get("frames", [])
    if not isinstance(frames, list):
        raise Bad(f"{where}.frames", "expected a list")
    for n, frame in enumerate(frames):
        if not (isinstance(frame, dict) and frame.get("from") in ("client", "server") and any(k in frame for k in _FRAME_DATA)):
            raise Bad(f"{where}.frames[{n}]", 'expected {"from": "client"|"server", "ms": ..., "json"|"text"|"base64": ...}')
    for name in ("close", "error"):
        if d.get(name) is not None and not isinstance(d[name], dict):
            raise Bad(f"{where}.{name}", "expected an object")
    return WebSocketInteraction(url, read_headers(d, where), frames, d.get("close"), d.get("error"))


def _write_websocket(i: WebSocketInteraction) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "websocket", "url": i.url, "headers": i.headers}
    if i.error is not None:
        out["error"] = i.error
    out["frames"] = i.frames
    if i.close is not None:
        out["close"] = i.close
    return out


Reader = Callable[[dict[str, Any], str], Any]
Writer = Callable[[Any], dict[str, Any]]

#: Every interaction kind: its reader (``reader(data, where)``) and writer.
KINDS: dict[str, tuple[Reader, Writer]] = {
    "http": (_read_http, _write_http),
    "tool": (_read_tool, _write_tool),
    "mcp": (_read_mcp, _write_mcp),
    "websocket": (_read_websocket, _write_websocket),
}


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


def loads(text: str | bytes, path: Path | str) -> list[Interaction]:
    """Parse a cassette file's content into interactions; errors name the file and the place."""
    return loads_with_sdk(text, path)[0]


def _read_sdk(doc: dict[str, Any]) -> dict[str, str] | None:
    """The SDK versions the cassette was recorded with (``"sdk"``, optional: older files lack it)."""
    sdk = doc.get(SDK_KEY)
    if not isinstance(sdk, dict) or not all(isinstance(v, str) for v in sdk.values()):
        return None
    return {str(k): v for k, v in sdk.items()}


def loads_with_sdk(text: str | bytes, path: Path | str) -> tuple[list[Interaction], dict[str, str] | None]:
    """:func:`loads`, and the SDK versions recorded in the file (None when it has none)."""
    with no_cycle_collection():
        return _loads_with_sdk(text, path)


def _loads_with_sdk(text: str | bytes, path: Path | str) -> tuple[list[Interaction], dict[str, str] | None]:
    doc, constants = document(text, path)
    if not isinstance(doc, dict) or FORMAT_KEY not in doc:
        hint = ""
        if isinstance(doc, dict) and "interactions" in doc and "version" in doc:
            hint = "It looks like a vcrpy cassette: convert it with `harness import-vcr`."
        raise CassetteFormatError(path, f"not a harness cassette (no {FORMAT_KEY!r} key)", hint=hint)
    version = doc[FORMAT_KEY]
    if version not in READS or isinstance(version, bool):
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            hint = "It was written by a newer harness: upgrade harness (pip install -U pytest-agent-harness: the package index name of harness)."
        else:
            hint = "Re-record it with this harness (--record-mode=all)."
        raise CassetteFormatError(
            path, f"format version {version!r} is not supported (this harness reads {' and '.join(map(str, READS))})", hint=hint
        )
    try:
        items = get(doc, "interactions", list, "$")
        out = []
        for n, item in enumerate(items):
            where = f"interactions[{n}]"
            kind = get(item, "kind", str, where)
            known = KINDS.get(kind)
            if known is None:
                raise Bad(f"{where}.kind", f"unknown interaction kind {kind!r} (known: {', '.join(sorted(KINDS))})")
            out.append(known[0](item, where))
    except Bad as bad:
        raise CassetteFormatError(path, bad.problem, where=bad.where) from None
    if constants:
        found = _first_not_finite(out)
        if found is not None:
            where, value = found
            raise CassetteFormatError(
                path, f"NaN or Infinity is not JSON (harness keeps such data as text): {value}", where=where
            )
    return out, _read_sdk(doc)


def load(path: Path) -> list[Interaction]:
    try:
        text = read_text(path)
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot be read: {exc.strerror}") from None
    return loads(text, path)


def load_with_sdk(path: Path) -> tuple[list[Interaction], dict[str, str] | None]:
    """:func:`load`, and the SDK versions recorded in the file (None when it has none)."""
    try:
        text = read_text(path)
    except OSError as exc:
        raise CassetteFormatError(path, f"cannot be read: {exc.strerror}") from None
    return loads_with_sdk(text, path)


def sdk_of(text: str) -> dict[str, str] | None:
    """The SDK versions recorded in a cassette's text, without reading its interactions (None if none)."""
    head = text[: text.find('"interactions"')] if '"interactions"' in text else ""
    start = head.find(f'"{SDK_KEY}"')
    if start < 0:
        return None
    try:
        value = json.loads("{" + head[start:].rstrip().rstrip(",") + "}")
    except ValueError:
        return None
    return _read_sdk(value) if isinstance(value, dict) else None


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


def _escape_lone(text: str) -> str:
    """``text`` with each lone surrogate written as its JSON escape (``\\udXXX``), the rest kept."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _styled(item: Interaction) -> bool:
    """Whether an interaction's stream has an event that says its JSON style (what version 2 adds)."""
    bodies = [getattr(getattr(item, side, None), "body", None) for side in ("request", "response")]
    return any(b.kind == "sse" and any("style" in e or "pad" in e for e in b.value) for b in bodies if b is not None)


def dumps(interactions: Sequence[Interaction], sdk: dict[str, str] | None = None) -> str:
    """The file's text: the same interactions always give the same text. ``sdk``: the versions of the
    model SDKs the recording ran with (``{"anthropic": "2.16.0"}``), written before the interactions."""
    doc: dict[str, Any] = {FORMAT_KEY: VERSION if any(map(_styled, interactions)) else 1}
    if sdk:
        doc[SDK_KEY] = dict(sorted(sdk.items()))
    doc["interactions"] = [KINDS[i.kind][1](i) for i in interactions]
    out: list[str] = []
    _pretty(doc, "", None, out)
    out.append("\n")
    text = "".join(out)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (JSON's "\\ud800", read by Python into a str UTF-8 cannot hold) only ever
        # sits in a JSON string here: written as that same escape, it reads back as the same str.
        text = _escape_lone(text)
    return text
