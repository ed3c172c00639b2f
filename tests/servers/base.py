"""Shared plumbing for the loopback servers: a uvicorn thread, scenarios, SSE and JSON responses.

A *scenario* is chosen per request with the ``x-fake-scenario`` header (set through the SDKs'
``extra_headers`` / ``default_headers``), a comma-separated list of tokens:

``pause=S``        sleep S seconds after the first SSE event (the streaming-through test)
``delay=S``        sleep S seconds between every SSE event
``status=N``       answer with HTTP N (an API-shaped error body) instead of the normal answer
``retry-after=S``  with ``status``: send a ``retry-after`` header
``fail-times=K``   with ``status``: fail only the first K requests with this scenario, then answer normally
``gzip``           gzip the body (JSON or SSE) with ``content-encoding: gzip``
``crlf``           SSE lines end with CRLF instead of LF
``comments``       an SSE comment line (``: ping``) before every event
``error-event``    an ``error`` event (overloaded) in the middle of the stream, then the stream ends
``drop-after=N``   close the connection after N SSE events (a truncated stream)
``padded``         SSE data JSON written with ``json.dumps``'s defaults (``", "``, ``": "``, ``\\uXXXX`` escapes),
                   as older Anthropic streams are
``brace-pad``      compact SSE data JSON with a run of spaces (0-15, varying by event) before its closing brace,
                   as recent Anthropic streams are
``tag=X``          ignored: makes the header (and so the ``fail-times`` count) unique to one test run
"""

from __future__ import annotations

import asyncio
import gzip as _gzip
import hashlib
import json
import socket
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse


@dataclass
class Scenario:
    pause: float = 0.0
    delay: float = 0.0
    status: int | None = None
    retry_after: str | None = None
    fail_times: int | None = None
    gzip: bool = False
    crlf: bool = False
    comments: bool = False
    error_event: bool = False
    drop_after: int | None = None
    padded: bool = False
    brace_pad: bool = False

    def dumps(self, data: Any, n: int = 0) -> str:
        """SSE data ``data`` (the stream's ``n``-th event) as this scenario's server writes it."""
        if self.padded:
            return json.dumps(data)
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        if self.brace_pad and text[-1:] in ("}", "]"):
            text = text[:-1] + " " * (n * 7 % 16) + text[-1]
        return text

    @classmethod
    def parse(cls, request: Request) -> Scenario:
        s = cls()
        raw = request.headers.get("x-fake-scenario", "")
        for token in filter(None, (t.strip() for t in raw.split(","))):
            name, _, value = token.partition("=")
            if name == "pause":
                s.pause = float(value)
            elif name == "delay":
                s.delay = float(value)
            elif name == "status":
                s.status = int(value)
            elif name == "retry-after":
                s.retry_after = value
            elif name == "fail-times":
                s.fail_times = int(value)
            elif name == "gzip":
                s.gzip = True
            elif name == "crlf":
                s.crlf = True
            elif name == "comments":
                s.comments = True
            elif name == "error-event":
                s.error_event = True
            elif name == "drop-after":
                s.drop_after = int(value)
            elif name == "padded":
                s.padded = True
            elif name == "brace-pad":
                s.brace_pad = True
            elif name == "tag":
                pass  # only makes the header unique, so fail-times counts afresh
            else:
                raise ValueError(f"unknown scenario token {token!r}")
        return s


_failures: dict[str, int] = {}
_failures_lock = threading.Lock()


def should_fail(request: Request, scenario: Scenario) -> bool:
    """True when this request must be answered with ``scenario.status``."""
    if scenario.status is None:
        return False
    if scenario.fail_times is None:
        return True
    key = request.headers.get("x-fake-scenario", "")
    with _failures_lock:
        seen = _failures.get(key, 0)
        _failures[key] = seen + 1
    return seen < scenario.fail_times


def deterministic_id(prefix: str, *parts: Any) -> str:
    """An id derived from the request, so an unchanged exchange re-records to an unchanged file."""
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()
    return f"{prefix}{digest[:24]}"


def json_response(obj: Any, scenario: Scenario, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    hdrs = dict(headers or {})
    if scenario.gzip:
        body = _gzip.compress(body, mtime=0)
        hdrs["content-encoding"] = "gzip"
    return Response(body, status_code=status, media_type="application/json", headers=hdrs)


def encode_event(event: str | None, data: str, scenario: Scenario) -> bytes:
    nl = "\r\n" if scenario.crlf else "\n"
    out = []
    if scenario.comments:
        out.append(f": ping{nl}")
    if event is not None:
        out.append(f"event: {event}{nl}")
    out.extend(f"data: {line}{nl}" for line in data.split("\n"))
    out.append(nl)
    return "".join(out).encode()


def sse_response(
    events: Iterable[tuple[str | None, Any]],
    scenario: Scenario,
    *,
    error_event: tuple[str | None, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> StreamingResponse:
    """Stream ``(event name, data)`` pairs, one network write per event.

    ``data`` that is not a ``str`` is JSON-encoded compactly, as the real APIs do (or as the scenario says:
    ``padded``, ``brace-pad``).
    """
    items = [(name, d if isinstance(d, str) else scenario.dumps(d, n)) for n, (name, d) in enumerate(events)]
    hdrs = {"cache-control": "no-cache", **(headers or {})}
    if scenario.gzip:
        hdrs["content-encoding"] = "gzip"

    async def body() -> AsyncIterator[bytes]:
        compressor = zlib.compressobj(wbits=31) if scenario.gzip else None
        for i, (name, data) in enumerate(items):
            if scenario.drop_after is not None and i >= scenario.drop_after:
                raise ConnectionResetError("scenario drop-after: closing mid-stream")
            if scenario.error_event and error_event is not None and i == len(items) // 2:
                chunk = encode_event(error_event[0], json.dumps(error_event[1], separators=(",", ":")), scenario)
                yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH) if compressor else chunk
                break
            chunk = encode_event(name, data, scenario)
            yield compressor.compress(chunk) + compressor.flush(zlib.Z_SYNC_FLUSH) if compressor else chunk
            if i == 0 and scenario.pause:
                await asyncio.sleep(scenario.pause)
            elif scenario.delay:
                await asyncio.sleep(scenario.delay)
        if compressor:
            yield compressor.flush()

    return StreamingResponse(body(), media_type="text/event-stream", headers=hdrs)


def queue_stream(streams: list[asyncio.Queue[Any]]) -> StreamingResponse:
    """A long-lived SSE stream fed by a queue it adds to ``streams`` (removed when the client leaves): each
    event put on it is sent as ``event: <type>`` with compact JSON data; ``None`` ends the stream."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    streams.append(queue)

    async def body() -> AsyncIterator[bytes]:
        try:
            while True:
                event = await queue.get()
                if event is None:
                    return
                data = json.dumps(event, separators=(",", ":"))
                yield f"event: {event['type']}\ndata: {data}\n\n".encode()
        finally:
            streams.remove(queue)

    return StreamingResponse(body(), media_type="text/event-stream", headers={"cache-control": "no-cache"})


@dataclass
class ServerThread:
    """Run an ASGI app with uvicorn on 127.0.0.1 and a free port, in a daemon thread."""

    app: Any
    host: str = "127.0.0.1"
    port: int = 0
    _server: uvicorn.Server | None = field(default=None, init=False, repr=False)
    _thread: threading.Thread | None = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> ServerThread:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="auto", timeout_graceful_shutdown=1)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = self._thread = None

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
