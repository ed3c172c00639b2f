"""Anthropic Messages: the one place that knows its wire format.

Stream events ``message_start``, ``content_block_start`` / ``_delta`` / ``_stop``, ``message_delta``,
``message_stop``, ``ping``, ``error``. Re-splitting cuts ``content_block_delta`` events with
``text_delta``, ``input_json_delta`` and ``thinking_delta``. A ``signature_delta`` is never split: the
API sends a block's signature whole and the SDKs *assign* it (``signature = delta.signature``), so a
split signature would change the message, not just its framing. The same holds for a
``compaction_delta`` (the beta accumulator assigns ``content`` and ``encrypted_content``) and a
``citations_delta`` (one citation object, appended whole to the block's list): both pass whole.
"""

from __future__ import annotations

from typing import Any

from harness.jsonutil import copy
from harness.providers.base import (
    STATUS_TEXT,
    Answer,
    CallbackKind,
    Entry,
    Part,
    Provider,
    SdkFailure,
    StreamState,
    index_key,
    merge_comments,
    messages_turn,
    plain,
    tail_entry,
)

#: Every delta type of the SDKs' accumulators (``accumulate_event``, beta and not) that is cut and merged:
#: the field whose text the accumulator appends (``text +=``, the tool input's JSON buffer ``+=``).
SPLIT_DELTAS = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}
#: ... and every one passed whole, with the reason (tests/fuzzing/test_resplit_deltas.py reads both lists
#: against the installed SDKs' delta unions, so a new delta type fails until it is classified here).
WHOLE_DELTAS = {
    "signature_delta": "assigned (signature = delta.signature): a cut would keep only its tail",
    "compaction_delta": "assigned (content = delta.content, encrypted_content likewise): a cut keeps only its tail",
    "citations_delta": "one citation object appended whole to the block's list: half a citation is none",
}
_FIELDS = SPLIT_DELTAS
_EVENTS = frozenset(
    {"message_start", "content_block_start", "content_block_delta", "message_delta", "message_stop", "content_block_stop", "ping"}
)
# callback name -> (family, phase): the stream's events and the MessageStream helper's own
_CALLBACKS = {
    "message_start": ("message", "created"),
    "message_delta": ("message", "delta"),
    "message_stop": ("message", "done+end"),
    "content_block_start": ("block", "created"),
    "content_block_delta": ("block", "delta"),
    "content_block_stop": ("block", "done"),
    "text": ("block", "delta"),
    "input_json": ("block", "delta"),
    "thinking": ("block", "delta"),
    "signature": ("block", "delta"),
    "citation": ("block", "delta"),
}


def blocks(items: list[Any]) -> list[Part]:
    """The parts of a message's ``content`` blocks."""
    parts = []
    for block in items:
        if not isinstance(block, dict):
            continue
        kind = str(block.get("type", ""))
        if kind == "text":
            parts.append(Part("text", str(block.get("text", ""))))
        elif kind == "thinking":
            parts.append(Part("thinking", str(block.get("thinking", ""))))
        elif kind == "redacted_thinking":
            parts.append(Part("thinking", "(redacted)"))
        elif kind.endswith("tool_use"):
            parts.append(Part("tool", name=str(block.get("name", "")), id=str(block.get("id", "")), input=block.get("input")))
        else:
            parts.append(Part("other", kind))
    return parts


class Anthropic(Provider):
    name = "anthropic"
    sdk = "anthropic"
    text_fields = ("text", "partial_json", "thinking")
    status_headers = {"x-should-retry": "true"}
    explicit_families = frozenset({"message", "block"})
    must_close = frozenset({"block"})

    # -- detection and re-splitting -------------------------------------------------------------

    def detect(self, events: list[Entry]) -> bool:
        return any(
            e.get("event") == "message_start" or (isinstance(e.get("data"), dict) and e["data"].get("type") == "message_start")
            for e in events[:4]
        )

    def _field(self, entry: Entry) -> tuple[dict[str, Any], str] | None:
        data = plain(entry)
        if data is None or data.get("type") != "content_block_delta":
            return None
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return None
        field = _FIELDS.get(delta.get("type", ""))
        if field is None or not isinstance(delta.get(field), str) or set(delta) != {"type", field}:
            return None
        return delta, field

    def slots(self, entry: Entry) -> list[tuple[str, str]]:
        found = self._field(entry)
        if found is None or len(found[0][found[1]]) < 2:
            return []
        delta, field = found
        return [(str(delta["type"]), delta[field])]

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        found = self._field(entry)
        assert found is not None
        field = found[1]
        head = copy(entry)
        tail = tail_entry(entry, copy(entry["data"]))
        text = found[0][field]
        head["data"]["delta"][field] = text[:k]
        tail["data"]["delta"][field] = text[k:]
        return head, tail

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        fa, fb = self._field(a), self._field(b)
        if fa is None or fb is None or a.get("event") != b.get("event"):
            return None
        if a["data"].get("index") != b["data"].get("index") or fa[0]["type"] != fb[0]["type"]:
            return None
        if set(a["data"]) != set(b["data"]):
            return None
        if dry:
            return a
        merged = copy(a)
        merged["data"]["delta"][fa[1]] = fa[0][fa[1]] + fb[0][fb[1]]
        return merge_comments(a, b, merged)

    # -- faults ---------------------------------------------------------------------------------

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {"event": "error", "data": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}

    def status_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": STATUS_TEXT.get(status, "error")}}

    sdk_errors = (
        SdkFailure("status", ("anthropic.APIStatusError",)),
        SdkFailure(
            "error_event",
            ("anthropic.APIStatusError",),
            finding="an overloaded `error` event mid-stream raises the generic APIStatusError with status_code 200, "
            "not OverloadedError (make_status_error keys on the HTTP status, which is 200)",
        ),
        SdkFailure(
            "drop",
            ("{http}.RemoteProtocolError",),
            finding="the raw transport exception reaches the caller, not the SDK's APIConnectionError"
            " (MessageStream does not wrap errors while iterating)",
        ),
        SdkFailure(
            "read_timeout",
            ("{http}.ReadTimeout",),
            finding="the raw transport exception reaches the caller, not the SDK's APITimeoutError",
        ),
        SdkFailure(
            "truncate",
            ("builtins.AssertionError",),
            returns=True,
            finding="a stream that ends cleanly before message_stop gives a partial message and no error (stop_reason None "
            "before message_delta); one that ends before message_start: a bare AssertionError from get_final_message()",
        ),
    )

    # -- reading --------------------------------------------------------------------------------

    def answer(self, data: dict[str, Any]) -> Answer | None:
        if data.get("type") == "message" and isinstance(data.get("content"), list):
            return Answer(blocks(data["content"]), data.get("stop_reason"), None, data.get("model"))
        return None

    def reads(self, name: str | None, data: dict[str, Any]) -> bool:
        kind = data.get("type")
        return isinstance(kind, str) and kind in _EVENTS

    def feed(self, stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
        kind = data.get("type")
        stream.seen = True
        index = data.get("index")
        if kind == "message_start":
            message = data.get("message") or {}
            stream.answer.model = message.get("model")
            stream.answer.stop = message.get("stop_reason")
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            btype = str(block.get("type", ""))
            if btype.endswith("tool_use"):
                stream.part(index, "tool", name=str(block.get("name", "")), id=str(block.get("id", "")), input=block.get("input"))
            elif btype == "text":
                stream.part(index, "text").text += str(block.get("text", ""))
            elif btype == "thinking":
                stream.part(index, "thinking").text += str(block.get("thinking", ""))
            elif btype == "redacted_thinking":
                stream.part(index, "thinking").text = "(redacted)"
            else:
                stream.part(index, "other", text=btype)
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                stream.part(index, "text").text += str(delta.get("text", ""))
            elif dtype == "input_json_delta":
                stream.part(index, "tool").raw += str(delta.get("partial_json", ""))
            elif dtype == "thinking_delta":
                stream.part(index, "thinking").text += str(delta.get("thinking", ""))
        elif kind == "message_delta":
            stream.answer.stop = (data.get("delta") or {}).get("stop_reason") or stream.answer.stop

    def turn(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
        return messages_turn(body)

    # -- callback order -------------------------------------------------------------------------

    def callback_kind(self, name: str, args: dict[str, Any]) -> CallbackKind | None:
        found = _CALLBACKS.get(name)
        if found is None:
            return None
        family, phase = found
        return family, phase, () if family == "message" else index_key(args)
