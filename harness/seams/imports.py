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
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


class _AfterImport:
    """A meta path finder that patches each waiting module right after it is first executed."""

    def __init__(self, waiting: dict[str, Callable[[Any], None]]) -> None:
        self.waiting = waiting
        #: Names this finder is looking up: another seam's finder, asked by this one, asks it back.
        self._busy: set[str] = set()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.waiting or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = self._real_spec(fullname, path, target)
        finally:
            self._busy.discard(fullname)
        if spec is None:
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
                loader.exec_module = real_exec
            else:
                del loader.exec_module
            real_exec(module)
            patch = hook.waiting.pop(fullname, None)
            if patch is not None:
                patch(module)

        loader.exec_module = exec_module  # this spec's own loader object
        return spec

    def _real_spec(self, fullname: str, path: Any, target: Any) -> Any:
        """The spec the finders after this one give (another seam's finder among them wraps it too)."""
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                return spec
        return None


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


def patch_modules(owner: Any, targets: dict[str, str], *, only_installed: bool = False) -> Callable[[], None] | None:
    """For each ``module name -> method name`` of ``targets``: run ``owner.<method>(module)`` now if
    the module is imported, else right after its first import (an SDK or agent module the test
    imports itself, after its cassette started, must not run its tools for real on replay). With
    ``only_installed``, a module of a package that is not installed is not waited for. Returns the
    undo of the import hook, or None when nothing waits."""
    waiting: dict[str, Callable[[Any], None]] = {}
    for module_name, method in targets.items():
        patch = getattr(owner, method)
        module = sys.modules.get(module_name)
        if module is not None:
            patch(module)
        elif not only_installed or installed(module_name.partition(".")[0]):
            waiting[module_name] = patch
    return after_import(waiting) if waiting else None


class ModuleSeam:
    """A seam made of patches to SDK modules: :attr:`targets` maps a module's name to the method of
    the seam that patches it (now, or right after its first import: :func:`patch_modules`); each
    patch appends its undo to ``_undo``, and :meth:`uninstall` runs them in reverse."""

    targets: ClassVar[dict[str, str]] = {}
    # Wait only for the modules of installed packages (frameworks most suites do not have).
    only_installed: ClassVar[bool] = False

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        undo = patch_modules(self, self.targets, only_installed=self.only_installed)
        if undo is not None:
            self._undo.append(undo)

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()
