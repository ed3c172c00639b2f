"""Re-splitting a recorded WebSocket session: the same events, their text deltas cut across more frames.

A WebSocket message is one event (no byte-level chunking reaches the SDK), so the framing that varies is how
a response's text is cut into ``*.delta`` events: ``response.output_text.delta`` and
``response.function_call_arguments.delta`` (Responses and Realtime alike), and the other delta events the
Responses provider knows (:mod:`harness.providers.openai_responses`). A delta frame is split at any
character into two frames (each a whole, valid event for the SDK and its accumulators; the second gets its
own ``event_id`` when the event has one), adjacent delta frames of the same item are merged, and a
``sequence_number`` that follows renumbers, per response. Client frames are never touched, and a server
frame is still delivered only after the client frames recorded before it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from harness import providers
from harness.cassette.model import WebSocketInteraction
from harness.fuzz.variant import Variant
from harness.fuzz.ws_faults import At, ws_targets
from harness.jsonutil import copy
from harness.providers import Provider

Frame = dict[str, Any]


def _provider() -> Provider:
    found = providers.get("openai-responses")
    assert found is not None
    return found


class WsEdit:
    """A working copy of a recorded session's frames, with the ops applied to it."""

    def __init__(self, item: WebSocketInteraction) -> None:
        self.item, self.rw = item, _provider()
        self.frames: list[Frame] = list(item.frames)
        self.ops: list[str] = []
        self._splits = 0

    def _entry(self, n: int) -> dict[str, Any] | None:
        frame = self.frames[n]
        data = frame.get("json")
        if frame.get("from") != "server" or not isinstance(data, dict):
            return None
        return {"event": data.get("type"), "data": data}

    def splittable(self, n: int) -> bool:
        entry = self._entry(n)
        return entry is not None and bool(self.rw.slots(entry))

    def split_candidates(self) -> list[int]:
        return [n for n in range(len(self.frames)) if self.splittable(n)]

    def merge_candidates(self) -> list[int]:
        out = []
        for n in range(len(self.frames) - 1):
            a, b = self._entry(n), self._entry(n + 1)
            if a is not None and b is not None and self.rw.merge(a, b, dry=True) is not None:
                out.append(n)
        return out

    def text(self, n: int) -> str:
        entry = self._entry(n)
        assert entry is not None
        return str(self.rw.slots(entry)[0][1])

    def split(self, n: int, k: int, note: bool = True) -> None:
        entry = self._entry(n)
        assert entry is not None
        text = self.text(n)
        head, tail = self.rw.split(entry, 0, k)
        self._splits += 1
        if isinstance(tail["data"].get("event_id"), str):
            tail["data"]["event_id"] = f"{tail['data']['event_id']}_{self._splits}"
        frame = self.frames[n]
        self.frames[n : n + 1] = [{**frame, "json": head["data"]}, {**frame, "json": tail["data"]}]
        if note:
            self.ops.append(f"split frame #{n} {entry['event']} {text[:k][-12:]!r}|{text[k:][:12]!r}")

    def merge(self, n: int, note: bool = True) -> bool:
        a, b = self._entry(n), self._entry(n + 1)
        merged = self.rw.merge(a, b) if a is not None and b is not None else None
        if merged is None:
            return False
        # the merged event is whole when its second part came
        self.frames[n : n + 2] = [{**self.frames[n + 1], "json": merged["data"]}]
        if note:
            self.ops.append(f"merge frames #{n}+#{n + 1} {a['event'] if a else ''}")
        return True

    def explode(self, step: int) -> None:
        """Every delta cut every ``step`` characters."""
        count = 0
        for n in range(len(self.frames) - 1, -1, -1):
            j = n
            while self.splittable(j) and len(self.text(j)) > step:
                self.split(j, step, note=False)
                count += 1
                j += 1
        if count:
            self.ops.append(f"explode: every delta cut every {step} char{'s' if step > 1 else ''} ({count} splits)")

    def finish(self) -> list[Frame]:
        """The frames, each response's ``sequence_number`` renumbered after the splits and merges."""
        run: list[int] = []
        for n in [*range(len(self.frames)), len(self.frames)]:
            entry = self._entry(n) if n < len(self.frames) else None
            if entry is not None:
                run.append(n)
                continue
            if n < len(self.frames) and self.frames[n].get("from") == "server":
                continue  # a frame that is not a JSON event (binary, text) sits in the run without a number
            entries = [{"event": self.frames[i]["json"].get("type"), "data": copy(self.frames[i]["json"])} for i in run]
            for i in self.rw.renumber(entries):
                self.frames[run[i]] = {**self.frames[run[i]], "json": entries[i]["data"]}
            run = []
        return self.frames


def _build(index: int, item: WebSocketInteraction, edit: WsEdit) -> Variant:
    stand_in = replace(item, frames=edit.finish())
    shown = "; ".join(edit.ops[:4]) + (f"; … {len(edit.ops) - 4} more" if len(edit.ops) > 4 else "")
    label = f"ws_resplit(#{index}: {shown or 'unchanged'})"
    return Variant(index, stand_in, kind="resplit", label=label, details=list(edit.ops))  # type: ignore[arg-type]


def ws_resplit_ops(index: int, item: WebSocketInteraction, ops: Sequence[tuple[Any, ...]]) -> Variant:
    """Apply explicit ops to a session: ``("split", frame, char)``, ``("merge", frame)``, ``("explode", step)``
    (frame positions count every frame, client and server, as the ops before left them)."""
    edit = WsEdit(item)
    for op in ops:
        if op[0] == "split":
            edit.split(op[1], op[2])
        elif op[0] == "merge":
            if not edit.merge(op[1]):
                raise ValueError(f"frames #{op[1]} and #{op[1] + 1} are not deltas that merge")
        elif op[0] == "explode":
            edit.explode(op[1] if len(op) > 1 else 1)
        else:
            raise ValueError(f"unknown WebSocket resplit op {op!r}")
    return _build(index, item, edit)


def ws_resplit(at: At = None, *, source: Sequence[Any] | None = None, max_ops: int = 6) -> st.SearchStrategy[Variant]:
    """Meaning-preserving variants of the recorded WebSocket sessions: half of the time every delta cut every
    ``k`` characters, then a few single splits and merges. Every one must give the recorded result."""

    @st.composite
    def draw_variant(draw: Any) -> Variant:
        found = ws_targets(source, at)
        if not found:
            raise ValueError("harness.strategies: the cassette has no recorded WebSocket session with server frames")
        index, item = found[0] if len(found) == 1 else draw(st.sampled_from(found))
        edit = WsEdit(item)
        if draw(st.booleans()):
            edit.explode(16 - draw(st.integers(0, 15)))
        for _ in range(draw(st.integers(0, max_ops))):
            if draw(st.booleans()):
                merges = edit.merge_candidates()
                if merges:
                    edit.merge(merges[draw(st.integers(0, len(merges) - 1))])
                    continue
            splits = edit.split_candidates()
            if splits:
                n = splits[draw(st.integers(0, len(splits) - 1))]
                edit.split(n, draw(st.integers(1, len(edit.text(n)) - 1)))
        return _build(index, item, edit)

    return draw_variant()
