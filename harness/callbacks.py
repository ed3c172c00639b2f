"""Record the callbacks an agent loop fires, and the events a stream yields, in order.

``recorder = harness.record_callbacks(target)`` works on three kinds of target:

* **An event handler** (an openai ``AssistantEventHandler`` / ``AsyncAssistantEventHandler``
  subclass instance, or any object with ``on_*`` methods). Each ``on_*`` method is shadowed by an
  instance attribute that records the call, then calls the original, so the object keeps its
  class (the SDK's ``isinstance(handler, AssistantEventHandler)`` checks still pass) and the
  callbacks the SDK fires internally through ``self.on_x(...)`` are caught too. Pass
  ``recorder.target`` (the very same object) to the SDK; ``recorder.stop()`` takes the
  shadows away again.
* **A stream**: anthropic ``MessageStream`` / ``BetaMessageStream`` (and async), openai
  ``ChatCompletionStream``, ``ResponseStream``, a raw SDK ``Stream`` (``create(stream=True)``), or
  any iterable / async iterable of events. Iterate the recorder (``for`` or ``async for``): it
  yields the events unchanged and records each one. Attribute access goes through to the stream
  (``get_final_message()``, ``text_stream``, ``until_done()``, ``current_message_snapshot``...).
  For the SDK stream helpers the recording sits on the stream's own event iterator, so events
  are recorded however the stream is consumed: the recorder, ``stream.text_stream``,
  ``stream.get_final_message()``.
* **A stream manager** (what ``client.messages.stream(...)``, ``client.chat.completions.stream(...)``,
  ``client.responses.stream(...)``, ``client.beta.threads.runs.stream(...)`` return): use the
  recorder as the context manager, ``with harness.record_callbacks(client.messages.stream(...)) as
  stream:``; ``stream`` is the recorder, bound to the stream (or to the event handler, whose
  callbacks are then recorded) that the manager opened.

For a stream or a stream manager the recorder stands in for the object it wraps, and says so the
way ``unittest.mock`` does, through ``__class__``: ``isinstance(recorder, MessageStream)`` holds
for a recorded ``MessageStream``, ``isinstance(recorder, MessageStreamManager)`` for a manager
not yet entered, and once entered, for the class of what the manager opened (so code that checks
the stream it is given keeps working). ``type(recorder)`` stays :class:`CallbackRecorder`, and so
does ``isinstance(recorder, CallbackRecorder)``. An event handler needs no stand-in: the recorder
records on the handler itself (``recorder.target``), whose class is unchanged.

Entries
-------

``recorder.calls`` is a list of :class:`Call` entries, ``Call(name, args)``, a named tuple that
compares equal to a plain ``(name, args)`` tuple and prints as ``name(key=value, ...)``:

* a callback: ``name`` is the method name and ``args`` maps its parameter names to summaries,
  ``Call("on_text_delta", {"delta": "Hel", "snapshot": "Hel"})``,
  ``Call("on_end", {})``, ``Call("on_event", {"event": "thread.run.created"})``;
* a stream event: ``name`` is the event's type (``type``, else ``event``, else ``object``) and
  ``args`` its other fields, summarised:
  ``Call("text", {"text": "Hel", "snapshot": "Hel"})``,
  ``Call("input_json", {"partial_json": '{"city": ', "snapshot": {}})``,
  ``Call("content.delta", {"delta": "Hel", "snapshot": "Hel"})``,
  ``Call("response.output_text.delta", {"content_index": 0, "delta": "Hel", "output_index": 0, "snapshot": "Hel"})``.

Summaries are small, JSON-like values (str, int, float, bool, None, lists, dicts). An SDK
(pydantic) object keeps only its meaningful fields: type, role, status, index, text and delta
values, tool names, ids of tool calls, arguments and inputs, stop and finish reasons, content;
``None`` fields, usage, models, timestamps, request echoes (tools, instructions, temperature...)
and the ids of messages, runs and steps are left out. An openai ``Text`` / ``TextDelta`` becomes
its string; an openai assistants stream event given to a callback (``on_event``) becomes its
event name. Plain dicts and lists (user data, tool inputs) are kept whole. The ids that remain
(tool call ids) and any timestamps are for the ``agent_snapshot`` extension to normalise.

Options
-------

``include`` / ``exclude``: names (callbacks or event types) to keep / to drop, e.g.
``exclude={"on_event", "chunk"}``. ``collapse_deltas=True`` merges each uninterrupted run of delta
entries (names ending in ``delta``, the anthropic ``text``, ``input_json``, ``thinking``,
``citation`` events, openai ``chunk`` events, ``on_event`` of a ``*.delta`` event) into one entry
per name and index: text fragments concatenated, snapshots the last one. That makes a snapshot
insensitive to how the model's output was chunked; by default every entry is kept (order matters).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable, Collection, Iterator, Mapping
from enum import Enum
from typing import Any, NamedTuple

__all__ = ["Call", "CallbackRecorder", "record_callbacks", "summarize"]


class Call(NamedTuple):
    """One recorded callback or stream event: its name and a summary of its arguments."""

    name: str
    args: dict[str, Any]

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.args.items())})"


# --------------------------------------------------------------------------------------------- summaries

# Fields of SDK (pydantic) objects kept in summaries; every other field is dropped.
_KEEP = frozenset(
    {
        "type", "role", "status", "index", "output_index", "content_index", "event", "data",
        "content", "text", "value", "delta", "partial_json", "thinking", "refusal", "snapshot",
        "name", "arguments", "arguments_delta", "input", "output", "outputs", "logs", "parsed",
        "parsed_arguments", "call_id", "tool_use_id", "tool_call_id", "tool_calls", "function",
        "code_interpreter", "file_search", "step_details", "message_creation", "message_id",
        "required_action", "submit_tool_outputs", "stop_reason", "stop_sequence", "finish_reason",
        "message", "messages", "content_block", "choices", "chunk", "response", "item", "part",
        "summary", "error", "last_error", "code", "is_error", "citation", "citations",
        "cited_text", "annotations", "image_file", "file_id", "url", "title", "query", "action",
        "incomplete_details", "reason",
    }
)  # fmt: skip
# Kept only when not empty.
_DROP_EMPTY = frozenset({"annotations", "citations", "logs"})
# ``id`` is kept only on tool calls: it links a call to its result.
_TOOL_TYPES = frozenset(
    {
        "tool_use", "server_tool_use", "mcp_tool_use", "function", "function_call", "custom_tool_call",
        "code_interpreter", "file_search", "computer_call", "mcp_call", "web_search_call",
        "file_search_call", "code_interpreter_call",
    }
)  # fmt: skip
# Per event name, fields that only repeat what other entries say.
_EVENT_DROP: dict[str, frozenset[str]] = {"chunk": frozenset({"snapshot"})}


def _is_model(value: Any) -> bool:
    return not isinstance(value, type) and getattr(type(value), "model_fields", None) is not None


def _model_fields(model: Any) -> Iterator[tuple[str, Any]]:
    try:
        yield from iter(model)  # pydantic v2: declared fields, then extras
    except TypeError:  # pragma: no cover - a pydantic v1 model or a look-alike
        yield from vars(model).items()


def _is_assistant_event(value: Any) -> bool:
    return isinstance(getattr(value, "event", None), str) and hasattr(value, "data") and _is_model(value)


def summarize(value: Any) -> Any:
    """A compact, JSON-like summary of a callback argument or an event field (see the module docs)."""
    return _summary(value, 0)


def _summary(value: Any, depth: int) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if depth > 30:
        return "..."
    if isinstance(value, Enum):
        return _summary(value.value, depth)
    if _is_model(value):
        if _is_assistant_event(value):
            return value.event
        return _model_summary(value, depth)
    if isinstance(value, Mapping):
        return {str(k): _summary(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_summary(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_summary(v, depth + 1) for v in value), key=repr)
    if isinstance(value, BaseException):
        return f"{type(value).__name__}: {value}"
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", "replace")
    return f"<{type(value).__name__}>"


def _model_summary(model: Any, depth: int) -> Any:
    out: dict[str, Any] = {}
    fields = dict(_model_fields(model))
    kind = fields.get("type")
    tool = (isinstance(kind, str) and kind in _TOOL_TYPES) or isinstance(fields.get("name"), str)
    for key, value in fields.items():
        if value is None or (key not in _KEEP and not (key == "id" and tool)):
            continue
        if key in _DROP_EMPTY and not value:
            continue
        summary = _summary(value, depth + 1)
        if summary == {} and value not in ({}, []):  # everything inside was filtered out
            continue
        out[key] = summary
    if list(out) == ["value"]:  # openai Text / TextDelta without annotations: just the string
        return out["value"]
    return out


def _event_name(event: Any) -> str:
    for attr in ("type", "event", "object"):
        name = event.get(attr) if isinstance(event, Mapping) else getattr(event, attr, None)
        if isinstance(name, str):
            return name
    return type(event).__name__


def _event_call(event: Any) -> Call:
    name = _event_name(event)
    if _is_model(event):
        summary = _model_summary(event, 0)
        if not isinstance(summary, dict):
            summary = {"value": summary}
    elif isinstance(event, Mapping):
        summary = {str(k): _summary(v, 1) for k, v in event.items()}
    else:
        summary = {"value": _summary(event, 0)}
    drop = _EVENT_DROP.get(name, frozenset())
    args = {k: v for k, v in summary.items() if k not in drop and not (k in ("type", "event", "object") and v == name)}
    return Call(name, args)


# --------------------------------------------------------------------------------------------- collapsing

_DELTA_NAMES = frozenset({"text", "input_json", "thinking", "citation", "chunk"})
# Top-level fields that are fragments (merged) rather than accumulated snapshots (replaced).
_FRAGMENT_KEYS = frozenset({"delta", "text", "partial_json", "thinking", "arguments_delta", "chunk", "value"})
# Inside a fragment, strings under these keys are concatenated; other values are replaced.
_CONCAT_KEYS = frozenset(
    {"text", "value", "partial_json", "thinking", "arguments", "content", "delta", "refusal", "input", "arguments_delta"}
)
_IDENTITY_KEYS = ("index", "output_index", "content_index", "event")


def _is_delta(call: Call) -> bool:
    if call.name.endswith("delta") or call.name in _DELTA_NAMES:
        return True
    event = call.args.get("event")
    return isinstance(event, str) and event.endswith(".delta")


def _identity(call: Call) -> tuple[Any, ...]:
    return (call.name, *(repr(call.args.get(k)) for k in _IDENTITY_KEYS))


def _merge_fragment(old: Any, new: Any, key: str) -> Any:
    if isinstance(old, str) and isinstance(new, str):
        return old + new if key in _CONCAT_KEYS else new
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for k, v in new.items():
            merged[k] = _merge_fragment(old[k], v, k) if k in old else v
        return merged
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [_merge_fragment(o, n, key) for o, n in zip(old, new, strict=True)]
    return new


def _merge(old: Call, new: Call) -> Call:
    args = dict(old.args)
    for k, v in new.args.items():
        args[k] = _merge_fragment(old.args[k], v, k) if k in old.args and k in _FRAGMENT_KEYS else v
    return Call(old.name, args)


# --------------------------------------------------------------------------------------------- recorder


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
        if call.name in self._exclude or (self._include is not None and call.name not in self._include):
            return
        if self._collapse:
            if not _is_delta(call):
                self.calls.append(call)
                self._run_start = len(self.calls)
                return
            key = _identity(call)
            for i in range(self._run_start, len(self.calls)):
                if _identity(self.calls[i]) == key:
                    self.calls[i] = _merge(self.calls[i], call)
                    return
        self.calls.append(call)

    def _record_event(self, event: Any) -> None:
        self.record(_event_call(event))

    def _record_callback(
        self, name: str, signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        if name in self._exclude or (self._include is not None and name not in self._include):
            return
        summary: dict[str, Any] = {}
        bound = None
        if signature is not None:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:
                bound = None
        if bound is not None:
            for param, value in bound.arguments.items():
                kind = signature.parameters[param].kind if signature is not None else None
                if kind is inspect.Parameter.VAR_KEYWORD:
                    summary.update({str(k): summarize(v) for k, v in value.items()})
                else:
                    summary[param] = summarize(value)
        else:
            if args:
                summary["args"] = [summarize(a) for a in args]
            summary.update({k: summarize(v) for k, v in kwargs.items()})
        self.record(Call(name, summary))

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
