"""OpenAI Assistants (threads and runs): the one place that knows its wire format.

Stream events ``thread.*`` (``thread.run.created``, ``thread.message.delta``,
``thread.run.step.delta``, ...). Re-splitting cuts ``thread.message.delta`` text values and refusals and
``thread.run.step.delta`` function arguments and code interpreter input (:data:`SPLIT_DELTAS`). The SDK's ``AssistantEventHandler`` callbacks
(``on_text_created``, ``on_tool_call_delta``, ``on_end``...) are its callback names.
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
    index_key,
    merge_comments,
    message_lines,
    tag,
    tail_entry,
    text_of,
)
from harness.providers.base import plain as _plain
from harness.providers.openai_chat import SERVER_ERROR, openai_status_body

_CALLBACKS = {"on_end": ("run", "end")}
for _family in ("text", "message", "tool_call", "run_step"):
    _CALLBACKS[f"on_{_family}_created"] = (_family, "created")
    _CALLBACKS[f"on_{_family}_delta"] = (_family, "delta")
    _CALLBACKS[f"on_{_family}_done"] = (_family, "done")
_RAW = "the raw transport exception reaches the caller, not the SDK's {wrapped}"
_REWRAPS = ": openai/lib/streaming/_assistants.py catches APIConnectionError and re-raises its __cause__"


def run_tool_calls(run: dict[str, Any]) -> list[Part]:
    """The tool calls a run waits for (``required_action.submit_tool_outputs``)."""
    calls = (((run.get("required_action") or {}).get("submit_tool_outputs")) or {}).get("tool_calls") or []
    return [
        Part(
            "tool",
            name=str((c.get("function") or {}).get("name", "")),
            id=str(c.get("id", "")),
            input=(c.get("function") or {}).get("arguments"),
        )
        for c in calls
    ]


#: Every delta type of the SDK's Assistants accumulators (``accumulate_event`` for a message's content deltas,
#: ``accumulate_run_step`` for a step's tool call deltas; both ``accumulate_delta``, which concatenates strings),
#: keyed ``content.<type>`` / ``tool_call.<type>``: cut and merged (the field whose text is cut) ...
SPLIT_DELTAS = {
    "content.text": "text.value",
    "content.refusal": "refusal",
    "tool_call.function": "function.arguments",
    "tool_call.code_interpreter": "code_interpreter.input",
}
#: ... or passed whole, and why (tests/fuzzing/test_resplit_deltas.py reads the SDK's delta unions).
WHOLE_DELTAS = {
    "content.image_file": "a file id, not text",
    "content.image_url": "a URL, not text: the two halves would concatenate, but no server sends one in parts",
    "tool_call.file_search": "the search's ranking options and results: objects, no text to cut",
}
# a step's tool call type -> the text field of its object that the accumulator concatenates
_STEP_FIELDS = {"function": "arguments", "code_interpreter": "input"}


class OpenAIAssistants(Provider):
    name = "openai-assistants"
    sdk = "openai"
    text_fields = ("value", "arguments", "refusal", "input")
    explicit_families = frozenset({"text", "tool_call", "run_step"})
    # An Assistants run that stops at ``requires_action`` legitimately leaves its tool-call step
    # open until the outputs are submitted: only its texts must be done by the end.
    must_close = frozenset({"text"})
    nested_families = frozenset({"text", "message", "run_step"})
    after_end = frozenset({"on_event", "on_exception"})

    # -- detection and re-splitting -------------------------------------------------------------

    def detect(self, events: list[Entry]) -> bool:
        return any(str(e.get("event", "")).startswith("thread.") for e in events[:4])

    @staticmethod
    def _target(entry: Entry) -> tuple[str, dict[str, Any], str] | None:
        """(kind, the dict holding the text, its key) for a cuttable delta: a message's text value or refusal, a
        step's function arguments or code interpreter input."""
        data = _plain(entry)
        if data is None or not isinstance(data.get("delta"), dict):
            return None
        event = entry.get("event")
        if event == "thread.message.delta":
            content = data["delta"].get("content")
            if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict):
                item = content[0]
                if item.get("type") == "text":
                    text = item.get("text")
                    if isinstance(text, dict) and isinstance(text.get("value"), str) and not text.get("annotations"):
                        return "text", text, "value"
                elif item.get("type") == "refusal" and isinstance(item.get("refusal"), str):
                    return "refusal", item, "refusal"
        elif event == "thread.run.step.delta":
            details = data["delta"].get("step_details")
            if isinstance(details, dict) and details.get("type") == "tool_calls":
                calls = details.get("tool_calls")
                if isinstance(calls, list) and len(calls) == 1 and isinstance(calls[0], dict):
                    kind = calls[0].get("type")
                    holder = calls[0].get(kind) if kind in _STEP_FIELDS else None
                    key = _STEP_FIELDS.get(str(kind), "")
                    if isinstance(holder, dict) and isinstance(holder.get(key), str):
                        return key, holder, key
        return None

    def slots(self, entry: Entry) -> list[tuple[str, str]]:
        target = self._target(entry)
        if target is None or len(target[1][target[2]]) < 2:
            return []
        return [(target[0], target[1][target[2]])]

    def _tail(self, entry: Entry, rest: str) -> Entry:
        data = entry["data"]
        head = {k: data[k] for k in ("id", "object") if k in data}
        if entry.get("event") == "thread.message.delta":
            item = data["delta"]["content"][0]
            value: Any = {"value": rest} if item["type"] == "text" else rest
            delta: dict[str, Any] = {"content": [{"index": item.get("index", 0), "type": item["type"], item["type"]: value}]}
        else:
            call = data["delta"]["step_details"]["tool_calls"][0]
            kind = call["type"]
            tool: dict[str, Any] = {"index": call.get("index", 0), "type": kind, kind: {_STEP_FIELDS[kind]: rest}}
            delta = {"step_details": {"type": "tool_calls", "tool_calls": [tool]}}
        return tail_entry(entry, {**head, "delta": delta})

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        target = self._target(entry)
        assert target is not None
        text = target[1][target[2]]
        head = copy(entry)
        htarget = self._target(head)
        assert htarget is not None
        htarget[1][htarget[2]] = text[:k]
        return head, self._tail(entry, text[k:])

    def _bare(self, entry: Entry) -> bool:
        """True when ``entry`` says nothing but more text for one content item or tool call."""
        if self._target(entry) is None or set(entry) - {"event", "data", "comments"}:
            return False
        data = entry["data"]
        if set(data) - {"id", "object", "delta"}:
            return False
        delta = data["delta"]
        if entry.get("event") == "thread.message.delta":
            item = delta["content"][0]
            kind = item["type"]
            return (
                set(delta) == {"content"}
                and set(item) == {"index", "type", kind}
                and (kind == "refusal" or set(item["text"]) - {"annotations"} == {"value"})
            )
        details = delta["step_details"]
        call = details["tool_calls"][0]
        kind = call["type"]
        holder = call[kind]
        extra = "output" if kind == "function" else "outputs"  # nothing but more text: no output yet
        return (
            set(delta) == {"step_details"}
            and set(details) == {"type", "tool_calls"}
            and set(call) == {"index", "type", kind}
            and set(holder) - {extra} == {_STEP_FIELDS[kind]}
            and not holder.get(extra)
        )

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        ta, tb = self._target(a), self._target(b)
        if ta is None or tb is None or a.get("event") != b.get("event"):
            return None
        if a["data"].get("id") != b["data"].get("id") or self._index(a) != self._index(b) or not self._bare(b):
            return None
        if dry:
            return a
        merged = copy(a)
        tm = self._target(merged)
        assert tm is not None
        tm[1][tm[2]] += tb[1][tb[2]]
        return merge_comments(a, b, merged)

    @staticmethod
    def _index(entry: Entry) -> Any:
        delta = entry["data"]["delta"]
        if entry.get("event") == "thread.message.delta":
            return delta["content"][0].get("index", 0)
        return delta["step_details"]["tool_calls"][0].get("index", 0)

    # -- faults ---------------------------------------------------------------------------------

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {
            "event": "error",
            "data": {"error": {"message": SERVER_ERROR, "type": "server_error", "param": None, "code": "server_error"}},
        }

    def status_body(self, status: int) -> dict[str, Any]:
        return openai_status_body(status)

    sdk_errors = (
        SdkFailure("status", ("openai.APIStatusError",)),
        SdkFailure("error_event", ("openai.APIError",)),
        SdkFailure("drop", ("{http}.RemoteProtocolError",), finding=_RAW.format(wrapped="APIConnectionError") + _REWRAPS),
        SdkFailure("read_timeout", ("{http}.ReadTimeout",), finding=_RAW.format(wrapped="APITimeoutError") + _REWRAPS),
        SdkFailure(
            "truncate",
            ("builtins.RuntimeError",),
            returns=True,
            finding="until_done() returns normally on a stream that ends early; get_final_messages() / get_final_run() "
            'then raise RuntimeError("No messages found" / "No final run object found") when those events never came, '
            "else return what came (a run still in_progress, a message cut short)",
        ),
    )

    # -- reading --------------------------------------------------------------------------------

    def answer(self, data: dict[str, Any]) -> Answer | None:
        obj = data.get("object")
        if obj == "thread.run":
            last = data.get("last_error")
            error = f"{last.get('code')}: {last.get('message')}" if isinstance(last, dict) else None
            return Answer(run_tool_calls(data), data.get("status"), error, data.get("model"))
        if obj == "thread.message" and data.get("role") == "assistant":
            return Answer([Part("text", text_of(data.get("content")))], data.get("status"))
        return None

    def reads(self, name: str | None, data: dict[str, Any]) -> bool:
        return bool(name and name.startswith("thread."))

    def feed(self, stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
        assert name is not None
        stream.seen = True
        if name == "thread.message.delta":
            for piece in (data.get("delta") or {}).get("content") or []:
                text = (piece.get("text") or {}).get("value", "") if isinstance(piece.get("text"), dict) else ""
                stream.part((data.get("id"), piece.get("index", 0)), "text").text += str(text)
        elif name == "thread.run.step.delta":
            details = (data.get("delta") or {}).get("step_details") or {}
            for call in details.get("tool_calls") or []:
                function = call.get("function") or {}
                part = stream.part((data.get("id"), call.get("index", 0)), "tool", name=str(call.get("type", "")))
                if function.get("name"):
                    part.name = str(function["name"])
                part.id = part.id or str(call.get("id") or "")
                part.raw += str(function.get("arguments") or "")
        elif name.startswith("thread.run.") and not name.startswith("thread.run.step") and isinstance(data.get("status"), str):
            stream.answer.model = data.get("model") or stream.answer.model
            stream.answer.stop = data["status"]
            last = data.get("last_error")
            if isinstance(last, dict):
                stream.answer.error = f"{last.get('code')}: {last.get('message')}"

    def turn(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
        """The tool outputs submitted, a message added, or the messages a run starts with."""
        if isinstance(body.get("tool_outputs"), list):
            outputs = [o for o in body["tool_outputs"] if isinstance(o, dict)]
            return [], [("tool result", tag(o.get("tool_call_id")) + text_of(o.get("output"))) for o in outputs]
        if "role" in body and "content" in body:
            return [], message_lines(body)
        if isinstance(body.get("thread"), dict) or "assistant_id" in body:
            summary = [f"assistant {body['assistant_id']}"] if body.get("assistant_id") else []
            lines: list[tuple[str, str]] = []
            for message in ((body.get("thread") or {}).get("messages") or []) + list(body.get("additional_messages") or []):
                lines += message_lines(message)
            return summary, lines
        return None

    # -- callback order -------------------------------------------------------------------------

    def callback_kind(self, name: str, args: dict[str, Any]) -> CallbackKind | None:
        found = _CALLBACKS.get(name)
        if found is None:
            return None
        family, phase = found
        return family, phase, None if family in self.nested_families else index_key(args)
