"""The checks the file format makes as it reads: every value of the expected type, every stream whole.

A check that fails raises :class:`Bad` with where (``interactions[3].response.body``) and what; the
reader turns it into a :class:`harness.errors.CassetteFormatError` naming the file.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Any

from harness import sse
from harness.cassette.model import Body

BODY_KINDS = ("json", "sse", "text", "base64")


class Bad(Exception):
    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem


def get(d: Any, key: str, types: type | tuple[type, ...], where: str, default: Any = ...) -> Any:
    if not isinstance(d, dict):
        raise Bad(where, f"expected an object, got {type(d).__name__}")
    if key not in d:
        if default is ...:
            raise Bad(f"{where}.{key}", "missing")
        return default
    value = d[key]
    if not isinstance(value, types) or (types is int and isinstance(value, bool)):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise Bad(f"{where}.{key}", f"expected {names}, got {type(value).__name__} {value!r:.60}")
    return value


def read_headers(d: Any, where: str) -> dict[str, str]:
    headers: dict[str, str] = get(d, "headers", dict, where, {})
    for k, v in headers.items():
        if not isinstance(v, str):
            raise Bad(f"{where}.headers.{k}", f"expected a string, got {type(v).__name__}")
        try:
            k.encode("latin-1"), v.encode("latin-1")
        except UnicodeEncodeError:
            # An HTTP header is bytes, stored as latin-1 text: anything else cannot be replayed.
            raise Bad(f"{where}.headers.{k}", "has characters an HTTP header cannot carry (only latin-1)") from None
        if not k or not k.isprintable() or ":" in k or " " in k:
            raise Bad(f"{where}.headers", f"{k!r} is not a header name")
    return headers


_EVENT_KEYS = ("comments", "event", "id", "retry", "data", "text", "fields", "style", "pad", "raw")
_EVENT_STRINGS = ("event", "id", "retry", "text", "style", "raw")
#: Fields written on one line each: a line break in one would start another field, or another event.
_ONE_LINE_FIELDS = ("event", "id", "retry")
_SIMPLE_KEYS = frozenset(_EVENT_KEYS) - {"comments", "fields"}
_STYLE_NAMES = frozenset(sse.STYLES)
_SSE_FIELD_NAMES = frozenset({"data", "event", "id", "retry"})


def _breaks(text: str) -> bool:
    return "\n" in text or "\r" in text


def _joined(events: list[Any], key: str) -> str:
    return "".join(map(dict.get, events, itertools.repeat(key), itertools.repeat("")))


def check_events(events: list[Any], where: str) -> set[str]:
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
            and (("style" not in keys and "pad" not in keys) or _styles_ok(events))
        ):
            return keys
    keys = set()
    for i, event in enumerate(events):
        w = f"{where}[{i}]"
        if not isinstance(event, dict):
            raise Bad(w, f"expected an event object, got {type(event).__name__}")
        for key in event:
            if key not in _EVENT_KEYS:
                raise Bad(w, f"unknown field {key!r} (an event has {', '.join(_EVENT_KEYS)})")
            keys.add(key)
        for key in _EVENT_STRINGS:
            if key in event and not isinstance(event[key], str):
                raise Bad(f"{w}.{key}", f"expected a string, got {type(event[key]).__name__} {event[key]!r:.40}")
        for key in _ONE_LINE_FIELDS:
            if key in event and _breaks(event[key]):
                raise Bad(f"{w}.{key}", f"has a line break (CR or LF), which would split the event: {event[key]!r:.60}")
        if "\r" in event.get("text", ""):
            raise Bad(f"{w}.text", "has a CR: lines of text data are split on LF only")
        _check_style(event, w)
        comments = event.get("comments", [])
        if not (isinstance(comments, list) and all(isinstance(c, str) for c in comments)):
            raise Bad(f"{w}.comments", f"expected a list of strings, got {comments!r:.40}")
        if any(map(_breaks, comments)):
            raise Bad(f"{w}.comments", "a comment has a line break (CR or LF), which would split the event")
        fields = event.get("fields", [])
        if not (
            isinstance(fields, list)
            and all(isinstance(f, list) and len(f) == 2 and all(isinstance(x, str) for x in f) for f in fields)
        ):
            raise Bad(f"{w}.fields", f"expected a list of [name, value] strings, got {fields!r:.40}")
        for name, value in fields:
            if not name or ":" in name or name in _SSE_FIELD_NAMES or _breaks(name) or _breaks(value):
                raise Bad(f"{w}.fields", f"[{name!r:.30}, {value!r:.30}] is not an unknown field on one line")
    return keys


def _styles_ok(events: list[dict[str, Any]]) -> bool:
    """Every ``style`` a known one on an event with data, every ``pad`` a count >= 1 on data in braces."""
    styled = list(itertools.compress(events, map(operator.contains, events, itertools.repeat("style"))))
    if not (
        set(map(operator.itemgetter("style"), styled)) <= _STYLE_NAMES
        and all(map(operator.contains, styled, itertools.repeat("data")))
    ):
        return False
    padded = itertools.compress(events, map(operator.contains, events, itertools.repeat("pad")))
    pads = [(e["pad"], e.get("data")) for e in padded]
    return all(type(n) is int and n > 0 and isinstance(data, (dict, list)) for n, data in pads)


def _check_style(event: dict[str, Any], where: str) -> None:
    style = event.get("style")
    if style is not None:
        if style not in _STYLE_NAMES:
            raise Bad(f"{where}.style", f"unknown style {style!r:.30} (known: {', '.join(sse.STYLES)})")
        if "data" not in event:
            raise Bad(f"{where}.style", "a style is how JSON data is written, and this event has no data")
    if "pad" in event:
        pad, data = event["pad"], event.get("data")
        if type(pad) is not int or pad < 1:
            raise Bad(f"{where}.pad", f"expected a number of spaces >= 1 before the data's closing brace, got {pad!r:.30}")
        if not isinstance(data, (dict, list)):
            raise Bad(
                f"{where}.pad", f"only JSON data in braces or brackets can be padded, got {type(data).__name__} {data!r:.30}"
            )


def check_stream(body: Body, headers: dict[str, str], broken: bool, where: str, keys: set[str]) -> None:
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
            problem = sse.check_raw(events[i], i == last, i == 0)
            if problem is not None:
                raise Bad(f"{where}.body.sse[{i}].raw", problem)
    elif body.kind == "text" and any(
        k.lower() == "content-type" and v.split(";", 1)[0].strip().lower() == "text/event-stream" for k, v in headers.items()
    ):
        found = sse.check_text(body.value, broken)
        if found is not None:
            n, problem = found
            raise Bad(f"{where}.body.text", f"SSE event {n} {problem}")


def read_body(d: Any, where: str) -> tuple[Body, set[str]]:
    raw = get(d, "body", dict, where, {})
    kinds = [k for k in BODY_KINDS if k in raw]
    if not kinds:
        if raw:
            raise Bad(f"{where}.body", f"expected one of {', '.join(BODY_KINDS)}, got {sorted(raw)}")
        return Body("empty"), set()
    if len(kinds) > 1:
        raise Bad(f"{where}.body", f"has both {kinds[0]!r} and {kinds[1]!r}")
    kind = kinds[0]
    if kind == "sse":
        events = get(raw, "sse", list, f"{where}.body")
        keys = check_events(events, f"{where}.body.sse")
        eol = get(raw, "eol", str, f"{where}.body", "\n")
        if eol not in ("\n", "\r\n", "\r"):
            raise Bad(f"{where}.body.eol", f"expected a line ending, got {eol!r}")
        return Body("sse", events, eol), keys
    if kind in ("text", "base64"):
        value = get(raw, kind, str, f"{where}.body")
        if kind == "base64":
            import base64
            import binascii

            try:
                base64.b64decode(value, validate=True)
            except binascii.Error as exc:
                raise Bad(f"{where}.body.base64", f"not valid base64 ({exc})") from None
        return Body(kind, value), set()
    return Body("json", raw["json"]), set()


_first = operator.itemgetter(0)


def chunks_ok(chunks: list[Any]) -> bool:
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
