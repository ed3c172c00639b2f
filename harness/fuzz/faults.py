"""Faults: what goes wrong on real networks, as variants of a recorded response.

``truncate``      the stream ends cleanly after N events (no ``message_stop`` / ``[DONE]``)
``drop``          the connection is lost at a byte, mid-event (the transport raises ``RemoteProtocolError``)
``error_event``   the provider's error event (overloaded) after N events, then the stream ends
``status``        an HTTP error (429, 529...) with ``retry-after`` answered first; a retry gets the recording
``read_timeout``  the stream stalls after N events: nothing more comes (``ReadTimeout``, or a hang)

The transport errors replay as the class of the client's HTTP library (``httpx2.ReadTimeout``...),
exactly as a recorded transport error does. A stall honours the request's own read timeout
(``request.extensions["timeout"]["read"]``, what ``Anthropic(timeout=...)`` / ``OpenAI(timeout=...)``
set): when the client has one shorter than the stall, the transport raises ``ReadTimeout`` after
that long, as httpcore would; a client without one (``timeout=None``), or with a longer one, waits,
as it would on a real network, until the test's watchdog reports :class:`StreamHang`. A finite
``stall`` shorter than the read timeout ends with the server closing the connection
(``RemoteProtocolError``). So give the clients in fault tests a short timeout (``timeout=0.05``):
the SDKs' default is 600 s.
"""

from __future__ import annotations

import itertools
import json
import math
import time
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from harness import sse
from harness.cassette.model import Body, HttpInteraction, Response
from harness.fuzz import links
from harness.fuzz.resplit import build, rewriter_for
from harness.fuzz.stream import Recorded, sse_body
from harness.fuzz.variant import Variant
from harness.providers import Provider
from harness.seams.http import read_timeout as http_read_timeout

KINDS = ("truncate", "drop", "error_event", "status", "read_timeout")
PEER_CLOSED = "peer closed connection without sending complete message body (incomplete chunked read)"


def _fault(
    rec: Recorded, response: Response, fault: str, label: str, details: list[str], before: tuple[HttpInteraction, ...] = ()
) -> Variant:
    interaction = HttpInteraction(rec.interaction.request, response, None, rec.interaction.elapsed_ms)
    return Variant(
        rec.index,
        interaction,
        kind="fault",
        fault=fault,
        preserving=False,
        label=label,
        details=details,
        before=before,
        format=rec.format,
    )


def _last(rec: Recorded, after: int) -> str:
    return f"event #{after - 1} {rec.event_name(after - 1)}" if after > 0 else "no event"


def truncate(rec: Recorded, after: int) -> Variant:
    """Only the first ``after`` events, then a clean end of stream."""
    events = _events(rec)
    after = max(0, min(after, len(events) - 1))
    resp = rec.response
    parts = rec.parts[:after]
    body = sse_body(events[:after], rec.eol, parts)
    chunks = [[len(p), 0.0] for p in parts] or [[0, 0.0]]
    new = links.relinked(resp, Response(resp.status, resp.headers, body, chunks, None), keep_open=False)
    missing = ", ".join(dict.fromkeys(rec.event_name(i) for i in range(after, len(events))))
    label = f"truncate(#{rec.index}: clean end after {_last(rec, after)}; {after} of {len(events)} events kept; never sent: {missing})"
    return _fault(rec, new, "truncate", label, [label])


def drop(rec: Recorded, at: int) -> Variant:
    """The first ``at`` bytes, then the connection is lost (``RemoteProtocolError``)."""
    n = len(rec.data)
    at = max(0, min(at, n - 1))
    resp = rec.response
    body = _cut_body(rec, at)
    bounds = [0, *sorted(links.cuts(links.offsets(resp), at)), at]  # a causal stream's bytes still wait for their request
    chunks: list[list[float]] = [[b - a, 0.0] for a, b in itertools.pairwise(bounds)]
    error = {"type": "RemoteProtocolError", "message": PEER_CLOSED}
    new = links.relinked(resp, Response(resp.status, resp.headers, body, chunks, error), keep_open=False)
    label = f"drop(#{rec.index}: connection lost at {rec.describe_byte(at)})"
    return _fault(rec, new, "drop", label, [label])


def error_event(rec: Recorded, after: int) -> Variant:
    """The provider's mid-stream error event (overloaded) after ``after`` events; nothing follows."""
    rw = _rewriter(rec)
    events = _events(rec)
    after = max(0, min(after, len(events) - 1))
    entry = rw.error_entry(events, after)
    parts = [*rec.parts[:after], sse.render_entry(entry, rec.eol).encode("utf-8")]
    label = f"error_event(#{rec.index}: {json.dumps(entry.get('data'), ensure_ascii=False)[:90]} after {_last(rec, after)})"
    variant = build(rec, [*events[:after], entry], parts, label=label, details=[label], kind="fault")
    variant.fault, variant.preserving = "error_event", False
    return variant


def status(rec: Recorded, code: int = 529, retry_after: float = 0.001) -> Variant:
    """An HTTP ``code`` error with ``retry-after`` first; a retry of the same request gets the recording."""
    rw = rewriter_for(rec) or Provider()
    body = rw.status_body(code)
    headers = {
        "content-type": "application/json",
        "retry-after": str(max(0, int(retry_after))),
        "retry-after-ms": f"{retry_after * 1000:g}",
    }
    headers.update(rw.status_headers)
    error = Response(code, headers, Body("json", body), None, None)
    first = HttpInteraction(rec.interaction.request, error, None, rec.interaction.elapsed_ms)
    kind = body.get("error", {}).get("type") if isinstance(body.get("error"), dict) else None
    label = f"status(#{rec.index}: HTTP {code} {kind or ''} with retry-after {retry_after:g} s, then the recorded response)"
    return _fault(rec, rec.response, "status", label, [label], before=(first,))


@dataclass(eq=True)
class Stall(Response):
    """A recorded response whose body stops after its chunks: nothing more comes for ``stall``
    seconds (``math.inf``: ever). Its ``error`` (``ReadTimeout``) is what the transport raises when
    the request's read timeout runs out first (see :func:`bind_stall`)."""

    stall: float = math.inf

    def bind_stream(self, lib: Any, stream: Any, request: Any) -> Any:
        """Called by the HTTP seam's replay with the body it built: make it stall for ``request``."""
        return bind_stall(lib, stream, request, self.stall)


def read_timeout(rec: Recorded, after: int, stall: float = math.inf) -> Variant:
    """The first ``after`` events (or bytes, for a body that is not SSE), then a stall of ``stall``
    seconds (default: for ever). The client's read timeout, if shorter, raises ``ReadTimeout``."""
    resp = rec.response
    if rec.events is not None:
        after = max(0, min(after, len(rec.events) - 1))
        parts = rec.parts[:after]
        body = sse_body(rec.events[:after], rec.eol, parts)
        sizes = [len(p) for p in parts]
        where = f"after {_last(rec, after)}"
    else:
        after = max(0, min(after, len(rec.data) - 1))
        body = _cut_body(rec, after)
        sizes = [after] if after else []
        where = f"after byte {after}"
    chunks: list[list[float]] = [[s, 0.0] for s in sizes] or [[0, 0.0]]
    error = {"type": "ReadTimeout", "message": "The read operation timed out"}
    new = links.relinked(resp, Stall(resp.status, resp.headers, body, chunks, error, stall), keep_open=False)
    how_long = "for ever" if math.isinf(stall) else f"{stall:g} s"
    label = f"read_timeout(#{rec.index}: stalls {how_long} {where}; ReadTimeout after the client's read timeout)"
    return _fault(rec, new, "read_timeout", label, [label])


_STALLED: dict[str, type] = {}


def bind_stall(lib: Any, stream: Any, request: Any, stall: float) -> Any:
    """``stream`` (a replayed :class:`Stall` body: its chunks, then its ``ReadTimeout``) made to
    stall as a real network does, for the ``request`` that gets it: after the chunks nothing comes;
    the read timeout of the request (if shorter than the stall) raises ``lib.ReadTimeout`` after that
    long; otherwise the stall lasts ``stall`` seconds (for ever, by default: the watchdog reports
    the hang), then the server closes the connection (``lib.RemoteProtocolError``)."""
    cls = _STALLED.get(lib.__name__)
    if cls is None or not issubclass(cls, lib.SyncByteStream):
        cls = _STALLED[lib.__name__] = _stalled_class(lib)
    return cls(stream, http_read_timeout(request), stall, request)


def _stalled_class(lib: Any) -> type:
    class StalledStream(lib.SyncByteStream, lib.AsyncByteStream):  # type: ignore[misc]
        def __init__(self, inner: Any, read: float | None, stall: float, request: Any = None) -> None:
            self.inner, self.read, self.stall, self.request = inner, read, stall, request

        def _wait(self) -> tuple[float, BaseException]:
            if self.read is not None and self.read < self.stall:
                message = (
                    f"The read operation timed out (harness read_timeout fault: nothing came for {self.read:g} s, "
                    "the request's read timeout)"
                )
                return self.read, self._error(lib.ReadTimeout, message)
            return self.stall, self._error(
                lib.RemoteProtocolError, f"{PEER_CLOSED} (harness read_timeout fault: after a {self.stall:g} s stall)"
            )

        def _error(self, cls: Any, message: str) -> BaseException:
            error: BaseException = cls(message, request=self.request) if self.request is not None else cls(message)
            return error

        def __iter__(self) -> Any:
            try:
                yield from self.inner
            except lib.ReadTimeout:  # the replayed body's own end: the stall begins here
                pass
            wait, error = self._wait()
            if math.isinf(wait):
                while True:  # a real stall: only the watchdog (or the caller) ends it
                    time.sleep(3600)
            time.sleep(wait)
            raise error

        async def __aiter__(self) -> Any:
            import anyio

            try:
                async for part in self.inner:
                    yield part
            except lib.ReadTimeout:
                pass
            wait, error = self._wait()
            if math.isinf(wait):
                await anyio.sleep_forever()
            await anyio.sleep(wait)
            raise error

        def close(self) -> None:
            close = getattr(self.inner, "close", None)
            if close is not None:
                close()

        async def aclose(self) -> None:
            aclose = getattr(self.inner, "aclose", None)
            if aclose is not None:
                await aclose()

    return StalledStream


def _events(rec: Recorded) -> list[dict[str, Any]]:
    if rec.events is None:
        raise ValueError(f"interaction #{rec.index} is not an SSE stream")
    return rec.events


def _rewriter(rec: Recorded) -> Provider:
    rw = rewriter_for(rec)
    if rw is None:
        raise ValueError(f"no rewriter knows the format of interaction #{rec.index}: cannot make its error event")
    return rw


def _cut_body(rec: Recorded, at: int) -> Body:
    data = rec.data[:at]
    body = Body("text" if rec.events is not None else "base64", "")
    body._bytes = data  # replay only reads the bytes; the kind and value are never written
    return body


def fault_strategy(
    rec: Recorded, kinds: tuple[str, ...] = KINDS, statuses: tuple[int, ...] = (429, 529)
) -> st.SearchStrategy[Variant]:
    """Faults of ``rec``; shrinks towards the first kind given, then the earliest position."""
    sse_only = {"truncate", "error_event"}
    usable = [k for k in kinds if k not in sse_only or rec.events is not None]
    if rec.events is not None and rewriter_for(rec) is None:
        usable = [k for k in usable if k != "error_event"]
    if not usable:
        return st.nothing()
    n_events = len(rec.events) if rec.events is not None else 0
    n = len(rec.data)

    @st.composite
    def draw_variant(draw: Any) -> Variant:
        kind = draw(st.sampled_from(usable))
        if kind == "truncate":
            return truncate(rec, draw(st.integers(0, max(0, n_events - 1))))
        if kind == "drop":
            cuts = rec.interesting_cuts()
            where = (
                st.one_of(st.integers(0, len(cuts) - 1).map(cuts.__getitem__), st.integers(1, max(1, n - 1)))
                if cuts
                else st.integers(0, max(0, n - 1))
            )
            return drop(rec, draw(where))
        if kind == "error_event":
            return error_event(rec, draw(st.integers(1, max(1, n_events - 1))))
        if kind == "status":
            return status(rec, draw(st.sampled_from(statuses)))
        limit = n_events - 1 if rec.events is not None else n - 1
        return read_timeout(rec, draw(st.integers(0, max(0, limit))))

    return draw_variant()
