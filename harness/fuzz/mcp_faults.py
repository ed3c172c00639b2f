"""MCP faults: what goes wrong with an MCP server, as variants of a recorded MCP call.

``jsonrpc_error``  the call is answered with a JSON-RPC error (``code``, ``message``): ``MCPError`` in the client
``timeout``        the server never answers: the client's read timeout ends the call (``MCPError`` with
                   ``REQUEST_TIMEOUT``); a client with none gets ``Connection closed`` after ``stall`` seconds
``drop``           the connection is lost at the call: this call and every later one get ``Connection closed``
``malformed``      the server sends a line that is not JSON-RPC instead of its answer: the transport's parse
                   error reaches the client's ``message_handler``, then nothing comes (as ``timeout``)

Each variant replays through the real ``ClientSession`` (stdio, streamable HTTP or SSE alike: the
MCP seam's stand-in server answers in their place), so an agent's MCP error handling can be tested
offline. What the server sent during the call (progress, logging) is sent first, as recorded.
Replay is bounded and fast: give the session a short read timeout in fault tests
(``ClientSession(read, write, read_timeout_seconds=0.05)``, or ``call_tool(..., read_timeout_seconds=0.05)``);
without one, a ``timeout`` or ``malformed`` call ends with ``Connection closed`` after ``stall``
seconds (:data:`DEFAULT_STALL`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import strategies as st

from harness.cassette.model import McpInteraction
from harness.fuzz.current import ledger
from harness.fuzz.variant import Variant
from harness.seams.mcp.messages import CLOSED, INTERNAL_ERROR

MCP_KINDS = ("jsonrpc_error", "timeout", "drop", "malformed")
#: How long a stalled call waits before the stand-in server gives up and closes (a client with no read timeout).
DEFAULT_STALL = 2.0
#: JSON-RPC error codes ``mcp_faults`` draws from: internal error, invalid params, and a server-defined one.
ERROR_CODES = (INTERNAL_ERROR, -32602, -32001)
GARBAGE = ('{"jsonrpc": "2.0", "id": ', "<html>502 Bad Gateway</html>", '{"jsonrpc": "1.0", "result": 1}', "\x00\xff")


@dataclass(eq=True)
class StalledCall(McpInteraction):
    """A recorded call whose answer never comes (after ``garbage``, a line that is not JSON-RPC, if set)."""

    stall: float = DEFAULT_STALL
    garbage: str | None = None


def _variant(index: int, item: McpInteraction, stand_in: McpInteraction, fault: str, what: str) -> Variant:
    label = f"{fault}(#{index}: {item.describe()}: {what})"
    return Variant(index, stand_in, kind="fault", fault=fault, preserving=False, label=label, details=[label])  # type: ignore[arg-type]


def mcp_error(index: int, item: McpInteraction, code: int = INTERNAL_ERROR, message: str = "Internal error") -> Variant:
    """The call answered with the JSON-RPC error ``code`` / ``message`` instead of its recorded result."""
    stand_in = replace(item, result=None, error={"code": code, "message": message}, after=[])
    return _variant(index, item, stand_in, "jsonrpc_error", f"answered with JSON-RPC error {code} {message!r}")


def mcp_timeout(index: int, item: McpInteraction, stall: float = DEFAULT_STALL) -> Variant:
    """The server never answers the call (the connection stays open for ``stall`` seconds, then closes)."""
    stand_in = StalledCall(**_fields(item), stall=stall)
    return _variant(index, item, stand_in, "timeout", f"no answer (the server closes after {stall:g} s)")


def mcp_drop(index: int, item: McpInteraction) -> Variant:
    """The connection is lost at the call: it and every later request get ``Connection closed``."""
    stand_in = replace(item, result=None, error=dict(CLOSED), after=[])
    return _variant(index, item, stand_in, "drop", "connection lost")


def mcp_malformed(index: int, item: McpInteraction, garbage: str = GARBAGE[0], stall: float = DEFAULT_STALL) -> Variant:
    """A line that is not a JSON-RPC message instead of the answer, then nothing (as :func:`mcp_timeout`)."""
    stand_in = StalledCall(**_fields(item), stall=stall, garbage=garbage)
    return _variant(index, item, stand_in, "malformed", f"answered with {garbage!r}, then nothing")


def _fields(item: McpInteraction) -> dict[str, Any]:
    return {
        "server": item.server,
        "method": item.method,
        "params": item.params,
        "notification": False,
        "result": None,
        "error": None,
        "during": list(item.during),
        "after": [],
    }


def mcp_targets(
    source: Sequence[Any] | None = None,
    at: int | Iterable[int] | None = None,
    *,
    method: str = "tools/call",
    tool: str | None = None,
) -> list[tuple[int, McpInteraction]]:
    """The recorded MCP requests a fault replaces: those at positions ``at``, else every ``method``
    request (``tools/call`` by default; of tool ``tool`` only, if given) of the running test's cassette."""
    items: list[Any] = list(ledger().cassette.interactions) if source is None else list(source)
    if at is not None:
        wanted = [at] if isinstance(at, int) else list(at)
        for i in wanted:
            if not (0 <= i < len(items)) or not isinstance(items[i], McpInteraction) or items[i].notification:
                raise ValueError(f"harness.strategies: interaction #{i} is not a recorded MCP request")
        return [(i, items[i]) for i in wanted]
    found = [
        (i, it)
        for i, it in enumerate(items)
        if isinstance(it, McpInteraction)
        and not it.notification
        and it.method == method
        and (tool is None or (isinstance(it.params, dict) and it.params.get("name") == tool))
    ]
    return found


def mcp_faults(
    at: int | Iterable[int] | None = None,
    *,
    source: Sequence[Any] | None = None,
    kinds: Sequence[str] = MCP_KINDS,
    method: str = "tools/call",
    tool: str | None = None,
    stall: float = DEFAULT_STALL,
) -> st.SearchStrategy[Variant]:
    """Broken variants of recorded MCP calls (``tools/call`` by default): ``jsonrpc_error``,
    ``timeout``, ``drop``, ``malformed`` (``kinds``), resolved against the cassette when drawn."""
    unknown = set(kinds) - set(MCP_KINDS)
    if unknown or not kinds:
        raise ValueError(f"harness.strategies: unknown MCP fault kinds {sorted(unknown)}; known: {', '.join(MCP_KINDS)}")

    @st.composite
    def draw_fault(draw: Any) -> Variant:
        found = mcp_targets(source, at, method=method, tool=tool)
        if not found:
            what = f"{method} request" + (f" of tool {tool!r}" if tool else "")
            raise ValueError(f"harness.strategies: the cassette has no recorded MCP {what} to break")
        index, item = found[0] if len(found) == 1 else draw(st.sampled_from(found))
        kind = draw(st.sampled_from(list(kinds)))
        if kind == "jsonrpc_error":
            code = draw(st.sampled_from(ERROR_CODES))
            message = draw(st.sampled_from(["Internal error", "Invalid params", "the tool's backend is down"]))
            return mcp_error(index, item, code, message)
        if kind == "timeout":
            return mcp_timeout(index, item, stall)
        if kind == "drop":
            return mcp_drop(index, item)
        return mcp_malformed(index, item, draw(st.sampled_from(GARBAGE)), stall)

    return draw_fault()
