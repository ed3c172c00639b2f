"""Recording: the real transport's read and write streams, tapped, noting each message as it passes."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Any

from harness.cassette.model import McpInteraction
from harness.errors import CassetteMiss
from harness.seams.http import passthrough
from harness.seams.mcp.messages import (
    CLOSED,
    answer_of,
    dump,
    entry_of,
    progress_token,
    stand_in,
    stored_params,
    subscription_id,
    swap_subscription_id,
)

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


#: While recording, around each write to a tapped transport: ``(recorder, JSON-RPC id)`` of the client
#: request being sent, or ``(recorder, None)`` for a notification or an answer. The HTTP transports run each
#: POST (and the legacy GET stream, started by the POST of ``notifications/initialized``) in a copy of the
#: writer's context, and stamp every message they read with their own context: so the tap on the read stream
#: knows which request's HTTP exchange delivered a message. stdio and legacy SSE read everything in one task
#: started at connect time, where it is unset (``None``): delivery is unknown there.
_delivering: contextvars.ContextVar[tuple[Any, Any] | None] = contextvars.ContextVar("harness_mcp_delivering", default=None)


def _for_callbacks(context: contextvars.Context | None) -> contextvars.Context | None:
    """The context the client runs a message's handlers in, without the recorder's own flags.

    The SDK runs callbacks (sampling, elicitation, logging, message handler) in the context of the task
    that delivered the message: over HTTP, the POST or GET task of MCP's own transport, where the HTTP
    seam's ``passthrough`` is set. Left there, a model call made from a callback would go unrecorded."""
    if context is None:
        return None
    if not context.get(passthrough, False) and context.get(_delivering) is None:
        return context
    cleared = context.copy()
    cleared.run(_clear_flags)
    return cleared


def _clear_flags() -> None:
    passthrough.set(False)
    _delivering.set(None)


class Recorder:
    """Notes one connection's traffic into the ledger's timeline, as it passes."""

    def __init__(self, ledger: Ledger, server: str) -> None:
        self.ledger, self.server = ledger, server
        self.inflight: dict[Any, McpInteraction] = {}  # client request id -> its interaction (in send order)
        self.sent: dict[Any, McpInteraction] = {}  # every client request id -> its interaction
        self.tokens: dict[Any, McpInteraction] = {}  # progress token -> interaction
        self.asked: dict[Any, dict[str, Any]] = {}  # server request id -> its entry (awaiting the client's answer)
        self.subscriptions: dict[Any, str] = {}  # live subscriptions/listen id -> its stand-in
        self.last: McpInteraction | None = None

    def _add(self, item: McpInteraction) -> None:
        try:
            self.ledger.plan(item)
        except CassetteMiss:
            pass  # recording is off: the ledger has the miss; the real server still answers
        self.last = item

    def _stable(self, value: Any) -> Any:
        """Values that differ on every run, as stable stand-ins, so re-recording leaves the file unchanged.

        ``requestState`` (2026 era) is sealed with a fresh key by every server run; on replay the client
        echoes the stand-in from the recorded result, so it matches the request. A subscription id is the
        ``listen-N`` id of a process-wide counter; on replay the live id is put back."""
        state = value.get("requestState") if isinstance(value, dict) else None
        if isinstance(state, str):
            value = {**value, "requestState": stand_in(self.ledger, "request-state", state)}
        return swap_subscription_id(value, self.subscriptions)

    def outgoing(self, message: Any) -> None:
        d = dump(message.message)
        if "method" in d and "id" in d:
            if d["method"] == "subscriptions/listen":
                self.subscriptions[d["id"]] = stand_in(self.ledger, "subscription", d["id"])
            item = McpInteraction(self.server, d["method"], self._stable(stored_params(self.ledger, d.get("params"))))
            self._add(item)
            self.inflight[d["id"]] = self.sent[d["id"]] = item
            token = progress_token(d.get("params"))
            if token is not None:
                self.tokens[token] = item
        elif "method" in d:
            if d["method"] == "notifications/cancelled":
                # A timing-dependent courtesy message, not part of the exchange; the request it cancels
                # (a closed listen stream, say) gets no answer, so it no longer takes server messages.
                params = d.get("params")
                self.inflight.pop(params.get("requestId") if isinstance(params, dict) else None, None)
                return
            self._add(McpInteraction(self.server, d["method"], stored_params(self.ledger, d.get("params")), notification=True))
        else:  # the client's answer to a server request
            entry = self.asked.pop(d.get("id"), None)
            if entry is not None:
                entry["answer"] = answer_of(d)

    def closed(self) -> None:
        """The server's side ended (a stdio server died): requests still waiting will never get an answer."""
        for item in self.inflight.values():
            if item.method != "subscriptions/listen" and item.result is None and item.error is None:
                item.error = dict(CLOSED)
        self.inflight.clear()

    def incoming(self, message: Any, delivered_by: tuple[Any, Any] | None = None) -> None:
        if isinstance(message, Exception):
            return
        d = dump(message.message)
        if "method" not in d:
            item = self.inflight.pop(d.get("id"), None)
            if item is None:
                return
            if "error" in d:
                item.error = d["error"]
            else:
                item.result = self._stable(d.get("result"))
            for token in [t for t, i in self.tokens.items() if i is item]:
                del self.tokens[token]
            self.last = item
            return
        entry = entry_of(d, "request" if "id" in d else "notify")
        if "params" in entry:
            entry["params"] = self._stable(entry["params"])
        if "id" in d:
            entry["answer"] = None
            self.asked[d["id"]] = entry
        target = self._target(d, delivered_by if delivered_by is not None and delivered_by[0] is self else None)
        if target is not None:
            target.append(entry)

    def _target(self, d: dict[str, Any], delivered_by: tuple[Any, Any] | None) -> list[dict[str, Any]] | None:
        params = d.get("params")
        if d["method"] == "notifications/progress" and isinstance(params, dict):
            item = self.tokens.get(params.get("progressToken"))
            if item is not None:
                return item.during
        # The 2026 era stamps a listen stream's frames with the listen request's id.
        sid = subscription_id(params)
        owner = self.sent.get(sid) if sid in self.subscriptions else None
        if owner is None and delivered_by is not None:
            # Over HTTP: the request whose exchange carried the message (None: the legacy GET stream).
            owner = self.sent.get(delivered_by[1])
            if owner is None:
                return self.last.after if self.last is not None else None
        if owner is not None:
            return owner.during if any(i is owner for i in self.inflight.values()) else owner.after
        if self.inflight:
            # Delivery unknown (stdio, legacy SSE): a server message belongs to a request in flight, the
            # latest one. Overlapping calls over these transports need a progress token to be told apart.
            return next(reversed(self.inflight.values())).during
        return self.last.after if self.last is not None else None


class TapRead:
    """The transport's read stream, noting each message before the client sees it."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner, self.recorder = inner, recorder
        self._context: contextvars.Context | None = None

    @property
    def last_context(self) -> contextvars.Context | None:
        # The dispatcher reads this after each message and runs the message's handlers in it.
        return self._context

    async def receive(self) -> Any:
        import anyio

        try:
            item = await self.inner.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self.recorder.closed()
            raise
        context = getattr(self.inner, "last_context", None)
        self.recorder.incoming(item, context.get(_delivering) if context is not None else None)
        self._context = _for_callbacks(context)
        return item

    def __aiter__(self) -> TapRead:
        return self

    async def __anext__(self) -> Any:
        import anyio

        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        await self.inner.aclose()

    def close(self) -> None:
        self.inner.close()

    async def __aenter__(self) -> TapRead:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class TapWrite:
    """The transport's write stream: notes each message, then sends it with HTTP passthrough on."""

    def __init__(self, inner: Any, recorder: Recorder) -> None:
        self.inner, self.recorder = inner, recorder

    async def send(self, item: Any) -> None:
        self.recorder.outgoing(item)
        message = item.message
        request_id = getattr(message, "id", None) if getattr(message, "method", None) is not None else None
        # Set in the caller's context: the HTTP transports copy it into the task doing the POST.
        token = passthrough.set(True)
        delivering = _delivering.set((self.recorder, request_id))
        try:
            await self.inner.send(item)
        finally:
            _delivering.reset(delivering)
            passthrough.reset(token)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def close(self) -> None:
        self.inner.close()

    async def __aenter__(self) -> TapWrite:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
