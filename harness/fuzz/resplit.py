"""Delta re-splitting: rewrites of a recorded SSE stream that keep its meaning.

A text delta split in two, two adjacent deltas merged, a tool call's JSON arguments cut at any
character. What "the same meaning" takes differs per API: each provider module of
:mod:`harness.providers` says which fields of its events can be cut and merged (``slots``,
``split``, ``merge``, ``renumber``). This module is the engine over them: an :class:`Edit` of a
recorded stream, explicit ops (:func:`resplit`) and the hypothesis strategy (:func:`resplit_strategy`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from harness import providers, sse
from harness.cassette.model import HttpInteraction, Response
from harness.fuzz import links
from harness.fuzz.stream import Recorded, entry_name, sse_body
from harness.fuzz.variant import Variant
from harness.providers import Provider

Entry = dict[str, Any]
#: the provider classes were called rewriters here; every provider is one
Rewriter = Provider


def rewriter_for(rec: Recorded) -> Provider | None:
    return providers.get(rec.format)


# --------------------------------------------------------------------------------------------------- edits


def _show(text: str, k: int, width: int = 16) -> str:
    left, right = text[max(0, k - width) : k], text[k : k + width]
    return f"{'…' if k > width else ''}{left}|{right}{'…' if len(text) - k > width else ''}"


#: How servers render an event's JSON: ``json.dumps`` defaults (``{"a": 1, "b": 2}``, the padded style), and
#: compact, each with and without ``\uXXXX`` escapes. A stream whose events keep their exact text (``raw``,
#: because harness's compact rendering would not give it back) is rewritten in its own style.
_STYLES: tuple[tuple[tuple[str, str], bool], ...] = (
    ((", ", ": "), True),
    ((", ", ": "), False),
    ((",", ":"), True),
    ((",", ":"), False),
)
Style = tuple[tuple[str, str], bool]


def render_styled(entry: Entry, eol: str, style: Style) -> str:
    """``entry`` as text, its JSON data rendered in ``style``."""
    text = sse.render_entry({**entry, "data": 0}, eol)
    data = json.dumps(entry["data"], separators=style[0], ensure_ascii=style[1])
    return text.replace(f"data: 0{eol}", f"data: {data}{eol}", 1)


def _style_of(entry: Entry, eol: str) -> Style | None:
    """The style that renders a ``raw`` entry's data back to its exact text, if any."""
    raw, data = entry.get("raw"), entry.get("data")
    if not isinstance(raw, str) or not isinstance(data, (dict, list)):
        return None
    bare = {k: v for k, v in entry.items() if k != "raw"}
    return next((st_ for st_ in _STYLES if render_styled(bare, eol, st_) == raw), None)


def plain_events(rec: Recorded) -> tuple[list[Entry], Style | None]:
    """The recording's events as the providers can rewrite them: an event kept as its exact text only
    because its JSON is not compact (``raw``) without that text, and the stream's style to render rewritten
    events in. Worked out once per recording."""
    memo = rec.memo
    found = memo.get("plain")
    if found is None:
        assert rec.events is not None
        styles = [_style_of(e, rec.eol) if "raw" in e else None for e in rec.events]
        known = [s for s in styles if s is not None]
        style = max(set(known), key=known.count) if known else None
        events = [
            {k: v for k, v in e.items() if k != "raw"} if s is not None and s == style else e for e, s in zip(rec.events, styles)
        ]
        found = memo["plain"] = (events, style)
    return found


class Edit:
    """A working copy of a recorded stream: events and their rendered bytes, re-rendered lazily."""

    def __init__(self, rec: Recorded, rw: Provider) -> None:
        assert rec.events is not None
        self.rec, self.rw = rec, rw
        events, self.style = plain_events(rec)
        self.events: list[Entry] = list(events)
        self.parts: list[bytes | None] = list(rec.parts)
        self.ops: list[str] = []
        #: the recorded event each event came from (a split's halves: the same one)
        self.origin: list[int] = list(range(len(self.events)))
        #: the recorded events that came only after a client's request (a causal stream's links)
        self.linked: dict[int, list[str]] = links.event_links(links.offsets(rec.response), rec.starts)
        # What is known of the recording's own entries (alive as long as it is) is kept on it for
        # every later draw; what is known of entries made by this edit stays with the edit.
        memo = rec.memo
        self._own: set[int] = memo.setdefault("own", {id(e) for e in events})
        self._own_slots: dict[int, list[tuple[str, str]]] = memo.setdefault(f"slots:{rw.name}", {})
        self._own_mergeable: dict[tuple[int, int], bool] = memo.setdefault(f"mergeable:{rw.name}", {})
        self._slots: dict[int, list[tuple[str, str]]] = {}
        self._mergeable: dict[tuple[int, int], bool] = {}
        self._keep = self.events[:]  # keeps replaced entries alive, so the id() keys above stay unique

    def slots_of(self, i: int) -> list[tuple[str, str]]:
        e = self.events[i]
        key = id(e)
        cache = self._own_slots if key in self._own else self._slots
        found = cache.get(key)
        if found is None:
            found = cache[key] = [s for s in self.rw.slots(e) if len(s[1]) >= 2]
        return found

    def split_candidates(self) -> list[tuple[int, int]]:
        return [(i, s) for i in range(len(self.events)) for s in range(len(self.slots_of(i)))]

    def merge_candidates(self) -> list[int]:
        ev, own, merge = self.events, self._own, self.rw.merge
        out = []
        for i in range(len(ev) - 1):
            key = (id(ev[i]), id(ev[i + 1]))
            cache = self._own_mergeable if key[0] in own and key[1] in own else self._mergeable
            ok = cache.get(key)
            if ok is None:
                ok = cache[key] = merge(ev[i], ev[i + 1], dry=True) is not None
            if ok and not self._across_link(i):
                out.append(i)
        return out

    def _across_link(self, i: int) -> bool:
        """Whether merging events ``i`` and ``i + 1`` would deliver an event linked to a request early."""
        lo, hi = self.origin[i], self.origin[i + 1]
        return any(lo < e <= hi for e in self.linked)

    def split(self, i: int, slot: int, k: int) -> None:
        entry = self.events[i]
        label, text = self.slots_of(i)[slot]
        head, tail = self.rw.split(entry, slot, k)
        self.events[i : i + 1] = [head, tail]
        self.origin[i : i + 1] = [self.origin[i]] * 2
        self._keep += (head, tail)
        self.parts[i : i + 1] = [None, None]
        self.ops.append(f"split #{i} {entry_name(entry)} {label} {_show(text, k)!r} at char {k}")

    def merge(self, i: int) -> bool:
        a, b = self.events[i], self.events[i + 1]
        merged = self.rw.merge(a, b) if not self._across_link(i) else None
        if merged is None:
            return False
        self.events[i : i + 2] = [merged]
        self.origin[i : i + 2] = [self.origin[i]]
        self._keep.append(merged)
        self.parts[i : i + 2] = [None]
        self.ops.append(f"merge #{i}+#{i + 1} {entry_name(a)}")
        return True

    def finish(self) -> tuple[list[Entry], list[bytes]]:
        for i in self.rw.renumber(self.events):
            self.parts[i] = None
        eol, style = self.rec.eol, self.style
        parts = [p if p is not None else self._render(e, eol, style).encode("utf-8") for e, p in zip(self.events, self.parts)]
        # The events of a padded stream keep their text in the stream's style as their exact text.
        events = [
            {**e, "raw": p.decode("utf-8")}
            if style is not None and "raw" not in e and isinstance(e.get("data"), (dict, list))
            else e
            for e, p in zip(self.events, parts)
        ]
        return events, parts

    @staticmethod
    def _render(entry: Entry, eol: str, style: Style | None) -> str:
        if style is None or not isinstance(entry.get("data"), (dict, list)) or "raw" in entry:
            return sse.render_entry(entry, eol)
        return render_styled(entry, eol, style)


def build(
    rec: Recorded,
    events: list[Entry],
    parts: list[bytes],
    *,
    label: str,
    details: list[str],
    kind: str = "resplit",
    origin: list[int] | None = None,
) -> Variant:
    """A variant replaying ``events`` (one network chunk per event) in place of ``rec``; ``origin[i]``: the
    recorded event ``events[i]`` came from, for a causal stream's links (default: the same positions)."""
    resp = rec.response
    body = sse_body(events, rec.eol, parts)
    chunks: list[list[float]] = [[len(p), 0.0] for p in parts if p]
    linked = links.event_links(links.offsets(resp), rec.starts)
    awaits = links.event_awaits(linked, origin if origin is not None else list(range(len(events))), parts)
    whole = kind != "fault"  # a fault's stream ends its own way: not held open after its last chunk
    new = Response(
        resp.status,
        resp.headers,
        body,
        chunks or [[0, 0.0]],
        resp.error,
        awaits=awaits,
        client_closed=whole and resp.client_closed,
    )
    interaction = HttpInteraction(rec.interaction.request, new, None, rec.interaction.elapsed_ms)
    return Variant(rec.index, interaction, kind=kind, label=label, details=details, format=rec.format)


def resplit(rec: Recorded, ops: list[tuple[Any, ...]]) -> Variant:
    """Apply explicit ops to ``rec``: ``("split", event, slot, char)``, ``("merge", event)``,
    ``("explode", lo, hi, step)`` (the deltas of events lo..hi cut every ``step`` characters; all
    arguments optional), ``("merge_all", lo, hi)``."""
    rw = rewriter_for(rec)
    if rw is None:
        raise ValueError(f"no rewriter knows the format of interaction #{rec.index} (known: {', '.join(providers.registry())})")
    edit = Edit(rec, rw)
    for op in ops:
        if op[0] == "split":
            edit.split(op[1], op[2], op[3])
        elif op[0] == "merge":
            edit.merge(op[1])
        elif op[0] == "explode":
            _explode(edit, *op[1:])
        elif op[0] == "merge_all":
            _merge_all(edit, *op[1:])
        else:
            raise ValueError(f"unknown resplit op {op!r}")
    return _finish(rec, edit)


def _explode(edit: Edit, lo: int = 0, hi: int | None = None, step: int = 1, limit: int | None = None) -> None:
    """Cut every splittable delta of events ``lo..hi`` (current positions) every ``step`` characters."""
    last = len(edit.events) - 1
    hi = last if hi is None else min(hi, last)
    count = 0
    for i in range(hi, lo - 1, -1):  # from the end, so the positions before i stay put
        # Every field of every event made from event i is cut: an event with several (a chat chunk's audio
        # transcript and data) keeps its other fields in the head of a cut, cut in turn.
        j, end = i, i
        while j <= end and (limit is None or count < limit):
            slot = next((n for n, (_, text) in enumerate(edit.slots_of(j)) if len(text) > step), None)
            if slot is None:
                j += 1
                continue
            edit.split(j, slot, step)
            edit.ops.pop()
            count += 1
            end += 1
    span = "every delta" if (lo, hi) == (0, last) else f"the deltas of events #{lo}..#{hi}"
    if count:
        edit.ops.append(f"explode: {span} cut every {step} char{'s' if step > 1 else ''} ({count} splits)")


def _merge_all(edit: Edit, lo: int = 0, hi: int | None = None) -> None:
    """Merge every run of mergeable deltas among events ``lo..hi`` (current positions)."""
    hi = len(edit.events) - 1 if hi is None else min(hi, len(edit.events) - 1)
    merges = 0
    i = lo
    while i < hi:
        if edit.merge(i):
            edit.ops.pop()
            merges += 1
            hi -= 1
        else:
            i += 1
    if merges:
        edit.ops.append(f"merge_all: the deltas of events #{lo}..#{hi + merges} merged where they can be ({merges} merges)")


def _finish(rec: Recorded, edit: Edit) -> Variant:
    events, parts = edit.finish()
    shown = "; ".join(edit.ops[:4]) + (f"; … {len(edit.ops) - 4} more" if len(edit.ops) > 4 else "")
    label = f"resplit(#{rec.index} {rec.format}: {shown or 'unchanged'})"
    return build(rec, events, parts, label=label, details=list(edit.ops), origin=edit.origin)


def resplit_strategy(rec: Recorded, *, max_ops: int = 6) -> st.SearchStrategy[Variant]:
    """Meaning-preserving rewrites of ``rec``'s deltas: half of the time a dense block first (every
    delta of a window of events exploded every ``k`` characters, or merged), then a few single
    splits and merges. Shrinks towards one split: the window narrows to one event, ``k`` grows."""
    rw = rewriter_for(rec)
    if rw is None or rec.events is None:
        return st.nothing()
    n_events = len(rec.events)
    probe = Edit(rec, rw)
    if not probe.split_candidates() and not probe.merge_candidates():
        # Nothing to cut or merge: every example would be the recording itself, and a buggy consumer pass.
        warnings.warn(
            f"harness: resplit cannot vary interaction #{rec.index} ({rec.format}): no event of it can be cut or"
            " merged (its events keep an exact text harness cannot rewrite, or have no text deltas)",
            stacklevel=2,
        )

    @st.composite
    def draw_variant(draw: Callable[..., Any]) -> Variant:
        edit = Edit(rec, rw)
        if draw(st.booleans()):
            hi = draw(st.integers(0, n_events - 1))
            lo = max(0, hi - draw(st.integers(0, n_events)))
            if draw(st.booleans()):
                _merge_all(edit, lo, hi)
            else:
                _explode(edit, lo, hi, step=16 - draw(st.integers(0, 15)), limit=4000)
        for _ in range(draw(st.integers(0, max_ops))):
            if draw(st.booleans()):
                merges = edit.merge_candidates()
                if merges:
                    edit.merge(merges[draw(st.integers(0, len(merges) - 1))])
                    continue
            splits = edit.split_candidates()
            if not splits:
                continue
            i, slot = splits[draw(st.integers(0, len(splits) - 1))]
            text = edit.slots_of(i)[slot][1]
            edit.split(i, slot, draw(st.integers(1, len(text) - 1)))
        return _finish(rec, edit)

    return draw_variant()
