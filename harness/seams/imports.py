"""Patching a module the moment it is first imported.

A seam must cover SDK modules that a test imports itself, after its cassette started: an agent
module imported inside the test, or mcp (importing it costs a second, so nothing imports it
early). :func:`after_import` puts a finder first on ``sys.meta_path`` that lets the real finder
find the module, then runs the patch right after the module's code has run.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
from collections.abc import Callable
from typing import Any


class _AfterImport:
    """A meta path finder that patches each waiting module right after it is first executed."""

    def __init__(self, waiting: dict[str, Callable[[Any], None]]) -> None:
        self.waiting = waiting

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.waiting:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                break
        else:
            return None
        loader = spec.loader
        if loader is None or not hasattr(loader, "exec_module"):
            return spec  # a loader harness cannot follow; leaves the module unpatched, as before
        hook = self
        real_exec = loader.exec_module
        own = "exec_module" in getattr(loader, "__dict__", {})

        def exec_module(module: Any) -> None:
            # This spec's own loader object: put its method back (the module keeps it as __loader__).
            if own:
                loader.exec_module = real_exec  # type: ignore[method-assign]
            else:
                del loader.exec_module
            real_exec(module)
            patch = hook.waiting.pop(fullname, None)
            if patch is not None:
                patch(module)

        loader.exec_module = exec_module  # type: ignore[method-assign]  # this spec's own loader object
        return spec


def _remove(hook: _AfterImport) -> None:
    hook.waiting.clear()
    if hook in sys.meta_path:
        sys.meta_path.remove(hook)


def after_import(waiting: dict[str, Callable[[Any], None]]) -> Callable[[], None]:
    """Run ``waiting[name](module)`` once, right after module ``name`` is first imported; returns
    the undo (nothing more is patched after it, and the finder leaves ``sys.meta_path``)."""
    hook = _AfterImport(dict(waiting))
    sys.meta_path.insert(0, hook)
    return functools.partial(_remove, hook)


def restore(namespace: dict[str, Any], key: str, wrapper: Any, real: Any) -> None:
    if namespace.get(key) is wrapper:
        namespace[key] = real


@functools.cache
def installed(name: str) -> bool:
    """Whether the top-level package ``name`` can be imported, looked up once per process: the seams
    ask at the start of every test, and ``find_spec`` searches ``sys.path`` for a package not imported yet."""
    return importlib.util.find_spec(name) is not None
