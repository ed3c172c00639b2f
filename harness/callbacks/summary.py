"""SDK objects, events and callback arguments as :class:`Call` entries of small JSON-like summaries.

Pure: nothing here holds state or touches the object it summarises. What is kept and what is
dropped is described in :mod:`harness.callbacks`.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Any, NamedTuple

__all__ = ["Call", "callback_call", "event_call", "summarize"]


class Call(NamedTuple):
    """One recorded callback or stream event: its name and a summary of its arguments."""

    name: str
    args: dict[str, Any]

    def __repr__(self) -> str:
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in self.args.items())})"


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
# The fields an event's name is read from, in order.
_NAME_FIELDS = ("type", "event", "object")


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
    """A compact, JSON-like summary of a callback argument or an event field (see the package docs)."""
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
    for attr in _NAME_FIELDS:
        name = event.get(attr) if isinstance(event, Mapping) else getattr(event, attr, None)
        if isinstance(name, str):
            return name
    return type(event).__name__


def event_call(event: Any) -> Call:
    """A stream event as an entry: named by its type, its other fields summarised."""
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
    args = {k: v for k, v in summary.items() if k not in drop and not (k in _NAME_FIELDS and v == name)}
    return Call(name, args)


def callback_call(name: str, signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call:
    """A callback's call as an entry: its arguments by parameter name (``**kwargs`` spread out),
    or, when they do not bind to its signature, as ``args`` plus the keywords."""
    bound = _bind(signature, args, kwargs)
    if bound is None or signature is None:
        summary: dict[str, Any] = {"args": [summarize(a) for a in args]} if args else {}
        summary.update({k: summarize(v) for k, v in kwargs.items()})
        return Call(name, summary)
    summary = {}
    for param, value in bound.arguments.items():
        if signature.parameters[param].kind is inspect.Parameter.VAR_KEYWORD:
            summary.update({str(k): summarize(v) for k, v in value.items()})
        else:
            summary[param] = summarize(value)
    return Call(name, summary)


def _bind(signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]) -> inspect.BoundArguments | None:
    if signature is None:
        return None
    try:
        return signature.bind(*args, **kwargs)
    except TypeError:
        return None
