"""A fake of the managed-agents session endpoints (beta ``managed-agents-2026-04-01``), in the real wire format.

``ServerThread(create_app())`` serves, for any session id (a session is made on first use):

* ``GET /v1/sessions/{id}``: the ``session`` object, ``status`` ``idle`` or ``running``;
* ``GET /v1/sessions/{id}/events``: the history, ``{"data": [...], "next_page": null}`` (one page);
* ``GET /v1/sessions/{id}/events/stream``: an SSE stream (``event: <type>`` then ``data: <event>``) of the
  events that happen *after* it opened; it stays open (sending nothing) until the client closes it;
* ``POST /v1/sessions/{id}/events``: ``{"events": [...]}`` appended to the history (``{"data": [...]}`` back).

The script (same posts -> byte-identical events): a new session's history is a ``user.message``, the agent's
``agent.custom_tool_use`` of ``tool`` with ``tool_input``, and a ``session.status_idle`` whose ``requires_action``
lists that call. The ``user.custom_tool_result`` for it makes the session run again: the result is echoed on the
open streams, then ``session.status_running``, an ``agent.message`` ``"Done: " + <the result's text>`` and a
``session.status_idle`` with ``end_turn``. The session then stays idle (the runner stops after its ``max_idle``).
Ids are ``sevt_<session>_<n>``; timestamps count seconds from 2026-01-01. A request without ``x-api-key`` or
``authorization`` gets a 401.
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


@dataclass
class FakeSession:
    id: str
    tool: str
    tool_input: Json
    history: list[Json] = field(default_factory=list)
    status: str = "idle"
    streams: list[asyncio.Queue[Json | None]] = field(default_factory=list)

    def stamp(self, event: Json) -> Json:
        n = len(self.history)
        return {"id": f"sevt_{self.id}_{n}", **event, "processed_at": f"2026-01-01T00:00:{n:02d}Z"}

    def add(self, event: Json, *, publish: bool = True) -> Json:
        event = self.stamp(event)
        self.history.append(event)
        if event["type"] == "session.status_idle":
            self.status = "idle"
        elif event["type"] == "session.status_running":
            self.status = "running"
        if publish:
            for queue in self.streams:
                queue.put_nowait(event)
        return event

    def start(self) -> None:
        self.add({"type": "user.message", "content": [{"type": "text", "text": f"Please use {self.tool}."}]}, publish=False)
        call = self.add({"type": "agent.custom_tool_use", "name": self.tool, "input": self.tool_input}, publish=False)
        stop = {"type": "requires_action", "event_ids": [call["id"]]}
        self.add({"type": "session.status_idle", "stop_reason": stop}, publish=False)

    def resource(self) -> Json:
        return {
            "id": self.id,
            "type": "session",
            "agent": {"id": "agent_fake", "type": "agent", "name": "fake agent", "version": 1},
            "archived_at": None,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": self.history[-1]["processed_at"],
            "environment_id": "env_fake",
            "metadata": {},
            "outcome_evaluations": [],
            "resources": [],
            "stats": {},
            "status": self.status,
            "title": None,
            "usage": {},
            "vault_ids": [],
        }

    def receive(self, events: list[Json]) -> list[Json]:
        out = []
        for sent in events:
            out.append(self.add(sent))
            if sent.get("type") == "user.custom_tool_result":
                text = " ".join(b.get("text", "") for b in sent.get("content") or [] if b.get("type") == "text")
                self.add({"type": "session.status_running"})
                self.add({"type": "agent.message", "content": [{"type": "text", "text": "Done: " + text}]})
                self.add({"type": "session.status_idle", "stop_reason": {"type": "end_turn"}})
        return out


def _unauthorized(request: Request) -> Response | None:
    if request.headers.get("x-api-key") or request.headers.get("authorization"):
        return None
    body = {"type": "error", "error": {"type": "authentication_error", "message": "missing api key"}}
    return JSONResponse(body, status_code=401)


def create_app(tool: str = "save_note", tool_input: Json | None = None) -> Starlette:
    sessions: dict[str, FakeSession] = {}

    def session_of(request: Request) -> FakeSession:
        sid = request.path_params["session_id"]
        if sid not in sessions:
            sessions[sid] = FakeSession(sid, tool, dict(tool_input or {"text": "remember the milk"}))
            sessions[sid].start()
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
            return JSONResponse({"data": session.receive(body.get("events") or [])})
        return JSONResponse({"data": list(session.history), "next_page": None})

    async def stream(request: Request) -> Response:
        denied = _unauthorized(request)
        if denied is not None:
            return denied
        session = session_of(request)
        return queue_stream(session.streams)

    routes = [
        Route("/v1/sessions/{session_id}", retrieve, methods=["GET"]),
        Route("/v1/sessions/{session_id}/events", events, methods=["GET", "POST"]),
        Route("/v1/sessions/{session_id}/events/stream", stream, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.sessions = sessions
    return app
