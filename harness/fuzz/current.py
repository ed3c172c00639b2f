"""The ledger of the cassette test running now, as the fuzzer sees it (through :mod:`harness.active`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness import active
from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger


def ledger(cassette: Any = None) -> Ledger:
    """The running test's ledger (``cassette``, if given, must be its cassette or the ledger itself)."""
    running = active.current()
    if running is None:
        raise HarnessError(
            "harness.strategies: no cassette is active. Use the `cassette` fixture or "
            "@pytest.mark.cassette on the test, and record it once (--record-mode=once) before fuzzing it."
        )
    if cassette is not None and cassette is not running and running.cassette is not cassette:
        raise HarnessError("harness.strategies: that cassette is not the one of the test running now")
    return running


def is_recording(cassette: Any = None) -> bool:
    """Whether the running test's cassette is being recorded (``--record-mode=all``, ``new_episodes``,
    or ``once`` for a cassette not there yet). Variants replay over a recorded cassette only, so
    ``@fuzz``, ``assert_equivalent`` and ``assert_fails_cleanly`` then run the body once, as is; a
    test that expects the fuzzer to find something can skip itself with this."""
    found = ledger(cassette)
    return bool(found.recording or not found.replaying)
