"""The MCP seam: record and replay MCP at the JSON-RPC level, whatever the transport.

Every mcp 2.x client transport (``stdio_client``, ``streamable_http_client``, ``sse_client``) is an
async context manager yielding a ``(read, write)`` pair of message streams, and both
``ClientSession`` and ``mcp.Client`` talk through that pair. For one test the seam replaces those
three factories everywhere their names are bound (the SDK's own modules and any module that
imported them), and puts them back afterwards.

Recording enters the real transport and taps the pair: every message is handed on the moment it
arrives (nothing is buffered, so a tool that elicits mid-call cannot deadlock) and noted in the
session's timeline. MCP's own HTTP requests are made with the HTTP seam's ``passthrough`` flag
set, so streamable HTTP is recorded once, as MCP. The client's callbacks (sampling, elicitation,
logging, message handler) run in the context of the HTTP task that delivered the message: the tap
clears the flag there, so a model call made from a callback is recorded like any other.

A server message is kept with the client request it belongs to: by progress token, by subscription
id (a ``subscriptions/listen`` stream), else, over streamable HTTP, the request whose POST carried it
(the legacy GET stream carries messages of no request). Over stdio and legacy SSE the transport does
not say: a message goes to the latest request still in flight, so overlapping calls there need
progress tokens to be told apart.

Replay enters nothing (no subprocess, no HTTP): a stand-in pair answers each client request from
the cassette. Requests are matched by server, method and params, without ``_meta`` and JSON-RPC
ids (live ids are used in the answers, progress tokens are remapped), so concurrent requests can
interleave. What the server sent during a call (progress, logging, elicitation and other
server-to-client requests) is sent again in order, and the client's answers to server requests are
checked against the recorded ones. A request with no recorded answer is a miss: the client gets a
JSON-RPC error carrying the report, and the test fails at teardown even if the error is swallowed.

One interaction per client request (or client notification)::

    {"kind": "mcp", "server": "python -m tests.servers.mcp_tools",
     "request": "tools/call", "params": {"name": "slow_count", "arguments": {"n": 2}},
     "during": [{"notify": "notifications/progress", "params": {...}}, ...],
     "result": {"content": [...], "isError": false}}

``during`` holds what the server sent between the request and its response: ``{"notify": method,
"params": ...}`` for a notification, ``{"request": method, "params": ..., "answer": {"result": ...}}``
for a server-to-client request with the client's answer. ``after`` holds what the server sent with
no request in flight. A request that got no response has neither ``result`` nor ``error``.

Details: the 2026-era ``requestState`` (sealed with a fresh key by every server run) is stored as a
stable stand-in, which the client echoes back on replay, so re-recording an unchanged exchange leaves
the file unchanged. So is a listen stream's subscription id (``listen-N``, from a process-wide counter
that depends on which tests ran before): replay puts the live id back in the frames it sends. A listen
stream replays its recorded frames (ack, then events) as soon as it opens, not when the call that caused
an event runs: the events are queued on the subscription until the client reads them. Listings
(``tools/list``...) that the client sends a timing-dependent number of times may replay more or fewer
times than recorded. anthropic's ``mcp_tool``/``async_mcp_tool`` tools are recorded here, as MCP, and
not also by the local-tool seam.

Not seen: a ``Client``/transport created before the test started (it holds the real factory), and
``Client(<in-process server>)`` outside ``mode="legacy"`` (no streams at all; it is a test double).
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import json
import math
import os
import re
import shlex
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.cassette.model import McpInteraction
from harness.seams.imports import after_import, installed, restore

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger as Session

_canonical = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode

INTERNAL_ERROR = -32603
CONNECTION_CLOSED = -32000


def _rel(path: Any) -> str:
    try:
        return str(os.path.relpath(path))
    except ValueError:
        return str(path)


def _short(text: str, limit: int = 100) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- messages -----------------------------------------------------------------------------------


def _dump(message: Any) -> dict[str, Any]:
    """A JSON-RPC message as the transports serialize it."""
    out: dict[str, Any] = message.model_dump(by_alias=True, mode="json", exclude_unset=True)
    return out


def _session_message(obj: dict[str, Any]) -> Any:
    from mcp.shared.message import SessionMessage
    from mcp_types import jsonrpc_message_adapter

    return SessionMessage(jsonrpc_message_adapter.validate_python(obj, by_name=False))


def _stored_params(session: Session, params: Any) -> Any:
    """Params as stored and matched: ``_meta`` (protocol stamp, progress token, trace) left out,
    secrets scrubbed (as the file will have them, so a replayed request matches the stored one)."""
    if isinstance(params, dict) and "_meta" in params:
        params = {k: v for k, v in params.items() if k != "_meta"}
    if params is not None and session.redactor.contains_secret(_canonical(params)):
        params = session.redactor.value(params)
    return params


def _progress_token(params: Any) -> Any:
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get("progressToken") if isinstance(meta, dict) else None


def _entry(d: dict[str, Any], kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {kind: d["method"]}
    if d.get("params") is not None:
        entry["params"] = d["params"]
    return entry


def _answer_of(d: dict[str, Any]) -> dict[str, Any]:
    return {"error": d["error"]} if "error" in d else {"result": d.get("result")}


# -- server labels ------------------------------------------------------------------------------


def _path_label(arg: str) -> str:
    if not os.path.isabs(arg):
        return arg
    try:
        rel = os.path.relpath(arg)
    except ValueError:
        return os.path.basename(arg)
    return rel if not rel.startswith("..") else os.path.basename(arg)


def _command_label(command: str, args: list[str]) -> str:
    """The server command, the same on every machine: no interpreter path, no absolute paths."""
    exe = (
        re.sub(r"^(python|pypy)[\d.]*(\.exe)?$", r"\1", os.path.basename(command))
        if os.sep in command or command.startswith("python")
        else command
    )
    return shlex.join([exe, *(_path_label(str(a)) for a in args)])


def _stdio_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    server = args[0] if args else kwargs.get("server")
    command = getattr(server, "command", None)
    if not isinstance(command, str):
        return "stdio"
    return _command_label(command, list(getattr(server, "args", None) or []))


def _url_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    from harness.redact import stable_url

    url = args[0] if args else kwargs.get("url", "")
    return stable_url(str(url))


#: Per session and kind (``request-state``, ``subscription``): each live value seen while recording -> its
#: stable stand-in (``harness-<kind>-<n>``, numbered in the order they were first seen).
_stand_ins: weakref.WeakKeyDictionary[Any, dict[str, dict[Any, str]]] = weakref.WeakKeyDictionary()


def _stand_in(session: Session, kind: str, live: Any) -> str:
    table = _stand_ins.setdefault(session, {}).setdefault(kind, {})
    return table.setdefault(live, f"harness-{kind}-{len(table) + 1}")


#: Where the 2026 era's ``subscriptions/listen`` stamps the subscription id (the listen request's JSON-RPC id)
#: on its ack, its events and its closing result (``mcp.shared.subscriptions.SUBSCRIPTION_ID_META_KEY``).
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


def _subscription_id(value: Any) -> Any:
    meta = value.get("_meta") if isinstance(value, dict) else None
    return meta.get(SUBSCRIPTION_ID) if isinstance(meta, dict) else None


def _swap_subscription_id(value: Any, ids: dict[Any, Any]) -> Any:
    """``value`` with the subscription id in its ``_meta`` replaced through ``ids`` (unchanged if not there)."""
    sid = _subscription_id(value)
    if sid is None or sid not in ids:
        return value
    return {**value, "_meta": {**value["_meta"], SUBSCRIPTION_ID: ids[sid]}}


# module, function name, label maker
_FACTORIES: tuple[tuple[str, str, Callable[[tuple[Any, ...], dict[str, Any]], str]], ...] = (
    ("mcp.client.stdio", "stdio_client", _stdio_label),
    ("mcp.client.streamable_http", "streamable_http_client", _url_label),
    ("mcp.client.sse", "sse_client", _url_label),
)


# -- recording ----------------------------------------------------------------------------------


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
    from harness.seams.http import passthrough

    if not context.get(passthrough, False) and context.get(_delivering) is None:
        return context
    cleared = context.copy()
    cleared.run(_clear_flags, passthrough)
    return cleared


def _clear_flags(passthrough: contextvars.ContextVar[bool]) -> None:
    passthrough.set(False)
    _delivering.set(None)


class _Recorder:
    """Notes one connection's traffic into the session's timeline, as it passes."""

    def __init__(self, session: Session, server: str) -> None:
        self.session, self.server = session, server
        self.inflight: dict[Any, McpInteraction] = {}  # client request id -> its interaction (in send order)
        self.sent: dict[Any, McpInteraction] = {}  # every client request id -> its interaction
        self.tokens: dict[Any, McpInteraction] = {}  # progress token -> interaction
        self.asked: dict[Any, dict[str, Any]] = {}  # server request id -> its entry (awaiting the client's answer)
        self.subscriptions: dict[Any, str] = {}  # live subscriptions/listen id -> its stand-in
        self.last: McpInteraction | None = None

    def _add(self, item: McpInteraction) -> None:
        from harness.errors import CassetteMiss

        try:
            self.session.plan(item)
        except CassetteMiss:
            pass  # recording is off: the session has the miss; the real server still answers
        self.last = item

    def _stable(self, value: Any) -> Any:
        """Values that differ on every run, as stable stand-ins, so re-recording leaves the file unchanged.

        ``requestState`` (2026 era) is sealed with a fresh key by every server run; on replay the client
        echoes the stand-in from the recorded result, so it matches the request. A subscription id is the
        ``listen-N`` id of a process-wide counter; on replay the live id is put back."""
        state = value.get("requestState") if isinstance(value, dict) else None
        if isinstance(state, str):
            value = {**value, "requestState": _stand_in(self.session, "request-state", state)}
        return _swap_subscription_id(value, self.subscriptions)

    def outgoing(self, message: Any) -> None:
        d = _dump(message.message)
        if "method" in d and "id" in d:
            if d["method"] == "subscriptions/listen":
                self.subscriptions[d["id"]] = _stand_in(self.session, "subscription", d["id"])
            item = McpInteraction(self.server, d["method"], self._stable(_stored_params(self.session, d.get("params"))))
            self._add(item)
            self.inflight[d["id"]] = self.sent[d["id"]] = item
            token = _progress_token(d.get("params"))
            if token is not None:
                self.tokens[token] = item
        elif "method" in d:
            if d["method"] == "notifications/cancelled":
                # A timing-dependent courtesy message, not part of the exchange; the request it cancels
                # (a closed listen stream, say) gets no answer, so it no longer takes server messages.
                params = d.get("params")
                self.inflight.pop(params.get("requestId") if isinstance(params, dict) else None, None)
                return
            self._add(McpInteraction(self.server, d["method"], _stored_params(self.session, d.get("params")), notification=True))
        else:  # the client's answer to a server request
            entry = self.asked.pop(d.get("id"), None)
            if entry is not None:
                entry["answer"] = _answer_of(d)

    def incoming(self, message: Any, delivered_by: tuple[Any, Any] | None = None) -> None:
        if isinstance(message, Exception):
            return
        d = _dump(message.message)
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
        entry = _entry(d, "request" if "id" in d else "notify")
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
        sid = _subscription_id(params)
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


class _TapRead:
    """The transport's read stream, noting each message before the client sees it."""

    def __init__(self, inner: Any, recorder: _Recorder) -> None:
        self.inner, self.recorder = inner, recorder
        self._context: contextvars.Context | None = None

    @property
    def last_context(self) -> contextvars.Context | None:
        # The dispatcher reads this after each message and runs the message's handlers in it.
        return self._context

    async def receive(self) -> Any:
        item = await self.inner.receive()
        context = getattr(self.inner, "last_context", None)
        self.recorder.incoming(item, context.get(_delivering) if context is not None else None)
        self._context = _for_callbacks(context)
        return item

    def __aiter__(self) -> _TapRead:
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

    async def __aenter__(self) -> _TapRead:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class _TapWrite:
    """The transport's write stream: notes each message, then sends it with HTTP passthrough on."""

    def __init__(self, inner: Any, recorder: _Recorder) -> None:
        self.inner, self.recorder = inner, recorder

    async def send(self, item: Any) -> None:
        from harness.seams.http import passthrough

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

    async def __aenter__(self) -> _TapWrite:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


# -- replay -------------------------------------------------------------------------------------


class _Player:
    """A stand-in server for one connection, answering from the cassette."""

    def __init__(self, session: Session, server: str) -> None:
        import anyio

        self.session, self.server = session, server
        self.to_client, self.client_read = anyio.create_memory_object_stream[Any](math.inf)
        self.client_write, self.from_client = anyio.create_memory_object_stream[Any](math.inf)
        self.tg: Any = None
        self.scopes: dict[Any, Any] = {}  # client request id -> cancel scope of its answer
        self.waiting: dict[Any, list[Any]] = {}  # server request id -> [event, the client's answer]
        self.subscriptions: dict[Any, Any] = {}  # recorded subscription id (a stand-in) -> the live listen id
        self.next_id = 0

    async def send(self, obj: dict[str, Any]) -> None:
        import anyio

        try:
            await self.to_client.send(_session_message(obj))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client is gone

    async def pump(self) -> None:
        async with self.from_client:
            async for message in self.from_client:
                d = _dump(message.message)
                if "method" in d and "id" in d:
                    self.tg.start_soon(self.answer, d)
                elif "method" in d:
                    self.notified(d)
                else:
                    waiter = self.waiting.get(d.get("id"))
                    if waiter is not None:
                        waiter[1] = _answer_of(d)
                        waiter[0].set()
        await self.to_client.aclose()  # the client closed its side: end of stream for it too

    def _plan(self, item: McpInteraction) -> McpInteraction | dict[str, Any]:
        """The recorded interaction, or the JSON-RPC error carrying the miss report."""
        from harness.errors import CassetteMiss, cassette_miss

        repeats = _repeats.setdefault(self.session, {}) if item.method in REPEATABLE and not item.notification else None
        if repeats is not None:
            key = self.session.key(item)
            again = repeats.get(key)
            if again is not None and not _unplayed(self.session, key):
                return again
        try:
            recorded = self.session.plan(item).replay
        except CassetteMiss as miss:
            return {"code": INTERNAL_ERROR, "message": miss.report, "data": {"harness": "cassette miss"}}
        if recorded is not None:
            if repeats is not None:
                repeats[self.session.key(item)] = recorded
            return recorded  # type: ignore[no-any-return]
        # new_episodes on a server the cassette already has: the real server is not connected.
        item.error = {"code": INTERNAL_ERROR, "message": "harness: not recorded (this server is replayed from the cassette)"}
        unreachable = cassette_miss(
            f"harness: no recorded {item.kind} call matches this one, and the server is replayed, not connected\n"
            f"  {item.describe()}\n"
            f"  How to fix: re-record this test:\n    {self.session.rerecord_command()}"
        )
        self.session.misses.append(unreachable)
        return {"code": INTERNAL_ERROR, "message": unreachable.report, "data": {"harness": "cassette miss"}}

    async def answer(self, d: dict[str, Any]) -> None:
        try:
            await self._answer(d)
        except Exception as exc:  # a bug here must reach the client as an error, not tear its task group down
            await self.send(
                {
                    "jsonrpc": "2.0",
                    "id": d["id"],
                    "error": {"code": INTERNAL_ERROR, "message": f"harness: replay failed: {exc!r}"},
                }
            )

    async def _answer(self, d: dict[str, Any]) -> None:
        import anyio

        rid = d["id"]
        planned = self._plan(McpInteraction(self.server, d["method"], _stored_params(self.session, d.get("params"))))
        if isinstance(planned, dict):
            await self.send({"jsonrpc": "2.0", "id": rid, "error": planned})
            return
        token = _progress_token(d.get("params"))
        if d["method"] == "subscriptions/listen":
            # The recorded frames carry the recorded subscription id; the client only hears its own.
            recorded = next(
                (
                    sid
                    for sid in map(_subscription_id, [*(e.get("params") for e in planned.during), planned.result])
                    if sid is not None
                ),
                None,
            )
            if recorded is not None:
                self.subscriptions[recorded] = rid
        with anyio.CancelScope() as scope:  # a client notifications/cancelled stops it
            self.scopes[rid] = scope
            try:
                for entry in planned.during:
                    error = await self.play(entry, token, planned)
                    if error is not None:
                        await self.send({"jsonrpc": "2.0", "id": rid, "error": error})
                        return
                if planned.error is not None:
                    await self.send({"jsonrpc": "2.0", "id": rid, "error": planned.error})
                elif planned.result is not None:
                    await self.send(
                        {"jsonrpc": "2.0", "id": rid, "result": _swap_subscription_id(planned.result, self.subscriptions)}
                    )
            finally:
                self.scopes.pop(rid, None)
        if scope.cancelled_caught:
            return
        for entry in planned.after:
            await self.play(entry, None, planned)

    def notified(self, d: dict[str, Any]) -> None:
        if d["method"] == "notifications/cancelled":
            params = d.get("params") or {}
            scope = self.scopes.get(params.get("requestId"))
            if scope is not None:
                scope.cancel()
            return
        planned = self._plan(
            McpInteraction(self.server, d["method"], _stored_params(self.session, d.get("params")), notification=True)
        )
        if not isinstance(planned, dict) and planned.after:
            self.tg.start_soon(self._play_after, planned)

    async def _play_after(self, item: McpInteraction) -> None:
        for entry in item.after:
            await self.play(entry, None, item)

    async def play(self, entry: dict[str, Any], token: Any, item: McpInteraction) -> dict[str, Any] | None:
        """Send one recorded server message; for a server request, wait for and check the answer."""
        import anyio

        params = _swap_subscription_id(entry.get("params"), self.subscriptions)
        if "notify" in entry:
            if entry["notify"] == "notifications/progress" and token is not None and isinstance(params, dict):
                params = {**params, "progressToken": token}
            out = {"jsonrpc": "2.0", "method": entry["notify"]}
            if params is not None:
                out["params"] = params
            await self.send(out)
            return None
        self.next_id += 1
        sid = self.next_id
        waiter = self.waiting[sid] = [anyio.Event(), None]
        out = {"jsonrpc": "2.0", "id": sid, "method": entry["request"]}
        if params is not None:
            out["params"] = params
        await self.send(out)
        try:
            await waiter[0].wait()
        finally:
            self.waiting.pop(sid, None)
        want, got = entry.get("answer"), waiter[1]
        if want is None or got == want:
            return None
        return self._answer_miss(item, entry, want, got)

    def _answer_miss(self, item: McpInteraction, entry: dict[str, Any], want: Any, got: Any) -> dict[str, Any]:
        from harness.errors import cassette_miss
        from harness.matching import diff

        lines = [
            "harness: the client answered a server request differently than recorded",
            f"  {item.describe()}",
            f"  server request: {entry['request']} {_short(_canonical(entry.get('params')), 160)}",
            f"  cassette: {_rel(self.session.cassette.path)}; recorded answer != this answer:",
            *(f"    {line}" for line in diff(want, got)),
            "  How to fix:",
            "    1. If the change is intended, re-record this test:",
            f"       {self.session.rerecord_command()}",
        ]
        miss = cassette_miss("\n".join(lines))
        self.session.misses.append(miss)
        return {"code": INTERNAL_ERROR, "message": miss.report, "data": {"harness": "cassette miss"}}


#: Listings the client may send a timing-dependent number of times (``ClientSession.call_tool`` lists the
#: tools when it first meets a tool's output schema, once per call still in flight). On replay, once the
#: recorded ones are used up, the last one answers again; recorded ones left over are not "unplayed".
REPEATABLE = frozenset({"tools/list", "prompts/list", "resources/list", "resources/templates/list", "ping"})
_repeats: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], McpInteraction]] = weakref.WeakKeyDictionary()


def _unplayed(session: Session, key: tuple[Any, ...]) -> bool:
    played = set(session.cassette.played)
    return any(
        isinstance(i, McpInteraction) and n not in played and session.key(i) == key
        for n, i in enumerate(session.cassette.interactions)
    )


def _settle_repeats(session: Session) -> None:
    """Recorded listings the client asked for fewer times than recorded count as played."""
    repeats = _repeats.pop(session, None)
    if not repeats:
        return
    played = set(session.cassette.played)
    for n, i in enumerate(session.cassette.interactions):
        if isinstance(i, McpInteraction) and n not in played and session.key(i) in repeats:
            session.cassette.played.append(n)


# -- the transport stand-in ---------------------------------------------------------------------


class _Transport:
    """What a patched factory returns: the real transport, tapped (record), or a stand-in (replay)."""

    def __init__(self, session: Session, server: str, make_real: Callable[[], Any]) -> None:
        self.session, self.server, self.make_real = session, server, make_real
        self._inner: Any = None
        self._player: _Player | None = None
        self._tg: Any = None

    def _replays(self) -> bool:
        s = self.session
        if not s.recording:
            return True
        if not s.replaying:
            return False
        # new_episodes: replay a server the cassette already had, record a new one.
        fresh = set(s.cassette.recorded)
        return any(
            isinstance(i, McpInteraction) and i.server == self.server
            for n, i in enumerate(s.cassette.interactions)
            if n not in fresh
        )

    async def __aenter__(self) -> tuple[Any, Any]:
        if self._replays():
            import anyio

            player = self._player = _Player(self.session, self.server)
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
            player.tg = self._tg
            self._tg.start_soon(player.pump)
            return player.client_read, player.client_write
        from harness.seams.http import passthrough

        self._inner = self.make_real()
        # Tasks the transport starts (the SSE GET reader, the POST writer) inherit the flag.
        token = passthrough.set(True)
        try:
            read, write = await self._inner.__aenter__()
        finally:
            passthrough.reset(token)
        recorder = _Recorder(self.session, self.server)
        return _TapRead(read, recorder), _TapWrite(write, recorder)

    async def __aexit__(self, *exc: Any) -> bool | None:
        if self._player is not None:
            player, self._player = self._player, None
            self._tg.cancel_scope.cancel()
            try:
                return await self._tg.__aexit__(*exc)  # type: ignore[no-any-return]
            finally:
                for stream in (player.to_client, player.client_read, player.client_write, player.from_client):
                    stream.close()
        from harness.seams.http import passthrough

        token = passthrough.set(True)  # the closing DELETE of streamable HTTP
        try:
            return await self._inner.__aexit__(*exc)  # type: ignore[no-any-return]
        finally:
            passthrough.reset(token)


_wrappers: dict[Any, Any] = {}


def _wrapper(real: Any, label_of: Callable[[tuple[Any, ...], dict[str, Any]], str]) -> Any:
    """One wrapper per real factory, made once: outside a cassette test it is the real factory."""
    wrapper = _wrappers.get(real)
    if wrapper is None:

        @functools.wraps(real)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            from harness.active import current

            session = current()
            if session is None:
                return real(*args, **kwargs)
            return _Transport(session, session.redactor.url(label_of(args, kwargs)), lambda: real(*args, **kwargs))

        wrapper.__harness_real__ = real  # type: ignore[attr-defined]
        _wrappers[real] = wrapper
    return wrapper


# -- the seam -----------------------------------------------------------------------------------

_clean_modules: weakref.WeakSet[Any] = weakref.WeakSet()  # modules already scanned and holding no factory


class McpSeam:
    """Swaps the transport factories for the session's wrappers, wherever the names are bound."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        if "mcp" in sys.modules:
            self._patch_factories()
        elif installed("mcp"):
            # Not imported yet (importing it costs a second): patch it the moment something imports it.
            self._undo.append(after_import({"mcp": lambda _module: self._patch_factories()}))

    def _patch_factories(self) -> None:
        replace: dict[int, Any] = {}
        for module_name, attr, label_of in _FACTORIES:
            module = sys.modules.get(module_name)
            if module is None:
                try:
                    module = importlib.import_module(module_name)
                except ImportError:
                    continue
            real = getattr(module, attr)
            real = getattr(real, "__harness_real__", real)
            replace[id(real)] = (real, _wrapper(real, label_of))
        self._replace_everywhere(replace)

    def _replace_everywhere(self, replace: dict[int, Any]) -> None:
        for module in list(sys.modules.values()):
            namespace = getattr(module, "__dict__", None)
            if not isinstance(namespace, dict):
                continue
            try:
                if module in _clean_modules:
                    continue
            except TypeError:  # a module stand-in that cannot be weakly referenced
                pass
            hits = [(k, v) for k, v in list(namespace.items()) if id(v) in replace and v is replace[id(v)][0]]
            if not hits:
                # A module's globals are set when it is imported: one scan is enough.
                try:
                    _clean_modules.add(module)
                except TypeError:
                    pass
                continue
            for key, real in hits:
                wrapper = replace[id(real)][1]
                namespace[key] = wrapper
                self._undo.append(functools.partial(restore, namespace, key, wrapper, real))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()
        _settle_repeats(self.session)
        _stand_ins.pop(self.session, None)
