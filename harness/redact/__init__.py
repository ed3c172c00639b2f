"""Secrets out before anything is written; what only varies between runs out of what is matched.

Three layers, cheapest first: headers that carry credentials (the known ones) or only vary between machines are
dropped, and any other whose name says key, token, secret, password or auth keeps only its name;
key-shaped strings are scrubbed from every body (one path for every body kind: JSON, text, form,
SSE streams reassembled across their events, binary bodies through their latin-1 and UTF-16 views)
and URLs (query parameters, userinfo); and the final text of every file is scrubbed once more, so a
secret in a place nobody thought of still never reaches the disk.

The one secret catalogue (:data:`CATALOGUE`, :data:`SECRET_HEADERS`,
:func:`is_secret_header`) is :mod:`harness.redact.catalogue`: the recorder, ``harness lint``, ``harness import-vcr`` and the agent
snapshots all use it, so lint finds what the recorder would have scrubbed.
"""

from __future__ import annotations

import base64
import bisect
import re
from collections.abc import Iterable, Iterator, Mapping
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

__all__ = ["CATALOGUE", "REDACTED", "SECRET_HEADERS", "VOLATILE_HEADERS", "Redactor", "Scanner", "Secret", "is_secret_header"]


def _core(needle: bytes) -> bytes:
    """What the scan searches for to find ``needle``: its name without the ``=``/quote after it, or
    a shorter prefix that several needles share (each literal search is one pass over the text)."""
    for shared in (b"gh", b"passw"):
        if needle.startswith(shared):
            return shared
    return needle.rstrip(b"=\"'") or needle


class Scanner:
    """The catalogue (and any extra patterns) as one combined pattern behind a prefilter.

    A text is read once lower-cased as ASCII (bytes, one per character, anything else a ``?``);
    the needles are found in it with a few literal searches (each needle through the shortest
    needle it starts with: ``sk-`` finds ``sk-ant-``, ``key`` finds ``key=``, ``key"``, ``key'``);
    the combined pattern of the entries whose needles occur is then tried only where a match
    could start (at a needle, or up to an entry's ``reach`` before it), in order, the way
    ``finditer`` would meet them. A pattern with no needles (a user's) means a scan of the whole text."""

    def __init__(self, extra: Iterable[str] = (), *, defaults: bool = True) -> None:
        self.entries = [*(CATALOGUE if defaults else ()), *(Secret(f"pattern {p}", p, ()) for p in extra)]
        self._compiled: dict[tuple[int, ...], re.Pattern[str] | None] = {}
        self._always = tuple(i for i, e in enumerate(self.entries) if not e.needles)
        self.pattern = self._combined(tuple(range(len(self.entries))))  # everything (checked by re.compile now)
        # needle -> (entries, reach); then the probes: a searched prefix and the needles it finds.
        needles: dict[bytes, tuple[set[int], int]] = {}
        for i, e in enumerate(self.entries):
            for n in e.needles:
                ids, reach = needles.setdefault(n.lower().encode("ascii"), (set(), 0))
                ids.add(i)
                needles[n.lower().encode("ascii")] = (ids, max(reach, e.reach))
        probes: dict[bytes, list[tuple[bytes, frozenset[int], int]]] = {}
        cores = sorted({_core(n) for n in needles}, key=len)
        for needle, (ids, reach) in needles.items():
            core = next(c for c in cores if needle.startswith(c))
            probes.setdefault(core, []).append((needle, frozenset(ids), reach))
        self._probes = [(core, tuple(found)) for core, found in probes.items()]

    def _combined(self, which: tuple[int, ...]) -> re.Pattern[str] | None:
        found = self._compiled.get(which, False)
        if found is not False:
            return found  # type: ignore[return-value]
        parts = [f"(?P<s{i}>{self.entries[i].pattern.replace('(?P<keep>', f'(?P<k{i}>')})" for i in which]
        compiled = re.compile("|".join(parts)) if parts else None
        self._compiled[which] = compiled
        return compiled

    def _starts(self, text: str) -> tuple[re.Pattern[str] | None, list[int] | None]:
        """The combined pattern of the entries that may match in ``text`` (None: none can), and
        the sorted offsets where a match may start (None: anywhere)."""
        ascii_text = text.isascii()
        # UTF-8, lower-cased as ASCII: a needle (ASCII) is found where the text spells it; its
        # offset is a character's only for an ASCII text (else counted below, for the few found).
        low = (text.encode("ascii") if ascii_text else text.encode("utf-8", "surrogatepass")).lower()
        present: set[int] = set()
        hits: list[tuple[int, int]] = []
        for core, found in self._probes:
            at = low.find(core)
            while at >= 0:
                for needle, ids, reach in found:
                    if low.startswith(needle, at):
                        present.update(ids)
                        hits.append((at, reach))
                at = low.find(core, at + 1)
        if self._always:
            return self._combined(tuple(sorted(present.union(self._always)))), None
        if not present:
            return None, None
        if not ascii_text:
            hits.sort()
            chars, done, counted = 0, 0, []
            for at, reach in hits:
                chars += len(low[done:at].decode("utf-8", "surrogatepass"))
                done = at
                counted.append((chars, reach))
            hits = counted
        starts: set[int] = set()
        for at, reach in hits:
            starts.update(range(max(0, at - reach), at + 1))
        return self._combined(tuple(sorted(present))), sorted(starts)

    def needle_free(self, datas: list[bytes]) -> list[bool]:
        """For each UTF-8 text in ``datas``: True when it holds none of the needles, so that no
        secret can match in it (:meth:`matches` finds nothing); False when it may hold one (or when
        a pattern has no needles). One pass of each literal search over all the texts joined."""
        if self._always:
            return [False] * len(datas)
        joined = b"\n".join(datas).lower()
        ends: list[int] = []
        end = -1
        for data in datas:
            end += len(data) + 1
            ends.append(end)
        clean = [True] * len(datas)
        for core, found in self._probes:
            at = joined.find(core)
            while at >= 0:
                if any(joined.startswith(needle, at) for needle, _, _ in found):
                    # A needle across two texts' join marks both: only ever a false alarm.
                    first = bisect.bisect_left(ends, at)
                    last = bisect.bisect_left(ends, at + max(len(needle) for needle, _, _ in found))
                    for n in range(first, min(len(datas), last + 1)):
                        clean[n] = False
                at = joined.find(core, at + 1)
        return clean

    def for_text(self, text: str) -> re.Pattern[str] | None:
        """The combined pattern of the entries that may match in ``text`` (None: none can)."""
        return self._starts(text)[0]

    def matches(self, text: str) -> Iterator[re.Match[str]]:
        """Every match of the combined pattern in ``text``, as ``pattern.finditer`` finds them."""
        pattern, starts = self._starts(text)
        if pattern is None:
            return
        if starts is None:
            yield from pattern.finditer(text)
            return
        end = 0
        match = pattern.match
        for at in starts:
            if at >= end:
                m = match(text, at)
                if m is not None:
                    end = m.end()
                    yield m

    def _keep(self, m: re.Match[str]) -> tuple[int, str]:
        i = int((m.lastgroup or "s0")[1:])
        keep = m.group(f"k{i}") if f"k{i}" in m.re.groupindex else None
        return i, keep or ""

    def finditer(self, text: str, *, whole: bool = False) -> Iterator[tuple[int, int, str]]:
        """(start, end, entry name) of each secret in ``text``; start is after a kept prefix
        (``api_key=``, ``Bearer``), unless ``whole``."""
        for m in self.matches(text):
            i, keep = self._keep(m)
            yield m.start() + (0 if whole else len(keep)), m.end(), self.entries[i].name

    def sub(self, text: str) -> str:
        out: list[str] = []
        at = 0
        for m in self.matches(text):
            keep = self._keep(m)[1]
            out += (text[at : m.start()], keep, REDACTED)
            at = m.end()
        if not out:
            return text
        out.append(text[at:])
        return "".join(out)


class Redactor:
    def __init__(self, headers: Iterable[str] = (), patterns: Iterable[str] = (), *, defaults: bool = True) -> None:
        self.defaults = defaults
        self.drop = (SECRET_HEADERS if defaults else frozenset()) | {h.lower() for h in headers}
        self.scanner = Scanner(patterns, defaults=defaults)
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


# A base64 string value in a cassette's text (a binary body, a WebSocket frame), as the writer puts it.
_BASE64_VALUE = re.compile(r'"base64": "([A-Za-z0-9+/=]*)"')


def base64_values(text: str) -> list[tuple[int, int]]:
    """Where the base64 string values of a cassette's text are (start, end), for the final scrub and
    ``harness lint`` to leave alone: an encoding is scanned decoded (:meth:`Redactor.binary`)."""
    if '"base64"' not in text:
        return []
    return [m.span(1) for m in _BASE64_VALUE.finditer(text)]


_LOOPBACK = re.compile(r"^(\w+://(?:[^/@]*@)?(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])):\d+(?=/|$)")


def stable_url(url: str) -> str:
    """Loopback ports change on every run: drop them, so re-recording gives the same file."""
    return _LOOPBACK.sub(r"\1", url) if "127." in url or "localhost" in url or "[::1]" in url else url
