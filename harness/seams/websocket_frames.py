"""WebSocket frames as the cassette stores them, and the replayed session's script.

A frame is ``{"from": "client"|"server", "ms": ..., "json"|"text"|"base64": ...}``: a text frame (or
a frame received as bytes, openai's ``recv(decode=False)``) holding a JSON object or array is stored
parsed, other text as text, other bytes as base64. Secrets are scrubbed from every frame as from a body.

Replay (:class:`Script`): each frame the client sends is matched against the next recorded client frame
(JSON-aware, ``ignore_paths`` applied); a server frame is delivered only once the client frames recorded
before it were sent. Waits are bounded: :func:`waits` yields the pauses, the sync stand-in sleeps them and
the async one awaits them. Paced replay (``replay_speed`` > 0, as for HTTP streams) also keeps each server
frame's recorded gap, divided by the speed, after whichever came last before it in the recording: the client
frame it followed (counted from when the client sent it on replay) or the server frame before it.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from harness.cassette.model import WebSocketInteraction
from harness.engine import reports
from harness.errors import CassetteMiss, cassette_miss
from harness.jsonutil import compact, short
from harness.matching import diff

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

#: How long a replayed ``recv`` waits for the client frame its next server frame was recorded after.
WAIT_S = 5.0
_POLL_S = 0.002
#: Paced replay sleeps in slices this long at most (a client's close from elsewhere ends the wait).
_PACE_SLICE_S = 0.05
DATA_KEYS = ("json", "text", "base64")


def frame_data(ledger: Ledger, data: str | bytes | bytearray | memoryview) -> dict[str, Any]:
    """``data`` as a frame stores it (without direction and time), secrets scrubbed."""
    raw = bytes(data) if not isinstance(data, str) else None
    text = data if isinstance(data, str) else None
    if text is None and raw is not None:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is not None and text.lstrip()[:1] in ("{", "["):
        try:
            return {"json": ledger.scrubbed(json.loads(text))}
        except ValueError:
            pass
    if isinstance(data, str):
        return {"text": ledger.redactor.text(data)}
    assert raw is not None
    return {"base64": base64.b64encode(ledger.redactor.binary(raw)).decode("ascii")}


def frame_bytes(frame: dict[str, Any]) -> bytes:
    if "json" in frame:
        return compact(frame["json"]).encode("utf-8")
    if "text" in frame:
        return str(frame["text"]).encode("utf-8")
    return base64.b64decode(frame["base64"])


def frame_message(frame: dict[str, Any], decode: bool | None) -> str | bytes:
    """What ``recv(decode=...)`` returns for ``frame``: text frames as ``str`` unless ``decode`` is False,
    binary frames as ``bytes`` unless ``decode`` is True."""
    data = frame_bytes(frame)
    binary = "base64" in frame
    if decode is False or (decode is None and binary):
        return data
    return data.decode("utf-8", "replace")


def _view(ledger: Ledger, frame: dict[str, Any]) -> Any:
    if "json" in frame:
        return {"json": ledger.matcher.body_view(frame["json"])}
    return {k: frame[k] for k in DATA_KEYS if k in frame}


def _describe(frame: dict[str, Any]) -> str:
    return short(compact(frame.get("json", frame.get("text", frame.get("base64")))), 160)


class Script:
    """The replay of one recorded session: which client frames were matched, which server frames sent."""

    def __init__(self, ledger: Ledger, item: WebSocketInteraction) -> None:
        self.ledger, self.item = ledger, item
        self.client = [f for f in item.frames if f["from"] == "client"]
        #: each server frame with how many client frames were sent before it in the recording
        self.server: list[tuple[int, dict[str, Any]]] = []
        seen = 0
        for frame in item.frames:
            if frame["from"] == "client":
                seen += 1
            else:
                self.server.append((seen, frame))
        self.sent = 0
        self.delivered = 0
        #: paced replay: the speed (0: instant), when the session opened, when each client frame was sent,
        #: and when the last server frame was due
        self.speed = float(ledger.settings.replay_speed or 0.0)
        self.opened = time.monotonic()
        self.sent_at: list[float] = []
        self.last_due: float | None = None
        #: ``(code, reason)`` once the client closed the session.
        self.client_closed: tuple[int, str] | None = None
        self.lock = threading.Lock()

    def _miss(self, report: str) -> CassetteMiss:
        miss = cassette_miss(report)
        self.ledger.misses.append(miss)
        return miss

    def _report(self, headline: str, lines: list[str]) -> str:
        return "\n".join(
            [
                f"harness: {headline}",
                f"  {self.item.describe()}",
                f"  {reports.context_line(self.ledger)}",
                *lines,
                "  How to fix:",
                "    1. If the change is intended, re-record this test:",
                f"       {self.ledger.rerecord_command()}",
            ]
        )

    def send(self, data: str | bytes) -> None:
        """Match one client frame against the next recorded one; raise a miss when it differs."""
        got = frame_data(self.ledger, data)
        with self.lock:
            n = self.sent
            if n >= len(self.client) and self._server_gone():
                raise self.closed_error()  # as websockets raises on a connection the server has closed
            if n >= len(self.client):
                raise self._miss(
                    self._report(
                        f"client frame #{n + 1} was never recorded (the recording's client sent {len(self.client)})",
                        [f"  sent: {_describe(got)}"],
                    )
                )
            want = self.client[n]
            have, asked = _view(self.ledger, want), _view(self.ledger, got)
            if have != asked:
                diffs = diff(have.get("json", have), asked.get("json", asked)) if "json" in have and "json" in asked else []
                lines = ["  recorded != sent:", *(f"    {d}" for d in diffs or [f"{_describe(want)} != {_describe(got)}"])]
                raise self._miss(self._report(f"client frame #{n + 1} differs from the recording", lines))
            self.sent += 1
            self.sent_at.append(time.monotonic())

    def _server_gone(self) -> bool:
        """Whether the server has closed the session by now: it did in the recording, after its last frame."""
        return (self.item.close or {}).get("by") == "server" and self.delivered >= len(self.server)

    def ready(self) -> bool:
        """Whether ``take`` has an answer now: the next server frame is due, or the session has ended."""
        with self.lock:
            if self.client_closed is not None or self.delivered >= len(self.server):
                return True
            return self.server[self.delivered][0] <= self.sent

    def take(self) -> dict[str, Any] | None:
        """The next server frame (call when ``ready``), or None when the session has ended: the caller
        raises the recorded close."""
        with self.lock:
            if self.client_closed is None and self.delivered < len(self.server):
                if self.speed > 0:
                    self.last_due = self._due()
                frame = self.server[self.delivered][1]
                self.delivered += 1
                return frame
            return None

    def _due(self) -> float:
        """Paced replay: when the next server frame is due (call with the lock held, when it is ready)."""
        need, frame = self.server[self.delivered]
        at = float(frame.get("ms") or 0.0)
        # after the client frame recorded last before it (the handshake when there is none) ...
        since = float(self.client[need - 1].get("ms") or 0.0) if need else 0.0
        due = (self.sent_at[need - 1] if need else self.opened) + max(0.0, at - since) / 1000 / self.speed
        if self.last_due is not None and self.delivered:  # ... and after the server frame before it
            before = float(self.server[self.delivered - 1][1].get("ms") or 0.0)
            due = max(due, self.last_due + max(0.0, at - before) / 1000 / self.speed)
        return due

    def _paced(self, started: float, timeout: float | None) -> Iterator[float]:
        """Paced replay: the pauses until the next server frame is due; a recorded gap longer than the
        caller's own ``timeout`` raises ``TimeoutError`` after it, as the live socket would."""
        with self.lock:
            if self.client_closed is not None or self.delivered >= len(self.server):
                return
            due = self._due()
        limit = None if timeout is None else started + timeout
        while self.client_closed is None:
            now = time.monotonic()
            if now >= due:
                return
            if limit is not None and due > limit:
                if now >= limit:
                    raise TimeoutError("timed out while receiving data")
                yield min(limit - now, _PACE_SLICE_S)
                continue
            yield min(due - now, _PACE_SLICE_S)

    def waits(self, timeout: float | None = None) -> Iterator[float]:
        """The pauses a ``recv`` makes until ``ready``; raises a miss (or ``TimeoutError`` when the caller's
        own ``timeout`` runs out first) if it takes longer than :data:`WAIT_S`."""
        bound = WAIT_S if timeout is None else min(timeout, WAIT_S)
        started = time.monotonic()
        deadline = started + bound
        while not self.ready():
            if time.monotonic() >= deadline:
                if timeout is not None and timeout < WAIT_S:
                    raise TimeoutError("timed out while receiving data")
                raise self._miss(self._stalled())
            yield _POLL_S
        if self.speed > 0:
            yield from self._paced(started, timeout)

    def _stalled(self) -> str:
        if self.delivered >= len(self.server):
            return self._report("the client waits for a server frame the recording does not have", [])
        need = self.server[self.delivered][0]
        return self._report(
            f"server frame #{self.delivered + 1} was recorded after client frame #{need}, which the client has not sent"
            f" (it sent {self.sent}; waited {WAIT_S:g}s)",
            [f"  expected next from the client: {_describe(self.client[self.sent])}"] if self.sent < len(self.client) else [],
        )

    def is_open(self) -> bool:
        """Whether the connection reads as open (``state``): until the client closes it, or, for a session
        the server closed, once the server frames recorded before its close are all delivered."""
        with self.lock:
            if self.client_closed is not None:
                return False
            return not ((self.item.close or {}).get("by") == "server" and self.delivered >= len(self.server))

    def closed_error(self) -> Exception:
        """What ``recv`` or ``send`` raises once the session has ended, as ``websockets`` would."""
        from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
        from websockets.frames import Close

        if self.client_closed is not None:
            close = Close(*self.client_closed)
            return ConnectionClosedOK(close, close)
        recorded = self.item.close or {}
        code, reason = int(recorded.get("code", 1000)), str(recorded.get("reason", ""))
        if recorded.get("by") == "server":
            if code == 1006:  # the connection was lost (no close frame): as websockets reports it
                return ConnectionClosedError(None, None)
            cls = ConnectionClosedOK if code in (1000, 1001) else ConnectionClosedError
            return cls(Close(code, reason), Close(code, reason), True)  # websockets echoes the server's close
        return ConnectionClosedOK(Close(code, reason), Close(code, reason))

    def close(self, code: int, reason: str) -> None:
        with self.lock:
            if self.client_closed is None:
                self.client_closed = (code, reason)
