"""Fuzz recorded streams: hypothesis strategies over a cassette's responses, and fault injection.

Streaming code breaks on network shapes its author never saw: a multi-byte character split across
two chunks, a CRLF split between ``\\r`` and ``\\n``, a tool call's JSON arguments cut mid-token, an
event split mid-line, a stream that stops before ``message_stop``. This module turns each recorded
stream into a family of equivalent streams (and of broken ones) and replays them through the real
SDKs, by the same HTTP seam as any replay::

    import harness.strategies as hs

    def final_message():
        with anthropic.Anthropic().messages.stream(**ARGS) as stream:
            return stream.get_final_message()

    @pytest.mark.cassette
    @hs.fuzz(hs.equivalent(), max_examples=50)     # the body runs once per variant, sync or async
    def test_any_chunking(variant):
        assert final_message().content[0].text == "Café ☕"

    @pytest.mark.cassette
    def test_properties(cassette):
        hs.assert_equivalent(final_message)        # every meaning-preserving variant: the recorded result
        hs.assert_fails_cleanly(final_message, hs.faults(kinds=("status", "error_event")))  # what the SDK raises

Strategies (each draws a :class:`Variant`; by default over every SSE response of the running
test's cassette, resolved when drawn; ``at=`` picks interactions by position, ``source=`` gives
interactions directly, e.g. for use outside a cassette test):

* :func:`rechunked` the same bytes, cut anywhere (inside UTF-8, inside ``\\r\\n``, inside ``data:``...)
* :func:`resplit`   provider-aware delta splits and merges (Anthropic, OpenAI chat, Responses, Assistants)
* :func:`equivalent` both, and both at once: every variant must give the recorded result
* :func:`faults`    truncation, dropped connection, error event, HTTP 429/529, a stalled stream (the
                    client's read timeout raises ``ReadTimeout``; give clients a short one in tests)
* :func:`mcp_faults` a recorded MCP call (``tools/call``) answered with a JSON-RPC error, never answered
                    (the session's read timeout), its connection dropped, or a malformed message, through
                    the real ``ClientSession`` (builders: :func:`mcp_error`, :func:`mcp_timeout`,
                    :func:`mcp_drop`, :func:`mcp_malformed`; :func:`mcp_targets` lists the calls)
* :func:`ws_faults`  a recorded WebSocket session (openai ``responses.connect()`` / ``realtime.connect()``)
                    dropped after its k-th server frame (``ConnectionClosedError``, no close frame: 1006),
                    closed with an error code (1011...), or sent a text frame that is not JSON (builders:
                    :func:`ws_drop`, :func:`ws_close`, :func:`ws_malformed`; :func:`ws_targets` lists the sessions)
* :func:`ws_resplit` a session's text deltas cut across more frames or merged (:func:`ws_resplit_ops` by hand)

Using them: :func:`fuzz` (decorator), :func:`substitute` (a context manager for one variant, e.g.
with ``@given``), :func:`assert_equivalent`, :func:`assert_fails_cleanly`,
:func:`assert_callback_order`. Overriding single responses with respx: :func:`override`.
What each SDK raises for each fault, per format (the default of ``assert_fails_cleanly``):
:func:`sdk_behaviour`, :data:`SDK_BEHAVIOUR`. The whole story: ``docs/fuzzing.md``.
"""

from __future__ import annotations

from typing import Any

from harness.fuzz.current import is_recording
from harness.fuzz.faults import KINDS, drop, error_event, read_timeout, status, truncate
from harness.fuzz.mcp_faults import MCP_KINDS, mcp_drop, mcp_error, mcp_faults, mcp_malformed, mcp_targets, mcp_timeout
from harness.fuzz.properties import (
    Outcome,
    assert_callback_order,
    assert_equivalent,
    assert_fails_cleanly,
    callback_violations,
    collapse,
    comparable,
    documented_errors,
)
from harness.fuzz.rechunk import rechunk
from harness.fuzz.resplit import Rewriter
from harness.fuzz.resplit import resplit as resplit_ops
from harness.fuzz.runner import StreamHang, call_with_timeout, fuzz, run_examples, substitute
from harness.fuzz.sdk_errors import SDK_BEHAVIOUR, SdkBehaviour, sdk_behaviour
from harness.fuzz.strategies import equivalent, faults, rechunked, recorded_streams, resplit, targets
from harness.fuzz.stream import Recorded, recorded
from harness.fuzz.variant import Variant, original
from harness.fuzz.ws_faults import WS_KINDS, ws_close, ws_drop, ws_faults, ws_malformed, ws_targets
from harness.fuzz.ws_resplit import ws_resplit, ws_resplit_ops
from harness.providers import detect
from harness.providers import register as register_rewriter
from harness.providers import registry as rewriters

__all__ = [
    "KINDS",
    "MCP_KINDS",
    "SDK_BEHAVIOUR",
    "WS_KINDS",
    "Outcome",
    "Recorded",
    "Rewriter",
    "SdkBehaviour",
    "StreamHang",
    "Variant",
    "assert_callback_order",
    "assert_equivalent",
    "assert_fails_cleanly",
    "call_with_timeout",
    "callback_violations",
    "collapse",
    "comparable",
    "detect",
    "documented_errors",
    "drop",
    "equivalent",
    "error_event",
    "faults",
    "from_cassette",  # noqa: F822 (from harness.fuzz.respx_layer, imported on first use)
    "fuzz",
    "is_recording",
    "mcp_drop",
    "mcp_error",
    "mcp_faults",
    "mcp_malformed",
    "mcp_targets",
    "mcp_timeout",
    "original",
    "override",  # noqa: F822 (from harness.fuzz.respx_layer, imported on first use)
    "read_timeout",
    "rechunk",
    "rechunked",
    "recorded",
    "recorded_streams",
    "register_rewriter",
    "resplit",
    "resplit_ops",
    "respond",  # noqa: F822 (from harness.fuzz.respx_layer, imported on first use)
    "rewriters",
    "run_examples",
    "sdk_behaviour",
    "status",
    "substitute",
    "targets",
    "truncate",
    "ws_close",
    "ws_drop",
    "ws_faults",
    "ws_malformed",
    "ws_resplit",
    "ws_resplit_ops",
    "ws_targets",
]


def __getattr__(name: str) -> Any:
    # The respx layer imports respx: only when asked for (a lazy re-export, not a dodge of the graph).
    if name in ("override", "from_cassette", "respond"):
        from harness.fuzz import respx_layer

        return getattr(respx_layer, name)
    raise AttributeError(f"module 'harness.strategies' has no attribute {name!r}")
