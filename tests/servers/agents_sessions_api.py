"""A fake of openai's ``client.beta.agents`` session endpoints (``OpenAI-Beta: agents=v1``), in the real wire format.

``ServerThread(create_app())`` serves, for any session id (a session is made idle on first use):

* ``GET /v1/agents/sessions/{id}``: the ``agent.session`` object (``status`` ``idle`` or ``in_progress``);
* ``GET /v1/agents/sessions/{id}/events``: an SSE stream (``event: <type>`` then ``data: <event>``) of the events
  that happen *after* it opened; it stays open (sending nothing) until the client closes it;
* ``POST /v1/agents/sessions/{id}/events``: ``{"events": [...]}``, answered 202 with no body.

The script, causal as the real service is: an ``agent.session.input.message`` starts a turn: ``turn.created``,
``in_progress`` and a ``function_call`` item of ``tool`` with ``tool_arguments`` (added, then done), and then
nothing more until the ``agent.session.input.tool_result`` for that call is posted. Then: the
``function_call_output`` item (added), an assistant ``final_answer`` message ``"Answer: " + <the tool's output>`` (added,
then done), ``turn.completed`` and ``agent.session.idle``. A tool result for an unknown call gets the service's
400 ``Unknown pending tool call``. Ids count per session (``evt_<session>_<n>``, ``turn_<session>_<n>``);
timestamps count seconds from 2026-01-01. A request without ``authorization`` gets a 401. Same posts ->
byte-identical events.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.servers.base import queue_stream

Json = dict[str, Any]
EPOCH = 1767225600  # 2026-01-01T00:00:00Z
USAGE: Json = {
    "input_tokens": 12,
    "input_tokens_details": {"cached_tokens": 0},
    "output_tokens": 7,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 19,
}


def _output_text(output: Any) -> str:
    """The text of a tool result's ``output``: a string, or a list of ``input_text`` parts."""
    if isinstance(output, str):
        return output
    if isinstance(output, list):
        return "".join(p.get("text", "") for p in output if isinstance(p, dict))
    return json.dumps(output, separators=(",", ":"))


@dataclass
class FakeAgentSession:
    id: str
    tool: str
    tool_arguments: Json
    status: str = "idle"
    n: int = 0
    turns: int = 0
    turn: Json | None = None
    pending: str | None = None
    streams: list[asyncio.Queue[Json | None]] = field(default_factory=list)

    def now(self) -> int:
        return EPOCH + self.n

    def publish(self, event: Json) -> None:
        self.n += 1
        event = {"event_id": f"evt_{self.id}_{self.n}", **event}
        for queue in self.streams:
            queue.put_nowait(event)

    def resource(self) -> Json:
        return {
            "id": self.id,
            "object": "agent.session",
            "agent": {
                "id": "agent_fake",
                "model": "gpt-fake",
                "multi_agent": {"enabled": False},
                "name": "fake agent",
                "reasoning": {"effort": None, "summary": None},
                "service_tier": "auto",
                "text": {"format": {"type": "text"}, "verbosity": "medium"},
                "tools": [
                    {
                        "type": "function",
                        "name": self.tool,
                        "description": "The fake agent's one tool",
                        "parameters": {"type": "object"},
                        "defer_loading": False,
                    }
                ],
            },
            "created_at": EPOCH,
            "environment": {"type": "none"},
            "error": None,
            "last_active_at": self.now(),
            "metadata": {},
            "required_actions": [],
            "spend_control": {"consumed": None, "limit": None},
            "status": self.status,
            "vault_ids": [],
        }

    def _turn(self, status: str) -> Json:
        assert self.turn is not None
        self.turn["status"] = status
        if status == "completed":
            self.turn["completed_at"] = self.now()
            self.turn["usage"] = USAGE
        return dict(self.turn)

    def _turn_event(self, kind: str, status: str) -> None:
        turn = self._turn(status)
        self.publish({"type": f"agent.session.turn.{kind}", "session_id": self.id, "turn_id": turn["id"], "turn": turn})

    def _item(self, item: Json, index: int, kinds: tuple[str, ...] = ("added", "done")) -> None:
        for kind in kinds:
            self.publish(
                {
                    "type": f"agent.session.turn.item.{kind}",
                    "session_id": self.id,
                    "turn_id": item["turn_id"],
                    "output_index": index,
                    "item": item,
                }
            )

    def start_turn(self) -> None:
        self.turns += 1
        turn_id = f"turn_{self.id}_{self.turns}"
        self.turn = {
            "id": turn_id,
            "object": "agent.session.turn",
            "agent_id": "agent_fake",
            "session_id": self.id,
            "created_at": self.now(),
            "started_at": self.now(),
            "status": "queued",
        }
        self.status = "in_progress"
        self._turn_event("created", "queued")
        self.publish({"type": "agent.session.in_progress", "session": self.resource()})
        self._turn_event("in_progress", "in_progress")
        self.pending = f"call_{self.id}_{self.turns}"
        call = {
            "id": f"fc_{self.id}_{self.turns}",
            "type": "function_call",
            "turn_id": turn_id,
            "call_id": self.pending,
            "name": self.tool,
            "arguments": json.dumps(self.tool_arguments, separators=(",", ":")),
            "status": "completed",
        }
        self._item(call, 0)

    def finish_turn(self, result: Json) -> None:
        assert self.turn is not None
        turn_id = self.turn["id"]
        self.pending = None
        output = {
            "id": f"fco_{self.id}_{self.turns}",
            "type": "function_call_output",
            "turn_id": turn_id,
            "call_id": result["call_id"],
            "status": "completed" if result.get("success", True) else "failed",
            "output": result.get("output"),
            "error": result.get("error"),
        }
        self._item(output, 1, ("added",))  # an input item: added, never an output item ``done``
        text = "Answer: " + (_output_text(result.get("output")) if result.get("success", True) else "the tool failed")
        message = {
            "id": f"msg_{self.id}_{self.turns}",
            "type": "message",
            "role": "assistant",
            "phase": "final_answer",
            "status": "completed",
            "turn_id": turn_id,
            "content": [{"type": "output_text", "text": text}],
        }
        self._item(message, 2)
        self._turn_event("completed", "completed")
        self.status = "idle"
        self.publish({"type": "agent.session.idle", "session": self.resource()})

    def receive(self, events: list[Json]) -> Response | None:
        for event in events:
            kind = event.get("type")
            if kind == "agent.session.input.message":
                self.start_turn()
            elif kind == "agent.session.input.tool_result":
                if self.pending is None or event.get("call_id") != self.pending:
                    message = f"Unknown pending tool call: {event.get('call_id')}"
                    body = {"error": {"code": "invalid_request_error", "message": message, "type": "invalid_request_error"}}
                    return JSONResponse(body, status_code=400)
                self.finish_turn(event)
        return None


def _unauthorized(request: Request) -> Response | None:
    if request.headers.get("authorization"):
        return None
    body = {"error": {"type": "invalid_request_error", "code": "invalid_api_key", "message": "missing api key"}}
    return JSONResponse(body, status_code=401)


def create_app(tool: str = "get_weather", tool_arguments: Json | None = None) -> Starlette:
    sessions: dict[str, FakeAgentSession] = {}

    def session_of(request: Request) -> FakeAgentSession:
        sid = request.path_params["session_id"]
        if sid not in sessions:
            sessions[sid] = FakeAgentSession(sid, tool, dict(tool_arguments or {"city": "Paris"}))
        return sessions[sid]

    async def retrieve(request: Request) -> Response:
        return _unauthorized(request) or JSONResponse(session_of(request).resource())

    async def events(request: Request) -> Response:
        denied = _unauthorized(request)
        if denied is not None:
            return denied
        session = session_of(request)
        if request.method == "POST":
            body = json.loads(await request.body())
            return session.receive(body.get("events") or []) or Response(status_code=202)
        return queue_stream(session.streams)

    routes = [
        Route("/v1/agents/sessions/{session_id}", retrieve, methods=["GET"]),
        Route("/v1/agents/sessions/{session_id}/events", events, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    return app
