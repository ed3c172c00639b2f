"""The :class:`CallbackRecorder` proxy: shadows a handler's ``on_*`` methods, hooks a stream's event
iterator, or stands in for a stream manager until it is entered (see :mod:`harness.callbacks`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from typing import Any

from harness.callbacks.collapse import identity, is_delta, merge
from harness.callbacks.summary import Call, callback_call, event_call

__all__ = ["CallbackRecorder", "record_callbacks"]


class CallbackRecorder:
    """What :func:`record_callbacks` returns: ``.calls`` (the entries, in order) and ``.target``.

    For an event handler, ``.target`` is the handler to give the SDK. For a stream, the recorder
    is itself iterable (``for`` / ``async for``) and hands other attribute lookups to the stream.
    For a stream manager, use it as the (async) context manager: it enters the manager and binds
    itself to what the manager returns.
    """

    # Class-level defaults: ``__class__`` and ``__getattr__`` may be reached before ``__init__`` sets them.
    target: Any = None
    _current: Any = None
    _stands_in = False

    def __init__(
        self,
        target: Any,
        *,
        include: Collection[str] | None = None,
        exclude: Collection[str] | None = None,
        collapse_deltas: bool = False,
    ) -> None:
        if isinstance(target, type):
            raise TypeError(f"record_callbacks() needs an instance, not the class {target.__qualname__}")
        self.calls: list[Call] = []
        self.target: Any = target
        self._include = None if include is None else frozenset(include)
        self._exclude = frozenset(exclude or ())
        self._collapse = collapse_deltas
        self._run_start = 0  # collapse_deltas: where the current run of delta entries starts
        self._current: Any = None  # the handler or stream recorded (after entering a manager)
        self._wrapped: dict[int, tuple[Any, dict[str, Any]]] = {}  # id(handler) -> (handler, shadowed attrs)
        self._hooked: set[int] = set()
        self._iterating: Any = None
        self._entered: Any = None
        self._stands_in = not _is_handler(target)  # a stream or a stream manager: see __class__
        if _is_handler(target) or _is_iterable(target):
            self._attach(target)
        elif not _is_manager(target):
            raise TypeError(
                f"record_callbacks() needs an event handler (on_* methods), a stream (iterable or async "
                f"iterable) or a stream manager, not {type(target).__qualname__}"
            )
        # else: a stream manager, bound on __enter__ / __aenter__

    # ------------------------------------------------------------------ recording

    @property
    def names(self) -> list[str]:
        """Just the names of the entries, in order."""
        return [c.name for c in self.calls]

    def clear(self) -> None:
        self.calls.clear()
        self._run_start = 0

    def record(self, call: Call) -> None:
        """Append an entry (subject to include / exclude / collapse_deltas)."""
        if not self._wanted(call.name):
            return
        if self._collapse:
            if not is_delta(call):
                self.calls.append(call)
                self._run_start = len(self.calls)
                return
            if self._merge_into_run(call):
                return
        self.calls.append(call)

    def _wanted(self, name: str) -> bool:
        return name not in self._exclude and (self._include is None or name in self._include)

    def _merge_into_run(self, call: Call) -> bool:
        """Merge a delta into the entry of the current run with its identity; False when it has none."""
        key = identity(call)
        for i in range(self._run_start, len(self.calls)):
            if identity(self.calls[i]) == key:
                self.calls[i] = merge(self.calls[i], call)
                return True
        return False

    def _record_event(self, event: Any) -> None:
        self.record(event_call(event))

    def _record_callback(
        self, name: str, signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if self._wanted(name):  # checked first: an excluded callback's arguments are not summarised
            self.record(callback_call(name, signature, args, kwargs))

    # ------------------------------------------------------------------ binding

    def _attach(self, obj: Any) -> None:
        self._current = obj
        if _is_handler(obj):
            self._wrap_handler(obj)
        else:
            self._hook_stream(obj)

    def _wrap_handler(self, handler: Any) -> None:
        if id(handler) in self._wrapped:
            return
        saved: dict[str, Any] = {}
        instance_attrs = getattr(handler, "__dict__", None)
        for name in _callback_names(handler):
            original = getattr(handler, name)
            if instance_attrs is not None and name in instance_attrs:
                saved[name] = instance_attrs[name]
            try:
                setattr(handler, name, self._shadow(name, original))
            except (AttributeError, TypeError) as exc:
                raise TypeError(
                    f"record_callbacks(): cannot shadow {type(handler).__qualname__}.{name} on the instance ({exc})"
                ) from None
        self._wrapped[id(handler)] = (handler, saved)

    def _shadow(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        try:
            signature: inspect.Signature | None = inspect.signature(original)
        except (TypeError, ValueError):
            signature = None
        recorder = self

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def async_shadow(*args: Any, **kwargs: Any) -> Any:
                recorder._record_callback(name, signature, args, kwargs)
                return await original(*args, **kwargs)

            return async_shadow

        @functools.wraps(original)
        def shadow(*args: Any, **kwargs: Any) -> Any:
            recorder._record_callback(name, signature, args, kwargs)
            return original(*args, **kwargs)

        return shadow

    def _hook_stream(self, stream: Any) -> None:
        # The SDK stream helpers (and raw SDK streams) pull every event through ``self._iterator``:
        # iteration, ``text_stream``, ``until_done()`` and ``get_final_*()`` alike. Recording there
        # catches the events however the stream is consumed.
        if id(stream) in self._hooked:
            return
        inner = getattr(stream, "_iterator", None)
        if inner is None or isinstance(stream, (str, bytes, Mapping)):
            return
        if hasattr(inner, "__anext__"):
            wrapper: Any = self._record_async(inner)
        elif hasattr(inner, "__next__"):
            wrapper = self._record_sync(inner)
        else:
            return
        try:
            stream._iterator = wrapper
        except (AttributeError, TypeError):
            return
        self._hooked.add(id(stream))

    def _record_sync(self, inner: Iterator[Any]) -> Iterator[Any]:
        for event in inner:
            self._record_event(event)
            yield event

    async def _record_async(self, inner: Any) -> AsyncIterator[Any]:
        while True:
            try:
                event = await inner.__anext__()
            except StopAsyncIteration:
                return
            self._record_event(event)
            yield event

    def stop(self) -> None:
        """Stop recording a handler: remove the shadowing attributes (the entries stay)."""
        for handler, saved in self._wrapped.values():
            for name in _callback_names(handler):
                try:
                    if name in saved:
                        setattr(handler, name, saved[name])
                    elif name in getattr(handler, "__dict__", {}):
                        delattr(handler, name)
                except AttributeError:
                    pass
        self._wrapped.clear()

    # ------------------------------------------------------------------ the stream face

    @property
    def stream(self) -> Any:
        """The handler or stream being recorded (for a manager: what it returned once entered)."""
        return self._current if self._current is not None else self.target

    def _source(self) -> Any:
        if self._current is None:
            raise TypeError("record_callbacks(): enter the stream manager first (`with recorder as stream:`)")
        return self._current

    def __iter__(self) -> Iterator[Any]:
        source = self._source()
        if id(source) in self._hooked or self._is_wrapped(source):
            return iter(source)
        if not hasattr(source, "__iter__"):
            raise TypeError(f"{type(source).__qualname__} is not iterable; use `async for`")
        return self._record_sync(iter(source))

    def __next__(self) -> Any:
        if self._iterating is None:
            self._iterating = iter(self)
        return next(self._iterating)

    def __aiter__(self) -> AsyncIterator[Any]:
        source = self._source()
        if not hasattr(source, "__aiter__"):
            raise TypeError(f"{type(source).__qualname__} is not async iterable; use `for`")
        if id(source) in self._hooked or self._is_wrapped(source):
            return source.__aiter__()  # type: ignore[no-any-return]
        return self._record_async(source.__aiter__())

    async def __anext__(self) -> Any:
        if self._iterating is None:
            self._iterating = self.__aiter__()
        return await self._iterating.__anext__()

    def _is_wrapped(self, obj: Any) -> bool:
        return id(obj) in self._wrapped

    def __enter__(self) -> CallbackRecorder:
        enter = getattr(type(self.target), "__enter__", None)
        if enter is None:
            raise TypeError(f"{type(self.target).__qualname__} is not a context manager")
        self._entered = enter(self.target)
        self._attach(self._entered)
        return self

    def __exit__(self, *exc: Any) -> Any:
        exit_ = getattr(type(self.target), "__exit__", None)
        return exit_(self.target, *exc) if exit_ is not None else None

    async def __aenter__(self) -> CallbackRecorder:
        enter = getattr(type(self.target), "__aenter__", None)
        if enter is None:
            raise TypeError(f"{type(self.target).__qualname__} is not an async context manager")
        self._entered = await enter(self.target)
        self._attach(self._entered)
        return self

    async def __aexit__(self, *exc: Any) -> Any:
        exit_ = getattr(type(self.target), "__aexit__", None)
        return (await exit_(self.target, *exc)) if exit_ is not None else None

    @property  # type: ignore[misc]  # read-only on purpose, as unittest.mock's
    def __class__(self) -> type:
        # isinstance() falls back to ``__class__`` when ``type()`` does not match: a recorded stream
        # (or manager) passes the SDK's and the user's isinstance checks, as a mock with a spec does.
        if self._stands_in:
            return type(self.stream)
        return CallbackRecorder

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the recorder does not have: hand them to the stream.
        if name.startswith("__") or name in ("calls", "target", "_current"):
            raise AttributeError(name)
        return getattr(self.stream, name)

    def __repr__(self) -> str:
        return f"<CallbackRecorder of {type(self.stream).__qualname__}: {len(self.calls)} call(s)>"


def _callback_names(obj: Any) -> list[str]:
    names = []
    for name in dir(obj):
        if not name.startswith("on_"):
            continue
        try:
            attr = inspect.getattr_static(obj, name)
        except AttributeError:
            continue
        if isinstance(attr, (staticmethod, classmethod)):
            attr = attr.__func__
        if callable(attr) and not isinstance(attr, property):
            names.append(name)
    return names


def _is_handler(obj: Any) -> bool:
    return not isinstance(obj, (str, bytes, Mapping, list, tuple)) and bool(_callback_names(obj))


def _is_iterable(obj: Any) -> bool:
    cls = type(obj)
    return any(hasattr(cls, m) for m in ("__iter__", "__aiter__", "__next__", "__anext__"))


def _is_manager(obj: Any) -> bool:
    cls = type(obj)
    return hasattr(cls, "__enter__") or hasattr(cls, "__aenter__")


def record_callbacks(
    target: Any,
    *,
    include: Collection[str] | None = None,
    exclude: Collection[str] | None = None,
    collapse_deltas: bool = False,
) -> CallbackRecorder:
    """Record, in order, the ``on_*`` callbacks of an event handler or the events of a stream.

    See the module docs for the targets, the entry shape and the options.
    """
    return CallbackRecorder(target, include=include, exclude=exclude, collapse_deltas=collapse_deltas)
