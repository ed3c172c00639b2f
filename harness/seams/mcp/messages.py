"""JSON-RPC messages as the MCP seam stores, matches and sends them.

Serializing and parsing messages, params as stored (``_meta`` left out, secrets scrubbed), the
entries of a call's ``during``/``after``, and the stable stand-ins for values that differ on every run
(``requestState``, a listen stream's subscription id).
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


INTERNAL_ERROR = -32603
CONNECTION_CLOSED = -32000

#: Stored as the error of a request the server never answered because the connection ended (a stdio server
#: that died mid-call): what the client saw. Replay ends the stand-in connection there, as the server did.
CLOSED: dict[str, Any] = {"code": CONNECTION_CLOSED, "message": "Connection closed", "data": {"harness": "connection closed"}}


def closed_here(item: Any) -> bool:
    """Whether the connection ended at this request: marked so while recording, or (a cassette made before the
    mark) a request that got no answer at all, a listen stream (closed by the client) aside."""
    if item.notification or item.method == "subscriptions/listen":
        return False
    return item.error == CLOSED or (item.error is None and item.result is None)


def dump(message: Any) -> dict[str, Any]:
    """A JSON-RPC message as the transports serialize it."""
    out: dict[str, Any] = message.model_dump(by_alias=True, mode="json", exclude_unset=True)
    return out


def load(obj: dict[str, Any]) -> Any:
    """The SDK's ``SessionMessage`` for a JSON-RPC message given as a dict (mcp is imported here, on first use)."""
    from mcp.shared.message import SessionMessage
    from mcp_types import jsonrpc_message_adapter

    return SessionMessage(jsonrpc_message_adapter.validate_python(obj, by_name=False))


def parse_error(line: str) -> Exception:
    """What mcp's transports put in the read stream for a line that is not a JSON-RPC message: the parse error."""
    from mcp_types import jsonrpc_message_adapter

    try:
        jsonrpc_message_adapter.validate_json(line, by_name=False)
    except ValueError as exc:
        return exc
    return ValueError(f"harness: {line!r} was meant to be malformed, but it is a valid JSON-RPC message")


def stored_params(ledger: Ledger, params: Any) -> Any:
    """Params as stored and matched: ``_meta`` (protocol stamp, progress token, trace) left out,
    secrets scrubbed (as the file will have them, so a replayed request matches the stored one)."""
    if isinstance(params, dict) and "_meta" in params:
        params = {k: v for k, v in params.items() if k != "_meta"}
    return ledger.scrubbed(params)


def progress_token(params: Any) -> Any:
    meta = params.get("_meta") if isinstance(params, dict) else None
    return meta.get("progressToken") if isinstance(meta, dict) else None


def entry_of(d: dict[str, Any], kind: str) -> dict[str, Any]:
    entry: dict[str, Any] = {kind: d["method"]}
    if d.get("params") is not None:
        entry["params"] = d["params"]
    return entry


def answer_of(d: dict[str, Any]) -> dict[str, Any]:
    return {"error": d["error"]} if "error" in d else {"result": d.get("result")}


#: Per ledger and kind (``request-state``, ``subscription``): each live value seen while recording -> its
#: stable stand-in (``harness-<kind>-<n>``, numbered in the order they were first seen).
_stand_ins: weakref.WeakKeyDictionary[Any, dict[str, dict[Any, str]]] = weakref.WeakKeyDictionary()


def stand_in(ledger: Ledger, kind: str, live: Any) -> str:
    table = _stand_ins.setdefault(ledger, {}).setdefault(kind, {})
    return table.setdefault(live, f"harness-{kind}-{len(table) + 1}")


#: Where the 2026 era's ``subscriptions/listen`` stamps the subscription id (the listen request's JSON-RPC id)
#: on its ack, its events and its closing result (``mcp.shared.subscriptions.SUBSCRIPTION_ID_META_KEY``).
SUBSCRIPTION_ID = "io.modelcontextprotocol/subscriptionId"


def subscription_id(value: Any) -> Any:
    meta = value.get("_meta") if isinstance(value, dict) else None
    return meta.get(SUBSCRIPTION_ID) if isinstance(meta, dict) else None


def swap_subscription_id(value: Any, ids: dict[Any, Any]) -> Any:
    """``value`` with the subscription id in its ``_meta`` replaced through ``ids`` (unchanged if not there)."""
    sid = subscription_id(value)
    if sid is None or sid not in ids:
        return value
    return {**value, "_meta": {**value["_meta"], SUBSCRIPTION_ID: ids[sid]}}


def forget_stand_ins(ledger: Ledger) -> None:
    """Forget the stand-ins of a ledger whose test has ended."""
    _stand_ins.pop(ledger, None)
