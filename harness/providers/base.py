"""What every provider module shares: the :class:`Provider` base class and the data it speaks in.

A provider knows one API's wire format. It is asked, by the fuzzer and by the CLI, for:

* detection        ``detect(events)``: whether a recorded SSE stream is in this format
* re-splitting     ``slots`` / ``split`` / ``merge`` / ``renumber``: rewrites of the deltas that keep the meaning
* faults           ``error_entry`` (the mid-stream error event), ``status_body`` / ``status_headers``
                   (an HTTP error answer), ``sdk_errors`` (what the SDK's stream helper raises, measured)
* reading          ``answer`` (a JSON response), ``reads`` / ``feed`` (a streamed one, event by event),
                   ``turn`` (what a request adds to the conversation): for ``harness show`` / ``diff``
* callback order   ``callback_kind`` / ``callback_problems`` and the family sets, for the order checks

Every method has a harmless default, so a provider that only re-splits (the smallest useful one:
``detect``, ``slots``, ``split``, ``merge``) is a complete subclass. Only the standard library here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

Entry = dict[str, Any]
#: ``(family, phase, key)`` of a callback: see :meth:`Provider.callback_kind`.
CallbackKind = tuple[str, str, tuple[Any, ...] | None]
#: the index-like callback arguments that key a block (else: the innermost open block of its family)
INDEX_KEYS = ("index", "output_index", "content_index")


# --------------------------------------------------------------------------------------------------- answers


@dataclass
class Part:
    """One piece of a model's answer: text, thinking, a refusal, a tool call, or some other output item."""

    kind: str  # "text", "thinking", "refusal", "tool", "other"
    text: str = ""
    name: str = ""
    id: str = ""
    input: Any = None  # a tool call's input: parsed JSON where it is JSON
    raw: str = ""  # streamed tool-call arguments, joined
    choice: int = 0

    def finish(self) -> Part:
        if self.kind == "tool":
            source = self.raw if self.raw else self.input
            if isinstance(source, str):
                try:
                    self.input = json.loads(source) if source.strip() else {}
                except ValueError:
                    self.input = source
            elif source is None:
                self.input = {}
            self.raw = ""
        return self


@dataclass
class Answer:
    parts: list[Part] = field(default_factory=list)
    stop: str | None = None
    error: str | None = None
    model: str | None = None


class StreamState:
    """A streamed answer being reassembled from its events (the providers' ``feed`` fill it in)."""

    def __init__(self) -> None:
        self.parts: dict[Any, Part] = {}
        self.answer = Answer()
        self.seen = False
        #: the parts of a final response object that came whole (used when no delta made any)
        self.final_parts: list[Part] | None = None

    def part(self, key: Any, kind: str, **values: Any) -> Part:
        part = self.parts.get(key)
        if part is None:
            part = self.parts[key] = Part(kind, **values)
        return part

    def result(self) -> Answer:
        self.answer.parts = [p.finish() for p in self.parts.values()]
        if not self.answer.parts and self.final_parts is not None:
            self.answer.parts = [p.finish() for p in self.final_parts]
        return self.answer


@dataclass(frozen=True)
class SdkFailure:
    """What a provider's SDK stream helper does for one fault (see ``harness.fuzz.sdk_errors``)."""

    fault: str
    raises: tuple[str, ...]
    returns: bool = False
    finding: str = ""


# --------------------------------------------------------------------------------------------------- small readers


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def tag(value: Any) -> str:
    return f"[{value}] " if value else ""


def text_of(content: Any) -> str:
    """The text of a message content: a string, or text blocks joined (other blocks as ``[type]``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for block in content:
            if isinstance(block, str):
                pieces.append(block)
            elif isinstance(block, dict):
                text = block.get("text")
                if isinstance(text, dict):  # Assistants: {"value": ...}
                    text = text.get("value")
                pieces.append(str(text) if isinstance(text, str) else f"[{block.get('type', '?')}]")
        return "\n".join(pieces)
    return compact(content)


def error_text(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return None
    kind = error.get("type") or error.get("code")
    message = error.get("message") or compact(error)
    return f"{kind}: {message}" if kind else str(message)


def message_lines(message: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` lines for one input message in the role + content shape the APIs share
    (Anthropic blocks, OpenAI chat tool messages and calls; Responses and Assistants reuse it)."""
    role = str(message.get("role", "?"))
    content = message.get("content")
    if role == "tool":
        return [("tool result", tag(message.get("tool_call_id")) + text_of(content))]
    if role == "function":
        return [("tool result", tag(message.get("name")) + text_of(content))]
    lines: list[tuple[str, str]] = []
    if not isinstance(content, list):
        if content is not None:
            lines.append((role, text_of(content)))
    else:
        for block in content:
            if not isinstance(block, dict):
                lines.append((role, str(block)))
                continue
            kind = str(block.get("type", ""))
            if kind == "tool_result":
                error = "(error) " if block.get("is_error") else ""
                lines.append(("tool result", tag(block.get("tool_use_id")) + error + text_of(block.get("content"))))
            elif kind == "tool_use":
                lines.append(("tool call", f"{block.get('name')} {compact(block.get('input'))}"))
            else:
                lines.append((role, text_of([block])))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        lines.append(("tool call", f"{function.get('name')} {function.get('arguments')}"))
    return lines


def messages_turn(body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
    """A ``messages`` request (Anthropic Messages, OpenAI chat): the messages after the last
    assistant message, and the system prompt on the first turn."""
    if not isinstance(body.get("messages"), list):
        return None
    lines: list[tuple[str, str]] = []
    messages = [m for m in body["messages"] if isinstance(m, dict)]
    start = max((n + 1 for n, m in enumerate(messages) if m.get("role") == "assistant"), default=0)
    if start == 0 and body.get("system"):
        lines.append(("system", text_of(body["system"])))
    for message in messages[start:] or messages[-1:]:
        lines += message_lines(message)
    return [f"{len(messages)} message{'s' * (len(messages) != 1)}"], lines


# --------------------------------------------------------------------------------------------------- re-splitting helpers


def plain(entry: Entry) -> dict[str, Any] | None:
    """The JSON data of an entry that can be rewritten (no exact ``raw`` text to keep), else None."""
    if "raw" in entry or "fields" in entry or "id" in entry:
        return None
    data = entry.get("data")
    return data if isinstance(data, dict) else None


def tail_entry(entry: Entry, data: dict[str, Any]) -> Entry:
    """The second half of a split ``entry``: its event name and the JSON style of its stream."""
    out: Entry = {}
    if "event" in entry:
        out["event"] = entry["event"]
    out["data"] = data
    if "style" in entry:
        out["style"] = entry["style"]
    return out


def merge_comments(a: Entry, b: Entry, merged: Entry) -> Entry:
    comments = [*a.get("comments", ()), *b.get("comments", ())]
    if comments:
        merged = {"comments": comments, **{k: v for k, v in merged.items() if k != "comments"}}
    return merged


STATUS_TEXT = {429: "Rate limited", 500: "Internal server error", 503: "Service unavailable", 529: "Overloaded"}


def index_key(args: dict[str, Any]) -> tuple[Any, ...] | None:
    """A callback's block key from its index-like arguments, or None (the innermost open block)."""
    if any(k in args for k in INDEX_KEYS):
        return tuple(args.get(k) for k in INDEX_KEYS if k in args)
    return None


def key_text(key: tuple[Any, ...]) -> str:
    if key and key[0] == "#":
        return f"#{key[1]}"
    return "" if not key else str(list(key))


# --------------------------------------------------------------------------------------------------- the base class


class Provider:
    """One API's wire format. Subclass it and ``harness.providers.register`` an instance (the
    public name is ``harness.strategies.register_rewriter``); the one to know a new format.

    Re-splitting (a subclass for a new format needs these four):

    ``detect(events)``     whether a recorded SSE stream (its entries) is in this format
    ``slots(entry)``       the splittable text fields of an entry: ``[(label, text), ...]``
    ``split(entry, s, k)`` the entry cut in two at character ``k`` of slot ``s``: ``(head, tail)``
    ``merge(a, b)``        one entry saying what ``a`` then ``b`` say, or None when they cannot merge
                           (``dry=True``: just whether they can, without building it)
    ``renumber(events)``   fix counters after a rewrite (returns the positions it changed)
    ``error_entry(n)``     the provider's mid-stream error event (overloaded), as the API sends it
    ``status_body(code)``  the provider's JSON error body for an HTTP error status
    """

    name = ""
    #: the SDK (module name) whose ``APIError`` family its stream helpers document ("": unknown)
    sdk = ""
    #: SSE text field names whose values are worth cutting inside (for the re-chunker's cut points)
    text_fields: tuple[str, ...] = ()
    #: headers an HTTP error answer of this API carries besides content type and retry-after
    status_headers: dict[str, str] = {}
    #: what the SDK's stream helper does for each fault, as measured
    sdk_errors: tuple[SdkFailure, ...] = ()
    #: callback families that must be created before their deltas / done before the stream ends /
    #: keyed by nesting, never by index arguments; callbacks that may come after the end
    explicit_families: frozenset[str] = frozenset()
    must_close: frozenset[str] = frozenset()
    nested_families: frozenset[str] = frozenset()
    after_end: frozenset[str] = frozenset()

    # -- detection and re-splitting -------------------------------------------------------------

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

    # -- faults ---------------------------------------------------------------------------------

    def error_entry(self, events: list[Entry], at: int) -> Entry:
        raise NotImplementedError

    def status_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": STATUS_TEXT.get(status, "error"), "type": "error"}}

    # -- reading, for show and diff -------------------------------------------------------------

    def answer(self, data: dict[str, Any]) -> Answer | None:
        """The answer in a JSON response body of this API, or None when it is not one."""
        return None

    def reads(self, name: str | None, data: dict[str, Any]) -> bool:
        """Whether a stream event (its SSE event name and JSON data) is one of this API's."""
        return False

    def feed(self, stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
        """Add one of this API's stream events to ``stream``."""

    def keeps_error_field(self, data: dict[str, Any]) -> bool:
        """Whether event data with an ``error`` object is still an ordinary event of this API."""
        return False

    def turn(self, body: dict[str, Any]) -> tuple[list[str], list[tuple[str, str]]] | None:
        """What a request body of this API adds to the conversation: (summary bits, lines), or None."""
        return None

    # -- callback order -------------------------------------------------------------------------

    def callback_kind(self, name: str, args: dict[str, Any]) -> CallbackKind | None:
        """``(family, phase, key)`` of a callback this API's SDK makes (phase: created, delta, done,
        end or done+end; key None: the innermost open block of the family), or None."""
        return None

    def callback_problems(self, name: str, args: dict[str, Any], where: str, state: dict[Any, str]) -> list[str]:
        """Nesting rules of this API's callbacks beyond created / delta / done (``state``: block -> open/done)."""
        return []
