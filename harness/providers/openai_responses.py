"""OpenAI Responses: the one place that knows its wire format.

Stream events ``response.*`` (``response.created``, ``response.output_item.added``, ...,
``response.completed``), each with a ``sequence_number``. Re-splitting cuts the ``delta`` of
``response.*.delta`` events (``output_text``, ``function_call_arguments``, ``reasoning_*``,
``refusal``, ``custom_tool_call_input``); ``sequence_number`` is renumbered afterwards.
"""

from __future__ import annotations

from typing import Any

from harness.jsonutil import copy
from harness.providers.base import (
    Answer,
    CallbackKind,
    Entry,
    Part,
    Provider,
    SdkFailure,
    StreamState,
    error_text,
    index_key,
    key_text,
    merge_comments,
    message_lines,
    plain,
    tag,
    tail_entry,
    text_of,
)
from harness.providers.openai_chat import SERVER_ERROR, openai_status_body

#: The delta events whose ``delta`` text is cut and merged: every one ``ResponseStreamState.accumulate_event``
#: appends (``output_text``, ``function_call_arguments``; tests/fuzzing/test_resplit_deltas.py reads the SDK's
#: list) and those the SDK hands on as events only (the final response comes whole in ``response.completed``).
#: An event carrying ``logprobs`` passes whole: its token list would have to be cut at the same place.
SPLIT_DELTAS = _DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.refusal.delta",
        "response.custom_tool_call_input.delta",
    }
)
_ENDS = ("response.completed", "response.incomplete", "response.failed")
# input items the model made (a turn's new input starts after the last of them)
_MODEL_ITEMS = frozenset(
    {"function_call", "reasoning", "computer_call", "web_search_call", "file_search_call", "custom_tool_call", "mcp_call"}
)
_CALLBACKS = {
    "response.created": ("response", "created"),
    "response.completed": ("response", "done+end"),
    "response.failed": ("response", "done+end"),
    "response.incomplete": ("response", "done+end"),
    "response.output_item.added": ("item", "created"),
    "response.output_item.done": ("item", "done"),
    "response.content_part.added": ("part", "created"),
    "response.content_part.done": ("part", "done"),
}


def output(items: list[Any]) -> list[Part]:
    """The parts of a response's ``output`` items."""
    parts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        if kind == "message":
            for piece in item.get("content") or []:
                if not isinstance(piece, dict):
                    continue
                if piece.get("type") == "refusal":
                    parts.append(Part("refusal", str(piece.get("refusal", ""))))
                elif "text" in piece:
                    parts.append(Part("text", str(piece["text"])))
        elif kind == "function_call":
            parts.append(
                Part("tool", name=str(item.get("name", "")), id=str(item.get("call_id", "")), input=item.get("arguments"))
            )
        elif kind == "reasoning":
            summary = "\n".join(str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict))
            if summary:
                parts.append(Part("thinking", summary))
        elif kind:
            parts.append(Part("other", kind))
    return parts


def stop_of(data: dict[str, Any]) -> str | None:
    status = data.get("status")
    reason = (data.get("incomplete_details") or {}).get("reason")
    return f"{status} ({reason})" if reason else status


class OpenAIResponses(Provider):
    name = "openai-responses"
    sdk = "openai"
    text_fields = ("delta",)
    explicit_families = frozenset({"item", "part", "response"})
    must_close = frozenset({"item", "part"})

    # -- detection and re-splitting -------------------------------------------------------------

    def detect(self, events: list[Entry]) -> bool:
        return any(str(e.get("event", "")).startswith("response.") for e in events[:4])

    @staticmethod
    def _data(entry: Entry) -> dict[str, Any] | None:
        data = plain(entry)
        if data is None or entry.get("event") not in _DELTAS or not isinstance(data.get("delta"), str):
            return None
        if data.get("logprobs"):
            return None
        return data

    def slots(self, entry: Entry) -> list[tuple[str, str]]:
        data = self._data(entry)
        if data is None or len(data["delta"]) < 2:
            return []
        return [("delta", data["delta"])]

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        text = entry["data"]["delta"]
        head = copy(entry)
        tail = tail_entry(entry, copy(entry["data"]))
        head["data"]["delta"] = text[:k]
        tail["data"]["delta"] = text[k:]
        return head, tail

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        da, db = self._data(a), self._data(b)
        if da is None or db is None or a.get("event") != b.get("event"):
            return None
        skip = ("delta", "sequence_number", "obfuscation")
        if {k: v for k, v in da.items() if k not in skip} != {k: v for k, v in db.items() if k not in skip}:
            return None
        if dry:
            return a
        merged = copy(a)
        merged["data"]["delta"] = da["delta"] + db["delta"]
        return merge_comments(a, b, merged)

    def renumber(self, events: list[Entry]) -> list[int]:
        changed = []
        expect: int | None = None
        for i, e in enumerate(events):
            data = e.get("data")
            if not isinstance(data, dict) or not isinstance(data.get("sequence_number"), int) or "raw" in e:
                continue
            if expect is None:
                expect = data["sequence_number"]
            if data["sequence_number"] != expect:
                e = events[i] = copy(e)
                e["data"]["sequence_number"] = expect
                changed.append(i)
            expect += 1
        return changed

    # -- faults ---------------------------------------------------------------------------------

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        seq = 0
        for e in events[:at]:
            data = e.get("data")
            if isinstance(data, dict) and isinstance(data.get("sequence_number"), int):
                seq = data["sequence_number"] + 1
        return {
            "event": "error",
            "data": {"type": "error", "code": "server_error", "message": SERVER_ERROR, "param": None, "sequence_number": seq},
        }

    def status_body(self, status: int) -> dict[str, Any]:
        return openai_status_body(status)

    sdk_errors = (
        SdkFailure("status", ("openai.APIStatusError",)),
        SdkFailure(
            "error_event",
            ("builtins.RuntimeError",),
            finding="the documented mid-stream `error` event ({type: error, code, message, param, sequence_number}) is "
            "yielded as a ResponseErrorEvent, then get_final_response() raises RuntimeError(\"Didn't receive a "
            '`response.completed` event."); the SDK raises APIError only for event data with an "error" key',
        ),
        SdkFailure("drop", ("openai.APIConnectionError",)),
        SdkFailure("read_timeout", ("openai.APITimeoutError",)),
        SdkFailure(
            "truncate",
            ("builtins.RuntimeError",),
            finding="a stream that ends cleanly before response.completed: RuntimeError(\"Didn't receive a "
            '`response.completed` event.") from get_final_response(), not an APIError',
        ),
    )

    # -- reading --------------------------------------------------------------------------------

    def answer(self, data: dict[str, Any]) -> Answer | None:
        if data.get("object") == "response" and isinstance(data.get("output"), list):
            return Answer(output(data["output"]), stop_of(data), error_text(data), data.get("model"))
        return None

    def reads(self, name: str | None, data: dict[str, Any]) -> bool:
        kind = data.get("type")
        return isinstance(kind, str) and kind.startswith("response.")

    def feed(self, stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
        kind = data.get("type")
        stream.seen = True
        at = data.get("output_index")
        response = data.get("response") if isinstance(data.get("response"), dict) else None
        if response is not None:
            stream.answer.model = response.get("model") or stream.answer.model
            if kind in _ENDS:
                stream.final_parts = output(response.get("output") or [])
                stream.answer.stop = stop_of(response)
                stream.answer.error = error_text(response) or stream.answer.error
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                stream.part((at, "tool"), "tool", name=str(item.get("name", "")), id=str(item.get("call_id", "")))
        elif kind == "response.output_text.delta":
            stream.part((at, "text"), "text").text += str(data.get("delta", ""))
        elif kind == "response.refusal.delta":
            stream.part((at, "refusal"), "refusal").text += str(data.get("delta", ""))
        elif kind == "response.function_call_arguments.delta":
            stream.part((at, "tool"), "tool").raw += str(data.get("delta", ""))
        elif kind == "response.reasoning_summary_text.delta":
            stream.part((at, "thinking"), "thinking").text += str(data.get("delta", ""))

    def turn(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
        if "input" not in body or not ("model" in body or "instructions" in body):
            return None
        raw = body.get("input")
        items = [{"role": "user", "content": raw}] if isinstance(raw, str) else [i for i in raw or [] if isinstance(i, dict)]
        start = max(
            (n + 1 for n, i in enumerate(items) if i.get("role") == "assistant" or i.get("type") in _MODEL_ITEMS), default=0
        )
        lines: list[tuple[str, str]] = []
        if start == 0 and body.get("instructions"):
            lines.append(("instructions", text_of(body["instructions"])))
        for item in items[start:] or items[-1:]:
            if item.get("type") == "function_call_output":
                lines.append(("tool result", tag(item.get("call_id")) + text_of(item.get("output"))))
            elif "role" in item:
                lines += message_lines(item)
            else:
                lines.append(("input", f"[{item.get('type', '?')}]"))
        count = body["input"] if isinstance(body["input"], list) else [body["input"]]
        return [f"{len(count)} input item{'s' * (len(count) != 1)}"], lines

    # -- callback order -------------------------------------------------------------------------

    def callback_kind(self, name: str, args: dict[str, Any]) -> CallbackKind | None:
        found = _CALLBACKS.get(name)
        if found is None:
            return None
        family, phase = found
        key = index_key(args)
        return family, phase, key[:1] if family == "item" and key is not None else key

    def callback_problems(self, name: str, args: dict[str, Any], where: str, state: dict[Any, str]) -> list[str]:
        """An event inside an output item (``output_index``) needs that item open (added, not
        done); one inside a content part (``content_index``) needs the part open too."""
        if not name.startswith("response.") or "output_index" not in args or name.startswith("response.output_item."):
            return []
        out = []
        item = (args["output_index"],)
        status = state.get(("item", item))
        if status != "open":
            done = status == "done"
            out.append(f"{where}: {'after' if done else 'before'} item {key_text(item)} was {'done' if done else 'created'}")
        if "content_index" in args and not name.startswith("response.content_part."):
            part = (args["output_index"], args["content_index"])
            status = state.get(("part", part))
            if status != "open":
                done = status == "done"
                out.append(f"{where}: {'after' if done else 'before'} part {key_text(part)} was {'done' if done else 'created'}")
        return out
