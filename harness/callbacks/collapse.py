"""``collapse_deltas``: each uninterrupted run of delta entries merged into one entry per name and index.

Text fragments are concatenated, accumulated snapshots keep their last value. Also used by the
fuzzer's chunking-invariance property (:func:`harness.fuzz.properties.collapse`).
"""

from __future__ import annotations

from typing import Any

from harness.callbacks.summary import Call

__all__ = ["FRAGMENT_KEYS", "identity", "is_delta", "merge", "merge_fragment"]

# Event names that are deltas without ending in "delta" (anthropic's helper events, openai chunks).
_DELTA_NAMES = frozenset({"text", "input_json", "thinking", "citation", "chunk"})
#: Top-level fields that are fragments (merged) rather than accumulated snapshots (replaced).
FRAGMENT_KEYS = frozenset({"delta", "text", "partial_json", "thinking", "arguments_delta", "chunk", "value"})
# Inside a fragment, strings under these keys are concatenated; other values are replaced.
_CONCAT_KEYS = frozenset(
    {"text", "value", "partial_json", "thinking", "arguments", "content", "delta", "refusal", "input", "arguments_delta"}
)
# The fields that tell two runs of deltas apart (one per content block / output item).
_IDENTITY_KEYS = ("index", "output_index", "content_index", "event")


def is_delta(call: Call) -> bool:
    """Whether an entry is a fragment of the model's output (merged by ``collapse_deltas``)."""
    if call.name.endswith("delta") or call.name in _DELTA_NAMES:
        return True
    event = call.args.get("event")
    return isinstance(event, str) and event.endswith(".delta")


def identity(call: Call) -> tuple[Any, ...]:
    """Which run a delta belongs to: its name and where it sits in the output."""
    return (call.name, *(repr(call.args.get(k)) for k in _IDENTITY_KEYS))


def merge_fragment(old: Any, new: Any, key: str) -> Any:
    """``new`` merged into ``old``: strings under a concatenated key joined, dicts merged key by key,
    lists of the same length merged item by item; anything else replaced by ``new``."""
    if isinstance(old, str) and isinstance(new, str):
        return old + new if key in _CONCAT_KEYS else new
    if isinstance(old, dict) and isinstance(new, dict):
        merged = dict(old)
        for k, v in new.items():
            merged[k] = merge_fragment(old[k], v, k) if k in old else v
        return merged
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [merge_fragment(o, n, key) for o, n in zip(old, new, strict=True)]
    return new


def merge(old: Call, new: Call) -> Call:
    """Two deltas of one run as one entry: fragment fields merged, the other fields the newest."""
    args = dict(old.args)
    for k, v in new.args.items():
        args[k] = merge_fragment(old.args[k], v, k) if k in old.args and k in FRAGMENT_KEYS else v
    return Call(old.name, args)
