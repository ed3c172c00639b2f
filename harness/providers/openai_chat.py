"""OpenAI Chat Completions: the one place that knows its wire format.

Stream chunks (``chat.completion.chunk``) carry ``choices[].delta``; re-splitting cuts ``content``,
``refusal``, ``tool_calls[].function.arguments``, the legacy ``function_call.arguments`` and ``audio``'s
``transcript`` and ``data`` (see :data:`SPLIT_FIELDS` / :data:`WHOLE_FIELDS`). Only the first fragment of a tool call carries
``id``/``type``/``name`` (the SDK concatenates every string field it sees twice, ids included); the
tail chunk takes over ``finish_reason`` and ``usage``. Legacy completions (``prompt``, ``choices[].text``)
are read too.
"""

from __future__ import annotations

from typing import Any

from harness.jsonutil import copy
from harness.providers.base import (
    STATUS_TEXT,
    Answer,
    Entry,
    Part,
    Provider,
    SdkFailure,
    StreamState,
    error_text,
    merge_comments,
    messages_turn,
    plain,
    tail_entry,
    text_of,
)

SERVER_ERROR = "The server had an error while processing your request."


def openai_status_body(status: int) -> dict[str, Any]:
    """The JSON body of an HTTP error status from OpenAI's API (every OpenAI format)."""
    kind = {429: ("rate_limit_exceeded", "rate_limit_exceeded")}.get(status, ("server_error", None))
    return {"error": {"message": STATUS_TEXT.get(status, "error"), "type": kind[0], "param": None, "code": kind[1]}}


#: Every leaf field of a chunk's ``choices[].delta`` (and ``choices[].logprobs``) the SDK accumulates
#: (``accumulate_delta``: strings concatenated, numbers added, indexed lists merged, other lists extended),
#: cut and merged here: the strings whose parts the SDK concatenates back. tests/fuzzing/test_resplit_deltas.py
#: reads the fields of the installed SDK's ``ChoiceDelta`` against these two lists.
SPLIT_FIELDS = frozenset(
    {"content", "refusal", "tool_calls[].function.arguments", "function_call.arguments", "audio.transcript", "audio.data"}
)
_IDENTITY = "concatenated if sent twice, but the API sends it whole in the first fragment (and the tail repeats none)"
#: ... and every one passed whole, with the reason.
WHOLE_FIELDS = {
    "role": _IDENTITY,
    "tool_calls[].index": "which call a fragment belongs to: assigned, never cut",
    "tool_calls[].id": _IDENTITY,
    "tool_calls[].type": "a union tag: assigned, never cut",
    "tool_calls[].function.name": _IDENTITY + "; the SDK looks the tool up by it to parse strict arguments",
    "function_call.name": _IDENTITY,
    "audio.id": _IDENTITY,
    "audio.expires_at": "a number: the SDK would add the two parts",
    "logprobs.content": "a per-token list: never cut (a cut text would need its list cut at the same token); two"
    " chunks that both carry one merge, their lists joined",
    "logprobs.refusal": "likewise",
}
# the nested string fields cut like ``content``: (object, field) of the delta
_NESTED = (("function_call", "arguments"), ("audio", "transcript"), ("audio", "data"))


class OpenAIChat(Provider):
    name = "openai-chat"
    sdk = "openai"
    text_fields = ("content", "refusal", "arguments", "transcript")
    after_end = frozenset({"chunk"})

    # -- detection and re-splitting -------------------------------------------------------------

    def detect(self, events: list[Entry]) -> bool:
        for e in events[:4]:
            data = e.get("data")
            if isinstance(data, dict) and data.get("object") == "chat.completion.chunk":
                return True
        return False

    @staticmethod
    def _choice(entry: Entry, logprobs: bool = False) -> dict[str, Any] | None:
        data = plain(entry)
        if data is None or data.get("object") != "chat.completion.chunk":
            return None
        choices = data.get("choices")
        if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if (choice.get("logprobs") is not None and not logprobs) or not isinstance(choice.get("delta"), dict):
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
        for outer, inner in _NESTED:
            value = delta.get(outer)
            if isinstance(value, dict) and isinstance(value.get(inner), str):
                out.append((f"{outer}.{inner}", value[inner]))
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
        head = copy(entry)
        hchoice = head["data"]["choices"][0]
        data = entry["data"]
        tail_data = {k2: copy(v) for k2, v in data.items() if k2 not in ("choices", "usage")}
        tail_choice: dict[str, Any] = {"index": choice.get("index", 0)}
        if label.startswith("tool_calls"):
            call = hchoice["delta"]["tool_calls"][0]
            call["function"]["arguments"] = text[:k]
            tail_choice["delta"] = {"tool_calls": [{"index": call.get("index", 0), "function": {"arguments": text[k:]}}]}
        elif "." in label:  # function_call.arguments, audio.transcript, audio.data: the tail carries that field only
            outer, inner = label.split(".")
            hchoice["delta"][outer][inner] = text[:k]
            tail_choice["delta"] = {outer: {inner: text[k:]}}
        else:
            hchoice["delta"][label] = text[:k]
            tail_choice["delta"] = {label: text[k:]}
        if "logprobs" in choice:
            tail_choice["logprobs"] = None
        tail_choice["finish_reason"] = choice.get("finish_reason")
        hchoice["finish_reason"] = None
        tail_data["choices"] = [tail_choice]
        if "usage" in data:
            tail_data["usage"] = copy(data["usage"])
            head["data"]["usage"] = None
        return head, tail_entry(entry, tail_data)

    def _merge_key(self, ca: dict[str, Any], cb: dict[str, Any]) -> str | None:
        """What ``b``'s delta adds to ``a``'s: "content", "refusal", "tool_calls", "function_call.arguments",
        "audio.transcript", "audio.data", "" (only a finish reason), or None when they cannot merge."""
        delta_a = ca["delta"]
        delta_b = {k: v for k, v in cb["delta"].items() if v is not None}
        if not delta_b:
            return "" if cb.get("finish_reason") is not None else None
        if set(delta_b) in ({"content"}, {"refusal"}):
            key: str = next(iter(delta_b))
            if not isinstance(delta_a.get(key), str) or not isinstance(delta_b[key], str):
                return None
            return key
        if len(delta_b) == 1 and isinstance(nested := next(iter(delta_b.values())), dict) and len(nested) == 1:
            path = (next(iter(delta_b)), next(iter(nested)))
            outer_a = delta_a.get(path[0])
            if path not in _NESTED or not isinstance(nested[path[1]], str):
                return None
            if not isinstance(outer_a, dict) or not isinstance(outer_a.get(path[1]), str):
                return None
            return ".".join(path)
        if set(delta_b) != {"tool_calls"}:
            return None
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
        return "tool_calls"

    @staticmethod
    def _tokens(choice: dict[str, Any]) -> str | None:
        """Which token list a chunk's ``logprobs`` carries ("content" or "refusal", non-empty, the other null),
        "" for no logprobs, None for any other shape (not merged)."""
        lp = choice.get("logprobs")
        if lp is None:
            return ""
        if not isinstance(lp, dict) or set(lp) - {"content", "refusal"}:
            return None
        full = [k for k in ("content", "refusal") if isinstance(lp.get(k), list) and lp[k]]
        if len(full) != 1 or lp.get("refusal" if full[0] == "content" else "content") is not None:
            return None
        return full[0]

    def merge(self, a: Entry, b: Entry, dry: bool = False) -> Entry | None:
        ca, cb = self._choice(a, logprobs=True), self._choice(b, logprobs=True)
        if ca is None or cb is None or a.get("event") != b.get("event"):
            return None
        # Two chunks with logprobs merge with their token lists joined (the SDK extends its list by each chunk's);
        # a chunk with and one without do not (a first chunk's list is taken as it is, an empty one as empty).
        tokens = self._tokens(ca)
        if tokens is None or tokens != self._tokens(cb):
            return None
        if ca.get("index", 0) != cb.get("index", 0) or ca.get("finish_reason") is not None:
            return None
        da, db = a["data"], b["data"]
        if da.get("usage") is not None:
            return None
        skip = ("choices", "usage", "obfuscation")
        if {k: v for k, v in da.items() if k not in skip} != {k: v for k, v in db.items() if k not in skip}:
            return None
        key = self._merge_key(ca, cb)
        if key is None:
            return None
        if dry:
            return a
        delta_b = {k: v for k, v in cb["delta"].items() if v is not None}
        merged = copy(a)
        mchoice = merged["data"]["choices"][0]
        mdelta = mchoice["delta"]
        if key == "tool_calls":
            mdelta["tool_calls"][0]["function"]["arguments"] += delta_b["tool_calls"][0]["function"]["arguments"]
        elif "." in key:
            outer, inner = key.split(".")
            mdelta[outer][inner] += delta_b[outer][inner]
        elif key:
            mdelta[key] += delta_b[key]
        if tokens:
            mchoice["logprobs"][tokens] = mchoice["logprobs"][tokens] + copy(cb["logprobs"][tokens])
        mchoice["finish_reason"] = cb.get("finish_reason")
        if "usage" in db:
            merged["data"]["usage"] = copy(db["usage"])
        return merge_comments(a, b, merged)

    # -- faults ---------------------------------------------------------------------------------

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        return {"data": {"error": {"message": SERVER_ERROR, "type": "server_error", "param": None, "code": None}}}

    def status_body(self, status: int) -> dict[str, Any]:
        return openai_status_body(status)

    sdk_errors = (
        SdkFailure("status", ("openai.APIStatusError",)),
        SdkFailure("error_event", ("openai.APIError",)),
        SdkFailure("drop", ("openai.APIConnectionError",)),
        SdkFailure("read_timeout", ("openai.APITimeoutError",)),
        SdkFailure(
            "truncate",
            ("builtins.AssertionError",),
            returns=True,
            finding="a stream that ends cleanly before [DONE] gives a partial completion and no error (finish_reason None "
            "when cut before the last chunk); one that ends before its first chunk: a bare AssertionError from "
            "get_final_completion()",
        ),
    )

    # -- reading --------------------------------------------------------------------------------

    def answer(self, data: dict[str, Any]) -> Answer | None:
        if not isinstance(data.get("choices"), list):
            return None
        answer = Answer(error=error_text(data), model=data.get("model"))
        for choice in data["choices"]:
            if not isinstance(choice, dict):
                continue
            index = int(choice.get("index") or 0)
            message = choice.get("message") or {}
            if isinstance(choice.get("text"), str):  # legacy completions
                answer.parts.append(Part("text", choice["text"], choice=index))
            text = text_of(message.get("content"))
            if text:
                answer.parts.append(Part("text", text, choice=index))
            if message.get("refusal"):
                answer.parts.append(Part("refusal", str(message["refusal"]), choice=index))
            calls = list(message.get("tool_calls") or [])
            if message.get("function_call"):
                calls.append({"function": message["function_call"]})
            for call in calls:
                function = call.get("function") or {}
                answer.parts.append(
                    Part(
                        "tool",
                        name=str(function.get("name", "")),
                        id=str(call.get("id", "")),
                        input=function.get("arguments"),
                        choice=index,
                    )
                )
            answer.stop = answer.stop or choice.get("finish_reason")
        return answer

    def keeps_error_field(self, data: dict[str, Any]) -> bool:
        return "choices" in data

    def reads(self, name: str | None, data: dict[str, Any]) -> bool:
        return data.get("object") == "chat.completion.chunk" or isinstance(data.get("choices"), list)

    def feed(self, stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
        stream.seen = True
        stream.answer.model = stream.answer.model or data.get("model")
        for choice in data.get("choices") or []:
            index = int(choice.get("index") or 0)
            delta = choice.get("delta") or {}
            if isinstance(choice.get("text"), str):
                stream.part((index, "text"), "text", choice=index).text += choice["text"]
            if delta.get("content"):
                stream.part((index, "text"), "text", choice=index).text += text_of(delta["content"])
            if delta.get("refusal"):
                stream.part((index, "refusal"), "refusal", choice=index).text += str(delta["refusal"])
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                part = stream.part((index, "tool", call.get("index", 0)), "tool", choice=index)
                part.name = part.name or str(function.get("name") or "")
                part.id = part.id or str(call.get("id") or "")
                part.raw += str(function.get("arguments") or "")
            if choice.get("finish_reason"):
                stream.answer.stop = choice["finish_reason"]

    def turn(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
        found = messages_turn(body)
        if found is None and isinstance(body.get("prompt"), str):  # legacy completions
            return [], [("prompt", body["prompt"])]
        return found
