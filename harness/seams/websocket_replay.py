"""Replay: stand-ins for the ``websockets`` connection objects openai drives (``send``, ``recv``,
``close``, iteration, ``state``), sync and async, serving a recorded session from its :class:`Script`. No socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from harness.seams.websocket_frames import Script, frame_message


def _state(script: Script) -> Any:
    from websockets.protocol import State

    return State.OPEN if script.is_open() else State.CLOSED


class ReplayConnection:
    """Stands in for ``websockets.sync.client.ClientConnection``."""

    def __init__(self, script: Script) -> None:
        self.script = script

    @property
    def state(self) -> Any:
        """``OPEN`` or ``CLOSED``, as the recorded connection was at this point (:meth:`Script.is_open`)."""
        return _state(self.script)

    def send(self, message: Any, text: bool | None = None) -> None:
        if self.script.client_closed is not None:
            raise self.script.closed_error()
        self.script.send(message)

    def recv(self, timeout: float | None = None, decode: bool | None = None) -> str | bytes:
        for pause in self.script.waits(timeout):
            time.sleep(pause)
        frame = self.script.take()
        if frame is None:
            raise self.script.closed_error()
        return frame_message(frame, decode)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.script.close(code, reason)

    def __iter__(self) -> Iterator[str | bytes]:
        from websockets.exceptions import ConnectionClosedOK

        try:
            while True:
                yield self.recv()
        except ConnectionClosedOK:
            return

    def __enter__(self) -> ReplayConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncReplayConnection:
    """Stands in for ``websockets.asyncio.client.ClientConnection``."""

    def __init__(self, script: Script) -> None:
        self.script = script

    @property
    def state(self) -> Any:
        """``OPEN`` or ``CLOSED``, as the recorded connection was at this point (:meth:`Script.is_open`)."""
        return _state(self.script)

    async def send(self, message: Any, text: bool | None = None) -> None:
        if self.script.client_closed is not None:
            raise self.script.closed_error()
        self.script.send(message)

    async def recv(self, decode: bool | None = None) -> str | bytes:
        for pause in self.script.waits():
            await asyncio.sleep(pause)
        frame = self.script.take()
        if frame is None:
            raise self.script.closed_error()
        return frame_message(frame, decode)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.script.close(code, reason)

    async def __aiter__(self) -> AsyncIterator[str | bytes]:
        from websockets.exceptions import ConnectionClosedOK

        try:
            while True:
                yield await self.recv()
        except ConnectionClosedOK:
            return

    async def __aenter__(self) -> AsyncReplayConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
