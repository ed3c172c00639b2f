"""A loopback Responses WebSocket server (``client.responses.connect()``), built on ``websockets``.

It speaks the Responses WebSocket wire format: the client sends ``response.create`` events (JSON text
frames), the server answers each with the response's stream events. The first ``response.create`` (no
``function_call_output`` in its input) gets a ``get_weather`` function call; one carrying a
``function_call_output`` gets the final text, built from that output. ``headers`` keeps each
handshake's headers, so a test can check what the client sent. The input ``"crash"`` gets
``response.created``, then the server closes with code 1011; the input ``"drop"`` gets ``response.created``,
then the TCP connection is cut with no close frame (the client sees an abnormal closure, 1006). A ``response.create`` whose ``metadata`` has
``pace_ms`` gets its frames that many milliseconds apart (the first one too), as a model's tokens come.

A Realtime subset on ``/v1/realtime``: ``session.created`` as soon as the socket opens (before the
client says anything), then each ``response.create`` answered with text deltas and ``response.done``.

Faults a reconnecting client meets: a ``response.create`` whose ``metadata`` has ``"fault": "close-1011"``
or ``"fault": "drop"`` gets the first three events of the function call (mid-response), then a close frame
with code 1011, or the TCP connection cut without any close frame; ``"fault": "close-after"`` gets the
whole response, then a close frame with code 1000 (``idle``).
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from typing import Any

from websockets.sync.server import Server, ServerConnection, serve

_ids = itertools.count(1)


def _response(rid: str, status: str, output: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 1, "status": status, "model": "gpt-5", "output": output,
            "parallel_tool_calls": True, "tool_choice": "auto", "tools": []}  # fmt: skip


def _numbered(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each event of a response with its ``sequence_number`` (from 0 per response), as the API sends it."""
    return [{**frame, "sequence_number": n} for n, frame in enumerate(frames)]


def _call_events(rid: str) -> list[dict[str, Any]]:
    item = {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}', "status": "completed"}  # fmt: skip
    return _numbered(
        [
            {"type": "response.created", "response": _response(rid, "in_progress", [])},
            {"type": "response.output_item.added", "output_index": 0, "item": {**item, "arguments": "", "status": "in_progress"}},
            {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": '{"city":'},
            {"type": "response.function_call_arguments.delta", "output_index": 0, "item_id": "fc_1", "delta": '"Paris"}'},
            {
                "type": "response.function_call_arguments.done",
                "output_index": 0,
                "item_id": "fc_1",
                "arguments": '{"city":"Paris"}',
            },
            {"type": "response.output_item.done", "output_index": 0, "item": item},
            {"type": "response.completed", "response": _response(rid, "completed", [item])},
        ]
    )


def _text_events(rid: str, text: str) -> list[dict[str, Any]]:
    words = [w + " " for w in text.split(" ")]
    words[-1] = words[-1].rstrip()
    msg = {"type": "message", "id": "msg_1", "role": "assistant", "status": "completed",
           "content": [{"type": "output_text", "text": text, "annotations": []}]}  # fmt: skip
    at = {"output_index": 0, "content_index": 0, "item_id": "msg_1", "logprobs": []}
    return _numbered(
        [
            {"type": "response.created", "response": _response(rid, "in_progress", [])},
            *({"type": "response.output_text.delta", **at, "delta": w} for w in words),
            {"type": "response.output_text.done", **at, "text": text},
            {"type": "response.output_item.done", "output_index": 0, "item": msg},
            {"type": "response.completed", "response": _response(rid, "completed", [msg])},
        ]
    )


class ResponsesWsServer:
    """``with ResponsesWsServer() as server:`` serves ``server.url`` (``http://127.0.0.1:PORT``)."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.socket.getsockname()[1]}"

    def _realtime(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "session.created", "event_id": "ev_0", "session": {"type": "realtime"}}))
        for raw in ws:
            if json.loads(raw).get("type") != "response.create":
                continue
            rid = f"resp_{next(_ids)}"
            for n, delta in enumerate(["Bonjour", " !"]):
                ws.send(json.dumps({"type": "response.output_text.delta", "event_id": f"ev_{n + 1}", "response_id": rid,
                                    "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": delta}))  # fmt: skip
            ws.send(json.dumps({"type": "response.done", "event_id": "ev_9", "response": {"id": rid, "status": "completed"}}))

    def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers.append({k.lower(): v for k, v in ws.request.headers.raw_items()})
        if ws.request.path.startswith("/v1/realtime"):
            self._realtime(ws)
            return
        for raw in ws:
            event = json.loads(raw)
            if event.get("type") != "response.create":
                ws.send(json.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": "unknown event"}}))
                continue
            rid = f"resp_{next(_ids)}"
            fault = (event.get("metadata") or {}).get("fault")
            if fault in ("close-1011", "drop"):  # the server fails mid-response, with or without a close frame
                for frame in _call_events(rid)[:3]:
                    ws.send(json.dumps(frame))
                if fault == "drop":
                    ws.socket.shutdown(socket.SHUT_RDWR)
                else:
                    ws.close(1011, "internal error")
                return
            inputs = event.get("input")
            if inputs == "crash":  # the server fails mid-response: its close code says why
                ws.send(json.dumps(_call_events(rid)[0]))
                ws.close(1011, "internal error")
                return
            if inputs == "drop":  # the connection is lost mid-response: no close frame at all
                ws.send(json.dumps(_call_events(rid)[0]))
                ws.socket.shutdown(socket.SHUT_RDWR)
                return
            outputs = (
                [i for i in inputs if isinstance(i, dict) and i.get("type") == "function_call_output"]
                if isinstance(inputs, list)
                else []
            )
            frames = _text_events(rid, f"It is {outputs[0]['output']} in Paris.") if outputs else _call_events(rid)
            pace = float((event.get("metadata") or {}).get("pace_ms") or 0) / 1000
            for frame in frames:
                if pace:
                    time.sleep(pace)
                ws.send(json.dumps(frame))
            if fault == "close-after":  # a server that closes the socket once it has answered
                ws.close(1000, "idle")
                return

    def __enter__(self) -> ResponsesWsServer:
        self._server = serve(self._handle, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.shutdown()
        self._thread.join(5)
