"""Replay conditions for a project run in a child process (``project.replay(subprocess=True)``).

Loaded with ``-p tests.user_projects.offline`` (xdist workers load it too): every outgoing TCP
connection and every ``anyio.open_process`` (how MCP starts a stdio server) is refused, and each
attempt is appended to the file ``$HARNESS_OFFLINE_LOG``, which the outer test reads. (The child's
own worker processes are started with ``subprocess``, which is left alone.)
"""

from __future__ import annotations

import os
from typing import Any

import anyio
import pytest

from tests.conftest import NetworkGuard

_guard = NetworkGuard()
_patch = pytest.MonkeyPatch()


def _log(what: Any) -> None:
    with open(os.environ["HARNESS_OFFLINE_LOG"], "a", encoding="utf-8") as log:
        log.write(f"{what!r}\n")


def pytest_configure(config: pytest.Config) -> None:
    real_refuse = _guard._refuse

    def refuse(sock: Any, address: Any) -> Any:
        _log(("connect", address))
        return real_refuse(sock, address)

    _guard._refuse = refuse  # type: ignore[method-assign]
    _guard.__enter__()

    def no_process(*args: Any, **kwargs: Any) -> Any:
        _log(("anyio.open_process", args))
        raise OSError("no processes in replay (anyio.open_process)")

    _patch.setattr(anyio, "open_process", no_process)


def pytest_unconfigure(config: pytest.Config) -> None:
    _patch.undo()
    _guard.__exit__()
