"""The WebSocket seam: openai's ``responses.connect()`` and ``realtime.connect()`` sockets.

The openai SDK opens its sockets with ``websockets.sync.client.connect`` (imported inside
``openai._websocket_connection._connect_websocket`` at each call) and, for async clients,
``openai.lib._websocket._WebSocketConnect``, a subclass of ``websockets.asyncio.client.connect``, which
openai-agents' ``OpenAIResponsesWSModel`` awaits directly. The sync function is replaced, and the async
class's ``__await_impl__`` (what ``await connect(...)``, ``async with`` and ``async for`` reconnect loops
all go through, subclasses included), for the test's duration.

A session is one ``websocket`` interaction: the handshake (URL and headers, scrubbed like an HTTP
request's) matched like a request, then its frames in order (:mod:`harness.seams.websocket_frames`).
Recording wraps the real connection and notes each frame as it passes (the code under test is never
held back); replay hands the SDK a stand-in connection (:mod:`harness.seams.websocket_replay`) and opens
no socket; an unrecorded session on replay is a :class:`~harness.errors.CassetteMiss`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from harness.cassette.model import WebSocketInteraction
from harness.redact import stable_url
from harness.seams.imports import ModuleSeam
from harness.seams.websocket_frames import Script, frame_data
from harness.seams.websocket_replay import AsyncReplayConnection, ReplayConnection

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


class Tape:
    """Notes one recorded session's frames and close into its interaction, as they pass."""

    def __init__(self, ledger: Ledger, item: WebSocketInteraction) -> None:
        self.ledger, self.item = ledger, item
        self.t0 = time.perf_counter()
        self.lock = threading.Lock()

    def frame(self, side: str, data: Any) -> None:
        if not isinstance(data, (str, bytes, bytearray, memoryview)):
            return  # an iterable of fragments: not used by openai, not recorded
        ms = round((time.perf_counter() - self.t0) * 1000, 1)
        entry = {"from": side, "ms": ms, **frame_data(self.ledger, data)}
        with self.lock:
            self.item.frames.append(entry)

    def closed(self, by: str, code: int | None, reason: str) -> None:
        with self.lock:
            if self.item.close is None and code is not None:
                self.item.close = {"by": by, "code": code, "reason": self.ledger.redactor.text(reason)}

    def client_closing(self, real: Any, code: int, reason: str) -> None:
        """The client closes: unless the server had closed first (seen by the client only through the
        connection's state, as openai-agents checks before reusing a socket), the close is the client's."""
        protocol = getattr(real, "protocol", None)
        rcvd, sent = getattr(protocol, "close_rcvd", None), getattr(protocol, "close_sent", None)
        if rcvd is not None and (sent is None or getattr(protocol, "close_rcvd_then_sent", False)):
            self.closed("server", rcvd.code, rcvd.reason)
        self.closed("client", code, reason)

    def connection_closed(self, exc: BaseException) -> None:
        rcvd = getattr(exc, "rcvd", None)
        if rcvd is not None:
            self.closed("server", rcvd.code, rcvd.reason)
        elif getattr(exc, "sent", None) is None:
            self.closed("server", 1006, "")  # lost without a close frame either way: "abnormal closure"


class RecordingConnection:
    """The real sync connection, its frames noted on the way through; anything else is passed on."""

    def __init__(self, real: Any, tape: Tape) -> None:
        self._real, self._tape = real, tape

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def send(self, message: Any, *args: Any, **kwargs: Any) -> None:
        self._real.send(message, *args, **kwargs)
        self._tape.frame("client", message)

    def recv(self, *args: Any, **kwargs: Any) -> Any:
        from websockets.exceptions import ConnectionClosed

        try:
            message = self._real.recv(*args, **kwargs)
        except ConnectionClosed as exc:
            self._tape.connection_closed(exc)
            raise
        self._tape.frame("server", message)
        return message

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._tape.client_closing(self._real, code, reason)
        self._real.close(code=code, reason=reason)

    def __iter__(self) -> Iterator[Any]:
        from websockets.exceptions import ConnectionClosedOK

        try:
            while True:
                yield self.recv()
        except ConnectionClosedOK:
            return

    def __enter__(self) -> RecordingConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncRecordingConnection:
    """The real async connection, its frames noted on the way through; anything else is passed on."""

    def __init__(self, real: Any, tape: Tape) -> None:
        self._real, self._tape = real, tape

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    async def send(self, message: Any, *args: Any, **kwargs: Any) -> None:
        await self._real.send(message, *args, **kwargs)
        self._tape.frame("client", message)

    async def recv(self, *args: Any, **kwargs: Any) -> Any:
        from websockets.exceptions import ConnectionClosed

        try:
            message = await self._real.recv(*args, **kwargs)
        except ConnectionClosed as exc:
            self._tape.connection_closed(exc)
            raise
        self._tape.frame("server", message)
        return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self._tape.client_closing(self._real, code, reason)
        await self._real.close(code=code, reason=reason)

    async def __aiter__(self) -> AsyncIterator[Any]:
        from websockets.exceptions import ConnectionClosedOK

        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    async def __aenter__(self) -> AsyncRecordingConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _failed(item: WebSocketInteraction) -> OSError:
    err = item.error or {}
    return OSError(
        f"harness: replayed from the cassette: the WebSocket handshake failed: {err.get('type')}: {err.get('message')}"
    )


class WebSocketSeam(ModuleSeam):
    """Replaces the SDK's WebSocket connect functions for one test, now or when first imported."""

    targets: ClassVar[dict[str, str]] = {
        "websockets.sync.client": "_patch_sync",
        "websockets.asyncio.client": "_patch_async",
    }

    def _replace(self, owner: Any, name: str, new: Any) -> None:
        old = owner.__dict__[name]
        setattr(owner, name, new)
        self._undo.append(lambda: setattr(owner, name, old))

    def handshake(self, uri: Any, kwargs: dict[str, Any]) -> WebSocketInteraction:
        """The interaction a session is stored as: URL and headers scrubbed, loopback ports dropped."""
        red = self.ledger.redactor
        headers = kwargs.get("additional_headers") or {}
        pairs = headers.raw_items() if hasattr(headers, "raw_items") else list(dict(headers).items())
        return WebSocketInteraction(red.url(stable_url(str(uri))), red.headers((str(k), str(v)) for k, v in pairs))

    def _first(self, item: WebSocketInteraction) -> WebSocketInteraction | int | None:
        """Before connecting: the recorded session to replay, the slot to record into, or None to
        connect first (recording only: a handshake that fails leaves nothing in the cassette)."""
        if not self.ledger.replaying:
            return None
        plan = self.ledger.plan(item)  # a miss raises here: no socket is opened
        if plan.replay is not None:
            return plan.replay  # type: ignore[no-any-return]
        return plan.slot

    def _note(self, item: WebSocketInteraction, first: int | None) -> Tape | None:
        slot = first if first is not None else self.ledger.plan(item).slot
        return Tape(self.ledger, item) if slot >= 0 else None

    def _fail(self, item: WebSocketInteraction, first: int | None, exc: BaseException) -> None:
        if first is not None and first >= 0:
            item.error = {"type": type(exc).__name__, "message": self.ledger.redactor.text(str(exc))}

    def _patch_sync(self, module: Any) -> None:
        real = module.__dict__["connect"]

        def connect(uri: Any, *args: Any, **kwargs: Any) -> Any:
            item = self.handshake(uri, kwargs)
            first = self._first(item)
            if isinstance(first, WebSocketInteraction):
                if first.error is not None:
                    raise _failed(first)
                return ReplayConnection(Script(self.ledger, first))
            try:
                conn = real(uri, *args, **kwargs)
            except Exception as exc:
                self._fail(item, first, exc)
                raise
            tape = self._note(item, first)
            return conn if tape is None else RecordingConnection(conn, tape)

        self._replace(module, "connect", connect)

    def _patch_async(self, module: Any) -> None:
        cls = module.__dict__["connect"]
        real = cls.__dict__["__await_impl__"]
        seam = self

        async def __await_impl__(opener: Any) -> Any:
            item = seam.handshake(opener.uri, {"additional_headers": opener.additional_headers})
            first = seam._first(item)
            if isinstance(first, WebSocketInteraction):
                if first.error is not None:
                    raise _failed(first)
                opener.connection = AsyncReplayConnection(Script(seam.ledger, first))
                return opener.connection
            try:
                conn = await real(opener)
            except Exception as exc:
                seam._fail(item, first, exc)
                raise
            tape = seam._note(item, first)
            if tape is not None:
                opener.connection = AsyncRecordingConnection(conn, tape)  # ``async with`` closes it
            return opener.connection

        self._replace(cls, "__await_impl__", __await_impl__)
