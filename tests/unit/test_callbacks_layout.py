"""harness.callbacks as a package: the names it has always exposed, and its pure delta merging."""

from __future__ import annotations

import harness
import harness.callbacks as callbacks
from harness.callbacks import collapse, recorder, summary
from harness.callbacks.summary import Call


def test_public_names_are_the_same_objects_everywhere() -> None:
    assert harness.Call is callbacks.Call is summary.Call
    assert harness.CallbackRecorder is callbacks.CallbackRecorder is recorder.CallbackRecorder
    assert harness.record_callbacks is callbacks.record_callbacks is recorder.record_callbacks
    assert callbacks.summarize is summary.summarize
    assert callbacks.__all__ == ["Call", "CallbackRecorder", "record_callbacks", "summarize"]


def test_is_delta() -> None:
    assert collapse.is_delta(Call("on_text_delta", {}))
    assert collapse.is_delta(Call("input_json", {}))
    assert collapse.is_delta(Call("on_event", {"event": "thread.message.delta"}))
    assert not collapse.is_delta(Call("on_event", {"event": "thread.run.created"}))
    assert not collapse.is_delta(Call("message_stop", {}))


def test_merge_concatenates_fragments_and_keeps_the_last_snapshot() -> None:
    old = Call("content.delta", {"delta": "Hel", "snapshot": "Hel", "index": 0})
    new = Call("content.delta", {"delta": "lo", "snapshot": "Hello", "index": 0})
    assert collapse.merge(old, new) == Call("content.delta", {"delta": "Hello", "snapshot": "Hello", "index": 0})


def test_merge_fragment_inside_dicts_and_lists() -> None:
    old = {"text": "a", "type": "text_delta", "parts": [{"value": "x"}]}
    new = {"text": "b", "type": "text_delta", "parts": [{"value": "y"}], "new": 1}
    assert collapse.merge_fragment(old, new, "delta") == {
        "text": "ab",
        "type": "text_delta",
        "parts": [{"value": "xy"}],
        "new": 1,
    }
    assert collapse.merge_fragment([1], [1, 2], "delta") == [1, 2]  # lengths differ: replaced


def test_identity_tells_blocks_apart() -> None:
    assert collapse.identity(Call("text", {"index": 0})) != collapse.identity(Call("text", {"index": 1}))
    assert collapse.identity(Call("text", {"index": 0, "text": "a"})) == collapse.identity(Call("text", {"index": 0}))
