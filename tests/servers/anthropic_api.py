"""A fake Anthropic Messages API speaking the real wire format, message threads included.

Mount ``routes`` in a Starlette app (``tests/servers/model_server.py`` does; ``ServerThread(Starlette(routes=routes))``
works alone) and point the SDK's ``base_url`` at the server. Scenarios (``x-fake-scenario``) are the ones of ``base.py``.

Endpoints: ``POST /v1/messages`` (a ``Message`` as JSON, or with ``"stream": true`` the named SSE events
``message_start``, ``content_block_start``, ``ping``, ``content_block_delta``, ``content_block_stop``,
``message_delta``, ``message_stop``) and ``POST /v1/messages/count_tokens``. A request without ``x-api-key`` or
``authorization`` gets a 401. Errors have the API's shape, ``{"type": "error", "error": {"type", "message"[, "details"]},
"request_id"}``, with the API's status (429 ``rate_limit_error``, 529 ``overloaded_error``...) and every response a
``request-id`` header.

Message threads (beta ``message-threads-2026-08-12``, which must be in ``anthropic-beta``): a request with
``"thread": {"type": "create"}`` makes the server keep the conversation (``system``, ``tools``, the messages and the
reply) under the reply's ``id``; ``"thread": {"type": "continue", "previous_message_id": id}`` sends only the new
messages, no ``system`` or ``tools`` (a 400 if it does), and is answered from the kept conversation. An unknown id is a
404 with ``error.details.error_code`` ``thread_not_found``; a reply continued twice a 400 ``thread_already_continued``.
The answer has the plain ``Message`` shape. Threads live in memory, per app.

The brain (same request -> byte-identical response):

* tools are offered and the last user turn is text -> "Let me check." and one ``tool_use`` (stop_reason ``tool_use``)
  calling the tool forced by ``tool_choice``, else the first whose name appears in the user's text, else the first.
  Its input comes from the tool's ``input_schema``: each required property (when none are listed: those without
  a default, or the first if all have one) gets, if a string (``type``, or the first non-null ``anyOf`` member), the last quoted phrase or capitalised word of the user's text ("What is the weather in Paris?" ->
  ``{"city": "Paris"}``), an integer/number 1, a boolean true, an enum its first value. ``tool_choice`` ``none``
  suppresses the call. Client-run built-ins: a memory tool (``memory_…``) is called with ``{"command": "create",
  "path": "/memories/<word>.md", "file_text": <the text>}``; a toolset entry (``computer_toolset_…``) with its
  ``screenshot`` member (``toolset_name`` the family, input ``{}``).
* the last user turn holds ``tool_result`` blocks -> ``"Result: " + <their texts joined by "; ">``, or
  ``"The tool failed: " + ...`` if one has ``is_error``.
* otherwise -> ``"You said: " + <last user text>``.

Compaction (beta ``compact-2026-09-04``, a 400 without it): a request with ``"compaction": {"type": "summarize"}``
(what the tool runner's ``compact_before_next_turn()`` sends) is answered with one ``compaction`` block,
``"Summary: the user asked: " + <user texts> [+ " The tools answered: " + <tool results joined by "; ">]``, and
stop_reason ``compaction``; streamed, a ``content_block_start`` of type ``compaction`` (``content`` null) and one
``compaction_delta`` carrying the whole summary. A conversation sent back with a compaction block is answered from what
follows it, or, when no user turn follows, ``"From the summary: " + <its content>``. A user turn with a ``document``
(text source) whose ``citations.enabled`` is true -> its first sentence as text with one ``char_location`` citation
(streamed: ``citations_delta`` first, then the text deltas).

Text streams in word deltas (split on spaces, spaces kept); a tool's input streams as an empty ``input_json_delta``
then ``FRAGMENT``-character pieces, cut mid-token. Ids are ``deterministic_id`` of the request (and of the thread's
kept conversation); usage counts are derived from lengths.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers.base import Scenario, deterministic_id, json_response, should_fail, sse_response

THREADS_BETA = "message-threads-2026-08-12"
COMPACT_BETA = "compact-2026-09-04"
FRAGMENT = 5
PING = '{"type": "ping"}'  # the real API's ping is the one event it does not encode compactly
SCHEMA_DEFAULTS: dict[str, Any] = {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}

Json = dict[str, Any]
Events = list[tuple[str | None, Any]]

# --------------------------------------------------------------------------------------------------- the brain


def blocks(content: Any) -> list[Json]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def text_of(content: Any) -> str:
    return " ".join(b["text"] for b in blocks(content) if b.get("type") == "text")


def pick_word(text: str) -> str:
    """The last quoted phrase or capitalised word of ``text`` (else its last word)."""
    found = [q or w for q, w in re.findall(r'"([^"]+)"|(\w[\w-]*)', text) if q or w[0].isupper()]
    return found[-1] if found else (text.split() or [""])[-1]


def tool_input(schema: Json, text: str) -> Json:
    props: Json = schema.get("properties") or {}
    out: Json = {}
    # No ``required`` list: every property without a default; when all have one (the agent toolset's ``bash``:
    # command, restart, timeout_ms), the first.
    chosen = [n for n, p in props.items() if "default" not in (p or {})] or list(props)[:1]
    for name in schema.get("required", chosen):
        prop = props.get(name) or {}
        kind = prop.get("type")
        if kind is None and isinstance(prop.get("anyOf"), list):  # Optional[...]: its first non-null member
            kind = [str(m.get("type")) for m in prop["anyOf"] if isinstance(m, dict)]
        kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
        if prop.get("enum"):
            out[name] = prop["enum"][0]
        else:
            out[name] = SCHEMA_DEFAULTS.get(str(kind), pick_word(text))
    return out


def summarize(messages: list[Json]) -> str:
    """What a compaction request answers: the user's texts and the tools' results."""
    asked = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    results = [text_of(b.get("content")) for m in messages for b in blocks(m.get("content")) if b.get("type") == "tool_result"]
    summary = "Summary: the user asked: " + " ".join(a for a in asked if a)
    return summary + (" The tools answered: " + "; ".join(results) if results else "")


def after_compaction(messages: list[Json]) -> tuple[str | None, list[Json]]:
    """The summary of the last compaction block sent back (if any) and the messages after it."""
    for i in range(len(messages) - 1, -1, -1):
        found = [b for b in blocks(messages[i].get("content")) if b.get("type") == "compaction"]
        if found and found[-1].get("content") is not None:
            return str(found[-1]["content"]), messages[i + 1 :]
    return None, messages


def cite(last: list[Json]) -> list[Json] | None:
    """A text block citing the first sentence of the first document with ``citations.enabled``, if any."""
    for index, doc in enumerate(b for b in last if b.get("type") == "document"):
        source = doc.get("source") or {}
        if (doc.get("citations") or {}).get("enabled") and source.get("type") == "text":
            data = str(source.get("data", ""))
            cited = data[: data.index(".") + 1] if "." in data else data
            citation = {
                "type": "char_location",
                "cited_text": cited,
                "document_index": index,
                "document_title": doc.get("title"),
                "start_char_index": 0,
                "end_char_index": len(cited),
            }
            return [{"type": "text", "text": cited, "citations": [citation]}]
    return None


def client_builtin(tool: Json, said: str) -> Json | None:
    """The call of a built-in tool the client runs (no ``input_schema``): the memory tool creates a note named
    after the picked word; a toolset (``computer_toolset_…``) calls its ``screenshot`` member."""
    kind = str(tool.get("type", ""))
    if kind.startswith("memory_"):
        path = f"/memories/{pick_word(said)}.md"
        return {"type": "tool_use", "name": tool["name"], "input": {"command": "create", "path": path, "file_text": said}}
    if re.fullmatch(r"\w+_toolset_\d{8}", kind) and not kind.startswith("agent_"):
        family = kind.partition("_toolset")[0]
        return {"type": "tool_use", "name": "screenshot", "toolset_name": family, "input": {}}
    return None


def think(messages: list[Json], tools: list[Json], tool_choice: Json | None) -> tuple[list[Json], str]:
    """The reply's content blocks (a ``tool_use`` without its ``id``) and stop reason."""
    summary, after = after_compaction(messages)
    if summary is not None and not any(m.get("role") == "user" for m in after):
        return [{"type": "text", "text": "From the summary: " + summary}], "end_turn"
    messages = after if summary is not None else messages
    last = next((blocks(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), [])
    results = [b for b in last if b.get("type") == "tool_result"]
    if results:
        prefix = "The tool failed: " if any(r.get("is_error") for r in results) else "Result: "
        return [{"type": "text", "text": prefix + "; ".join(text_of(r.get("content")) for r in results)}], "end_turn"
    cited = cite(last)
    if cited is not None:
        return cited, "end_turn"
    said = text_of(last)
    tools = [t for t in tools if "input_schema" in t or client_builtin(t, said)]  # server tools are never called
    choice = tool_choice or {}
    if tools and choice.get("type") != "none":
        tool = (
            next((t for t in tools if choice.get("type") == "tool" and t.get("name") == choice.get("name")), None)
            or next((t for t in tools if t.get("name", "\0").lower() in said.lower()), None)
            or tools[0]
        )
        call = client_builtin(tool, said) or {
            "type": "tool_use",
            "name": tool["name"],
            "input": tool_input(tool["input_schema"], said),
        }
        return [{"type": "text", "text": "Let me check."}, call], "tool_use"
    return [{"type": "text", "text": "You said: " + said}], "end_turn"


def tokens(value: Any) -> int:
    return max(1, len(json.dumps(value, ensure_ascii=False)) // 4)


def words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [text]


# --------------------------------------------------------------------------------------------------- the wire

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    504: "timeout_error",
    529: "overloaded_error",
}


class Rejection(Exception):
    def __init__(self, status: int, message: str, error_code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.error_code = status, message, error_code

    def body(self, request_id: str) -> Json:
        error: Json = {"type": _ERROR_TYPES.get(self.status, "api_error"), "message": self.message}
        if self.error_code:
            error["details"] = {"error_code": self.error_code}
        return {"type": "error", "error": error, "request_id": request_id}


@dataclass
class Thread:
    """What the server keeps of a thread under a reply's id."""

    messages: list[Json]  # the whole conversation, the reply included
    system: Any
    tools: list[Json] | None
    continued: bool = False


def threads_of(request: Request) -> dict[str, Thread]:
    state = request.app.state
    if not hasattr(state, "anthropic_threads"):
        state.anthropic_threads = {}
    threads: dict[str, Thread] = state.anthropic_threads
    return threads


def conversation(request: Request, body: Json) -> tuple[list[Json], Json, Thread | None]:
    """The whole conversation, the fields that answer it (``system``, ``tools``) and the thread it continues."""
    thread = body.get("thread")
    if thread is None:
        return body["messages"], body, None
    betas = [b.strip() for b in request.headers.get("anthropic-beta", "").split(",")]
    if THREADS_BETA not in betas:
        raise Rejection(400, "thread: Extra inputs are not permitted")
    if thread.get("type") == "create":
        return body["messages"], body, None
    if thread.get("type") != "continue":
        raise Rejection(400, "thread.type: Input should be 'create' or 'continue'")
    for field in ("system", "tools"):
        if field in body:
            raise Rejection(
                400, f"{field}: cannot be sent when continuing a thread; the thread keeps the one it was created with"
            )
    previous = threads_of(request).get(thread.get("previous_message_id", ""))
    if previous is None:
        raise Rejection(404, "No thread state was found for `previous_message_id`.", "thread_not_found")
    if previous.continued:
        raise Rejection(400, "This response has already been continued.", "thread_already_continued")
    return [*previous.messages, *body["messages"]], {"system": previous.system, "tools": previous.tools}, previous


def answer(request: Request, body: Json) -> Json:
    """The reply ``Message``, keeping the thread when the request creates or continues one."""
    if not isinstance(body.get("messages"), list) or "model" not in body or "max_tokens" not in body:
        raise Rejection(400, "model, max_tokens and messages: Field required")
    messages, fields, previous = conversation(request, body)
    if body.get("compaction") is not None:
        if COMPACT_BETA not in [b.strip() for b in request.headers.get("anthropic-beta", "").split(",")]:
            raise Rejection(400, "compaction: Extra inputs are not permitted")
        content, stop_reason = [{"type": "compaction", "content": summarize(messages)}], "compaction"
    else:
        content, stop_reason = think(messages, fields.get("tools") or [], body.get("tool_choice"))
    msg_id = deterministic_id("msg_", messages, {k: v for k, v in body.items() if k != "messages"})
    for i, block in enumerate(content):
        if block["type"] == "tool_use":
            content[i] = {"type": "tool_use", "id": deterministic_id("toolu_", msg_id, i), **block}
    message = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": tokens([fields.get("system"), fields.get("tools"), messages]),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": tokens(content),
            "service_tier": "standard",
        },
    }
    if body.get("thread") is not None:
        if previous is not None:
            previous.continued = True
        reply = {"role": "assistant", "content": content}
        threads_of(request)[msg_id] = Thread([*messages, reply], fields.get("system"), fields.get("tools"))
    return message


def stream_events(message: Json) -> Events:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events: Events = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        first: Json
        if block["type"] == "compaction":  # the summary comes whole: the SDK assigns it, it does not append
            first = {"type": "compaction", "content": None}
            deltas = [{"type": "compaction_delta", "content": block["content"]}]
        elif block["type"] == "text" and "citations" in block:  # the citations first, then the cited text
            first = {"type": "text", "text": "", "citations": []}
            deltas = [{"type": "citations_delta", "citation": c} for c in block["citations"]]
            deltas += [{"type": "text_delta", "text": w} for w in words(block["text"])]
        elif block["type"] == "text":
            first = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": w} for w in words(block["text"])]
        else:
            first = {**block, "input": {}}
            raw = json.dumps(block["input"], separators=(",", ":"), ensure_ascii=False)
            pieces = ["", *(raw[i : i + FRAGMENT] for i in range(0, len(raw), FRAGMENT))]
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": first}))
        if index == 0:
            events.append(("ping", PING))
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    final_usage = {
        k: usage[k] for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens", "output_tokens")
    }
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": final_usage}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


OVERLOADED_EVENT = ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


async def handle(request: Request, count_tokens: bool = False) -> Response:
    try:
        scenario = Scenario.parse(request)
    except ValueError as e:
        return error_response(Rejection(400, f"x-fake-scenario: {e}"), Scenario(), "req_badscenario")
    raw = await request.body()
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    request_id = deterministic_id("req_", request.url.path, body)
    if should_fail(request, scenario):
        assert scenario.status is not None
        headers = {"retry-after": scenario.retry_after} if scenario.retry_after is not None else {}
        return error_response(Rejection(scenario.status, f"Scenario error {scenario.status}."), scenario, request_id, headers)
    try:
        if not (request.headers.get("x-api-key") or request.headers.get("authorization")):
            raise Rejection(401, "x-api-key header is required")
        if not isinstance(body, dict):
            raise Rejection(400, "The request body is not valid JSON.")
        if count_tokens:
            return json_response(
                {"input_tokens": tokens([body.get("system"), body.get("tools"), body.get("messages")])},
                scenario,
                headers={"request-id": request_id},
            )
        message = answer(request, body)
    except Rejection as e:
        return error_response(e, scenario, request_id)
    if body.get("stream"):
        return sse_response(stream_events(message), scenario, error_event=OVERLOADED_EVENT, headers={"request-id": request_id})
    return json_response(message, scenario, headers={"request-id": request_id})


def error_response(error: Rejection, scenario: Scenario, request_id: str, headers: dict[str, str] | None = None) -> Response:
    return json_response(
        error.body(request_id), scenario, status=error.status, headers={"request-id": request_id, **(headers or {})}
    )


async def create_message(request: Request) -> Response:
    return await handle(request)


async def count_tokens(request: Request) -> Response:
    return await handle(request, count_tokens=True)


routes = [
    Route("/v1/messages", create_message, methods=["POST"]),
    Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
]
