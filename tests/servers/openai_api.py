"""A fake OpenAI API speaking the real wire format: Chat Completions, Responses and Assistants (beta).

Mount ``routes`` in a Starlette app (``tests/servers/model_server.py`` does; ``ServerThread(Starlette(routes=routes))``
works alone) and point the SDK at ``{url}/v1``. Scenarios (``x-fake-scenario``) are the ones of ``base.py``.

Endpoints: ``POST /v1/chat/completions`` (JSON, or SSE ``data:`` chunks ending ``data: [DONE]``), ``POST /v1/responses``
(JSON, or named SSE events with ``sequence_number``), and the Assistants: ``POST /v1/assistants``, ``POST /v1/threads``,
``POST|GET /v1/threads/{tid}/messages``, ``POST /v1/threads/{tid}/runs``, ``POST /v1/threads/runs`` (create and run),
``GET /v1/threads/{tid}/runs/{rid}``, ``POST /v1/threads/{tid}/runs/{rid}/submit_tool_outputs`` (runs stream named
``thread.*`` events ending ``event: done`` / ``data: [DONE]``, or answer the final run as JSON).

The brain (same request -> byte-identical response):

* tools are offered and the last input is a user message -> call one tool: the one forced by ``tool_choice``, else the
  first whose name appears in the user's text, else the first. Arguments come from its JSON schema: each required
  property (all of them when the schema lists none) gets, if a string, the last quoted phrase or capitalised word of
  the user's text ("What is the weather in Paris?" -> ``{"city": "Paris"}``), an integer/number 1, a boolean true, an
  enum its first value. ``tool_choice: "none"`` suppresses the call. Assistants: the run's tools, else the
  assistant's; a run on a thread whose last message is the user's goes ``requires_action`` with that call.
* the last input is a tool result (``role: tool`` messages, ``function_call_output`` items, submitted tool outputs) ->
  text ``"Result: " + <the trailing outputs joined by "; ">``.
* otherwise -> ``"You said: " + <last user text>``.
* Responses with a ``computer`` tool (what openai's ``ComputerToolset.run`` sends): a user message last -> one
  ``computer_call`` with one ``click`` at x = y = the length of the user's text; a ``computer_call_output`` last ->
  ``"Result: " + <its output's type>`` (``computer_screenshot``). Not streamed (the helper does not stream).

A recording can script what the model says instead (opt-in; nothing changes without it): ``create_app(replies=fn)``
or ``ModelServer(replies=fn)`` puts ``fn`` on ``app.state.replies``. For each Chat Completions or Responses request,
``fn(body)`` (the parsed JSON body) returns the assistant's text, or ``None`` to let the brain above answer (so
the brain still makes the tool calls, and a script need only cover the turns it cares about).

Text streams in word deltas (split on spaces, spaces kept); tool-call arguments stream in 5-character fragments, cut
mid-token. Ids are ``deterministic_id`` of the request (and, for Assistants, of the thread's state); every timestamp is
``CREATED``; usage counts are derived from the lengths. Assistants state lives in memory, module-wide; an unknown
``assistant_id`` is accepted as a tool-less assistant. Identical thread-creation bodies give the same thread id, so a
re-created thread starts afresh (concurrent tests should not share one server and identical thread bodies).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers.base import Scenario, deterministic_id, json_response, should_fail, sse_response

CREATED = 1767225600  # 2026-01-01T00:00:00Z: every created/started/completed timestamp
FINGERPRINT = "fp_fake0001"
ARG_FRAGMENT = 5

Json = dict[str, Any]
Events = list[tuple[str | None, Any]]
Replies = Callable[[Json], str | None]
"""A script for the model's text: the request body -> the assistant's text, or ``None`` for the default brain."""

# --------------------------------------------------------------------------------------------------- the brain


@dataclass
class Reply:
    text: str | None = None
    tool: str | None = None  # the called tool's name; ``arguments`` its JSON
    arguments: str = ""
    computer: list[Json] | None = None  # the actions of a ``computer_call`` (Responses)


def text_of(content: Any) -> str:
    """The text of a content value: a string, or a list of parts (``{"text": str}`` or ``{"text": {"value": str}}``)."""
    if isinstance(content, str):
        return content
    texts = []
    for part in content or []:
        text = part.get("text") if isinstance(part, dict) else None
        texts.append(text.get("value", "") if isinstance(text, dict) else text if isinstance(text, str) else "")
    return "".join(texts)


def pick_word(text: str) -> str:
    """The last quoted phrase or capitalised word of ``text`` (else its last word)."""
    found = [
        q1 or q2 or word for q1, q2, word in re.findall(r'"([^"]+)"|“([^”]+)”|(\w[\w-]*)', text) if q1 or q2 or word[0].isupper()
    ]
    return found[-1] if found else (text.split() or [""])[-1]


def schema_args(schema: Json | None, text: str) -> Json:
    props: Json = (schema or {}).get("properties") or {}
    required = (schema or {}).get("required", list(props))
    args: Json = {}
    for name in required:
        prop = props.get(name) or {}
        kind = prop.get("type")
        kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
        if prop.get("enum"):
            args[name] = prop["enum"][0]
        elif kind in ("integer", "number"):
            args[name] = 1
        elif kind == "boolean":
            args[name] = True
        elif kind == "array":
            args[name] = []
        elif kind == "object":
            args[name] = {}
        else:
            args[name] = pick_word(text)
    return args


def think(tools: list[Json], tool_choice: Any, user_last: bool, user_text: str, outputs: list[str]) -> Reply:
    """``tools`` are ``{"name", "parameters"}``; ``outputs`` the trailing tool results (empty if the last input is none)."""
    if outputs:
        return Reply(text="Result: " + "; ".join(outputs))
    if tools and user_last and tool_choice != "none":
        forced = (
            (tool_choice.get("name") or (tool_choice.get("function") or {}).get("name"))
            if isinstance(tool_choice, dict)
            else None
        )
        tool = next((t for t in tools if t["name"] == forced), None) or next(
            (t for t in tools if t["name"].lower() in user_text.lower()), tools[0]
        )
        args = schema_args(tool.get("parameters"), user_text)
        return Reply(tool=tool["name"], arguments=json.dumps(args, separators=(",", ":"), ensure_ascii=False))
    return Reply(text="You said: " + user_text)


def words(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text) or [text]


def fragments(arguments: str) -> list[str]:
    return [arguments[i : i + ARG_FRAGMENT] for i in range(0, len(arguments), ARG_FRAGMENT)] or [""]


def tokens(value: Any) -> int:
    return max(1, len(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)) // 4)


# --------------------------------------------------------------------------------------------------- plumbing

_ERRORS = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported."),
    404: ("invalid_request_error", None, "Not found."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."),
    500: ("server_error", None, "The server had an error while processing your request. Sorry about that!"),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def error_body(status: int, message: str | None = None) -> Json:
    kind, code, default = _ERRORS.get(status, ("server_error" if status >= 500 else "invalid_request_error", None, "Error."))
    return {"error": {"message": message or default, "type": kind, "param": None, "code": code}}


@dataclass
class Call:
    """One request: its JSON body, scenario and the headers every answer carries."""

    request: Request
    body: Json
    scenario: Scenario
    headers: dict[str, str]

    @property
    def stream(self) -> bool:
        return bool(self.body.get("stream"))

    def json(self, obj: Any) -> Response:
        return json_response(obj, self.scenario, headers=self.headers)

    def sse(self, events: Events, error_event: tuple[str | None, Any] | None = None) -> Response:
        return sse_response(events, self.scenario, error_event=error_event, headers=self.headers)

    def error(self, status: int, message: str | None = None) -> Response:
        return json_response(error_body(status, message), self.scenario, status=status, headers=self.headers)


def endpoint(handler: Callable[[Call], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Parse the scenario and body, answer scenario failures and bad JSON, then run ``handler``."""

    async def run(request: Request) -> Response:
        scenario = Scenario.parse(request)
        raw = await request.body()
        headers = {"x-request-id": deterministic_id("req_", request.method, request.url.path, raw.decode("utf-8", "replace"))}
        call = Call(request, {}, scenario, headers)
        if should_fail(request, scenario):
            assert scenario.status is not None
            if scenario.retry_after is not None:
                headers["retry-after"] = scenario.retry_after
            return call.error(scenario.status)
        try:
            call.body = json.loads(raw) if raw else {}
        except ValueError:
            return call.error(400, "We could not parse the JSON body of your request.")
        return await handler(call)

    return run


def numbered(events: list[tuple[str, Json]]) -> Events:
    """Responses events: ``type`` and ``sequence_number`` first, as the API sends them."""
    return [(name, {"type": name, "sequence_number": i, **data}) for i, (name, data) in enumerate(events)]


# --------------------------------------------------------------------------------------------------- chat completions


def scripted(call: Call) -> Reply | None:
    """The reply the app's ``replies`` script gives this request, if the app has one and it answers."""
    script: Replies | None = getattr(call.request.app.state, "replies", None)
    text = script(call.body) if script is not None else None
    return Reply(text=text) if text is not None else None


def chat_reply(body: Json) -> Reply:
    messages = body.get("messages") or []
    tools = [t["function"] for t in body.get("tools") or [] if t.get("type") == "function"]
    outputs: list[str] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        outputs.insert(0, text_of(message.get("content")))
    user_text = next((text_of(m.get("content")) for m in reversed(messages) if m.get("role") == "user"), "")
    user_last = bool(messages) and messages[-1].get("role") == "user"
    return think(tools, body.get("tool_choice"), user_last, user_text, outputs)


async def chat_completions(call: Call) -> Response:
    body = call.body
    reply = scripted(call) or chat_reply(body)
    cid = deterministic_id("chatcmpl-", body)
    call_id = deterministic_id("call_", cid)
    finish = "tool_calls" if reply.tool else "stop"
    prompt, completion = tokens(body.get("messages")), tokens(reply.text or reply.arguments)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    head = {
        "id": cid,
        "created": CREATED,
        "model": body.get("model", "gpt-4o-mini"),
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }
    function = {"name": reply.tool, "arguments": reply.arguments}
    if not call.stream:
        message: Json = {"role": "assistant", "content": reply.text, "refusal": None, "annotations": []}
        if reply.tool:
            message["tool_calls"] = [{"id": call_id, "type": "function", "function": function}]
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return call.json({"id": cid, "object": "chat.completion", **head, "choices": [choice], "usage": usage})

    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(delta: Json, finish_reason: str | None = None) -> Json:
        out = {"id": cid, "object": "chat.completion.chunk", **head}
        out["choices"] = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        return {**out, "usage": None} if include_usage else out

    if reply.tool:
        first = {"index": 0, "id": call_id, "type": "function", "function": {"name": reply.tool, "arguments": ""}}
        chunks = [chunk({"role": "assistant", "content": None, "tool_calls": [first], "refusal": None})]
        chunks += [chunk({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}) for f in fragments(reply.arguments)]
    else:
        chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
        chunks += [chunk({"content": w}) for w in words(reply.text or "")]
    chunks.append(chunk({}, finish))
    if include_usage:
        chunks.append({"id": cid, "object": "chat.completion.chunk", **head, "choices": [], "usage": usage})
    events: Events = [(None, c) for c in chunks] + [(None, "[DONE]")]
    return call.sse(events, error_event=(None, error_body(500, "The server had an error while processing your request.")))


# --------------------------------------------------------------------------------------------------- responses


def responses_reply(body: Json) -> Reply:
    raw = body.get("input")
    items: list[Json] = [{"role": "user", "content": raw}] if isinstance(raw, str) else list(raw or [])
    if any(t.get("type") in ("computer", "computer_use_preview") for t in body.get("tools") or []) and items:
        last = items[-1]
        if last.get("type") == "computer_call_output":
            return Reply(text="Result: " + str((last.get("output") or {}).get("type", "")))
        if last.get("role") == "user":  # one click at the length of the user's text, then the screenshot
            n = len(text_of(last.get("content")))
            return Reply(computer=[{"type": "click", "button": "left", "x": n, "y": n}])
    tools = [t for t in body.get("tools") or [] if t.get("type") == "function"]
    outputs: list[str] = []
    for item in reversed(items):
        if item.get("type") != "function_call_output":
            break
        outputs.insert(0, text_of(item.get("output")))
    user_text = next((text_of(i.get("content")) for i in reversed(items) if i.get("role") == "user"), "")
    user_last = bool(items) and items[-1].get("role") == "user"
    return think(tools, body.get("tool_choice"), user_last, user_text, outputs)


async def responses(call: Call) -> Response:
    body = call.body
    reply = scripted(call) or responses_reply(body)
    rid = deterministic_id("resp_", body)
    item_id = deterministic_id("cu_" if reply.computer else "fc_" if reply.tool else "msg_", rid)
    call_id = deterministic_id("call_", rid)
    prompt, completion = tokens(body.get("input")), tokens(reply.text or reply.arguments)
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }

    def response(status: str, output: list[Json]) -> Json:
        done = status == "completed"
        return {
            "id": rid, "object": "response", "created_at": CREATED, "status": status, "background": False,
            "completed_at": CREATED if done else None, "error": None, "incomplete_details": None,
            "instructions": body.get("instructions"), "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": None, "model": body.get("model", "gpt-4o-mini"), "output": output,
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"), "prompt_cache_key": None,
            "reasoning": {"effort": None, "summary": None}, "safety_identifier": None, "service_tier": "default",
            "store": body.get("store", True), "temperature": 1.0,
            "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": [{"description": None, "strict": True, **t} if t.get("type") == "function" else t for t in body.get("tools") or []],
            "top_logprobs": 0, "top_p": 1.0, "truncation": "disabled", "usage": usage if done else None,
            "user": None, "metadata": body.get("metadata") or {},
        }  # fmt: skip

    if reply.computer:
        item: Json = {"id": item_id, "type": "computer_call", "status": "completed", "call_id": call_id,
                      "actions": reply.computer, "pending_safety_checks": []}  # fmt: skip
        if call.stream:
            return call.error(400, "this fake server answers a computer_call without streaming only")
        return call.json(response("completed", [item]))
    if reply.tool:
        item = {
            "id": item_id,
            "type": "function_call",
            "status": "completed",
            "arguments": reply.arguments,
            "call_id": call_id,
            "name": reply.tool,
        }
    else:
        part: Json = {"type": "output_text", "annotations": [], "logprobs": [], "text": reply.text}
        item = {"id": item_id, "type": "message", "status": "completed", "content": [part], "role": "assistant"}
    if not call.stream:
        return call.json(response("completed", [item]))

    where = {"item_id": item_id, "output_index": 0}
    events: list[tuple[str, Json]] = [
        ("response.created", {"response": response("in_progress", [])}),
        ("response.in_progress", {"response": response("in_progress", [])}),
    ]
    if reply.tool:
        events.append(
            ("response.output_item.added", {"output_index": 0, "item": {**item, "status": "in_progress", "arguments": ""}})
        )
        events += [("response.function_call_arguments.delta", {**where, "delta": f}) for f in fragments(reply.arguments)]
        events.append(("response.function_call_arguments.done", {**where, "arguments": reply.arguments}))
    else:
        where["content_index"] = 0
        events.append(
            ("response.output_item.added", {"output_index": 0, "item": {**item, "status": "in_progress", "content": []}})
        )
        events.append(("response.content_part.added", {**where, "part": {**part, "text": ""}}))
        events += [("response.output_text.delta", {**where, "delta": w, "logprobs": []}) for w in words(reply.text or "")]
        events.append(("response.output_text.done", {**where, "text": reply.text, "logprobs": []}))
        events.append(("response.content_part.done", {**where, "part": part}))
    events.append(("response.output_item.done", {"output_index": 0, "item": item}))
    events.append(("response.completed", {"response": response("completed", [item])}))
    error = {
        "type": "error",
        "sequence_number": len(events) // 2,
        "code": "server_error",
        "message": "The server had an error.",
        "param": None,
    }
    return call.sse(numbered(events), error_event=("error", error))


# --------------------------------------------------------------------------------------------------- assistants

_assistants: dict[str, Json] = {}
_threads: dict[str, list[Json]] = {}  # thread id -> its messages, oldest first
_runs: dict[str, Json] = {}  # run id -> the run object as last sent
_steps: dict[str, Json] = {}  # run id -> its pending tool-calls step


def _not_found(call: Call, kind: str, id_: str) -> Response:
    return call.error(404, f"No {kind} found with id '{id_}'.")


def _message(thread_id: str, role: str, text: str, id_: str, *, run: Json | None = None, status: str = "completed") -> Json:
    done = status == "completed"
    return {
        "id": id_, "object": "thread.message", "created_at": CREATED, "assistant_id": run and run["assistant_id"],
        "thread_id": thread_id, "run_id": run and run["id"], "status": status, "completed_at": CREATED if done and run else None,
        "incomplete_at": None, "incomplete_details": None, "role": role,
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}] if text or done else [],
        "attachments": [], "metadata": {},
    }  # fmt: skip


def _add_message(thread_id: str, data: Json) -> Json:
    messages = _threads[thread_id]
    message = _message(
        thread_id,
        data.get("role", "user"),
        text_of(data.get("content")),
        deterministic_id("msg_", thread_id, len(messages), data),
    )
    messages.append(message)
    return message


def _new_thread(data: Json) -> Json:
    thread_id = deterministic_id("thread_", data)
    _threads[thread_id] = []
    for m in data.get("messages") or []:
        _add_message(thread_id, m)
    return {
        "id": thread_id,
        "object": "thread",
        "created_at": CREATED,
        "metadata": data.get("metadata") or {},
        "tool_resources": {},
    }


def _step(run: Json, id_: str, details: Json, status: str = "in_progress", usage: Json | None = None) -> Json:
    return {
        "id": id_, "object": "thread.run.step", "created_at": CREATED, "run_id": run["id"], "assistant_id": run["assistant_id"],
        "thread_id": run["thread_id"], "type": details["type"], "status": status, "cancelled_at": None,
        "completed_at": CREATED if status == "completed" else None, "expired_at": None, "failed_at": None,
        "last_error": None, "step_details": details, "usage": usage,
    }  # fmt: skip


def _run_state(run: Json, status: str, **changes: Any) -> Json:
    active = status in ("queued", "in_progress", "requires_action")
    run.update(status=status, expires_at=CREATED + 600 if active else None, required_action=None)
    run.update(changes)
    return dict(run)


def _step_delta(step_id: str, tool_call: Json) -> Json:
    return {
        "id": step_id,
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": [tool_call]}},
    }


def _message_delta(msg_id: str, text: str) -> Json:
    content = {"index": 0, "type": "text", "text": {"value": text, "annotations": []}}
    return {"id": msg_id, "object": "thread.message.delta", "delta": {"content": [content]}}


def _advance(run: Json, reply: Reply, salt: Any) -> Events:
    """The events of a run going from in progress to ``requires_action`` or ``completed`` (state updated)."""
    thread_id = run["thread_id"]
    step_id = deterministic_id("step_", run["id"], salt)
    if reply.tool:
        call_id = deterministic_id("call_", run["id"], salt)
        function = {"name": reply.tool, "arguments": reply.arguments}
        _steps[run["id"]] = _step(
            run,
            step_id,
            {"type": "tool_calls", "tool_calls": [{"id": call_id, "type": "function", "function": {**function, "output": None}}]},
        )
        step = _step(run, step_id, {"type": "tool_calls", "tool_calls": []})
        opening = {"index": 0, "id": call_id, "type": "function", "function": {**function, "arguments": "", "output": None}}
        pieces = [{"index": 0, "type": "function", "function": {"arguments": f}} for f in fragments(reply.arguments)]
        required = {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": [{"id": call_id, "type": "function", "function": function}]},
        }
        return [
            ("thread.run.step.created", step),
            ("thread.run.step.in_progress", step),
            *[("thread.run.step.delta", _step_delta(step_id, d)) for d in [opening, *pieces]],
            ("thread.run.requires_action", _run_state(run, "requires_action", required_action=required)),
        ]
    text = reply.text or ""
    msg_id = deterministic_id("msg_", run["id"], salt)
    step = _step(run, step_id, {"type": "message_creation", "message_creation": {"message_id": msg_id}})
    prompt, completion = tokens(_threads[thread_id]), tokens(text)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    final = _message(thread_id, "assistant", text, msg_id, run=run)
    _threads[thread_id].append(final)
    pending = _message(thread_id, "assistant", "", msg_id, run=run, status="in_progress")
    return [
        ("thread.run.step.created", step),
        ("thread.run.step.in_progress", step),
        ("thread.message.created", pending),
        ("thread.message.in_progress", pending),
        *[("thread.message.delta", _message_delta(msg_id, w)) for w in words(text)],
        ("thread.message.completed", final),
        ("thread.run.step.completed", {**step, "status": "completed", "completed_at": CREATED, "usage": usage}),
        ("thread.run.completed", _run_state(run, "completed", completed_at=CREATED, usage=usage)),
    ]


def _run_answer(call: Call, run: Json, events: Events) -> Response:
    if not call.stream:
        return call.json(run)
    events = [*events, ("done", "[DONE]")]
    return call.sse(events, error_event=("error", error_body(500)["error"]))


def _start_run(call: Call, thread_id: str, prefix: Events | None = None) -> Response:
    body = call.body
    for m in body.get("additional_messages") or []:
        _add_message(thread_id, m)
    assistant = _assistants.get(body.get("assistant_id", ""), {})
    messages = _threads[thread_id]
    run_id = deterministic_id("run_", thread_id, body, [m["id"] for m in messages])
    tools: list[Json] = body["tools"] if body.get("tools") is not None else assistant.get("tools", [])
    run = _runs[run_id] = {
        "id": run_id, "object": "thread.run", "created_at": CREATED, "assistant_id": body.get("assistant_id"),
        "thread_id": thread_id, "status": "queued", "started_at": None, "expires_at": CREATED + 600, "cancelled_at": None,
        "failed_at": None, "completed_at": None, "required_action": None, "last_error": None,
        "model": body.get("model") or assistant.get("model", "gpt-4o"),
        "instructions": body.get("instructions") or assistant.get("instructions") or "", "tools": tools,
        "tool_resources": {}, "metadata": body.get("metadata") or {}, "temperature": 1.0, "top_p": 1.0,
        "max_completion_tokens": None, "max_prompt_tokens": None, "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None, "usage": None, "response_format": "auto", "tool_choice": body.get("tool_choice", "auto"),
        "parallel_tool_calls": True,
    }  # fmt: skip
    user_text = next((text_of(m["content"]) for m in reversed(messages) if m["role"] == "user"), "")
    user_last = bool(messages) and messages[-1]["role"] == "user"
    functions = [t["function"] for t in tools if t.get("type") == "function"]
    reply = think(functions, run["tool_choice"], user_last, user_text, [])
    events: Events = [*(prefix or []), ("thread.run.created", dict(run)), ("thread.run.queued", dict(run))]
    events.append(("thread.run.in_progress", _run_state(run, "in_progress", started_at=CREATED)))
    events += _advance(run, reply, "start")
    return _run_answer(call, run, events)


async def create_assistant(call: Call) -> Response:
    b = call.body
    assistant = {
        "id": deterministic_id("asst_", b), "object": "assistant", "created_at": CREATED, "name": b.get("name"),
        "description": b.get("description"), "model": b.get("model", "gpt-4o"), "instructions": b.get("instructions"),
        "tools": b.get("tools") or [], "tool_resources": {}, "metadata": b.get("metadata") or {},
        "top_p": 1.0, "temperature": 1.0, "response_format": "auto",
    }  # fmt: skip
    _assistants[assistant["id"]] = assistant
    return call.json(assistant)


async def create_thread(call: Call) -> Response:
    return call.json(_new_thread(call.body))


async def thread_messages(call: Call) -> Response:
    thread_id = call.request.path_params["thread_id"]
    if thread_id not in _threads:
        return _not_found(call, "thread", thread_id)
    if call.request.method == "POST":
        return call.json(_add_message(thread_id, call.body))
    data = _threads[thread_id][:: 1 if call.request.query_params.get("order") == "asc" else -1]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return call.json({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False})


async def create_run(call: Call) -> Response:
    thread_id = call.request.path_params["thread_id"]
    if thread_id not in _threads:
        return _not_found(call, "thread", thread_id)
    return _start_run(call, thread_id)


async def create_thread_and_run(call: Call) -> Response:
    thread = _new_thread(call.body.get("thread") or {})
    return _start_run(call, thread["id"], [("thread.created", thread)])


async def retrieve_run(call: Call) -> Response:
    run = _runs.get(call.request.path_params["run_id"])
    return call.json(run) if run else _not_found(call, "run", call.request.path_params["run_id"])


async def submit_tool_outputs(call: Call) -> Response:
    run_id = call.request.path_params["run_id"]
    run = _runs.get(run_id)
    if run is None:
        return _not_found(call, "run", run_id)
    if run["status"] != "requires_action":
        return call.error(400, f'Runs in status "{run["status"]}" do not accept tool outputs.')
    outputs = {o.get("tool_call_id"): o.get("output", "") for o in call.body.get("tool_outputs") or []}
    step = _steps.pop(run_id)
    for tool_call in step["step_details"]["tool_calls"]:
        tool_call["function"]["output"] = outputs.get(tool_call["id"])
    step.update(status="completed", completed_at=CREATED)
    events: Events = [("thread.run.step.completed", step), ("thread.run.queued", _run_state(run, "queued"))]
    events.append(("thread.run.in_progress", _run_state(run, "in_progress")))
    events += _advance(run, Reply(text="Result: " + "; ".join(outputs.values())), call.body)
    return _run_answer(call, run, events)


async def create_decision(call: Call) -> Response:
    """``POST /v1/decisions``: each ``choice`` question answered with the choice named by the last input's picked
    word (any word of its text, case-blind), else its first choice."""
    inputs = call.body.get("input") or [{}]
    said = text_of(inputs[-1].get("content")).lower()
    answers = []
    for question in call.body.get("questions") or []:
        values = [c.get("value") for c in question.get("choices") or []]
        value = next((v for v in values if isinstance(v, str) and v.lower() in said.split()), values[0] if values else "")
        answers.append({"type": "choice", "name": question.get("name"), "choice": value, "confidence": 0.9,
                        "probabilities": [{"value": value, "probability": 0.9}]})  # fmt: skip
    used = {"input_tokens": tokens(inputs), "output_tokens": 1}
    usage = {**used, "total_tokens": used["input_tokens"] + 1, "input_tokens_details": {"cache_write_tokens": 0,
             "cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
    return call.json({"model": call.body.get("model"), "answers": answers, "usage": usage})


async def upload_file(request: Request) -> Response:
    """``POST /v1/files`` (multipart: ``file``, ``purpose``): the file object; its id depends on the content only."""
    raw = await request.body()
    filename = re.search(rb'name="file"; filename="([^"]*)"', raw)
    purpose = re.search(rb'name="purpose"\r\n\r\n([^\r]*)', raw)
    name = filename.group(1).decode() if filename else "upload"
    boundary = request.headers.get("content-type", "").partition("boundary=")[2]
    file = {
        "id": deterministic_id("file-", raw.replace(boundary.encode(), b"").decode("utf-8", "replace")),
        "object": "file", "bytes": len(raw), "created_at": CREATED, "filename": name,
        "purpose": purpose.group(1).decode() if purpose else "assistants", "status": "processed",
    }  # fmt: skip
    return json_response(file, Scenario.parse(request))


routes = [
    Route("/v1/chat/completions", endpoint(chat_completions), methods=["POST"]),
    Route("/v1/decisions", endpoint(create_decision), methods=["POST"]),
    Route("/v1/files", upload_file, methods=["POST"]),
    Route("/v1/responses", endpoint(responses), methods=["POST"]),
    Route("/v1/assistants", endpoint(create_assistant), methods=["POST"]),
    Route("/v1/threads", endpoint(create_thread), methods=["POST"]),
    Route("/v1/threads/runs", endpoint(create_thread_and_run), methods=["POST"]),
    Route("/v1/threads/{thread_id}/messages", endpoint(thread_messages), methods=["GET", "POST"]),
    Route("/v1/threads/{thread_id}/runs", endpoint(create_run), methods=["POST"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}", endpoint(retrieve_run), methods=["GET"]),
    Route("/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs", endpoint(submit_tool_outputs), methods=["POST"]),
]
