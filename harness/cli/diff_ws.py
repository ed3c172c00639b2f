"""``harness diff`` views of long-lived sessions: WebSocket sessions, and event streams replayed causally.

A WebSocket session is compared turn by turn, a turn being one client frame and the run of server frames
recorded after it (a run before any client frame, such as Realtime's ``session.created``, is its own):
the client frames at path level (``ignore_paths`` and per-run ids applied), each server run by what it
said (the frame types and their counts, the output text reassembled from its deltas and compared as text,
each function call's arguments compared as JSON, error events), then the handshake and how the session
closed. A turn only one side has is listed whole.

A causal event stream (a managed-agents session's, :mod:`harness.seams.causal`) is compared event by
event, aligned by type: each event's meaning (:func:`harness.cli.streams.summary`) and the posts it
waited for; ids and timestamps the server makes fresh are not changes.
"""

from __future__ import annotations

import difflib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.cli.diff import DiffOptions, changes
from harness.cli.diff import _text_change as text_change
from harness.cli.show import _frame_text
from harness.cli.style import clip, obj, plural, short

if TYPE_CHECKING:
    from harness.cassette.model import Response, WebSocketInteraction

_DATA_KEYS = ("json", "text", "base64")
_TEXT_DELTAS = ("response.output_text.delta", "response.output_audio_transcript.delta")
Turn = tuple[dict[str, Any] | None, list[dict[str, Any]]]


@dataclass
class Said:
    """What a run of server frames said: frame types in order, text reassembled, function calls, errors."""

    types: list[str] = field(default_factory=list)
    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)


def reassemble(frames: list[dict[str, Any]]) -> Said:
    said = Said()
    for frame in frames:
        value = obj(frame.get("json"))
        kind, item = value.get("type"), obj(value.get("item"))
        said.types.append(str(kind) if isinstance(kind, str) else next((k for k in _DATA_KEYS if k in frame), "?"))
        if kind in _TEXT_DELTAS and isinstance(value.get("delta"), str):
            said.text += value["delta"]
        elif kind == "response.output_item.done" and item.get("type") == "function_call":
            said.calls.append(item)
        elif kind == "error":
            said.errors.append(value.get("error"))
        elif kind == "response.failed":
            said.errors.append(obj(value.get("response")).get("error"))
    return said


def turns(frames: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[Turn]]:
    """The server frames before any client frame, and each client frame with the server frames after it."""
    lead: list[dict[str, Any]] = []
    out: list[Turn] = []
    for frame in frames:
        if frame.get("from") == "client":
            out.append((frame, []))
        elif out:
            out[-1][1].append(frame)
        else:
            lead.append(frame)
    return lead, out


def _frame_view(frame: dict[str, Any], o: DiffOptions, ids: Any) -> Any:
    if "json" in frame:
        return ids(o.matcher.body_view(frame["json"]))
    return {k: frame[k] for k in _DATA_KEYS if k in frame}


def _counted(kind: str, n: int) -> str:
    return kind + (f" x{n}" if n > 1 else "")


def _runs(types: list[str]) -> list[str]:
    return [t for n, t in enumerate(types) if n == 0 or types[n - 1] != t]


def _type_changes(a: list[str], b: list[str]) -> list[str]:
    ca, cb = Counter(a), Counter(b)
    parts = []
    for kind in dict.fromkeys(a + b):
        x, y = ca[kind], cb[kind]
        if x == y:
            continue
        if not x:
            parts.append(f"+ {_counted(kind, y)}")
        elif not y:
            parts.append(f"- {_counted(kind, x)}")
        else:
            parts.append(f"{kind} x{x} != x{y}")
    if not parts and _runs(a) != _runs(b):
        parts.append(f"order {', '.join(_runs(a))} != {', '.join(_runs(b))}")
    return [f"frames: {', '.join(parts)}"] if parts else []


def _arguments(call: dict[str, Any]) -> Any:
    try:
        return json.loads(str(call.get("arguments")))
    except ValueError:
        return None


def _call_title(call: dict[str, Any]) -> str:
    return f"tool call {call.get('name')} {clip(str(call.get('arguments')), 120)}"


def _call_changes(a: list[dict[str, Any]], b: list[dict[str, Any]], o: DiffOptions) -> list[str]:
    """Function calls in order: name, then arguments (as JSON when both parse); call ids are per run."""
    out: list[str] = []
    for n in range(max(len(a), len(b))):
        if n >= len(a):
            out.append(f"+ {_call_title(b[n])}")
        elif n >= len(b):
            out.append(f"- {_call_title(a[n])}")
        elif a[n].get("name") != b[n].get("name"):
            out.append(f"{_call_title(a[n])} != {_call_title(b[n])}")
        else:
            name, pa, pb = a[n].get("name"), _arguments(a[n]), _arguments(b[n])
            if pa is not None and pb is not None:
                out += [f"tool call {name} {d}" for d in changes(o.ids_a(pa), o.ids_b(pb))]
            elif a[n].get("arguments") != b[n].get("arguments"):
                out += text_change(f"tool call {name} arguments", str(a[n].get("arguments")), str(b[n].get("arguments")))
    return out


def _server_changes(a: list[dict[str, Any]], b: list[dict[str, Any]], o: DiffOptions) -> list[str]:
    x, y = reassemble(a), reassemble(b)
    out = _type_changes(x.types, y.types)
    out += _call_changes(x.calls, y.calls, o)
    if x.text != y.text:
        out += text_change("assistant text", x.text, y.text)
    if x.errors != y.errors:
        out.append(f"error: {short(x.errors)} != {short(y.errors)}")
    return out


def _run_summary(frames: list[dict[str, Any]]) -> str:
    said = reassemble(frames)
    parts = [plural(len(frames), "frame")]
    if said.text:
        parts.append(f"assistant text {short(said.text)}")
    parts += [_call_title(c) for c in said.calls]
    parts += [f"error {short(e)}" for e in said.errors]
    return ", ".join(parts)


def _close(close: dict[str, Any] | None) -> str:
    if not close:
        return "not closed"
    return f"{close.get('code')} by {close.get('by')}" + (f": {close['reason']}" if close.get("reason") else "")


def _where(n: int) -> str:
    return f"← server after client frame #{n}: " if n else "← server before any client frame: "


def _one_side(sign: str, n: int, turn: Turn) -> list[str]:
    client, run = turn
    out = [f"{sign} → client frame #{n} {clip(_frame_text(client), 200)}"] if client is not None else []
    if run:
        out.append(f"{sign} {_where(n)}{_run_summary(run)}")
    return out


def diff_websocket(a: WebSocketInteraction, b: WebSocketInteraction, o: DiffOptions) -> list[str]:
    out: list[str] = []
    if a.url != b.url:
        out.append(f"handshake url: {a.url} != {b.url}")
    if o.headers:
        out += [f"handshake {d}" for d in changes(a.headers, b.headers, "headers")]
    if a.error != b.error:
        out.append(f"handshake error: {short(a.error)} != {short(b.error)}")
    lead_a, turns_a = turns(list(a.frames))
    lead_b, turns_b = turns(list(b.frames))
    out += [_where(0) + d for d in _server_changes(lead_a, lead_b, o)]
    for k in range(max(len(turns_a), len(turns_b))):
        n = k + 1
        if k >= len(turns_a):
            out += _one_side("+", n, turns_b[k])
            continue
        if k >= len(turns_b):
            out += _one_side("-", n, turns_a[k])
            continue
        (ca, ra), (cb, rb) = turns_a[k], turns_b[k]
        assert ca is not None and cb is not None
        out += [f"→ client frame #{n} {d}" for d in changes(_frame_view(ca, o, o.ids_a), _frame_view(cb, o, o.ids_b))]
        out += [_where(n) + d for d in _server_changes(ra, rb, o)]
    if _close(a.close) != _close(b.close):
        out.append(f"close: {_close(a.close)} != {_close(b.close)}")
    return out


# --------------------------------------------------------------------------------------------- causal event streams


def _event_name(entry: dict[str, Any]) -> str:
    data = entry.get("data")
    return str(entry.get("event") or (data.get("type") if isinstance(data, dict) else "") or "message")


def _said(entry: dict[str, Any]) -> str:
    from harness.cli.streams import summary

    data = entry.get("data", entry.get("text", ""))
    return summary(data) if isinstance(data, dict) else str(data)


def _waits(posts: list[str]) -> str:
    return f"waits for {', '.join(posts)}" if posts else "waits for nothing"


def _event_line(sign: str, n: int, entry: dict[str, Any]) -> str:
    said = _said(entry)
    return f"{sign} event [{n}] {_event_name(entry)}" + (f"  {clip(said, 160)}" if said else "")


def diff_event_stream(a: Response, b: Response) -> list[str]:
    """Two streams' events aligned by type: each paired event's meaning and the posts it waited for;
    events only one side has; whether the client stopped reading before the stream ended."""
    from harness.cli.streams import waits_by_event

    ea, eb = list(a.body.value), list(b.body.value)
    wa, wb = waits_by_event(a), waits_by_event(b)
    names_a, names_b = [_event_name(e) for e in ea], [_event_name(e) for e in eb]
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, names_a, names_b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "equal":
            out += [_event_line("-", i, ea[i]) for i in range(i1, i2)]
            out += [_event_line("+", j, eb[j]) for j in range(j1, j2)]
            continue
        for i, j in zip(range(i1, i2), range(j1, j2)):
            label = f"event [{i}] {names_a[i]}" + (f" ([{j}] in B)" if i != j else "")
            if wa.get(i, []) != wb.get(j, []):
                out.append(f"{label}: {_waits(wa.get(i, []))} != {_waits(wb.get(j, []))}")
            said_a, said_b = _said(ea[i]), _said(eb[j])
            if said_a != said_b:
                out += text_change(label, said_a, said_b)
    if bool(a.client_closed) != bool(b.client_closed):
        yes = {True: "yes", False: "no"}
        out.append(
            f"client stopped reading before the stream ended: {yes[bool(a.client_closed)]} != {yes[bool(b.client_closed)]}"
        )
    return out
