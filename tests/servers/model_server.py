"""The fake model server: the Anthropic and OpenAI routes on one loopback port, with a request log.

``create_app()`` is the Starlette app (``replies=`` scripts what the model says: see ``openai_api``); ``app.state.requests`` logs every request as ``{"method", "path", "headers",
"json"}`` (``json`` is the parsed body, the text if it is not JSON, ``None`` if empty). ``ModelServer`` runs it in a
thread (a context manager with ``.url`` and ``.requests``). ``python -m tests.servers.model_server`` runs it in the
foreground and prints its URL.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.servers import anthropic_api
from tests.servers.base import ServerThread


class RequestLog:
    """ASGI middleware appending method, path, headers and body of every HTTP request to ``requests``."""

    def __init__(self, app: ASGIApp, requests: list[dict[str, Any]]) -> None:
        self.app, self.requests = app, requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        try:
            parsed: Any = json.loads(body) if body else None
        except ValueError:
            parsed = body.decode("utf-8", "replace")
        headers = dict(Request(scope).headers)
        self.requests.append({"method": scope["method"], "path": scope["path"], "headers": headers, "json": parsed})
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def create_app(replies: Callable[[dict[str, Any]], str | None] | None = None) -> Starlette:
    routes: list[BaseRoute] = list(anthropic_api.routes)
    try:
        from tests.servers import openai_api
    except ImportError:
        pass
    else:
        routes += openai_api.routes
    requests: list[dict[str, Any]] = []
    app = Starlette(routes=routes, middleware=[Middleware(RequestLog, requests=requests)])
    app.state.requests = requests
    app.state.replies = replies
    return app


class ModelServer:
    """The model server on a free loopback port: ``with ModelServer() as server: ... server.url ...``.

    ``replies``: an optional script for the model's text (``openai_api``'s docstring); without it, the default brain."""

    def __init__(self, replies: Callable[[dict[str, Any]], str | None] | None = None) -> None:
        self.app = create_app(replies)
        self._thread = ServerThread(self.app)

    @property
    def url(self) -> str:
        return self._thread.url

    @property
    def requests(self) -> list[dict[str, Any]]:
        requests: list[dict[str, Any]] = self.app.state.requests
        return requests

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._thread.stop()

    def __enter__(self) -> ModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


if __name__ == "__main__":
    with ModelServer() as server:
        print(server.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
