"""``agent_snapshot``: syrupy snapshots of agent results that survive re-recording.

:class:`AgentSnapshotExtension` is syrupy's amber extension (same ``.ambr`` files, same format
version, so it shares a snapshot file with the plain ``snapshot`` fixture) with two changes:

* **SDK objects become their data.** pydantic models (anthropic ``Message`` / ``BetaMessage``,
  openai ``ChatCompletion`` / ``ParsedChatCompletion`` / ``Response``, run steps, thread
  messages, tool results...) are written as ``model_dump(mode="json", exclude_none=True)``,
  wherever they sit in the value (lists, dicts, tuples). A recorder from
  :func:`harness.record_callbacks` is written as its ``calls``, one line per entry, keys
  sorted: ``on_text_delta(delta='Hel', snapshot='Hel')``.
* **Secrets are scrubbed** as in cassettes (:mod:`harness.redact`'s catalogue): a snapshot file is
  committed like a cassette.
* **Volatile values become placeholders**, and the same id gets the same placeholder wherever it
  appears in the value, two different ids two placeholders: ids with a known prefix (``msg_…`` →
  ``<msg_1>``, ``toolu_…`` → ``<toolu_1>``, ``call_…`` → ``<call_1>``, ``chatcmpl-…`` →
  ``<chatcmpl-1>``, ``resp_``, ``run_``, ``step_``, ``thread_``, ``asst_``, ``fc_``, ``req_``,
  ``item_``, ``file-``, ``fp_`` ...), UUIDs (``<uuid_1>``), timestamps (``<timestamp>``), and
  opaque blobs (``signature``, ``encrypted_content``, ``obfuscation``: ``<signature>`` ...).

  *What counts as an id.* A prefixed word is an id when it is the value of an id field (``id``,
  ``*_id``, ``*_ids``, ``system_fingerprint``), or when what follows the prefix looks random: 10
  characters or more with a digit before a letter (``Xk3vQ9aLp2``, ``01XFDUDYJgAACz…``, hex
  digests), or 20 or more with several digits, or 16 or more switching case as random text does.
  So tool names (``call_weather``, ``call_weather2``, ``run_tests``) stay as they are, unless the
  very same string is also the value of an id field somewhere in the value.

  *What counts as a timestamp.* The value of a ``created`` / ``timestamp`` / ``*_at`` field when it
  is a number in the epoch range of the years 2000-2100 (seconds or milliseconds) or an ISO-8601
  date string; any ISO-8601 date-time string anywhere. Other values of such fields are data
  (``{"look_at": "the Eiffel tower"}`` stays).

  *Numbering is per serialized value*: each ``assert x == agent_snapshot`` numbers from 1. Numbering
  per test instead would make a snapshot's text depend on the snapshots taken before it in the
  same test: adding, removing or reordering one assertion would rewrite the following ones, and
  the values syrupy serializes only to diff against (``agent_snapshot(diff=value)``) would shift
  the counters too. An id that links two values of one test (a tool call and its result) belongs
  in one snapshot, ``assert (calls, final) == agent_snapshot``, where it gets one placeholder.

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

__all__ = [
    "AgentSnapshotExtension",
    "AgentSnapshotSerializer",
    "Normalizer",
    "agent_snapshot_fixture",
    "looks_like_time",
    "looks_random",
    "normalize",
]

ID_PREFIXES: tuple[str, ...] = (
    "msg", "msgbatch", "toolu", "srvtoolu", "mcptoolu", "call", "chatcmpl", "cmpl", "resp", "run", "step", "thread",
    "asst", "fc", "ctc", "req", "item", "file", "batch", "vs", "rs", "ws", "mcp", "mcpr", "cp", "ig", "ci", "fs",
    "lsh", "cu", "ftjob", "modr", "conv", "fp",
)  # fmt: skip
OPAQUE_KEYS: frozenset[str] = frozenset({"signature", "encrypted_content", "obfuscation"})
TIMESTAMP_KEYS: frozenset[str] = frozenset({"created", "timestamp"})
# Fields whose value is an id even when its suffix does not look random (a fixture's ``call_T1me``).
ID_KEYS: frozenset[str] = frozenset({"id", "system_fingerprint"})

_ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(
    r"(?<![0-9A-Za-z<_-])[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![0-9A-Za-z_-])"
)
_DIGIT_THEN_LETTER = re.compile(r"\d.*[A-Za-z]")
_CASE_SWITCH = re.compile(r"(?<=[a-z])[A-Z]|(?<=[A-Z])[a-z]")
# Epoch seconds from 2000-01-01 to 2100-01-01; milliseconds are the same range times 1000.
_EPOCH = (946_684_800, 4_102_444_800)


def _id_pattern(prefixes: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(p) for p in prefixes), key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Za-z<_-])(?P<prefix>{alternatives})(?P<sep>[_-])(?P<body>[0-9A-Za-z]+)(?![0-9A-Za-z_-])")


def looks_random(body: str) -> bool:
    """Whether an id's suffix looks generated rather than chosen (``Xk3vQ9aLp2`` yes, ``weather2`` no)."""
    n = len(body)
    if n < 10:
        return False
    if _DIGIT_THEN_LETTER.search(body):
        return True
    if n >= 20 and sum(c.isdigit() for c in body) >= 3:
        return True
    return n >= 16 and len(_CASE_SWITCH.findall(body)) * 3 >= n


def looks_like_time(value: Any) -> bool:
    """An epoch time (seconds or milliseconds, years 2000-2100) or an ISO-8601 date (and time)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        low, high = _EPOCH
        return low <= value <= high or low * 1000 <= value <= high * 1000
    if isinstance(value, str):
        return bool(_ISO_DATE.fullmatch(value) or _ISO_TIME.fullmatch(value))
    return False


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
    """Replaces volatile values with placeholders, consistently within one instance.

    Calling it on a value first collects the ids of its id fields, then rewrites the value, so an
    id is recognised in free text (a tool's arguments) wherever the two sit in the value.
    """

    id_prefixes: ClassVar[tuple[str, ...]] = ID_PREFIXES
    opaque_keys: ClassVar[frozenset[str]] = OPAQUE_KEYS
    timestamp_keys: ClassVar[frozenset[str]] = TIMESTAMP_KEYS
    id_keys: ClassVar[frozenset[str]] = ID_KEYS

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._known: set[str] = set()  # prefixed strings seen as the value of an id field
        self._pattern = _id_pattern(self.id_prefixes)

    def placeholder(self, value: str, kind: str) -> str:
        known = self._ids.get(value)
        if known is None:
            n = self._counts[kind] = self._counts.get(kind, 0) + 1
            known = self._ids[value] = f"<{kind}{n}>"
        return known

    def _id(self, match: re.Match[str]) -> str:
        if not (match[0] in self._known or looks_random(match["body"])):
            return match[0]
        return self.placeholder(match[0], match["prefix"] + match["sep"])

    def string(self, value: str) -> str:
        if _ISO_TIME.fullmatch(value):
            return "<timestamp>"
        value = self._pattern.sub(self._id, value)
        return _UUID.sub(lambda m: self.placeholder(m[0].lower(), "uuid_"), value)

    def is_timestamp_key(self, key: Any) -> bool:
        return isinstance(key, str) and (key in self.timestamp_keys or key.endswith("_at"))

    def is_id_key(self, key: Any) -> bool:
        return isinstance(key, str) and (key in self.id_keys or key.endswith(("_id", "_ids")))

    def __call__(self, data: Any) -> Any:
        self.collect(data)
        return self._value(data)

    def collect(self, data: Any, depth: int = 0) -> None:
        """Remember the prefixed values of id fields, anywhere in ``data``."""
        if depth > 60:
            return
        if isinstance(data, Call):
            data = data.args
        if isinstance(data, Mapping):
            for key, value in data.items():
                if self.is_id_key(key):
                    for item in value if isinstance(value, list) else [value]:
                        if isinstance(item, str) and self._pattern.fullmatch(item):
                            self._known.add(item)
                self.collect(value, depth + 1)
        elif isinstance(data, (list, tuple)):
            for value in data:
                self.collect(value, depth + 1)

    def _value(self, data: Any) -> Any:
        if isinstance(data, str):
            return self.string(data)
        if isinstance(data, Call):
            return Call(data.name, self._mapping(data.args))
        if isinstance(data, Mapping):
            return self._mapping(data)
        if isinstance(data, list):
            return [self._value(v) for v in data]
        if isinstance(data, tuple) and not hasattr(data, "_fields"):
            return tuple(self._value(v) for v in data)
        return data

    def _mapping(self, data: Mapping[Any, Any]) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key, value in data.items():
            new_key = self.string(key) if isinstance(key, str) else key
            if self.is_timestamp_key(key) and looks_like_time(value):
                out[new_key] = "<timestamp>"
                continue
            if key in self.opaque_keys and isinstance(value, str) and value:
                out[new_key] = f"<{key}>"
                continue
            out[new_key] = self._value(value)
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
        from harness.redact import Redactor

        redactor = Redactor()
        value = redact(normalize(data, self.normalizer_class()), redactor)
        return redactor.text(self.serializer_class.serialize(value, **kwargs))


def redact(data: Any, redactor: Any) -> Any:
    """``data`` with its secrets scrubbed as a cassette's are (:mod:`harness.redact`): key-shaped
    strings anywhere, the whole value of a credential field (``client_secret``, ``password``...).
    A snapshot file is committed like a cassette, so it must never hold a secret either."""
    if isinstance(data, str):
        return redactor.text(data)
    if isinstance(data, Call):
        return Call(data.name, redact(data.args, redactor))
    if isinstance(data, Mapping):
        plain = redactor.value({k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)})
        return {
            (redactor.text(k) if isinstance(k, str) else k): (
                plain[redactor.text(k)] if isinstance(k, str) and isinstance(v, str) else redact(v, redactor)
            )
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact(v, redactor) for v in data]
    if isinstance(data, tuple) and not hasattr(data, "_fields"):
        return tuple(redact(v, redactor) for v in data)
    return data


def agent_snapshot_fixture(snapshot: Any) -> Any:
    """The ``agent_snapshot`` fixture's value: syrupy's ``snapshot`` using :class:`AgentSnapshotExtension`."""
    return snapshot.use_extension(AgentSnapshotExtension)
