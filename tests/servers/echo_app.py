"""A small loopback app that the xdist and atomic-write tests record against: one JSON endpoint, one SSE endpoint."""

from __future__ import annotations

from typing import Any


def app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    from tests.servers.base import Scenario, json_response, sse_response

    # ``x-variant`` (a header, which matching ignores) changes the answers and their length: two tests
    # sharing a cassette with the same requests then write different files.
    async def echo(request: Request) -> Any:
        body = await request.json()
        answer = {"id": f"echo-{body['i']}", "echo": body, "text": f"answer {body['i']} café ☕"}
        variant = request.headers.get("x-variant")
        return json_response({**answer, "variant": variant} if variant else answer, Scenario())

    async def stream(request: Request) -> Any:
        body = await request.json()
        variant = request.headers.get("x-variant", "")
        events = [("message_start", {"type": "message_start", "i": body["i"]})]
        events += [("delta", {"type": "delta", "text": f" word{k}"}) for k in range(body.get("n", 20))]
        events += [("delta", {"type": "delta", "text": f" {variant}"}) for _ in variant]
        events.append(("message_stop", {"type": "message_stop"}))
        return sse_response(events, Scenario())

    return Starlette(routes=[Route("/v1/echo", echo, methods=["POST"]), Route("/v1/stream", stream, methods=["POST"])])
