"""WebSocket faults: what goes wrong with a WebSocket session, as variants of a recorded one.

``drop``       the connection is lost after the k-th server frame, with no close frame: the client's next
               ``recv`` (and any ``send`` after it) raises ``websockets``' ``ConnectionClosedError`` with no
               close frame received (``rcvd is None``; code 1006, abnormal closure), as a cut TCP connection does
``close``      the server closes after the k-th server frame with an error code (1011 "internal error" by
               default): ``ConnectionClosedError`` with ``rcvd.code`` / ``rcvd.reason``
``malformed``  a text frame that is not JSON (or not a whole event) comes before the k-th server frame; the
               session then goes on as recorded: openai's ``recv()`` raises ``json.JSONDecodeError`` (a
               ``ValueError``) for it, and the frames after it come to the next ``recv``

Each variant replays through the real openai client (``responses.connect()``, ``realtime.connect()``, sync
and async alike: the WebSocket seam's stand-in connection serves it), so a consumer's handling of a dropped
or failed session can be tested offline. After a drop or a close, what the client sends fails as it would
on the live socket (``ConnectionClosedError``), and the recorded frames after the fault are never sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from harness.cassette.model import WebSocketInteraction
from harness.fuzz.current import ledger
from harness.fuzz.variant import Variant
from harness.jsonutil import compact, short

WS_KINDS = ("drop", "close", "malformed")
#: Close codes ``ws_faults`` draws from for ``close``: internal error, try again later, going away badly.
CLOSE_CODES = ((1011, "internal error"), (1013, "try again later"), (1008, "policy violation"))
GARBAGE = ("<html>502 Bad Gateway</html>", '{"type": "response.output_text.delta", "delta": "Hel', "", "\ufffd\x00")

At = int | Iterable[int] | None


def ws_targets(source: Sequence[Any] | None = None, at: At = None) -> list[tuple[int, WebSocketInteraction]]:
    """The recorded WebSocket sessions a fault or re-split replaces: those at positions ``at``, else every
    session of the running test's cassette that has server frames."""
    items: list[Any] = list(ledger().cassette.interactions) if source is None else list(source)
    if at is not None:
        wanted = [at] if isinstance(at, int) else list(at)
        for i in wanted:
            if not (0 <= i < len(items)) or not isinstance(items[i], WebSocketInteraction):
                raise ValueError(f"harness.strategies: interaction #{i} is not a recorded WebSocket session")
        return [(i, items[i]) for i in wanted]
    return [(i, it) for i, it in enumerate(items) if isinstance(it, WebSocketInteraction) and _servers(it)]


def _servers(item: WebSocketInteraction) -> list[int]:
    """The positions, in ``item.frames``, of its server frames."""
    return [n for n, f in enumerate(item.frames) if f.get("from") == "server"]


def _name(frame: dict[str, Any]) -> str:
    data = frame.get("json")
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return str(data["type"])
    return short(compact(frame.get("text", frame.get("base64", ""))), 30)


def _where(item: WebSocketInteraction, after: int) -> str:
    servers = _servers(item)
    if after <= 0:
        return "before the first server frame"
    return f"after server frame #{after} {_name(item.frames[servers[after - 1]])}"


def _cut(item: WebSocketInteraction, after: int, close: dict[str, Any]) -> WebSocketInteraction:
    """``item`` up to its ``after``-th server frame (and the client frames before it), then ``close``."""
    servers = _servers(item)
    after = max(0, min(after, len(servers)))
    end = servers[after - 1] + 1 if after else (servers[0] if servers else len(item.frames))
    return replace(item, frames=list(item.frames[:end]), close=close)


def _variant(index: int, item: WebSocketInteraction, stand_in: WebSocketInteraction, fault: str, what: str) -> Variant:
    label = f"ws_{fault}(#{index}: {item.describe()}: {what})"
    return Variant(index, stand_in, kind="fault", fault=fault, preserving=False, label=label, details=[label])  # type: ignore[arg-type]


def ws_drop(index: int, item: WebSocketInteraction, after: int) -> Variant:
    """The connection lost after the ``after``-th server frame, with no close frame (code 1006)."""
    stand_in = _cut(item, after, {"by": "server", "code": 1006, "reason": ""})
    return _variant(index, item, stand_in, "drop", f"connection lost {_where(item, after)}")


def ws_close(index: int, item: WebSocketInteraction, after: int, code: int = 1011, reason: str = "internal error") -> Variant:
    """The server closes with ``code`` / ``reason`` after the ``after``-th server frame."""
    stand_in = _cut(item, after, {"by": "server", "code": code, "reason": reason})
    return _variant(index, item, stand_in, "close", f"closed by the server with {code} {reason!r} {_where(item, after)}")


def ws_malformed(index: int, item: WebSocketInteraction, before: int, garbage: str = GARBAGE[0]) -> Variant:
    """A text frame ``garbage`` (not a JSON event) just before the ``before``-th server frame (counted from 1;
    past the last one: after it); the session then goes on as recorded."""
    servers = _servers(item)
    before = max(1, min(before, len(servers) + 1))
    at = servers[before - 1] if before <= len(servers) else len(item.frames)
    ms = item.frames[at - 1].get("ms", 0.0) if at else 0.0
    frames = [*item.frames[:at], {"from": "server", "ms": ms, "text": garbage}, *item.frames[at:]]
    where = f"before server frame #{before} {_name(item.frames[at])}" if at < len(item.frames) else "after the last frame"
    return _variant(index, item, replace(item, frames=frames), "malformed", f"the text frame {garbage!r} {where}")


def ws_faults(
    at: At = None,
    *,
    source: Sequence[Any] | None = None,
    kinds: Sequence[str] = WS_KINDS,
    codes: Sequence[tuple[int, str]] = CLOSE_CODES,
) -> st.SearchStrategy[Variant]:
    """Broken variants of the recorded WebSocket sessions: ``drop``, ``close``, ``malformed`` (``kinds``),
    at any server frame, resolved against the cassette when drawn. Shrinks towards the first kind given and
    the earliest frame."""
    unknown = set(kinds) - set(WS_KINDS)
    if unknown or not kinds:
        raise ValueError(f"harness.strategies: unknown WebSocket fault kinds {sorted(unknown)}; known: {', '.join(WS_KINDS)}")

    @st.composite
    def draw_fault(draw: Any) -> Variant:
        found = ws_targets(source, at)
        if not found:
            raise ValueError("harness.strategies: the cassette has no recorded WebSocket session with server frames to break")
        index, item = found[0] if len(found) == 1 else draw(st.sampled_from(found))
        n = len(_servers(item))
        kind = draw(st.sampled_from(list(kinds)))
        if kind == "drop":
            return ws_drop(index, item, draw(st.integers(0, max(0, n - 1))))
        if kind == "close":
            code, reason = draw(st.sampled_from(list(codes)))
            return ws_close(index, item, draw(st.integers(0, max(0, n - 1))), code, reason)
        return ws_malformed(index, item, draw(st.integers(1, max(1, n))), draw(st.sampled_from(GARBAGE)))

    return draw_fault()
