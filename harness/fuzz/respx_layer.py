"""Hand-made overrides with respx's routing API, layered over the cassette.

::

    import httpx   # respx speaks httpx's Request/Response types, whatever client the SDK uses
    import harness.strategies as hs

    @pytest.mark.cassette
    def test_second_call_overloaded(cassette):
        with hs.override() as router:
            router.post(path="/v1/messages").mock(side_effect=[
                hs.from_cassette,                                   # 1st call: the recording
                httpx.Response(529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ])
            with pytest.raises(anthropic.OverloadedError):
                run_agent(anthropic.Anthropic(max_retries=0))

How it is layered: while the block runs, the HTTP seam lets requests through to the client's
connection pool (``harness.seams.http.passthrough``), where a respx mocker sits, as
pytest-httpx2 does it for httpx2: it patches the ``httpcore2`` pools (and the ``httpcore`` pools of
legacy ``httpx`` clients). The router's routes answer first; a request no route takes (or a route
whose side effect returns None, like :data:`from_cassette`) is answered from the cassette, with
the recorded chunks and transport errors, in the class of the client's own HTTP library.

Requests the cassette answers count as played; those a route answers do not. The override needs
a replaying cassette (record first). The passthrough is a context variable: code under test that
sends requests from threads it starts itself must copy the context (``contextvars.copy_context``).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from typing import Any

import respx
from respx.mocks import HTTPCoreMocker
from respx.models import AllMockedAssertionError

from harness.errors import HarnessError
from harness.fuzz.current import ledger as _ledger
from harness.fuzz.variant import Variant
from harness.seams import http as _http

__all__ = ["CassetteMocker", "from_cassette", "override", "respond"]

MOCKER_NAME = "harness-cassette"
_CORE = {"httpcore2": "httpx2", "httpcore": "httpx"}


def from_cassette(request: Any) -> None:
    """A respx side effect meaning "answer this one from the cassette" (use it in side_effect lists)."""
    return None


class CassetteMocker(HTTPCoreMocker):
    """respx's httpcore mocker on the ``httpcore2`` and ``httpcore`` pools, whose fallback for
    requests no route takes is the running test's cassette instead of an error."""

    name = MOCKER_NAME
    targets = [
        "httpcore2._sync.connection.HTTPConnection",
        "httpcore2._sync.connection_pool.ConnectionPool",
        "httpcore2._sync.http_proxy.HTTPProxy",
        "httpcore2._async.connection.AsyncHTTPConnection",
        "httpcore2._async.connection_pool.AsyncConnectionPool",
        "httpcore2._async.http_proxy.AsyncHTTPProxy",
        "httpcore._sync.connection.HTTPConnection",
        "httpcore._sync.connection_pool.ConnectionPool",
        "httpcore._sync.http_proxy.HTTPProxy",
        "httpcore._async.connection.AsyncHTTPConnection",
        "httpcore._async.connection_pool.AsyncConnectionPool",
        "httpcore._async.http_proxy.AsyncHTTPProxy",
    ]
    ledger: Any = None

    @classmethod
    def _send_sync_request(cls, httpx_request: Any, *, target_spec: Any, instance: Any, **kwargs: Any) -> Any:
        try:
            return super()._send_sync_request(httpx_request, target_spec=target_spec, instance=instance, **kwargs)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            return cls._from_cassette(httpx_request, instance)

    @classmethod
    async def _send_async_request(cls, httpx_request: Any, *, target_spec: Any, instance: Any, **kwargs: Any) -> Any:
        try:
            return await super()._send_async_request(httpx_request, target_spec=target_spec, instance=instance, **kwargs)  # type: ignore[no-untyped-call]
        except AllMockedAssertionError:
            return cls._from_cassette(httpx_request, instance)

    @classmethod
    def _from_cassette(cls, request: Any, pool: Any) -> Any:
        ledger = cls.ledger
        if ledger is None:
            raise HarnessError("harness.respx_layer: no cassette to fall back on")
        core_name = type(pool).__module__.split(".", 1)[0]
        lib = importlib.import_module(_CORE.get(core_name, "httpx2"))
        core = importlib.import_module(core_name)
        plan = ledger.plan_http(request.method, str(request.url), request.headers.raw, request.content)
        assert plan.replay is not None  # the override only runs over a replaying cassette
        response = _http._replay_response(lib, _http._Streams.of(lib), plan.replay, ledger.settings.replay_speed, request)
        return core.Response(status=response.status_code, headers=response.headers.raw, content=response.stream, extensions={})


def _httpx_response(interaction: Any, request: Any = None) -> Any:
    """A recorded (or variant) interaction as the ``httpx.Response`` respx expects from a route,
    its body cut at the recorded chunks and ending with the recorded transport error, if any."""
    import httpx
    import httpx2

    if interaction.response is None:
        raise _http._error(httpx2, interaction.error)
    replayed = _http._replay_response(httpx2, _http._Streams.of(httpx2), interaction, 0.0, request)
    inner = replayed.stream

    class Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            yield from inner

        async def __aiter__(self) -> Any:
            async for part in inner:
                yield part

    return httpx.Response(replayed.status_code, headers=replayed.headers.raw, stream=Stream())


def respond(variant: Variant | Any) -> Any:
    """A respx side effect answering with a :class:`~harness.strategies.Variant` (or any recorded
    ``HttpInteraction``): e.g. ``route.mock(side_effect=[hs.from_cassette, hs.respond(fault)])``."""
    interaction = variant.interaction if isinstance(variant, Variant) else variant
    before = list(variant.before) if isinstance(variant, Variant) else []
    queue = [*before, interaction]

    def side_effect(request: Any) -> Any:
        item = queue.pop(0) if len(queue) > 1 else queue[0]
        return _httpx_response(item, request)

    return side_effect


@contextlib.contextmanager
def override(cassette: Any = None, *, assert_all_called: bool = False, base_url: str | None = None) -> Iterator[respx.Router]:
    """A respx router whose routes answer before the cassette, for the duration of the block."""
    ledger = _ledger(cassette)
    if not ledger.replaying:
        raise HarnessError("harness.respx_layer: overrides layer over a recorded cassette; record it first (--record-mode=once)")
    if CassetteMocker.ledger is not None and CassetteMocker.ledger is not ledger:
        raise HarnessError("harness.respx_layer: another test's override is still active")
    router = respx.MockRouter(assert_all_called=assert_all_called, assert_all_mocked=True, base_url=base_url, using=MOCKER_NAME)
    CassetteMocker.ledger = ledger
    token = _http.passthrough.set(True)
    try:
        with router:
            yield router
    finally:
        _http.passthrough.reset(token)
        if not CassetteMocker.routers:
            CassetteMocker.ledger = None
