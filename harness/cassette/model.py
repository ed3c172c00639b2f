"""Pure data: a cassette is an ordered timeline of interactions. No I/O here.

Every kind of interaction (an HTTP exchange, an MCP message, a local tool call) is a type here behind
one :class:`Interaction` protocol, so the ledger, the reports, the merge and the file format treat
them alike; :mod:`harness.cassette.format` reads and writes each kind from a static table.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

from harness import sse
from harness.jsonutil import canonical, compact, short

Headers = dict[str, str]


class Keys(Protocol):
    """What an interaction needs of the matcher to make its key (:class:`harness.matching.Matcher`)."""

    def request_key(self, request: Request) -> tuple[Any, ...]: ...

    def json_key(self, value: Any) -> str: ...


class Interaction(Protocol):
    """One exchange on the timeline, of any kind."""

    kind: ClassVar[str]

    def key(self, keys: Keys) -> tuple[Any, ...]:
        """What replay matches on: equal keys answer each other (``ignore_paths`` applied by ``keys``)."""
        ...

    def describe(self) -> str:
        """One line for reports: ``POST /v1/messages``, ``tool get_weather({...})``."""
        ...

    def timeless(self) -> Interaction:
        """The same exchange without its timings, to tell whether a re-recording changed anything."""
        ...


class Body:
    """A request or response body, stored in the most readable form that gives the bytes back.

    ``kind`` is one of ``json`` (parsed JSON), ``sse`` (a list of events, see :mod:`harness.sse`),
    ``text`` (UTF-8 text), ``base64`` (anything else) or ``empty``.
    """

    __slots__ = ("_bytes", "eol", "kind", "value")

    def __init__(self, kind: str, value: Any = None, eol: str = "\n") -> None:
        self.kind = kind
        self.value = value
        self.eol = eol
        self._bytes: bytes | None = None

    @classmethod
    def from_bytes(cls, data: bytes, content_type: str = "") -> Body:
        if not data:
            return cls("empty")
        ctype = content_type.split(";", 1)[0].strip().lower()
        if ctype == "text/event-stream":
            try:
                events, eol = sse.parse(data)
            except UnicodeDecodeError:
                pass
            else:
                body = cls("sse", events, eol)
                body._bytes = data
                return body
        if ctype == "application/json" or ctype.endswith("+json") or (not ctype and data[:1] in (b"{", b"[")):
            try:
                body = cls("json", json.loads(data))
                body._bytes = compact(body.value).encode("utf-8")
                return body
            except ValueError:  # not JSON, or a lone surrogate ("\\ud800") UTF-8 cannot hold: kept as text
                pass
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return cls("base64", base64.b64encode(data).decode("ascii"))
        return cls("text", text)

    def bytes(self) -> bytes:
        """The body's bytes, rendered once and cached (replay asks for them on every play)."""
        if self._bytes is None:
            if self.kind == "json":
                self._bytes = compact(self.value).encode("utf-8")
            elif self.kind == "sse":
                self._bytes = sse.render(self.value, self.eol)
            elif self.kind == "text":
                self._bytes = str(self.value).encode("utf-8")
            elif self.kind == "base64":
                self._bytes = base64.b64decode(self.value)
            else:
                self._bytes = b""
        return self._bytes

    def to_json(self) -> dict[str, Any]:
        if self.kind == "empty":
            return {}
        if self.kind == "sse" and self.eol != "\n":
            return {"sse": self.value, "eol": self.eol}
        return {self.kind: self.value}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Body) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"Body({self.kind})"


@dataclass(eq=True)
class Request:
    method: str
    url: str
    headers: Headers = field(default_factory=dict)
    body: Body = field(default_factory=lambda: Body("empty"))

    @property
    def path(self) -> str:
        """The path and query, without scheme, host and port (loopback ports vary)."""
        rest = self.url.split("://", 1)[-1]
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else "/"


@dataclass(eq=True)
class Response:
    status: int
    headers: Headers = field(default_factory=dict)
    body: Body = field(default_factory=lambda: Body("empty"))
    # [[bytes, ms since the headers arrived], ...] — how the body came off the network.
    chunks: list[list[float]] | None = None
    # An error raised by the transport part-way through the body: {"type", "message"}.
    error: dict[str, str] | None = None
    # Causal links of a stream: [[chunk, "POST /path", ...], ...] — that chunk came only after the client had
    # made those state-changing requests (counted from when the stream opened); replay holds it back until then.
    awaits: list[list[Any]] | None = field(default=None, kw_only=True)
    # The client stopped reading before the server ended the body (its own timer, a cancel): replay holds
    # the stream open after the last chunk, as the server did, instead of ending it.
    client_closed: bool = field(default=False, kw_only=True)


@dataclass(eq=True)
class HttpInteraction:
    """One HTTP exchange. ``error`` is set (and ``response`` is None) when no response came back."""

    kind: ClassVar[str] = "http"
    request: Request
    response: Response | None = None
    error: dict[str, str] | None = None
    # ms from sending the request to the response headers.
    elapsed_ms: float | None = None

    def key(self, keys: Keys) -> tuple[Any, ...]:
        return keys.request_key(self.request)

    def describe(self) -> str:
        return f"{self.request.method} {self.request.path}"

    def timeless(self) -> HttpInteraction:
        """A copy without timings, to tell whether a re-recording changed anything."""
        resp = self.response
        if resp is not None and resp.chunks is not None:
            chunks = [[c[0]] for c in resp.chunks]
            resp = Response(
                resp.status, resp.headers, resp.body, chunks, resp.error, awaits=resp.awaits, client_closed=resp.client_closed
            )
        return HttpInteraction(self.request, resp, self.error, None)


@dataclass(eq=True)
class ToolInteraction:
    """One call of a local tool: its name, input, and result (or the error it raised)."""

    kind: ClassVar[str] = "tool"
    name: str
    input: Any
    result: Any = None
    #: ``{"type", "message"}``, and ``args`` / ``attrs`` (plain JSON) when the exception has them.
    error: dict[str, Any] | None = None

    def key(self, keys: Keys) -> tuple[Any, ...]:
        return ("tool", self.name, keys.json_key(self.input))

    def describe(self) -> str:
        return f"tool {self.name}({canonical(self.input)})"

    def timeless(self) -> ToolInteraction:
        return self


@dataclass(eq=True)
class McpInteraction:
    """One MCP client request (with the server's answer) or one client notification, on one server.

    ``during`` holds what the server sent between the request and its response, ``after`` what it
    sent with no request in flight (see :mod:`harness.seams.mcp`)."""

    kind: ClassVar[str] = "mcp"
    server: str
    method: str
    params: Any = None
    notification: bool = False
    result: Any = None
    error: dict[str, Any] | None = None
    during: list[dict[str, Any]] = field(default_factory=list)
    after: list[dict[str, Any]] = field(default_factory=list)

    # What the miss report compares: the closest recorded call has the same ``name``.
    @property
    def name(self) -> str:
        return ("notify " if self.notification else "") + self.method

    @property
    def input(self) -> Any:
        return {"server": self.server, "params": self.params}

    def key(self, keys: Keys) -> tuple[Any, ...]:
        return ("mcp", self.server, self.notification, self.method, keys.json_key(self.params))

    def describe(self) -> str:
        p = self.params
        if self.method == "tools/call" and isinstance(p, dict):
            what = f"tools/call {p.get('name')}({short(canonical(p.get('arguments') or {}), 100)})"
            extra = {k: v for k, v in p.items() if k not in ("name", "arguments")}
            if extra:
                what += f" +{','.join(sorted(extra))}"
        elif p:
            what = f"{self.method} {short(canonical(p), 100)}"
        else:
            what = self.method
        return f"mcp {'notify ' if self.notification else ''}{what} @ {self.server}"

    def timeless(self) -> McpInteraction:
        return self


@dataclass(eq=True)
class WebSocketInteraction:
    """One WebSocket session: the handshake (URL and headers, scrubbed), then every frame in order.

    A frame is ``{"from": "client"|"server", "ms": since the handshake, and one of "json" (a text frame
    holding JSON, parsed), "text" or "base64" (a binary frame)}``. ``close`` is ``{"by": "client"|"server",
    "code", "reason"}`` when the session was closed while recorded."""

    kind: ClassVar[str] = "websocket"
    url: str
    headers: Headers = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)
    close: dict[str, Any] | None = None
    #: ``{"type", "message"}``: the handshake failed while recorded.
    error: dict[str, str] | None = None

    # What the miss report compares: the closest recorded session has the same ``name``.
    @property
    def name(self) -> str:
        return Request("GET", self.url).path.split("?")[0]

    @property
    def input(self) -> Any:
        return {"url": Request("GET", self.url).path}

    def key(self, keys: Keys) -> tuple[Any, ...]:
        return ("websocket", Request("GET", self.url).path)

    def describe(self) -> str:
        return f"WebSocket to {self.url}"

    def timeless(self) -> WebSocketInteraction:
        frames = [{k: v for k, v in f.items() if k != "ms"} for f in self.frames]
        return WebSocketInteraction(self.url, self.headers, frames, self.close, self.error)


@dataclass
class Cassette:
    """The timeline of one test, as loaded from (or to be written to) ``path``."""

    path: Path
    interactions: list[Interaction] = field(default_factory=list)
    mode: str = "none"
    #: True when the file existed when the test started.
    existed: bool = False
    #: indices of interactions replayed so far, in play order.
    played: list[int] = field(default_factory=list)
    #: indices of interactions recorded by this test.
    recorded: list[int] = field(default_factory=list)

    @property
    def unplayed(self) -> list[int]:
        done = set(self.played) | set(self.recorded)
        return [i for i in range(len(self.interactions)) if i not in done]

    def __repr__(self) -> str:
        return (
            f"<Cassette {self.path} mode={self.mode} interactions={len(self.interactions)} "
            f"played={len(self.played)} recorded={len(self.recorded)}>"
        )
