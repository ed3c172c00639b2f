"""One recorded response, analysed once: its events' bytes and offsets, and where cuts are interesting.

Every strategy draws from a :class:`Recorded`; building it renders each SSE entry once, so the
variants reuse those bytes instead of encoding the stream again for every example.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from harness import providers, sse
from harness.cassette.model import Body, HttpInteraction, Response

_CACHE: dict[int, tuple[Response, Recorded]] = {}
_CACHE_MAX = 64

# Places inside an SSE body where a cut tends to break naive code.
_FIELD = re.compile(rb"(?m)^(data|event|id|retry)(:) ?")
_CONTINUATION = re.compile(rb"[\x80-\xbf]")
# the text fields of every provider's events: a cut inside their values splits a delta's text
_TEXT_FIELD = re.compile(
    rb'"('
    + b"|".join(re.escape(f.encode()) for f in dict.fromkeys(f for p in providers.providers() for f in p.text_fields))
    + rb')":"'
)


class Recorded:
    """A recorded HTTP response (usually SSE) with what the strategies need to know about it."""

    __slots__ = ("_cuts", "data", "eol", "events", "format", "index", "interaction", "memo", "parts", "response", "starts")

    def __init__(self, index: int, interaction: HttpInteraction, parts: list[bytes] | None = None) -> None:
        if interaction.response is None:
            raise ValueError(f"interaction #{index} has no response to vary (it recorded a transport error)")
        self.index = index
        self.interaction = interaction
        self.response: Response = interaction.response
        body = self.response.body
        self.data: bytes = body.bytes()
        self.eol: str = body.eol
        self.events: list[dict[str, Any]] | None = None
        self.parts: list[bytes] = [self.data]
        if body.kind == "sse":
            self.events = list(body.value)
            self.parts = parts if parts is not None else [sse.render_entry(e, self.eol).encode("utf-8") for e in self.events]
        self.starts: list[int] = []
        pos = 0
        for part in self.parts:
            self.starts.append(pos)
            pos += len(part)
        self.format: str | None = providers.detect(self.events) if self.events is not None else None
        self._cuts: list[int] | None = None
        #: caches of the strategies that draw from this stream (by id of its own, living, entries)
        self.memo: dict[str, Any] = {}

    @property
    def is_sse(self) -> bool:
        return self.events is not None

    # -- describing positions --------------------------------------------------------------

    def event_name(self, n: int, events: list[dict[str, Any]] | None = None) -> str:
        events = self.events if events is None else events
        if events is None:
            return "body"
        return entry_name(events[n])

    def event_at(self, pos: int) -> int:
        """The entry holding byte ``pos`` (the last entry for the end of the body)."""
        return max(0, bisect.bisect_right(self.starts, pos) - 1)

    def describe_byte(self, pos: int) -> str:
        """``byte 437 = inside 'é' (UTF-8 byte 2 of 2) of event #3 content_block_delta, line 'data: …'``."""
        data = self.data
        where = self._where(pos)
        if pos <= 0 or pos >= len(data):
            return f"byte {pos} = {where}"
        what = _cut_kind(data, pos)
        window = _window(data, pos)
        return f"byte {pos} = {what} {where}: {window}"

    def _where(self, pos: int) -> str:
        if self.events is None:
            return "of the body"
        n = self.event_at(pos)
        off = pos - self.starts[n]
        if off == 0:
            return f"at the start of event #{n} {self.event_name(n)}"
        text = self.parts[n]
        line_start = text.rfind(b"\n", 0, off) + 1
        line = text[line_start:].split(b"\n", 1)[0].rstrip(b"\r")
        field = line.split(b":", 1)[0].decode("utf-8", "replace") if b":" in line else "blank"
        return f"in the {field}: line of event #{n} {self.event_name(n)} (column {off - line_start})"

    # -- interesting cut positions ---------------------------------------------------------

    def interesting_cuts(self) -> list[int]:
        """Positions (1..len-1) inside UTF-8 sequences, between CR and LF, inside field names and
        just after ``data:``, inside text values, before line ends and at event boundaries."""
        if self._cuts is None:
            n = len(self.data)
            out: list[int] = []
            for start, part in zip(self.starts, self.parts):
                offsets = _PART_CUTS.get(part)
                if offsets is None:
                    if len(_PART_CUTS) > 100_000:
                        _PART_CUTS.clear()
                    offsets = _PART_CUTS[part] = _part_cuts(part)
                out.extend(start + o for o in offsets)
            self._cuts = [p for p in out if 0 < p < n]
        return self._cuts


_PART_CUTS: dict[bytes, list[int]] = {}  # interesting offsets of an event's bytes (shared by variants)


def _part_cuts(part: bytes) -> list[int]:
    # before a UTF-8 continuation byte: a cut there splits a character
    found: set[int] = {m.start() for m in _CONTINUATION.finditer(part)}
    found.update(m.start() + 1 for m in re.finditer(rb"\r\n", part))
    for m in _FIELD.finditer(part):
        found.update((m.start() + 2, m.start(2), m.end(2), m.end()))
    for m in _TEXT_FIELD.finditer(part):
        found.update((m.end() - 1, m.end(), m.end() + 1))
    found.update(m.start() for m in re.finditer(rb"\n", part))
    found.update((0, len(part) - 1))  # the event's start, and just before its last line end
    return sorted(p for p in found if 0 <= p < len(part))


def entry_name(entry: dict[str, Any]) -> str:
    if "event" in entry:
        return str(entry["event"])
    data = entry.get("data")
    if isinstance(data, dict):
        for key in ("type", "object"):
            if isinstance(data.get(key), str):
                return str(data[key])
        if "error" in data:
            return "error"
    if "text" in entry:
        return repr(str(entry["text"])[:20])
    return "comment" if "comments" in entry else "event"


def _cut_kind(data: bytes, pos: int) -> str:
    b = data[pos]
    if 0x80 <= b < 0xC0:
        start = pos
        while start > 0 and 0x80 <= data[start] < 0xC0 and pos - start < 4:
            start -= 1
        lead = data[start]
        size = 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1
        char = data[start : start + size].decode("utf-8", "replace")
        return f"inside {char!r} (after UTF-8 byte {pos - start} of {size})"
    if data[pos - 1 : pos + 1] == b"\r\n":
        return "between \\r and \\n"
    if data[pos - 1 : pos] == b"\n" and data[pos : pos + 1] in (b"\n", b"\r"):
        return "before the blank line that ends an event"
    if data[pos : pos + 1] in (b"\n", b"\r"):
        return "just before a line end"
    return "mid-line"


def _window(data: bytes, pos: int, width: int = 14) -> str:
    def show(b: bytes) -> str:
        return b.decode("utf-8", "backslashreplace").replace("\r", "\\r").replace("\n", "\\n")

    return f"…{show(data[max(0, pos - width) : pos])}|{show(data[pos : pos + width])}…"


def recorded(index: int, interaction: HttpInteraction) -> Recorded:
    """The analysis of one recorded response, cached while that response object lives."""
    resp = interaction.response
    key = id(resp)
    hit = _CACHE.get(key)
    if hit is not None and hit[0] is resp and hit[1].index == index:
        return hit[1]
    rec = Recorded(index, interaction)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = (resp, rec)  # type: ignore[assignment]
    return rec


def sse_body(events: list[dict[str, Any]], eol: str, parts: list[bytes]) -> Body:
    """An SSE body whose bytes are already known (the parts rendered once): nothing re-encodes it."""
    body = Body("sse", events, eol)
    body._bytes = b"".join(parts)
    return body
