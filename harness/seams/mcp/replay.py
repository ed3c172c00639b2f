"""Replay: a stand-in server per connection, answering each client request from the cassette."""

from __future__ import annotations

import math
import os
import weakref
from typing import TYPE_CHECKING, Any

from harness.cassette.model import McpInteraction
from harness.errors import CassetteMiss, cassette_miss
from harness.jsonutil import canonical, short
from harness.matching import diff
from harness.seams.mcp.messages import (
    INTERNAL_ERROR,
    answer_of,
    closed_here,
    dump,
    load,
    parse_error,
    progress_token,
    stored_params,
    subscription_id,
    swap_subscription_id,
)

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


def _rel(path: Any) -> str:
    try:
        return str(os.path.relpath(path))
    except ValueError:
        return str(path)


def _miss_error(miss: CassetteMiss) -> dict[str, Any]:
    """The JSON-RPC error the client gets for a miss: it carries the report (the test fails at teardown too)."""
    return {"code": INTERNAL_ERROR, "message": miss.report, "data": {"harness": "cassette miss"}}


#: How long replay waits for the client's answer to a recorded server request: every replay wait is bounded.
ANSWER_WAIT = 60.0


class Player:
    """A stand-in server for one connection, answering from the cassette."""

    def __init__(self, ledger: Ledger, server: str) -> None:
        import anyio

        self.ledger, self.server = ledger, server
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
            await self.to_client.send(load(obj))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the client is gone

    async def pump(self) -> None:
        async with self.from_client:
            async for message in self.from_client:
                d = dump(message.message)
                if "method" in d and "id" in d:
                    self.tg.start_soon(self.answer, d)
                elif "method" in d:
                    self.notified(d)
                else:
                    waiter = self.waiting.get(d.get("id"))
                    if waiter is not None:
                        waiter[1] = answer_of(d)
                        waiter[0].set()
        await self.to_client.aclose()  # the client closed its side: end of stream for it too

    def _plan(self, item: McpInteraction) -> McpInteraction | dict[str, Any]:
        """The recorded interaction, or the JSON-RPC error carrying the miss report."""
        repeats = _repeats.setdefault(self.ledger, {}) if item.method in REPEATABLE and not item.notification else None
        if repeats is not None:
            key = self.ledger.key(item)
            again = repeats.get(key)
            if again is not None and not _unplayed(self.ledger, key):
                return again
        try:
            # replay_only: under new_episodes this server is replayed, not connected; a call the cassette
            # does not hold is a miss, and nothing is recorded for it (no made-up answer is ever saved).
            recorded = self.ledger.plan(item, replay_only=True).replay
        except CassetteMiss as miss:
            return _miss_error(miss)
        if repeats is not None:
            repeats[self.ledger.key(item)] = recorded
        return recorded  # type: ignore[no-any-return]

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
        planned = self._plan(McpInteraction(self.server, d["method"], stored_params(self.ledger, d.get("params"))))
        if isinstance(planned, dict):
            await self.send({"jsonrpc": "2.0", "id": rid, "error": planned})
            return
        token = progress_token(d.get("params"))
        if d["method"] == "subscriptions/listen":
            # The recorded frames carry the recorded subscription id; the client only hears its own.
            recorded = next(
                (
                    sid
                    for sid in map(subscription_id, [*(e.get("params") for e in planned.during), planned.result])
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
                stall = getattr(planned, "stall", None)
                if stall is not None:
                    await self.stalled(planned, stall)
                    return
                if closed_here(planned):
                    # The server's side ended here while recording: end it here again (the client fails
                    # this request and any later one with "Connection closed"), never wait for an answer.
                    await self.to_client.aclose()
                    return
                if planned.error is not None:
                    await self.send({"jsonrpc": "2.0", "id": rid, "error": planned.error})
                elif planned.result is not None:
                    await self.send(
                        {"jsonrpc": "2.0", "id": rid, "result": swap_subscription_id(planned.result, self.subscriptions)}
                    )
            finally:
                self.scopes.pop(rid, None)
        if scope.cancelled_caught:
            return
        for entry in planned.after:
            await self.play(entry, None, planned)

    async def stalled(self, planned: McpInteraction, stall: float) -> None:
        """A fault of ``harness.strategies`` (``mcp_timeout``, ``mcp_malformed``): the server never answers.

        A malformed message first reaches the client as its transport hands over a line it cannot
        parse (the parse error, in the read stream). Then nothing comes: the client's own read timeout
        ends the call (its ``notifications/cancelled`` cancels this wait). Every replay wait is bounded:
        after ``stall`` seconds the server's side ends, as a server that gave up would."""
        import anyio

        garbage = getattr(planned, "garbage", None)
        if garbage is not None:
            try:
                await self.to_client.send(parse_error(garbage))
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return
        await anyio.sleep(stall)
        await self.to_client.aclose()

    def notified(self, d: dict[str, Any]) -> None:
        if d["method"] == "notifications/cancelled":
            params = d.get("params") or {}
            scope = self.scopes.get(params.get("requestId"))
            if scope is not None:
                scope.cancel()
            return
        planned = self._plan(
            McpInteraction(self.server, d["method"], stored_params(self.ledger, d.get("params")), notification=True)
        )
        if not isinstance(planned, dict) and planned.after:
            self.tg.start_soon(self._play_after, planned)

    async def _play_after(self, item: McpInteraction) -> None:
        for entry in item.after:
            await self.play(entry, None, item)

    async def play(self, entry: dict[str, Any], token: Any, item: McpInteraction) -> dict[str, Any] | None:
        """Send one recorded server message; for a server request, wait for and check the answer."""
        import anyio

        params = swap_subscription_id(entry.get("params"), self.subscriptions)
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
            with anyio.move_on_after(ANSWER_WAIT) as waited:
                await waiter[0].wait()
        finally:
            self.waiting.pop(sid, None)
        want, got = entry.get("answer"), waiter[1]
        if waited.cancelled_caught:
            got = f"(no answer within {ANSWER_WAIT:g} s)"
        if want is None or got == want:
            return None
        return self._answer_miss(item, entry, want, got)

    def _answer_miss(self, item: McpInteraction, entry: dict[str, Any], want: Any, got: Any) -> dict[str, Any]:

        lines = [
            "harness: the client answered a server request differently than recorded",
            f"  {item.describe()}",
            f"  server request: {entry['request']} {short(canonical(entry.get('params')), 160)}",
            f"  cassette: {_rel(self.ledger.cassette.path)}; recorded answer != this answer:",
            *(f"    {line}" for line in diff(want, got)),
            "  How to fix:",
            "    1. If the change is intended, re-record this test:",
            f"       {self.ledger.rerecord_command()}",
        ]
        miss = cassette_miss("\n".join(lines))
        self.ledger.misses.append(miss)
        return _miss_error(miss)


#: Listings the client may send a timing-dependent number of times (``ClientSession.call_tool`` lists the
#: tools when it first meets a tool's output schema, once per call still in flight). On replay, once the
#: recorded ones are used up, the last one answers again; recorded ones left over are not "unplayed".
REPEATABLE = frozenset({"tools/list", "prompts/list", "resources/list", "resources/templates/list", "ping"})
_repeats: weakref.WeakKeyDictionary[Any, dict[tuple[Any, ...], McpInteraction]] = weakref.WeakKeyDictionary()


def _unplayed(ledger: Ledger, key: tuple[Any, ...]) -> bool:
    played = set(ledger.cassette.played)
    return any(
        isinstance(i, McpInteraction) and n not in played and ledger.key(i) == key
        for n, i in enumerate(ledger.cassette.interactions)
    )


def settle_repeats(ledger: Ledger) -> None:
    """Recorded listings the client asked for fewer times than recorded count as played."""
    repeats = _repeats.pop(ledger, None)
    if not repeats:
        return
    played = set(ledger.cassette.played)
    for n, i in enumerate(ledger.cassette.interactions):
        if isinstance(i, McpInteraction) and n not in played and ledger.key(i) in repeats:
            ledger.cassette.played.append(n)
