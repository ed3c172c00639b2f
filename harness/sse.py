"""Server-sent events, byte for byte.

A recorded SSE body is stored one event per entry, readable in review: the event name, the data
parsed as JSON where it is JSON, comments, id and retry. An event whose JSON the server did not
write compactly says how it was written: ``"style"`` (one of :data:`STYLES`: ``"padded"`` is
``json.dumps``'s ``", "`` and ``": "``, ``-ascii`` its ``\\uXXXX`` escapes) and ``"pad"`` (the
number of spaces before the closing brace, as recent Anthropic streams send). :func:`parse` keeps
an entry's exact original text under ``raw`` only when :func:`render` would not give the bytes back
in any of those forms (an unusual spacing, fields in an unusual order, a stream cut mid-event), so
the stored stream always re-renders to the original bytes and costs nothing extra on disk.

The style is per event, not per stream: code that rewrites or scrubs one event (the redactor, the
fuzzer, a merge) renders it from its own fields alone.
"""

from __future__ import annotations

import itertools
import json
import operator
import re
from collections.abc import Callable
from typing import Any

from harness.jsonutil import compact, compact_parts, encoder

orjson: Any
try:
    import orjson
except ImportError:  # the optional `fast` extra is not installed
    orjson = None

Event = dict[str, Any]

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")
_FIELD_ORDER = ("comments", "event", "id", "retry", "data", "text")

#: How a server may write an event's JSON data, by the name an entry stores under ``"style"``; an entry
#: without one is ``compact``. Tried in this order: the first that gives the bytes back is stored.
STYLES: dict[str, Callable[[Any], str]] = {
    "compact": compact,
    "padded": encoder(separators=(", ", ": ")),
    "padded-ascii": encoder(separators=(", ", ": "), ensure_ascii=True),
    "compact-ascii": encoder(ensure_ascii=True),
}
#: Spaces before the closing brace (or bracket) of an event's data, at the end of its block.
_PAD = {eol: re.compile(rf"( +)[}}\]]{re.escape(eol * 2)}\Z") for eol in ("\n", "\r\n")}


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_encode_json = compact
# NaN and Infinity are not JSON (Python's json reads them): such data is kept as text, which renders
# to the same bytes, so a cassette never holds them as values (nor fails to equal itself).
_decode_json = json.JSONDecoder(parse_constant=_not_json).decode


def _split_blocks(text: str) -> list[tuple[list[str], str]]:
    """Split into event blocks: (lines without their endings, exact block text)."""
    blocks: list[tuple[list[str], str]] = []
    lines: list[str] = []
    start = 0
    pos = 0
    for m in _LINE.finditer(text):
        line = m.group()
        pos = m.end()
        stripped = line.rstrip("\r\n")
        if stripped == "" and line != "":
            if lines:
                blocks.append((lines, text[start:pos]))
            else:
                # A blank line with no event before it: keep it with the next block.
                continue
            lines = []
            start = pos
        else:
            lines.append(stripped)
    if start < len(text):
        blocks.append((lines, text[start:]))
    return blocks


def _entry(lines: list[str]) -> Event:
    entry: Event = {}
    data: list[str] = []
    comments: list[str] = []
    for line in lines:
        if line.startswith(":"):
            comments.append(line[1:].removeprefix(" "))
            continue
        name, colon, value = line.partition(":")
        value = value.removeprefix(" ") if colon else ""
        if name == "data":
            data.append(value)
        elif name in ("event", "id", "retry"):
            entry[name] = value
        else:
            entry.setdefault("fields", []).append([name, value])
    if comments:
        entry["comments"] = comments
    if data:
        joined = "\n".join(data)
        try:
            entry["data"] = _decode_json(joined)
        except ValueError:
            entry["text"] = joined
    return entry


def parse(body: bytes) -> tuple[list[Event], str]:
    """Parse an SSE body into entries and the line ending most of it uses.

    Raises ``UnicodeDecodeError`` when the body is not UTF-8 (then it is not SSE).
    """
    text = body.decode("utf-8")
    # A leading byte order mark is not part of the first field's name (the SSE spec ignores one):
    # parsed without it, and kept in the first entry's exact text so the bytes replay as they came.
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom) :]
    eol = "\r\n" if "\r\n" in text[:4096] else "\n"
    entries: list[Event] = []
    for lines, exact in _split_blocks(text):
        entry = _entry(lines)
        # Keep the field order the server used for readability, and the exact text where needed.
        ordered = {k: entry[k] for k in _FIELD_ORDER if k in entry}
        ordered.update((k, v) for k, v in entry.items() if k not in ordered)
        if bom or render_entry(ordered, eol) != exact:
            styled = None if bom else _styled(ordered, exact, eol)
            if styled is None:
                ordered["raw"] = bom + exact
                bom = ""
            else:
                ordered = styled
        entries.append(ordered)
    if bom:  # a body of a byte order mark alone
        entries.append({"raw": bom})
    return entries, eol


def _styled(entry: Event, exact: str, eol: str) -> Event | None:
    """``entry`` with the ``style`` (and ``pad``) that render it to ``exact``, or None if none does."""
    if "data" not in entry:
        return None  # only JSON data has a style
    found = _PAD[eol].search(exact) if eol in _PAD else None
    pad = {"pad": len(found.group(1))} if found is not None and isinstance(entry["data"], (dict, list)) else {}
    for name in STYLES:
        if name == "compact" and not pad:
            continue  # tried already
        candidate = {**entry, "style": name, **pad} if name != "compact" else {**entry, **pad}
        if render_entry(candidate, eol) == exact:
            return candidate
    return None


def _data(entry: Event) -> str:
    """An entry's JSON data as text, in its style."""
    text = STYLES[entry.get("style", "compact")](entry["data"])
    pad = entry.get("pad")
    return f"{text[:-1]}{' ' * pad}{text[-1]}" if pad else text


def render_entry(entry: Event, eol: str = "\n") -> str:
    """The exact text of one stored entry."""
    raw = entry.get("raw")
    if raw is not None:
        return str(raw)
    out = [f": {c}{eol}" if c else f":{eol}" for c in entry.get("comments", ())]
    if "event" in entry:
        out.append(f"event: {entry['event']}{eol}")
    if "id" in entry:
        out.append(f"id: {entry['id']}{eol}")
    if "retry" in entry:
        out.append(f"retry: {entry['retry']}{eol}")
    for name, value in entry.get("fields", ()):
        out.append(f"{name}: {value}{eol}")
    if "data" in entry:
        out.append(f"data: {_data(entry)}{eol}")
    elif "text" in entry:
        out.extend(f"data: {line}{eol}" for line in str(entry["text"]).split("\n"))
    out.append(eol)
    return "".join(out)


def render(entries: list[Event], eol: str = "\n") -> bytes:
    """The exact bytes of a stored stream (the same as joining :func:`render_entry` of each entry)."""
    if orjson is not None and len(entries) >= _AT_ONCE:
        at_once = _render_at_once(entries, eol)
        if at_once is not None:
            return at_once
    parts = compact_parts
    styles = STYLES
    end = eol + eol
    out: list[str] = []
    append, extend = out.append, out.extend
    for entry in entries:
        # The shapes nearly every event of a model stream has, inline (the encoder's pieces joined once, at
        # the end); anything else in full.
        size = len(entry)
        if size == 2 and "data" in entry and "event" in entry:
            append(f"event: {entry['event']}{eol}data: ")
            extend(parts(entry["data"], 0))
            append(end)
        elif size == 1 and "data" in entry:
            append("data: ")
            extend(parts(entry["data"], 0))
            append(end)
        elif size == 3 and "style" in entry and "event" in entry and "data" in entry:
            append(f"event: {entry['event']}{eol}data: {styles[entry['style']](entry['data'])}{end}")
        else:
            append(render_entry(entry, eol))
    return "".join(out).encode("utf-8")


#: Streams at least this long are rendered by :func:`_render_at_once` when orjson is installed.
_AT_ONCE = 16
#: Put between the events' data in the one list orjson writes, and split on after: a string in an event's
#: data can be this too, which then gives more pieces than events (and the plain render).
_SEPARATOR = "\x00harness:event\x00"
_SEPARATOR_JSON = b',"\\u0000harness:event\\u0000",'
#: Where orjson's floats differ from the standard library's (the digits are the same, the shortest that
#: read back; 2,000,000 random floats compared): an exponent of one digit after a minus (``1e-7``, where
#: Python writes ``1e-07``), and a number under 1e-4 written without an exponent (``0.00001``, where
#: Python writes ``1e-05``). Either text found anywhere, in a string too: the plain render runs.
_SHORT_EXPONENT = re.compile(rb"e-[1-9](?![0-9])")
_SMALL_DECIMAL = b"0.0000"
_MISSING = object()
#: orjson writes dataclasses, datetimes and subclasses of str, int, dict and list itself; the standard
#: library refuses the first two and writes the rest its own way: left to it (with no ``default``, orjson
#: then raises). Parsed JSON holds none of them.
_REFUSE = (orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS) if orjson else 0


def _render_at_once(entries: list[Event], eol: str) -> bytes | None:
    """:func:`render`'s bytes with every event's data written by one orjson call, or None where orjson
    may not write what the standard library writes (then the plain render runs).

    The plain render's cost is a call of the C encoder per event (15 ms for 10,000 events, most of
    loading such a cassette); orjson writes the whole list of data in about 1.5 ms and the events are
    joined at C speed. Only entries of the commonest shape (``data``, with or without ``event``, in the
    default compact style) take their text from it; any other entry is rendered alone, as before.
    orjson writes compact JSON with non-ASCII as is, like :func:`harness.jsonutil.compact`, except for the
    floats ``_SMALL_DECIMAL`` and ``_SHORT_EXPONENT`` find; it refuses integers beyond 64 bits and lone
    surrogates (None then)."""
    repeat = itertools.repeat
    n = len(entries)
    datas: list[Any] = [_SEPARATOR] * (2 * n - 1)
    try:
        datas[::2] = map(dict.get, entries, repeat("data"), repeat(None))
        text = orjson.dumps(datas, option=_REFUSE)
        if _SMALL_DECIMAL in text or _SHORT_EXPONENT.search(text) is not None:
            return None
        pieces = text[1:-1].split(_SEPARATOR_JSON)
        if len(pieces) != n:
            return None
        names = list(map(dict.get, entries, repeat("event"), repeat(_MISSING)))
        heads = {name: ("data: " if name is _MISSING else f"event: {name}{eol}data: ").encode("utf-8") for name in set(names)}
    except TypeError:  # an entry that is not a dict, a value orjson does not write as json does (orjson's
        return None  # JSONEncodeError is a TypeError), an event name that is not a string
    end = (eol + eol).encode("utf-8")
    out = list(itertools.chain.from_iterable(zip(map(heads.__getitem__, names), pieces, repeat(end))))
    # An entry of another shape (no data, a style, comments, ...): its keys are not ``data`` and, where it
    # has one, ``event`` (found at C speed: a Python test per entry would cost as much as the writing)
    keys = map(operator.add, map(operator.contains, entries, repeat("event")), repeat(1))
    simple = map(operator.and_, map(operator.contains, entries, repeat("data")), map(operator.eq, map(len, entries), keys))
    for i in itertools.compress(itertools.count(), map(operator.not_, simple)):
        out[3 * i : 3 * i + 3] = (render_entry(entries[i], eol).encode("utf-8"), b"", b"")
    return b"".join(out)


def entry_sizes(entries: list[Event], eol: str = "\n") -> list[int]:
    """Byte length of each entry, for mapping chunk boundaries onto events."""
    return [len(render_entry(e, eol).encode("utf-8")) for e in entries]


# -- checks: what the loader asks before a stored stream reaches an SDK --------------------------------------

_EOL = r"(?:\r\n|\r(?!\n)|\n)"
#: One whole event: blank lines before it (kept with it by :func:`parse`), its lines, then a blank line.
_WHOLE = re.compile(rf"{_EOL}*(?:[^\r\n]+{_EOL})+{_EOL}")
#: The last event of a stream that broke part-way: it may stop anywhere, even mid-line.
_CUT = re.compile(rf"{_EOL}*(?:[^\r\n]+{_EOL})*[^\r\n]*")
_EOL_SPLIT = re.compile(r"\r\n|\r|\n")


def finite(value: Any) -> bool:
    """False when a JSON value holds NaN or +-Infinity anywhere (Python's json reads them; JSON has none)."""
    if isinstance(value, float):
        return value - value == 0.0
    if isinstance(value, dict):
        return all(map(finite, value.values()))
    if isinstance(value, list):
        return all(map(finite, value))
    return True


_RUNS_ON = "is not a whole event: no blank line ends it, so it runs into the next event"
_NEVER_SEEN = (
    "is not a whole event: no blank line ends it, so an SDK never sees it "
    "(only a stream that broke, with its error recorded, may stop mid-event)"
)


def _block(lines: list[str], exact: str, may_stop: bool, last: bool) -> tuple[Event, str | None]:
    """One block's entry, and what keeps it from reaching an SDK as one whole event (None: nothing).
    ``may_stop``: the block may stop mid-event (the last one of a stream that was cut)."""
    if not lines:
        return {}, None  # blank lines at the end of a stream: nothing to dispatch
    entry = _entry(lines)
    if not (_WHOLE.fullmatch(exact) or (may_stop and _CUT.fullmatch(exact))):
        if _CUT.fullmatch(exact):
            return entry, _NEVER_SEEN if last else _RUNS_ON
        return entry, "is not one event: it holds a blank line, so it is several events"
    return entry, None


def check_raw(entry: Event, last: bool, first: bool = False) -> str | None:
    """What is wrong with a stored entry's exact text (``raw``), or None.

    It must be one whole event (the last entry may stop mid-event: a recording keeps what the
    server sent, and an SDK drops an event that never ends), and where the entry also has its
    fields, they must be what the text says: an edit of one without the other would replay
    something other than what the cassette shows. The first entry may start with a byte order mark.
    """
    raw = str(entry["raw"])
    if first:
        raw = raw.removeprefix("\ufeff")
    if _WHOLE.fullmatch(raw) is None and not (last and _CUT.fullmatch(raw)):
        blocks = _split_blocks(raw)
        if len(blocks) != 1:
            return "is not one event: it holds a blank line, so it is several events" if blocks else "is empty"
        return _block(*blocks[0], last, last)[1]  # None for blank lines only: harmless
    said = _entry([line for line in _EOL_SPLIT.split(raw) if line])
    if len(entry) > 1:
        said["raw"] = entry["raw"]
        if said != entry:
            del said["raw"]
            return f"does not say what the entry's fields say (was one edited without the other?): the text reads {said!r:.120}"
    return None


def check_text(text: str, broken: bool) -> tuple[int, str] | None:
    """The first event of an SSE body kept as plain text (harness never writes one: a hand edit)
    that would not reach an SDK whole, and why. Only the last event of a stream that broke
    (``broken``) may stop mid-event."""
    blocks = _split_blocks(text)
    last = len(blocks) - 1
    for n, (lines, exact) in enumerate(blocks):
        entry, problem = _block(lines, exact, broken and n == last, n == last)
        if problem is None and lines:
            names = [line.partition(":")[0] for line in lines if not line.startswith(":")]
            if names.count("event") > 1 or names.count("id") > 1:
                problem = "has two 'event' or 'id' lines: two events run together (a blank line is missing)"
            else:
                data = [line.partition(":")[2].removeprefix(" ") for line in lines if line.partition(":")[0] == "data"]
                if len(data) > 1 and data[0][:1] in ("{", "[") and "data" not in entry and _is_json(data[0]):
                    problem = "has JSON data lines that only parse one by one: two events run together (a blank line is missing)"
        if problem is not None:
            return n, problem
    return None


def _is_json(text: str) -> bool:
    try:
        _decode_json(text)
    except ValueError:
        return False
    return True
