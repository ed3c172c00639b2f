"""The SDK-drift check: parse every recorded model answer with the installed SDK's own models.

When an SDK is upgraded, cassettes recorded with the old one may carry fields the new SDK no longer
models (it keeps them in ``__pydantic_extra__``, so they read as "dropped") or lack fields it now
requires (a validation error). :func:`check_file` reads one cassette and returns its
:class:`Drift`: per interaction, per body or stream event, the paths the SDK dropped or could not
parse, and the SDK versions the cassette was recorded with (``"sdk"`` in the file).

Used by ``harness drift`` (:mod:`harness.cli.drift`) and the plugin's ``--harness-drift``. The
SDKs are imported only here, lazily, when a check runs; an SDK that is not installed is reported,
not raised.
"""

from __future__ import annotations

import importlib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cassette import format as cassette_format
from harness.cassette.model import HttpInteraction, WebSocketInteraction
from harness.jsonutil import compact

# Which SDK models read which API: (path suffix, provider, module, JSON body model, stream event union,
# event discriminator, stream event types the SDK skips on purpose). Beta Anthropic calls use the beta models.
_APIS: tuple[tuple[str, str, str, str, str, str, frozenset[str]], ...] = (
    ("/messages", "anthropic", "anthropic.types", "Message", "RawMessageStreamEvent", "type", frozenset({"ping", "error"})),
    ("/chat/completions", "openai-chat", "openai.types.chat", "ChatCompletion", "ChatCompletionChunk", "", frozenset()),
    ("/responses", "openai-responses", "openai.types.responses", "Response", "ResponseStreamEvent", "type", frozenset()),
)
_BETA = ("anthropic.types.beta", "BetaMessage", "BetaRawMessageStreamEvent")
# WebSocket sessions: (path suffix, module, the union of the events the server sends, by ``type``).
_SOCKETS = (
    ("/responses", "openai.types.responses", "ResponsesServerEvent"),
    ("/realtime", "openai.types.realtime", "RealtimeServerEvent"),
)
_ASSISTANTS = ("openai.types.beta.threads", "Run", "openai.types.beta", "AssistantStreamEvent")


@dataclass
class Finding:
    """One thing the SDK dropped or could not parse: ``#0 event 3 content_block.foo``."""

    interaction: int
    where: str  # "body" or "event N"
    path: str
    problem: str  # "dropped" (not modelled), or the validation error

    def line(self) -> str:
        return f"#{self.interaction} {self.where} {self.path}: {self.problem}"


@dataclass
class Drift:
    """What the installed SDKs make of one cassette."""

    path: Path
    sdk: dict[str, str] | None
    findings: list[Finding] = field(default_factory=list)
    bodies: int = 0
    events: int = 0


class _Models:
    """The SDK models, imported once per process and only when asked."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Any] = {}
        self._unions: dict[tuple[str, str], dict[str, Any]] = {}

    def get(self, module: str, name: str) -> Any:
        key = (module, name)
        if key not in self._cache:
            try:
                self._cache[key] = getattr(importlib.import_module(module), name)
            except (ImportError, AttributeError):
                self._cache[key] = None
        return self._cache[key]

    def union(self, module: str, name: str, tag: str) -> dict[str, Any] | None:
        """A stream event union as ``{discriminator value: model}``."""
        key = (module, name)
        if key not in self._unions:
            union = self.get(module, name)
            if union is None:
                return None
            table: dict[str, Any] = {}
            for member in _members(union):
                info = getattr(member, "model_fields", {}).get(tag)
                for value in typing.get_args(info.annotation) if info is not None else ():
                    table[value] = member
            self._unions[key] = table
        return self._unions[key]


def _members(tp: Any) -> list[Any]:
    if typing.get_origin(tp) is typing.Annotated:
        return _members(typing.get_args(tp)[0])
    args = typing.get_args(tp)
    if args and typing.get_origin(tp) is typing.Union:
        return [m for a in args for m in _members(a)]
    return [tp]


MODELS = _Models()


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


def dropped(value: Any, path: str = "") -> list[str]:
    """The paths of keys a parsed SDK model kept as extras: what the SDK does not model."""
    out: list[str] = []
    extra = getattr(value, "__pydantic_extra__", None)
    fields = getattr(type(value), "model_fields", None)
    if fields is not None:
        out += [_join(path, k) for k in extra or {}]
        for name, info in fields.items():
            out += dropped(getattr(value, name, None), _join(path, info.alias or name))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            out += dropped(item, _join(path, n))
    elif isinstance(value, dict):
        for k, item in value.items():
            out += dropped(item, _join(path, k))
    return out


def _error_path(data: Any, loc: tuple[Any, ...]) -> str:
    """A pydantic error location as a path in the data: union member names (not in the data) skipped."""
    path = ""
    for part in loc:
        if isinstance(data, dict) and part in data:
            data, path = data[part], _join(path, part)
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data, path = data[part], _join(path, part)
        elif isinstance(data, dict | list) and not (isinstance(part, str) and part[:1].isupper()):
            path = _join(path, part)  # a missing field
            data = None
    return path or "$"


def parse(model: Any, data: Any) -> list[tuple[str, str]]:
    """``(path, problem)`` for what ``model`` drops or cannot parse in ``data``."""
    from pydantic import ValidationError

    try:
        # JSON mode: strict, yet a date-time is the string JSON carries (Python mode wants a datetime object)
        parsed = model.model_validate_json(compact(data), strict=True)
    except ValidationError as exc:
        out: dict[tuple[str, str], None] = {}
        for loc, message in _union_member_errors(data, exc.errors()):
            out[_error_path(data, loc), message] = None
        return list(out)
    return [(p, "not modelled by the SDK (dropped)") for p in dropped(parsed)]


def _member_at(data: Any, loc: tuple[Any, ...]) -> int | None:
    """Where in ``loc`` the first union member name sits (a name that is no key of the data), or None."""
    for i, part in enumerate(loc):
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and part[:1].isupper():
            return i
        else:
            return None
    return None


def _union_member_errors(data: Any, errors: list[Any]) -> list[tuple[tuple[Any, ...], str]]:
    """The errors of the union members the data says it is (its ``type``), not of every member tried.

    The SDKs' unions are discriminated by ``type`` only in their own constructors; pydantic tries each
    member and reports them all. A member whose ``type`` literal does not match is not the one meant;
    when no member matches, the one finding is that the type is unknown to the SDK."""
    wrong: set[tuple[Any, ...]] = set()
    for e in errors:
        loc = tuple(e["loc"])
        if e["type"] == "literal_error" and loc and loc[-1] == "type" and _member_at(data, loc) == len(loc) - 2:
            wrong.add(loc[:-1])
    out: list[tuple[tuple[Any, ...], str]] = []
    unknown: dict[tuple[Any, ...], str] = {}
    for e in errors:
        loc = tuple(e["loc"])
        at = _member_at(data, loc)
        if at is not None and loc[: at + 1] in wrong:
            if e["type"] == "literal_error" and at == len(loc) - 2:
                unknown.setdefault(loc[:at], f"type {e.get('input')!r} is not one the SDK models")
            continue
        out.append((loc, f"{e['msg'].lower()} ({e['type']})"))
    matched = {loc[: _member_at(data, loc)] for loc, _ in out if _member_at(data, loc) is not None}
    out += [((*prefix, "type"), why) for prefix, why in unknown.items() if prefix not in matched]
    return out


# Long-lived sessions' event streams: anthropic's managed agents (GET /v1/sessions/{id}/events/stream) and
# openai's beta agents (GET /v1/agents/sessions/{id}/events), by (path tail, module, event union).
_SESSIONS = (
    (("sessions", "*", "events", "stream"), "anthropic.types.beta.sessions", "BetaManagedAgentsStreamSessionEvents"),
    (("agents", "sessions", "*", "events"), "openai.types.beta.agent_session_event", "AgentSessionEvent"),
)
#: The body model of a route whose JSON answers are not checked (a session's event posts and pages).
_UNCHECKED = object()


def _session_stream(parts: list[str]) -> tuple[str, str] | None:
    for tail, module, union in _SESSIONS:
        got = parts[-len(tail) :]
        if len(got) == len(tail) and all(t in ("*", g) for t, g in zip(tail, got, strict=True)):
            return module, union
    return None


def _api(interaction: HttpInteraction) -> tuple[Any, Any, str, frozenset[str]] | None:
    """(body model, event union table or model, discriminator, skipped event types) for a model call."""
    request = interaction.request
    route = request.path.split("?", 1)[0].rstrip("/")
    parts = route.split("/")
    session = _session_stream(parts)
    if session is not None:
        return _UNCHECKED, MODELS.union(*session, "type"), "type", frozenset()
    # A run: POST .../runs, GET or POST .../runs/{id}, .../submit_tool_outputs, .../cancel (not .../steps).
    is_run = len(parts) > 2 and (parts[-1] == "runs" or parts[-2] == "runs" or parts[-1] in ("submit_tool_outputs", "cancel"))
    if "threads" in parts and "runs" in parts and is_run:
        run_module, run, ev_module, union = _ASSISTANTS
        return MODELS.get(run_module, run), MODELS.union(ev_module, union, "event"), "event", frozenset()
    for suffix, provider, module, body, stream, tag, skipped in _APIS:
        if not route.endswith(suffix):
            continue
        beta = provider == "anthropic" and (
            "beta=true" in request.path or any(k.lower() == "anthropic-beta" for k in request.headers)
        )
        if beta:
            module, body, stream = _BETA
        events = MODELS.union(module, stream, tag) if tag else MODELS.get(module, stream)
        return MODELS.get(module, body), events, tag, skipped
    return None


def check_interaction(n: int, item: HttpInteraction, drift: Drift) -> None:
    response = item.response
    api = _api(item)
    if response is None or api is None or not 200 <= response.status < 300:
        return
    body_model, events, tag, skipped = api
    body = response.body
    if body.kind == "json" and body_model is _UNCHECKED:
        return
    if body.kind == "json":
        drift.bodies += 1
        if body_model is None:
            drift.findings.append(Finding(n, "body", "$", "the SDK that models it is not installed"))
            return
        drift.findings += [Finding(n, "body", p, why) for p, why in parse(body_model, body.value)]
    elif body.kind == "sse":
        for k, event in enumerate(body.value):
            data = event.get("data")
            if not isinstance(data, dict):
                continue  # "[DONE]" and other text: not a model
            drift.events += 1
            where = f"event {k}"
            if events is None:
                drift.findings.append(Finding(n, where, "$", "the SDK that models it is not installed"))
                return
            if tag == "event":  # Assistants: the SSE event name is the discriminator, the data its payload
                data, value = {"event": event.get("event"), "data": data}, event.get("event")
            else:
                value = data.get(tag) if tag else None
            if tag and value in skipped:
                continue
            model = events.get(value) if isinstance(events, dict) else events
            if model is None:
                drift.findings.append(Finding(n, where, tag, f"event type {value!r} is not modelled by the SDK"))
                continue
            for p, why in parse(model, data):
                drift.findings.append(Finding(n, where, p.removeprefix("data.") if tag == "event" else p, why))


def check_websocket(n: int, item: WebSocketInteraction, drift: Drift) -> None:
    """The server's JSON frames of a Responses or Realtime WebSocket session, each parsed with the
    event union the SDK reads them with (``client.responses.connect()``, ``client.realtime.connect()``)."""
    route = item.name.rstrip("/")
    api = next(((module, union) for suffix, module, union in _SOCKETS if route.endswith(suffix)), None)
    if api is None:
        return
    events = MODELS.union(*api, "type")
    for k, frame in enumerate(item.frames):
        data = frame.get("json")
        if frame.get("from") != "server" or not isinstance(data, dict):
            continue
        drift.events += 1
        where = f"frame {k}"
        if events is None:
            drift.findings.append(Finding(n, where, "$", "the SDK that models it is not installed"))
            return
        model = events.get(str(data.get("type")))
        if model is None:
            drift.findings.append(Finding(n, where, "type", f"event type {data.get('type')!r} is not modelled by the SDK"))
            continue
        drift.findings += [Finding(n, where, p, why) for p, why in parse(model, data)]


def check_file(path: Path) -> Drift:
    """The drift of one cassette; an unreadable file raises :class:`harness.errors.CassetteFormatError`."""
    interactions, sdk = cassette_format.load_with_sdk(path)
    drift = Drift(path, sdk)
    for n, item in enumerate(interactions):
        if isinstance(item, HttpInteraction):
            check_interaction(n, item, drift)
        elif isinstance(item, WebSocketInteraction):
            check_websocket(n, item, drift)
    return drift


def installed() -> dict[str, str]:
    """The versions of the model SDKs installed now (those that are)."""
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in ("anthropic", "openai"):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            pass
    return out


def versions_line(recorded: dict[str, str] | None, now: dict[str, str]) -> str:
    """``recorded with anthropic 2.15.0 (now 2.16.0)``, or ``versions not recorded`` for older cassettes."""
    if not recorded:
        return "versions not recorded"
    parts = []
    for name, old in sorted(recorded.items()):
        new = now.get(name)
        parts.append(f"{name} {old}" + (f" (now {new})" if new and new != old else ""))
    return "recorded with " + ", ".join(parts)
