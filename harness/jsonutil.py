"""Small helpers for JSON-like data (dicts, lists, str, int, float, bool, None): one home for them.

* :func:`canonical`: the form used to compare and to key, compact with sorted keys.
* :func:`compact`: compact with the keys in their order, the form a cassette's bodies and SSE data
  are written in.
* :func:`copy`: a deep copy, much faster than ``copy.deepcopy`` on parsed JSON.
* :func:`short` and :func:`preview`: text clipped for a report, a value shown on one line.

Standard library only; nothing in harness sits below this module.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["canonical", "compact", "compact_parts", "copy", "encoder", "preview", "short"]


def _strict(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def encoder(
    *,
    sort_keys: bool = False,
    default: Callable[[Any], Any] = _strict,
    separators: tuple[str, str] = (",", ":"),
    ensure_ascii: bool = False,
) -> Callable[[Any], str]:
    """``json.JSONEncoder(separators=separators, ensure_ascii=ensure_ascii, ...).encode``, built once.

    ``JSONEncoder.encode`` builds a new C encoder on every call; keys and bodies are encoded for every
    request and every stream event, so the C encoder is built here once and reused (same output).
    Like ``check_circular=False``: a value that contains itself raises ``RecursionError``.
    """
    join = "".join
    parts = _parts(sort_keys=sort_keys, default=default, separators=separators, ensure_ascii=ensure_ascii)

    def encode(value: Any) -> str:
        return join(parts(value, 0))

    return encode


def _parts(
    *, sort_keys: bool, default: Callable[[Any], Any], separators: tuple[str, str], ensure_ascii: bool
) -> Callable[[Any, int], Sequence[str]]:
    """What :func:`encoder` joins: the text in pieces (the C encoder's own, called as ``parts(value, 0)``:
    no Python frame in between), for a caller that joins many."""
    fallback = json.JSONEncoder(
        separators=separators, ensure_ascii=ensure_ascii, sort_keys=sort_keys, default=default, check_circular=False
    ).encode

    def whole(value: Any, _level: int = 0) -> Sequence[str]:
        return (fallback(value),)

    try:
        from json.encoder import c_encode_basestring, c_encode_basestring_ascii, c_make_encoder  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - other Pythons
        return whole
    strings = c_encode_basestring_ascii if ensure_ascii else c_encode_basestring
    if c_make_encoder is None or strings is None:  # pragma: no cover
        return whole
    item_separator, key_separator = separators
    made = c_make_encoder(None, default, strings, None, key_separator, item_separator, sort_keys, False, True)

    return made  # type: ignore[no-any-return]


#: ``canonical(value)``: compact JSON with sorted keys, non-ASCII kept as is. Equal data gives equal
#: text whatever the key order, so it serves as a dict key and for comparing. A value JSON cannot
#: hold (a tool's Python argument) is written as its ``str()``, so making a key never fails.
canonical: Callable[[Any], str] = encoder(sort_keys=True, default=str)

#: ``compact(value)``: compact JSON, keys in their order, non-ASCII kept; raises ``TypeError`` on a
#: value JSON cannot hold. ``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, faster.
compact: Callable[[Any], str] = encoder()

#: ``compact_parts(value, 0)``: :func:`compact`'s text in pieces, to join with others at once (a stream's events).
compact_parts: Callable[[Any, int], Sequence[str]] = _parts(
    sort_keys=False, default=_strict, separators=(",", ":"), ensure_ascii=False
)


def copy(value: Any) -> Any:
    """A deep copy of JSON-like data: dicts and lists rebuilt, anything else (immutable) shared."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy(v) for v in value]
    return value


def short(text: str, limit: int = 120) -> str:
    """``text`` clipped to at most ``limit`` characters, ending in ``...`` when clipped."""
    return text if len(text) <= limit else text[: max(0, limit - 3)] + "..."


def preview(value: Any, limit: int = 120) -> str:
    """A value on one line for a report: a string as its ``repr``, anything else as readable JSON
    (``", "`` and ``": "`` separators, non-ASCII kept, non-JSON values as ``str()``), clipped."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return short(text, limit)
