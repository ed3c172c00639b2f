"""The WebSocket seam: openai's ``responses.connect()`` and ``realtime.connect()`` sockets.

The openai SDK opens its sockets with ``websockets.sync.client.connect`` (imported inside
``openai._websocket_connection._connect_websocket`` at each call) and, for async clients,
``openai.lib._websocket._WebSocketConnect``. Both are replaced for the test's duration.

Today the seam fails closed: frames are not recorded yet, so on a replay-only run a WebSocket
connect raises a :class:`~harness.errors.CassetteMiss` naming the URL instead of reaching the
network. While recording (or with ``--record-mode=all``/``new_episodes``) the socket opens for real,
unrecorded.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from harness.errors import cassette_miss
from harness.seams.imports import after_import

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


def _report(url: Any) -> str:
    return (
        f"harness: a WebSocket to {url} was opened on replay, and WebSocket sessions are not recorded yet.\n"
        "harness refused to open it (a replayed test never reaches the network).\n"
        "How to fix: keep WebSocket traffic out of replayed tests for now, or run this test with "
        "--record-mode=all against the real service."
    )


class WebSocketSeam:
    """Replaces the SDK's WebSocket connect functions for one test, now or when first imported."""

    targets: ClassVar[dict[str, str]] = {
        "websockets.sync.client": "_patch_sync",
        "openai.lib._websocket": "_patch_async",
    }

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] = []

    def _refuses(self) -> bool:
        return bool(self.ledger.replaying and not self.ledger.recording)

    def install(self) -> None:
        waiting: dict[str, Callable[[Any], None]] = {}
        for module_name, method in self.targets.items():
            module = sys.modules.get(module_name)
            if module is not None:
                getattr(self, method)(module)
            else:
                waiting[module_name] = getattr(self, method)
        if waiting:
            self._undo.append(after_import(waiting))

    def _replace(self, module: Any, name: str, new: Any) -> None:
        old = module.__dict__[name]
        setattr(module, name, new)
        self._undo.append(lambda: setattr(module, name, old))

    def _patch_sync(self, module: Any) -> None:
        real = module.__dict__["connect"]

        def connect(uri: Any, *args: Any, **kwargs: Any) -> Any:
            if self._refuses():
                raise cassette_miss(_report(uri))
            return real(uri, *args, **kwargs)

        self._replace(module, "connect", connect)

    def _patch_async(self, module: Any) -> None:
        real = module.__dict__["_WebSocketConnect"]
        seam = self

        async def connect(uri: Any, *args: Any, **kwargs: Any) -> Any:
            if seam._refuses():
                raise cassette_miss(_report(uri))
            return await real(uri, *args, **kwargs)

        self._replace(module, "_WebSocketConnect", connect)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()
