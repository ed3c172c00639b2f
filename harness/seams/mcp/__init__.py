"""The MCP seam: record and replay MCP at the JSON-RPC level, whatever the transport.

Every mcp 2.x client transport (``stdio_client``, ``streamable_http_client``, ``sse_client``) is an
async context manager yielding a ``(read, write)`` pair of message streams, and both
``ClientSession`` and ``mcp.Client`` talk through that pair. For one test the seam replaces those
three factories everywhere their names are bound (the SDK's own modules and any module that
imported them), and puts them back afterwards.

Recording enters the real transport and taps the pair: every message is handed on the moment it
arrives (nothing is buffered, so a tool that elicits mid-call cannot deadlock) and noted in the
ledger's timeline. MCP's own HTTP requests are made with the HTTP seam's ``passthrough`` flag
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

import functools
import importlib
import sys
import warnings
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.active import current
from harness.cassette.model import McpInteraction
from harness.seams.http import passthrough
from harness.seams.imports import after_import, installed, restore
from harness.seams.mcp.labels import EPHEMERAL_PORTS, legacy_url_label, numbered, stdio_label, url_label, url_of
from harness.seams.mcp.messages import forget_stand_ins
from harness.seams.mcp.record import Recorder, TapRead, TapWrite
from harness.seams.mcp.replay import Player, settle_repeats

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

__all__ = ["McpSeam"]

# module, function name, label maker
_FACTORIES: tuple[tuple[str, str, Callable[[tuple[Any, ...], dict[str, Any]], str]], ...] = (
    ("mcp.client.stdio", "stdio_client", stdio_label),
    ("mcp.client.streamable_http", "streamable_http_client", url_label),
    ("mcp.client.sse", "sse_client", url_label),
)


class _Transport:
    """What a patched factory returns: the real transport, tapped (record), or a stand-in (replay)."""

    def __init__(self, ledger: Ledger, server: str, make_real: Callable[[], Any]) -> None:
        self.ledger, self.server, self.make_real = ledger, server, make_real
        self._inner: Any = None
        self._player: Player | None = None
        self._tg: Any = None

    def _replays(self) -> bool:
        ledger = self.ledger
        if not ledger.recording:
            return True
        if not ledger.replaying:
            return False
        # new_episodes: replay a server the cassette already had, record a new one.
        fresh = set(ledger.cassette.recorded)
        return any(
            isinstance(i, McpInteraction) and i.server == self.server
            for n, i in enumerate(ledger.cassette.interactions)
            if n not in fresh
        )

    async def __aenter__(self) -> tuple[Any, Any]:
        if self._replays():
            import anyio

            player = self._player = Player(self.ledger, self.server)
            self._tg = anyio.create_task_group()
            await self._tg.__aenter__()
            player.tg = self._tg
            self._tg.start_soon(player.pump)
            return player.client_read, player.client_write
        self._inner = self.make_real()
        # Tasks the transport starts (the SSE GET reader, the POST writer) inherit the flag.
        token = passthrough.set(True)
        try:
            read, write = await self._inner.__aenter__()
        finally:
            passthrough.reset(token)
        recorder = Recorder(self.ledger, self.server)
        return TapRead(read, recorder), TapWrite(write, recorder)

    async def __aexit__(self, *exc: Any) -> bool | None:
        if self._player is not None:
            player, self._player = self._player, None
            self._tg.cancel_scope.cancel()
            try:
                return await self._tg.__aexit__(*exc)  # type: ignore[no-any-return]
            finally:
                for stream in (player.to_client, player.client_read, player.client_write, player.from_client):
                    stream.close()
        token = passthrough.set(True)  # the closing DELETE of streamable HTTP
        try:
            return await self._inner.__aexit__(*exc)  # type: ignore[no-any-return]
        finally:
            passthrough.reset(token)


class AmbiguousServersWarning(UserWarning):
    """Two MCP servers a recording can tell apart only by the order the test connects to them."""


def _url_server(ledger: Ledger, label: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The stored name of a URL server: its label, numbered among servers sharing it; a cassette recorded
    before fixed loopback ports were kept is still read under its old name."""
    url = url_of(args, kwargs)
    seen = _servers.setdefault(ledger, ({}, {}))
    name = numbered(seen[0], label, url)
    legacy = numbered(seen[1], ledger.redactor.url(legacy_url_label(args, kwargs)), url)
    if legacy != name:
        stored = {i.server for i in ledger.cassette.interactions if isinstance(i, McpInteraction)}
        if name not in stored and legacy in stored:
            return legacy
    if name != label and ledger.recording:
        warnings.warn(
            AmbiguousServersWarning(
                f"harness: two MCP servers at {label} are told apart only by the order this test connects to them"
                " (their loopback ports are ones the OS picked, which are not stored): a replay that connects in"
                " another order answers each with the other's recording. Give them distinct paths, or fixed"
                f" ports below {EPHEMERAL_PORTS}, which are kept."
            ),
            stacklevel=3,
        )
    return name


_wrappers: dict[Any, Any] = {}
#: Per ledger: the URLs connected to under each label, in order of first connection (see ``labels.numbered``).
_servers: weakref.WeakKeyDictionary[Any, tuple[dict[str, list[str]], dict[str, list[str]]]] = weakref.WeakKeyDictionary()


def _wrapper(real: Any, label_of: Callable[[tuple[Any, ...], dict[str, Any]], str]) -> Any:
    """One wrapper per real factory, made once: outside a cassette test it is the real factory."""
    wrapper = _wrappers.get(real)
    if wrapper is None:

        @functools.wraps(real)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ledger = current()
            if ledger is None:
                return real(*args, **kwargs)
            label = ledger.redactor.url(label_of(args, kwargs))
            if label_of is url_label:
                label = _url_server(ledger, label, args, kwargs)
            return _Transport(ledger, label, lambda: real(*args, **kwargs))

        wrapper.__harness_real__ = real  # type: ignore[attr-defined]
        _wrappers[real] = wrapper
    return wrapper


_clean_modules: weakref.WeakSet[Any] = weakref.WeakSet()  # modules already scanned and holding no factory


class McpSeam:
    """Swaps the transport factories for harness's wrappers (which answer from the running ledger), wherever
    the names are bound."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
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
        settle_repeats(self.ledger)
        forget_stand_ins(self.ledger)
        _servers.pop(self.ledger, None)
