"""The HTTP seam: ``handle_request`` / ``handle_async_request`` of the httpx2 and httpx transports.

One seam covers anthropic, openai (including legacy ``httpx`` clients) and anything else built on
either library, sync and async, whatever client object the code under test creates: the methods
are patched on the transport classes for the duration of one test and restored in ``finally``.

Recording tees the response body: each chunk is handed to the SDK the moment it arrives, and a
copy (with its arrival time) is kept. vcrpy's httpx stubs read the whole body before returning,
which delays the first event until the stream ends and deadlocks MCP tools that elicit mid-call;
that is why this part is written here rather than borrowed.

Replay answers from the cassette with the recorded chunk boundaries, instantly or paced.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import importlib.util
import itertools
import operator
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from harness.seams.causal import Causal, causes
from harness.seams.imports import after_import, installed
from harness.seams.tls import defer, resolve

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

#: Set by a higher seam (MCP over streamable HTTP) whose traffic is recorded at its own level.
passthrough: contextvars.ContextVar[bool] = contextvars.ContextVar("harness_http_passthrough", default=False)

LIBRARIES = ("httpx2", "httpx")


def available_libraries() -> list[ModuleType]:
    """The HTTP libraries installed; importing them here (not at plugin load) keeps start-up cheap."""
    return [importlib.import_module(name) for name in LIBRARIES if installed(name)]


class _Streams:
    """Byte-stream classes for one library (its clients check ``isinstance`` against its own bases)."""

    _cache: dict[str, _Streams] = {}

    def __init__(self, lib: ModuleType) -> None:
        self.lib = lib
        sync_base, async_base = lib.SyncByteStream, lib.AsyncByteStream

        class ReplayStream(sync_base, async_base):  # type: ignore[misc,valid-type]
            __slots__ = ("causal", "error", "parts", "request", "speed", "times")

            def __init__(
                self,
                parts: list[bytes],
                times: list[float] | None,
                speed: float,
                error: BaseException | None,
                request: Any = None,
                causal: Causal | None = None,
            ) -> None:
                self.parts, self.times, self.speed, self.error, self.request = parts, times, speed, error, request
                self.causal = causal

            def _steps(self) -> Iterator[bytes | float]:
                """The body's parts, with the waits before them (floats) when paced. One schedule
                for both twins: the sync stream sleeps the waits, the async one awaits them."""
                causal = self.causal
                if self.times is None:
                    if causal is None:
                        yield from self.parts
                    else:
                        for n, part in enumerate(self.parts):
                            yield from causal.before(n, len(self.parts))
                            yield part
                else:
                    # Paced: each chunk comes when it came while recording. A wait longer than the
                    # request's read timeout is one the client would have given up on: give up the
                    # same way, after the timeout, as the real network read would.
                    start = time.perf_counter()
                    read = read_timeout(self.request)
                    for n, (part, at) in enumerate(zip(self.parts, self.times)):
                        if causal is not None:
                            yield from causal.before(n, len(self.parts))
                        wait = start + at - time.perf_counter()
                        if wait > 0:
                            if read is not None and wait > read:
                                yield float(read)
                                raise _read_timeout_error(lib, self.request, wait, read)
                            yield wait
                        yield part
                if self.error is not None:
                    raise self.error
                if causal is not None:
                    yield from causal.after()

            def __iter__(self) -> Iterator[bytes]:
                if self.times is None and self.error is None and self.causal is None:
                    yield from self.parts
                    return
                for step in self._steps():
                    if isinstance(step, float):
                        time.sleep(step)
                    else:
                        yield step

            async def __aiter__(self) -> AsyncIterator[bytes]:
                if self.times is None and self.error is None and self.causal is None:
                    for part in self.parts:
                        yield part
                    return
                import anyio

                for step in self._steps():
                    if isinstance(step, float):
                        await anyio.sleep(step)
                    else:
                        yield step

        class RecordingStream(sync_base):  # type: ignore[misc,valid-type]
            def __init__(self, inner: Any, sink: _Sink) -> None:
                self.inner, self.sink = inner, sink

            def __iter__(self) -> Iterator[bytes]:
                sink = self.sink
                try:
                    for chunk in self.inner:
                        sink.chunk(chunk)
                        yield chunk
                except BaseException as exc:
                    sink.fail(exc)
                    raise
                sink.done()

            def close(self) -> None:
                try:
                    self.inner.close()
                finally:
                    self.sink.done()

        class AsyncRecordingStream(async_base):  # type: ignore[misc,valid-type]
            def __init__(self, inner: Any, sink: _Sink) -> None:
                self.inner, self.sink = inner, sink

            async def __aiter__(self) -> AsyncIterator[bytes]:
                sink = self.sink
                try:
                    async for chunk in self.inner:
                        sink.chunk(chunk)
                        yield chunk
                except BaseException as exc:
                    sink.fail(exc)
                    raise
                sink.done()

            async def aclose(self) -> None:
                try:
                    await self.inner.aclose()
                finally:
                    self.sink.done()

        self.Replay = ReplayStream
        self.Recording = RecordingStream
        self.AsyncRecording = AsyncRecordingStream

    @classmethod
    def of(cls, lib: ModuleType) -> _Streams:
        streams = cls._cache.get(lib.__name__)
        if streams is None or streams.lib is not lib:
            streams = cls._cache[lib.__name__] = cls(lib)
        return streams


class _Sink:
    """Collects one response body as it streams through; hands it to the ledger when it ends."""

    __slots__ = ("cut", "error", "finished", "ledger", "lib", "parts", "response", "seen", "slot", "t0", "times")

    def __init__(self, ledger: Ledger, slot: int, lib: ModuleType, response: Any) -> None:
        self.ledger, self.slot, self.lib, self.response = ledger, slot, lib, response
        self.parts: list[bytes] = []
        self.times: list[float] = []
        #: How many interactions had started when each chunk came (the stream's causes: harness.seams.causal).
        self.seen: list[int] = []
        self.cut = False
        self.t0 = time.perf_counter()
        self.error: BaseException | None = None
        self.finished = False
        ledger.pending[slot] = self

    def chunk(self, data: bytes) -> None:
        self.parts.append(data)
        self.times.append(time.perf_counter())
        self.seen.append(len(self.ledger.cassette.interactions))

    def fail(self, exc: BaseException) -> None:
        if type(exc).__name__ in ("CancelledError", "Cancelled"):
            # Cancelled while waiting for the next chunk (a timeout of the client's own): the client stopped
            # reading a stream the server kept open; nothing broke. (A consumer that stops iterating between
            # chunks closes the body instead: that end is not noted, as the replayed client stops there too.)
            self.cut = True
        else:
            self.error = exc
        self.done()

    def done(self) -> None:
        if self.finished:
            return
        self.finished = True
        self.ledger.pending.pop(self.slot, None)
        raw_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in self.response.headers.raw]
        encoding = self.response.headers.get("content-encoding", "")
        parts = _decode(self.lib, encoding, self.parts) if encoding else self.parts
        error = None
        if self.error is not None and not isinstance(self.error, GeneratorExit):
            error = {"type": type(self.error).__name__, "message": str(self.error)}
        chunks = [[len(p), round((t - self.t0) * 1000, 1)] for p, t in zip(parts, self.times) if p]
        awaits = causes(self.ledger.cassette.interactions, self.slot, self.seen, parts)
        cut = self.cut and error is None
        self.ledger.finish_http(self.slot, self.response.status_code, raw_headers, b"".join(parts), chunks, error, awaits, cut)


def _decode(lib: ModuleType, encoding: str, parts: list[bytes]) -> list[bytes]:
    """Undo content-encoding chunk by chunk, so the cassette holds readable bodies."""
    decoders = importlib.import_module(f"{lib.__name__}._decoders")
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip().lower() != "identity"]
    if not codings:
        return parts
    decoder = decoders.MultiDecoder(codings) if len(codings) > 1 else decoders.SUPPORTED_DECODERS[codings[0]]()
    out = [_joined(decoder.decode(p)) for p in parts]
    tail = _joined(decoder.flush())
    if tail:
        out[-1] += tail
    return out


def _joined(data: Any) -> bytes:
    # httpx decoders return bytes; httpx2 decoders yield them.
    return data if isinstance(data, bytes) else b"".join(data)


class _Exchange:
    """One request through the seam, the steps both twins (sync and async) share: plan it; on
    replay, the wait for the headers and the recorded response; while recording, the timings and
    the tee of the body into the cassette."""

    __slots__ = ("ledger", "lib", "plan", "replaying", "request", "t0", "timeout", "wait")

    def __init__(self, ledger: Ledger, lib: ModuleType, request: Any, body: bytes) -> None:
        self.ledger, self.lib, self.request = ledger, lib, request
        self.plan = ledger.plan_http(request.method, str(request.url), request.headers.raw, body)
        self.replaying = self.plan.replay is not None
        self.wait, self.timeout = 0.0, None
        if self.replaying:
            self.wait, self.timeout = _header_wait(lib, self.plan.replay, ledger.settings.replay_speed, request)
        self.t0 = time.perf_counter()

    def replayed(self, streams: _Streams) -> Any:
        if self.timeout is not None:
            raise self.timeout
        return _replay_response(self.lib, streams, self.plan.replay, self.ledger.settings.replay_speed, self.request, self.ledger)

    def failed(self, exc: BaseException) -> None:
        self.ledger.fail_http(self.plan.slot, exc, self.t0)

    def recorded(self, response: Any, stream_class: Any) -> Any:
        self.ledger.headers_arrived(self.plan.slot, self.t0)
        response.stream = stream_class(response.stream, _Sink(self.ledger, self.plan.slot, self.lib, response))
        return response


class HttpSeam:
    """Patches the transports of every installed HTTP library for one test."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        for lib in available_libraries():
            self._patch(lib)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def _patch(self, lib: ModuleType) -> None:
        ledger = self.ledger
        streams = _Streams.of(lib)
        sync_cls = lib.HTTPTransport
        real_sync = sync_cls.__dict__["handle_request"]
        if ledger.replaying:
            # Clients made while the test may replay build their SSL context only when they connect.
            self._undo.append(defer(lib))

        def handle_request(transport: Any, request: Any) -> Any:
            if passthrough.get():
                resolve(transport)
                return real_sync(transport, request)
            exchange = _Exchange(ledger, lib, request, request.read())
            if exchange.replaying:
                if exchange.wait:
                    time.sleep(exchange.wait)
                return exchange.replayed(streams)
            resolve(transport)
            try:
                response = real_sync(transport, request)
            except Exception as exc:
                exchange.failed(exc)
                raise
            return exchange.recorded(response, streams.Recording)

        sync_cls.handle_request = handle_request
        self._undo.append(functools.partial(setattr, sync_cls, "handle_request", real_sync))
        self._patch_async(lib, lib.AsyncHTTPTransport)

        # Other async transports of this library that the SDKs ship (their aiohttp clients): patched
        # now if loaded, or the moment they are imported during the test.
        def patch_later(class_name: str) -> Callable[[Any], None]:
            return lambda module: self._patch_async(lib, getattr(module, class_name))

        waiting: dict[str, Callable[[Any], None]] = {}
        for module_name, class_name in ASYNC_TRANSPORTS.get(lib.__name__, ()):
            module = sys.modules.get(module_name)
            if module is not None:
                self._patch_async(lib, getattr(module, class_name))
            else:
                waiting[module_name] = patch_later(class_name)
        if waiting:
            self._undo.append(after_import(waiting))

    def _patch_async(self, lib: ModuleType, async_cls: Any) -> None:
        """Patch ``handle_async_request`` of one async transport class of ``lib``."""
        ledger = self.ledger
        streams = _Streams.of(lib)
        real_async = async_cls.__dict__["handle_async_request"]

        async def handle_async_request(transport: Any, request: Any) -> Any:
            if passthrough.get():
                resolve(transport)
                return await real_async(transport, request)
            exchange = _Exchange(ledger, lib, request, await request.aread())
            if exchange.replaying:
                if exchange.wait:
                    import anyio

                    await anyio.sleep(exchange.wait)
                return exchange.replayed(streams)
            resolve(transport)
            try:
                response = await real_async(transport, request)
            except Exception as exc:
                exchange.failed(exc)
                raise
            return exchange.recorded(response, streams.AsyncRecording)

        async_cls.handle_async_request = handle_async_request
        self._undo.append(functools.partial(setattr, async_cls, "handle_async_request", real_async))


#: Async transports outside the HTTP libraries, by library: the aiohttp transports the SDKs vendor
#: for their ``DefaultAioHttpClient`` (the ``aiohttp`` extra), and the httpx-aiohttp package.
ASYNC_TRANSPORTS: dict[str, tuple[tuple[str, str], ...]] = {
    "httpx2": (
        ("anthropic._vendor.httpx_aiohttp.transport", "AiohttpTransport"),
        ("openai._vendor.httpx_aiohttp.transport", "AiohttpTransport"),
    ),
    "httpx": (("httpx_aiohttp.transport", "AiohttpTransport"),),
}


_first = operator.itemgetter(0)


def read_timeout(request: Any) -> float | None:
    """The read timeout (seconds) the client set on ``request``, or None (no timeout)."""
    extensions = getattr(request, "extensions", None)
    timeout = extensions.get("timeout") if isinstance(extensions, dict) else None
    read = timeout.get("read") if isinstance(timeout, dict) else None
    return float(read) if isinstance(read, (int, float)) else None


def _read_timeout_error(lib: ModuleType, request: Any, gap: float, read: float | None) -> BaseException:
    """The library's own ``ReadTimeout``, as its transport raises it (SDKs map it to their timeout error)."""
    message = f"timed out (harness replay: the recording waited {gap:.3g} s here, more than the read timeout of {read:g} s)"
    error: BaseException = lib.ReadTimeout(message, request=request) if request is not None else lib.ReadTimeout(message)
    return error


def _header_wait(lib: ModuleType, interaction: Any, speed: float, request: Any) -> tuple[float, BaseException | None]:
    """Paced replay: how long the response headers took while recording (at ``speed``), and the
    timeout to raise after that wait when it is longer than the request's read timeout."""
    if speed <= 0 or not interaction.elapsed_ms:
        return 0.0, None
    wait = float(interaction.elapsed_ms) / 1000 / speed
    read = read_timeout(request)
    if read is not None and wait > read:
        return read, _read_timeout_error(lib, request, wait, read)
    return wait, None


def _encode(encoding: str, parts: list[bytes]) -> list[bytes]:
    """The stored (decoded) body encoded again as its ``content-encoding`` says, chunk by chunk (each chunk
    flushed, so the client decodes it as it arrives): what the server sent, byte for byte or not, but equal
    once decoded. Only encodings the ledger keeps the header of (gzip, deflate) get here."""
    parts = parts or [b""]
    for coding in [c.strip().lower() for c in encoding.split(",") if c.strip()]:
        if coding == "identity":
            continue
        # gzip: a fixed header (no file name, mtime 0), so the bytes are the same on every replay.
        packer = zlib.compressobj(6, zlib.DEFLATED, 31 if coding in ("gzip", "x-gzip") else 15)
        out = [packer.compress(p) + packer.flush(zlib.Z_SYNC_FLUSH) for p in parts]
        out[-1] += packer.flush()
        parts = out
    return parts


def _replay_response(
    lib: ModuleType, streams: _Streams, interaction: Any, speed: float, request: Any = None, ledger: Ledger | None = None
) -> Any:
    if interaction.response is None:
        raise _error(lib, interaction.error)
    resp = interaction.response
    plan = getattr(resp, "_plan", None)
    if plan is None:
        # Worked out once per recorded response: the header list and the body cut at its chunks.
        data = resp.body.bytes()
        # Recorded header values are the wire's bytes read as latin-1: give back those bytes
        # (as str, httpx would encode them as ASCII and fail on any other byte).
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in resp.headers.items()]
        if resp.chunks is None:
            parts = [data]
        else:
            # Cut at C speed: a long stream has one chunk per event.
            ends = list(itertools.accumulate(map(int, map(_first, resp.chunks))))
            parts = list(map(data.__getitem__, map(slice, [0, *ends[:-1]], ends)))
        encoding = next((v for k, v in resp.headers.items() if k.lower() == "content-encoding"), "")
        if encoding:
            parts = _encode(encoding, parts)
        if resp.chunks is None:
            headers.append((b"content-length", str(sum(map(len, parts))).encode("ascii")))
        plan = resp._plan = (headers, parts)
    headers, parts = plan
    paced = None
    if speed > 0:
        chunks = resp.chunks if resp.chunks is not None else [[0, 0.0]]
        paced = [(float(c[1]) / 1000 if len(c) > 1 else 0.0) / speed for c in chunks]
    error = _error(lib, resp.error) if resp.error is not None else None
    causal = None
    if ledger is not None and (resp.awaits or resp.client_closed):
        causal = Causal(ledger, interaction, str(getattr(request, "url", "")), read_timeout(request))
    stream: Any = streams.Replay(parts, paced, speed, error, request, causal)
    # A response that replays its body its own way (the fuzzer's stalled stream) binds it to the request.
    bind = getattr(resp, "bind_stream", None)
    if bind is not None and request is not None:
        stream = bind(lib, stream, request)
    return lib.Response(resp.status, headers=headers, stream=stream)


def _error(lib: ModuleType, error: dict[str, str] | None) -> BaseException:
    """The recorded transport error, as the same class of the same library when there is one."""
    error = error or {}
    cls = getattr(lib, error.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, lib.TransportError)):
        cls = lib.RemoteProtocolError if "Protocol" in error.get("type", "") else lib.TransportError
    rebuilt: BaseException = cls(f"{error.get('message', '')} (replayed from the cassette)")
    return rebuilt
