"""The ledger of the test running now: the seams and the fuzzer find it here, never through the session.

One test at a time uses a cassette in a process (xdist runs tests in separate processes), so this is
a module-level slot, set when a session starts and cleared when it stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

_current: Ledger | None = None


def current() -> Ledger | None:
    """The ledger of the test running now, if it uses a cassette."""
    return _current


def activate(ledger: Ledger) -> None:
    global _current
    _current = ledger


def deactivate(ledger: Ledger) -> None:
    global _current
    if _current is ledger:
        _current = None
