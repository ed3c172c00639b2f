"""``agent_snapshot``: syrupy snapshots of agent results that survive re-recording.

:class:`AgentSnapshotExtension` is syrupy's amber extension (same ``.ambr`` files, same format
version, so it shares a snapshot file with the plain ``snapshot`` fixture) with two changes:

* **SDK objects become their data.** pydantic models (anthropic ``Message`` / ``BetaMessage``,
  openai ``ChatCompletion`` / ``ParsedChatCompletion`` / ``Response``, run steps, thread
  messages, tool results...) are written as ``model_dump(mode="json", exclude_none=True)``,
  wherever they sit in the value (lists, dicts, tuples). A recorder from
  :func:`harness.record_callbacks` is written as its ``calls``, one line per entry, keys
  sorted: ``on_text_delta(delta='Hel', snapshot='Hel')``.
* **Volatile values become placeholders**, numbered per serialized value so that the same id
  gets the same placeholder wherever it appears and two different ids get two placeholders:
  ids with a known prefix (``msg_…`` → ``<msg_1>``, ``toolu_…`` → ``<toolu_1>``, ``call_…`` →
  ``<call_1>``, ``chatcmpl-…`` → ``<chatcmpl-1>``, ``resp_``, ``run_``, ``step_``, ``thread_``,
  ``asst_``, ``fc_``, ``req_``, ``item_``, ``file-``, ``fp_`` ...), UUIDs (``<uuid_1>``),
  timestamps (the value of any ``created`` / ``timestamp`` / ``*_at`` field, and ISO-8601 date
  strings: ``<timestamp>``), and opaque blobs (``signature``, ``encrypted_content``,
  ``obfuscation``: ``<signature>`` ...). An id is only taken for one when what follows the
  prefix has a digit or a capital letter, or is 20 characters or more, so tool names such as
  ``call_weather`` or ``run_tests`` are left alone.

:func:`normalize` gives the same value as plain data, for plain ``assert`` comparisons.

This module imports syrupy and the standard library only: nothing from the SDKs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pprint import saferepr
from typing import Any, ClassVar

from syrupy.extensions.amber import AmberDataSerializer, AmberDataSerializerPlugin, AmberSnapshotExtension

from harness.callbacks import Call, CallbackRecorder

__all__ = ["AgentSnapshotExtension", "AgentSnapshotSerializer", "Normalizer", "agent_snapshot_fixture", "normalize"]

ID_PREFIXES: tuple[str, ...] = (
    "msg", "msgbatch", "toolu", "srvtoolu", "mcptoolu", "call", "chatcmpl", "cmpl", "resp", "run", "step", "thread",
    "asst", "fc", "ctc", "req", "item", "file", "batch", "vs", "rs", "ws", "mcp", "mcpr", "cp", "ig", "ci", "fs",
    "lsh", "cu", "ftjob", "modr", "conv", "fp",
)  # fmt: skip
OPAQUE_KEYS: frozenset[str] = frozenset({"signature", "encrypted_content", "obfuscation"})
TIMESTAMP_KEYS: frozenset[str] = frozenset({"created", "timestamp"})

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_UUID = re.compile(
    r"(?<![0-9A-Za-z<_-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_-])"
)


def _id_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(p) for p in prefixes), key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Za-z<_-])(?P<prefix>{alternatives})(?P<sep>[_-])(?P<body>[0-9A-Za-z]+)(?![0-9A-Za-z_-])")


def _plain(data: Any, depth: int = 0) -> Any:
    """SDK objects (and recorders) to JSON-like data; containers rebuilt, anything else kept."""
    if data is None or isinstance(data, (bool, int, float, str)) or depth > 60:
        return data
    if isinstance(data, CallbackRecorder):
        return [_plain(c, depth + 1) for c in data.calls]
    if isinstance(data, Call):
        return Call(data.name, {k: _plain(v, depth + 1) for k, v in data.args.items()})
    if not isinstance(data, type) and getattr(type(data), "model_fields", None) is not None and hasattr(data, "model_dump"):
        try:
            dumped = data.model_dump(mode="json", exclude_none=True, warnings=False)
        except Exception:  # a half-constructed SDK snapshot: what was set is what there is
            dumped = data.model_dump(mode="json", exclude_none=True, exclude_unset=True, warnings=False)
        return _plain(dumped, depth + 1)
    if isinstance(data, Mapping):
        return {k: _plain(v, depth + 1) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v, depth + 1) for v in data]
    if isinstance(data, tuple) and not hasattr(data, "_fields"):
        return tuple(_plain(v, depth + 1) for v in data)
    return data


class Normalizer:
    """Replaces volatile values with placeholders, consistently within one instance."""

    id_prefixes: ClassVar[tuple[str, ...]] = ID_PREFIXES
    opaque_keys: ClassVar[frozenset[str]] = OPAQUE_KEYS
    timestamp_keys: ClassVar[frozenset[str]] = TIMESTAMP_KEYS

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._pattern = _id_pattern(self.id_prefixes)

    def placeholder(self, value: str, kind: str) -> str:
        known = self._ids.get(value)
        if known is None:
            n = self._counts[kind] = self._counts.get(kind, 0) + 1
            known = self._ids[value] = f"<{kind}{n}>"
        return known

    def _id(self, match: re.Match[str]) -> str:
        body = match["body"]
        if not (len(body) >= 20 or any(c.isdigit() or c.isupper() for c in body)):
            return match[0]
        return self.placeholder(match[0], match["prefix"] + match["sep"])

    def string(self, value: str) -> str:
        if _ISO_TIME.fullmatch(value):
            return "<timestamp>"
        value = self._pattern.sub(self._id, value)
        return _UUID.sub(lambda m: self.placeholder(m[0].lower(), "uuid_"), value)

    def is_timestamp_key(self, key: Any) -> bool:
        return isinstance(key, str) and (key in self.timestamp_keys or key.endswith("_at"))

    def __call__(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.string(data)
        if isinstance(data, Call):
            return Call(data.name, self._mapping(data.args))
        if isinstance(data, Mapping):
            return self._mapping(data)
        if isinstance(data, list):
            return [self(v) for v in data]
        if isinstance(data, tuple) and not hasattr(data, "_fields"):
            return tuple(self(v) for v in data)
        return data

    def _mapping(self, data: Mapping[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in data.items():
            new_key = self.string(key) if isinstance(key, str) else key
            if value is not None and not isinstance(value, bool):
                if self.is_timestamp_key(key) and isinstance(value, (int, float, str)):
                    out[new_key] = "<timestamp>"
                    continue
                if key in self.opaque_keys and isinstance(value, str) and value:
                    out[new_key] = f"<{key}>"
                    continue
            out[new_key] = self(value)
        return out


def normalize(data: Any, normalizer: Normalizer | None = None) -> Any:
    """``data`` as the agent snapshot sees it: SDK objects as data, volatile values as placeholders."""
    return (normalizer or Normalizer())(_plain(data))


class _CallPlugin(AmberDataSerializerPlugin):
    """A recorded :class:`harness.callbacks.Call` on one line: ``name(key=value, ...)``."""

    @classmethod
    def is_data_serializable(cls, data: Any) -> bool:
        return isinstance(data, Call)

    @classmethod
    def serialize(cls, data: Any, *, depth: int = 0, **kwargs: Any) -> str:
        # Keys sorted at every level, as amber sorts dict keys: the text does not depend on the
        # order of an SDK model's fields.
        args = ", ".join(f"{k}={saferepr(v)}" for k, v in sorted(data.args.items()))
        return AmberDataSerializer.with_indent(f"{data.name}({args})", depth)


class AgentSnapshotSerializer(AmberDataSerializer):
    """Amber, with recorded calls written one per line. Same format version as plain amber."""

    serializer_plugins = (_CallPlugin,)


class AgentSnapshotExtension(AmberSnapshotExtension):
    """syrupy extension for agent results: SDK objects as data, volatile ids and times as placeholders."""

    serializer_class = AgentSnapshotSerializer
    normalizer_class: ClassVar[type[Normalizer]] = Normalizer

    def serialize(self, data: Any, **kwargs: Any) -> str:
        return self.serializer_class.serialize(normalize(data, self.normalizer_class()), **kwargs)


def agent_snapshot_fixture(snapshot: Any) -> Any:
    """The ``agent_snapshot`` fixture's value: syrupy's ``snapshot`` using :class:`AgentSnapshotExtension`."""
    return snapshot.use_extension(AgentSnapshotExtension)
