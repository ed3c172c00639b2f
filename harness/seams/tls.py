"""A default client's SSL context, built when a connection needs it instead of with the client.

httpx2 and httpx build an SSL context for every transport they make (``create_ssl_context``:
loading the system's or certifi's certificate store, 10-30 ms), and a default SDK client makes one
per client. A replayed request never connects, so while a test may replay, the transports made in
it get a :class:`DeferredContext` in place of a context with the default verification; the real one
is built, with the same arguments and the same function, the first time a connection asks for it: the
seam hands it over before a request goes to the network (recorded or passed through), and any other
use (a client kept past the test) builds it on first touch. A recording still verifies certificates
as the library would. One difference: the ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` a deferred context
trusts are read when it is built, not when its client was made.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any


class DeferredContext:
    """Stands in for an ``ssl.SSLContext`` until something uses it; then builds it and forwards."""

    __slots__ = ("_build", "_real")

    def __init__(self, build: Callable[[], Any]) -> None:
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_real", None)

    def real(self) -> Any:
        """The real context (built now, once)."""
        real = self._real
        if real is None:
            real = self._build()
            object.__setattr__(self, "_real", real)
        return real

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.real(), name, value)


def defer(lib: ModuleType) -> Callable[[], None]:
    """Make ``lib``'s transports defer their default SSL context; returns the undo."""
    module = importlib.import_module(f"{lib.__name__}._transports.default")
    real_create = module.__dict__["create_ssl_context"]

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True) -> Any:
        if verify is True and not cert:
            return DeferredContext(functools.partial(real_create, verify=True, cert=None, trust_env=trust_env))
        return real_create(verify=verify, cert=cert, trust_env=trust_env)

    setattr(module, "create_ssl_context", create_ssl_context)  # noqa: B010 (a module found at run time)
    return functools.partial(setattr, module, "create_ssl_context", real_create)


def resolve(transport: Any) -> None:
    """Give ``transport``'s connection pool its real SSL context, before a request goes to the
    network (so the library's TLS code gets the ``ssl.SSLContext`` it expects, on its fast path)."""
    pool = getattr(transport, "_pool", None)
    context = getattr(pool, "_ssl_context", None)
    if type(context) is DeferredContext:
        pool._ssl_context = context.real()  # type: ignore[union-attr]
