"""Delta re-splitting: provider-aware rewrites of a recorded SSE stream that keep its meaning.

A text delta split in two, two adjacent deltas merged, a tool call's JSON arguments cut at any
character. What "the same meaning" takes differs per API, so each format has a :class:`Rewriter`,
chosen by :func:`detect` from the recorded events:

``anthropic``        Messages: ``content_block_delta`` with ``text_delta``, ``input_json_delta``,
                     ``thinking_delta``. A ``signature_delta`` is never split: the API sends a
                     block's signature whole and the SDKs *assign* it (``signature = delta.signature``),
                     so a split signature would change the message, not just its framing.
``openai-chat``      Chat Completions chunks: ``content``, ``refusal``, ``tool_calls[].function.arguments``.
                     Only the first fragment of a tool call carries ``id``/``type``/``name`` (the SDK
                     concatenates every string field it sees twice, ids included); the tail chunk takes
                     over ``finish_reason`` and ``usage``.
``openai-responses`` Responses events ``response.*.delta`` (``output_text``, ``function_call_arguments``,
                     ``reasoning_*``, ``refusal``); ``sequence_number`` is renumbered afterwards.
``openai-assistants`` ``thread.message.delta`` text values and ``thread.run.step.delta`` function arguments.

:func:`register_rewriter` adds a format (or replaces one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

from harness import sse
from harness.cassette.model import HttpInteraction, Response
from harness.fuzz.stream import Recorded, entry_name, sse_body
from harness.fuzz.variant import Variant

Entry = dict[str, Any]


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (faster than ``copy.deepcopy``)."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _plain(entry: Entry) -> dict[str, Any] | None:
    """The JSON data of an entry that can be rewritten (no exact ``raw`` text to keep), else None."""
    if "raw" in entry or "fields" in entry or "id" in entry:
        return None
    data = entry.get("data")
    return data if isinstance(data, dict) else None


def _tail_entry(entry: Entry, data: dict[str, Any]) -> Entry:
    out: Entry = {}
    if "event" in entry:
        out["event"] = entry["event"]
    out["data"] = data
    return out


def _merge_comments(a: Entry, b: Entry, merged: Entry) -> Entry:
    comments = [*a.get("comments", ()), *b.get("comments", ())]
    if comments:
        merged = {"comments": comments, **{k: v for k, v in merged.items() if k != "comments"}}
    return merged


class Rewriter:
    """The meaning-preserving rewrites of one provider format. Subclass and :func:`register_rewriter`.

    ``slots(entry)``       the splittable text fields of an entry: ``[(label, text), ...]``
    ``split(entry, s, k)`` the entry cut in two at character ``k`` of slot ``s``: ``(head, tail)``
    ``merge(a, b)``        one entry saying what ``a`` then ``b`` say, or None when they cannot merge
                           (``dry=True``: just whether they can, without building it)
    ``renumber(events)``   fix counters after a rewrite (returns the positions it changed)
    ``error_entry(n)``     the provider's mid-stream error event (overloaded), as the API sends it
    ``status_body(code)``  the provider's JSON error body for an HTTP error status
    """

    name = ""

    def detect(self, events: list[Entry]) -> bool:
        raise NotImplementedError

    def slots(self, entry: Entry) -> list[tuple[str, str]]:
        return []

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        raise NotImplementedError

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        """With ``dry``, only whether they merge: ``a`` (truthy) or None, nothing copied."""
        return None

    def renumber(self, events: list[Entry]) -> list[int]:
        return []

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        raise NotImplementedError

    def status_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": _STATUS_TEXT.get(status, "error"), "type": "error"}}


_STATUS_TEXT = {429: "Rate limited", 500: "Internal server error", 503: "Service unavailable", 529: "Overloaded"}


# --------------------------------------------------------------------------------------------------- anthropic

_ANTHROPIC_FIELDS = {"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"}


class AnthropicRewriter(Rewriter):
    name = "anthropic"

    def detect(self, events: list[Entry]) -> bool:
        return any(
            e.get("event") == "message_start" or (isinstance(e.get("data"), dict) and e["data"].get("type") == "message_start")
            for e in events[:4]
        )

    def _field(self, entry: Entry) -> tuple[dict[str, Any], str] | None:
        data = _plain(entry)
        if data is None or data.get("type") != "content_block_delta":
            return None
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return None
        field = _ANTHROPIC_FIELDS.get(delta.get("type", ""))
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
        head = _copy(entry)
        tail = _tail_entry(entry, _copy(entry["data"]))
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
        merged = _copy(a)
        merged["data"]["delta"][fa[1]] = fa[0][fa[1]] + fb[0][fb[1]]
        return _merge_comments(a, b, merged)

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {"event": "error", "data": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}}

    def status_body(self, status: int) -> dict[str, Any]:
        kind = {429: "rate_limit_error", 529: "overloaded_error", 500: "api_error"}.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": _STATUS_TEXT.get(status, "error")}}


# --------------------------------------------------------------------------------------------------- openai chat


class OpenAIChatRewriter(Rewriter):
    name = "openai-chat"

    def detect(self, events: list[Entry]) -> bool:
        for e in events[:4]:
            data = e.get("data")
            if isinstance(data, dict) and data.get("object") == "chat.completion.chunk":
                return True
        return False

    @staticmethod
    def _choice(entry: Entry) -> dict[str, Any] | None:
        data = _plain(entry)
        if data is None or data.get("object") != "chat.completion.chunk":
            return None
        choices = data.get("choices")
        if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if choice.get("logprobs") is not None or not isinstance(choice.get("delta"), dict):
            return None
        return choice

    def _slot_paths(self, delta: dict[str, Any]) -> list[tuple[str, str]]:
        out = []
        for key in ("content", "refusal"):
            if isinstance(delta.get(key), str):
                out.append((key, delta[key]))
        calls = delta.get("tool_calls")
        if isinstance(calls, list) and len(calls) == 1 and isinstance(calls[0], dict):
            fn = calls[0].get("function")
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                out.append((f"tool_calls[{calls[0].get('index')}].arguments", fn["arguments"]))
        return out

    def slots(self, entry: Entry) -> list[tuple[str, str]]:
        choice = self._choice(entry)
        if choice is None:
            return []
        return self._slot_paths(choice["delta"])

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        choice = self._choice(entry)
        assert choice is not None
        candidates = [s for s in self._slot_paths(choice["delta"]) if len(s[1]) >= 2]
        label, text = candidates[slot]
        head = _copy(entry)
        hchoice = head["data"]["choices"][0]
        data = entry["data"]
        tail_data = {k2: _copy(v) for k2, v in data.items() if k2 not in ("choices", "usage")}
        tail_choice: dict[str, Any] = {"index": choice.get("index", 0)}
        if label.startswith("tool_calls"):
            call = hchoice["delta"]["tool_calls"][0]
            call["function"]["arguments"] = text[:k]
            tail_choice["delta"] = {"tool_calls": [{"index": call.get("index", 0), "function": {"arguments": text[k:]}}]}
        else:
            hchoice["delta"][label] = text[:k]
            tail_choice["delta"] = {label: text[k:]}
        if "logprobs" in choice:
            tail_choice["logprobs"] = None
        tail_choice["finish_reason"] = choice.get("finish_reason")
        hchoice["finish_reason"] = None
        tail_data["choices"] = [tail_choice]
        if "usage" in data:
            tail_data["usage"] = _copy(data["usage"])
            head["data"]["usage"] = None
        return head, _tail_entry(entry, tail_data)

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        ca, cb = self._choice(a), self._choice(b)
        if ca is None or cb is None or a.get("event") != b.get("event"):
            return None
        if ca.get("index", 0) != cb.get("index", 0) or ca.get("finish_reason") is not None:
            return None
        da, db = a["data"], b["data"]
        if da.get("usage") is not None:
            return None
        if {k: v for k, v in da.items() if k not in ("choices", "usage", "obfuscation")} != {
            k: v for k, v in db.items() if k not in ("choices", "usage", "obfuscation")
        }:
            return None
        delta_a = ca["delta"]
        delta_b = {k: v for k, v in cb["delta"].items() if v is not None}
        key = ""
        if not delta_b:
            if cb.get("finish_reason") is None:
                return None
        elif set(delta_b) in ({"content"}, {"refusal"}):
            key = next(iter(delta_b))
            if not isinstance(delta_a.get(key), str) or not isinstance(delta_b[key], str):
                return None
        elif set(delta_b) == {"tool_calls"}:
            calls_b, calls_a = delta_b["tool_calls"], delta_a.get("tool_calls")
            if not (isinstance(calls_b, list) and len(calls_b) == 1 and isinstance(calls_a, list) and len(calls_a) == 1):
                return None
            cb0, ca0 = calls_b[0], calls_a[0]
            if not isinstance(cb0, dict) or set(cb0) != {"index", "function"} or not isinstance(cb0["function"], dict):
                return None
            if set(cb0["function"]) != {"arguments"} or cb0["index"] != ca0.get("index"):
                return None
            fa = ca0.get("function")
            if (
                not isinstance(fa, dict)
                or not isinstance(fa.get("arguments"), str)
                or not isinstance(cb0["function"]["arguments"], str)
            ):
                return None
            key = "tool_calls"
        else:
            return None
        if dry:
            return a
        merged = _copy(a)
        mchoice = merged["data"]["choices"][0]
        mdelta = mchoice["delta"]
        if key == "tool_calls":
            mdelta["tool_calls"][0]["function"]["arguments"] += delta_b["tool_calls"][0]["function"]["arguments"]
        elif key:
            mdelta[key] += delta_b[key]
        mchoice["finish_reason"] = cb.get("finish_reason")
        if "usage" in db:
            merged["data"]["usage"] = _copy(db["usage"])
        return _merge_comments(a, b, merged)

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {
            "data": {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "param": None,
                    "code": None,
                }
            }
        }

    def status_body(self, status: int) -> dict[str, Any]:
        kind = {429: ("rate_limit_exceeded", "rate_limit_exceeded")}.get(status, ("server_error", None))
        return {"error": {"message": _STATUS_TEXT.get(status, "error"), "type": kind[0], "param": None, "code": kind[1]}}


# --------------------------------------------------------------------------------------------------- openai responses

_RESPONSES_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.function_call_arguments.delta",
        "response.reasoning_summary_text.delta",
        "response.reasoning_text.delta",
        "response.refusal.delta",
        "response.custom_tool_call_input.delta",
    }
)


class OpenAIResponsesRewriter(Rewriter):
    name = "openai-responses"

    def detect(self, events: list[Entry]) -> bool:
        return any(str(e.get("event", "")).startswith("response.") for e in events[:4])

    @staticmethod
    def _data(entry: Entry) -> dict[str, Any] | None:
        data = _plain(entry)
        if data is None or entry.get("event") not in _RESPONSES_DELTAS or not isinstance(data.get("delta"), str):
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
        head = _copy(entry)
        tail = _tail_entry(entry, _copy(entry["data"]))
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
        merged = _copy(a)
        merged["data"]["delta"] = da["delta"] + db["delta"]
        return _merge_comments(a, b, merged)

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
                e = events[i] = _copy(e)
                e["data"]["sequence_number"] = expect
                changed.append(i)
            expect += 1
        return changed

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        seq = 0
        for e in events[:at]:
            data = e.get("data")
            if isinstance(data, dict) and isinstance(data.get("sequence_number"), int):
                seq = data["sequence_number"] + 1
        return {
            "event": "error",
            "data": {
                "type": "error",
                "code": "server_error",
                "message": "The server had an error while processing your request.",
                "param": None,
                "sequence_number": seq,
            },
        }

    def status_body(self, status: int) -> dict[str, Any]:
        return OpenAIChatRewriter().status_body(status)


# --------------------------------------------------------------------------------------------------- openai assistants


class OpenAIAssistantsRewriter(Rewriter):
    name = "openai-assistants"

    def detect(self, events: list[Entry]) -> bool:
        return any(str(e.get("event", "")).startswith("thread.") for e in events[:4])

    @staticmethod
    def _target(entry: Entry) -> tuple[str, dict[str, Any], str] | None:
        """(kind, the dict holding the text, its key) for a message text delta or step arguments delta."""
        data = _plain(entry)
        if data is None or not isinstance(data.get("delta"), dict):
            return None
        event = entry.get("event")
        if event == "thread.message.delta":
            content = data["delta"].get("content")
            if (
                isinstance(content, list)
                and len(content) == 1
                and isinstance(content[0], dict)
                and content[0].get("type") == "text"
            ):
                text = content[0].get("text")
                if isinstance(text, dict) and isinstance(text.get("value"), str) and not text.get("annotations"):
                    return "text", text, "value"
        elif event == "thread.run.step.delta":
            details = data["delta"].get("step_details")
            if isinstance(details, dict) and details.get("type") == "tool_calls":
                calls = details.get("tool_calls")
                if (
                    isinstance(calls, list)
                    and len(calls) == 1
                    and isinstance(calls[0], dict)
                    and calls[0].get("type") == "function"
                ):
                    fn = calls[0].get("function")
                    if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                        return "arguments", fn, "arguments"
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
            delta: dict[str, Any] = {"content": [{"index": item.get("index", 0), "type": "text", "text": {"value": rest}}]}
        else:
            call = data["delta"]["step_details"]["tool_calls"][0]
            tool: dict[str, Any] = {"index": call.get("index", 0), "type": "function", "function": {"arguments": rest}}
            delta = {"step_details": {"type": "tool_calls", "tool_calls": [tool]}}
        return _tail_entry(entry, {**head, "delta": delta})

    def split(self, entry: Entry, slot: int, k: int) -> tuple[Entry, Entry]:
        target = self._target(entry)
        assert target is not None
        text = target[1][target[2]]
        head = _copy(entry)
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
            return (
                set(delta) == {"content"}
                and set(item) == {"index", "type", "text"}
                and set(item["text"]) - {"annotations"} == {"value"}
            )
        details = delta["step_details"]
        call = details["tool_calls"][0]
        fn = call["function"]
        return (
            set(delta) == {"step_details"}
            and set(details) == {"type", "tool_calls"}
            and set(call) == {"index", "type", "function"}
            and set(fn) - {"output"} == {"arguments"}
            and fn.get("output") is None
        )

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        ta, tb = self._target(a), self._target(b)
        if ta is None or tb is None or a.get("event") != b.get("event"):
            return None
        if a["data"].get("id") != b["data"].get("id") or self._index(a) != self._index(b) or not self._bare(b):
            return None
        if dry:
            return a
        merged = _copy(a)
        tm = self._target(merged)
        assert tm is not None
        tm[1][tm[2]] += tb[1][tb[2]]
        return _merge_comments(a, b, merged)

    @staticmethod
    def _index(entry: Entry) -> Any:
        delta = entry["data"]["delta"]
        if entry.get("event") == "thread.message.delta":
            return delta["content"][0].get("index", 0)
        return delta["step_details"]["tool_calls"][0].get("index", 0)

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {
            "event": "error",
            "data": {
                "error": {
                    "message": "The server had an error while processing your request.",
                    "type": "server_error",
                    "param": None,
                    "code": "server_error",
                }
            },
        }

    def status_body(self, status: int) -> dict[str, Any]:
        return OpenAIChatRewriter().status_body(status)


# --------------------------------------------------------------------------------------------------- registry

_REWRITERS: dict[str, Rewriter] = {}


def register_rewriter(rewriter: Rewriter) -> Rewriter:
    """Add (or replace) the rewriter of a format; detection tries formats in registration order."""
    _REWRITERS[rewriter.name] = rewriter
    return rewriter


for _rw in (AnthropicRewriter(), OpenAIChatRewriter(), OpenAIResponsesRewriter(), OpenAIAssistantsRewriter()):
    register_rewriter(_rw)


def rewriters() -> dict[str, Rewriter]:
    return dict(_REWRITERS)


def detect(events: list[Entry] | None) -> str | None:
    """The format of a recorded SSE stream (``anthropic``, ``openai-chat``...), or None."""
    if not events:
        return None
    for name, rw in _REWRITERS.items():
        if rw.detect(events):
            return name
    return None


def rewriter_for(rec: Recorded) -> Rewriter | None:
    return _REWRITERS.get(rec.format or "")


# --------------------------------------------------------------------------------------------------- edits


def _show(text: str, k: int, width: int = 16) -> str:
    left, right = text[max(0, k - width) : k], text[k : k + width]
    return f"{'…' if k > width else ''}{left}|{right}{'…' if len(text) - k > width else ''}"


class Edit:
    """A working copy of a recorded stream: events and their rendered bytes, re-rendered lazily."""

    def __init__(self, rec: Recorded, rw: Rewriter) -> None:
        assert rec.events is not None
        self.rec, self.rw = rec, rw
        self.events: list[Entry] = list(rec.events)
        self.parts: list[bytes | None] = list(rec.parts)
        self.ops: list[str] = []
        # What is known of the recording's own entries (alive as long as it is) is kept on it for
        # every later draw; what is known of entries made by this edit stays with the edit.
        memo = rec.memo
        self._own: set[int] = memo.setdefault("own", {id(e) for e in rec.events})
        self._own_slots: dict[int, list[tuple[str, str]]] = memo.setdefault(f"slots:{rw.name}", {})
        self._own_mergeable: dict[tuple[int, int], bool] = memo.setdefault(f"mergeable:{rw.name}", {})
        self._slots: dict[int, list[tuple[str, str]]] = {}
        self._mergeable: dict[tuple[int, int], bool] = {}
        self._keep = self.events[:]  # keeps replaced entries alive, so the id() keys above stay unique

    def slots_of(self, i: int) -> list[tuple[str, str]]:
        e = self.events[i]
        key = id(e)
        cache = self._own_slots if key in self._own else self._slots
        found = cache.get(key)
        if found is None:
            found = cache[key] = [s for s in self.rw.slots(e) if len(s[1]) >= 2]
        return found

    def split_candidates(self) -> list[tuple[int, int]]:
        return [(i, s) for i in range(len(self.events)) for s in range(len(self.slots_of(i)))]

    def merge_candidates(self) -> list[int]:
        ev, own, merge = self.events, self._own, self.rw.merge
        out = []
        for i in range(len(ev) - 1):
            key = (id(ev[i]), id(ev[i + 1]))
            cache = self._own_mergeable if key[0] in own and key[1] in own else self._mergeable
            ok = cache.get(key)
            if ok is None:
                ok = cache[key] = merge(ev[i], ev[i + 1], dry=True) is not None
            if ok:
                out.append(i)
        return out

    def split(self, i: int, slot: int, k: int) -> None:
        entry = self.events[i]
        label, text = self.slots_of(i)[slot]
        head, tail = self.rw.split(entry, slot, k)
        self.events[i : i + 1] = [head, tail]
        self._keep += (head, tail)
        self.parts[i : i + 1] = [None, None]
        self.ops.append(f"split #{i} {entry_name(entry)} {label} {_show(text, k)!r} at char {k}")

    def merge(self, i: int) -> bool:
        a, b = self.events[i], self.events[i + 1]
        merged = self.rw.merge(a, b)
        if merged is None:
            return False
        self.events[i : i + 2] = [merged]
        self._keep.append(merged)
        self.parts[i : i + 2] = [None]
        self.ops.append(f"merge #{i}+#{i + 1} {entry_name(a)}")
        return True

    def finish(self) -> tuple[list[Entry], list[bytes]]:
        for i in self.rw.renumber(self.events):
            self.parts[i] = None
        eol = self.rec.eol
        parts = [p if p is not None else sse.render_entry(e, eol).encode("utf-8") for e, p in zip(self.events, self.parts)]
        return self.events, parts


def build(
    rec: Recorded, events: list[Entry], parts: list[bytes], *, label: str, details: list[str], kind: str = "resplit"
) -> Variant:
    """A variant replaying ``events`` (one network chunk per event) in place of ``rec``."""
    resp = rec.response
    body = sse_body(events, rec.eol, parts)
    chunks: list[list[float]] = [[len(p), 0.0] for p in parts if p]
    new = Response(resp.status, resp.headers, body, chunks or [[0, 0.0]], resp.error)
    interaction = HttpInteraction(rec.interaction.request, new, None, rec.interaction.elapsed_ms)
    return Variant(rec.index, interaction, kind=kind, label=label, details=details, format=rec.format)


def resplit(rec: Recorded, ops: list[tuple[Any, ...]]) -> Variant:
    """Apply explicit ops to ``rec``: ``("split", event, slot, char)``, ``("merge", event)``,
    ``("explode", lo, hi, step)`` (the deltas of events lo..hi cut every ``step`` characters; all
    arguments optional), ``("merge_all", lo, hi)``."""
    rw = rewriter_for(rec)
    if rw is None:
        raise ValueError(f"no rewriter knows the format of interaction #{rec.index} (known: {', '.join(_REWRITERS)})")
    edit = Edit(rec, rw)
    for op in ops:
        if op[0] == "split":
            edit.split(op[1], op[2], op[3])
        elif op[0] == "merge":
            edit.merge(op[1])
        elif op[0] == "explode":
            _explode(edit, *op[1:])
        elif op[0] == "merge_all":
            _merge_all(edit, *op[1:])
        else:
            raise ValueError(f"unknown resplit op {op!r}")
    return _finish(rec, edit)


def _explode(edit: Edit, lo: int = 0, hi: int | None = None, step: int = 1, limit: int | None = None) -> None:
    """Cut every splittable delta of events ``lo..hi`` (current positions) every ``step`` characters."""
    last = len(edit.events) - 1
    hi = last if hi is None else min(hi, last)
    count = 0
    for i in range(hi, lo - 1, -1):  # from the end, so the positions before i stay put
        j = i
        while edit.slots_of(j) and len(edit.slots_of(j)[0][1]) > step and (limit is None or count < limit):
            edit.split(j, 0, step)
            edit.ops.pop()
            count += 1
            j += 1
    span = "every delta" if (lo, hi) == (0, last) else f"the deltas of events #{lo}..#{hi}"
    if count:
        edit.ops.append(f"explode: {span} cut every {step} char{'s' if step > 1 else ''} ({count} splits)")


def _merge_all(edit: Edit, lo: int = 0, hi: int | None = None) -> None:
    """Merge every run of mergeable deltas among events ``lo..hi`` (current positions)."""
    hi = len(edit.events) - 1 if hi is None else min(hi, len(edit.events) - 1)
    merges = 0
    i = lo
    while i < hi:
        if edit.merge(i):
            edit.ops.pop()
            merges += 1
            hi -= 1
        else:
            i += 1
    if merges:
        edit.ops.append(f"merge_all: the deltas of events #{lo}..#{hi + merges} merged where they can be ({merges} merges)")


def _finish(rec: Recorded, edit: Edit) -> Variant:
    events, parts = edit.finish()
    shown = "; ".join(edit.ops[:4]) + (f"; … {len(edit.ops) - 4} more" if len(edit.ops) > 4 else "")
    label = f"resplit(#{rec.index} {rec.format}: {shown or 'unchanged'})"
    return build(rec, events, parts, label=label, details=list(edit.ops))


def resplit_strategy(rec: Recorded, *, max_ops: int = 6) -> st.SearchStrategy[Variant]:
    """Meaning-preserving rewrites of ``rec``'s deltas: half of the time a dense block first (every
    delta of a window of events exploded every ``k`` characters, or merged), then a few single
    splits and merges. Shrinks towards one split: the window narrows to one event, ``k`` grows."""
    rw = rewriter_for(rec)
    if rw is None or rec.events is None:
        return st.nothing()
    n_events = len(rec.events)

    @st.composite
    def draw_variant(draw: Callable[..., Any]) -> Variant:
        edit = Edit(rec, rw)
        if draw(st.booleans()):
            hi = draw(st.integers(0, n_events - 1))
            lo = max(0, hi - draw(st.integers(0, n_events)))
            if draw(st.booleans()):
                _merge_all(edit, lo, hi)
            else:
                _explode(edit, lo, hi, step=16 - draw(st.integers(0, 15)), limit=4000)
        for _ in range(draw(st.integers(0, max_ops))):
            if draw(st.booleans()):
                merges = edit.merge_candidates()
                if merges:
                    edit.merge(merges[draw(st.integers(0, len(merges) - 1))])
                    continue
            splits = edit.split_candidates()
            if not splits:
                continue
            i, slot = splits[draw(st.integers(0, len(splits) - 1))]
            text = edit.slots_of(i)[slot][1]
            edit.split(i, slot, draw(st.integers(1, len(text) - 1)))
        return _finish(rec, edit)

    return draw_variant()
