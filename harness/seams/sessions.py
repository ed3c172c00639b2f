"""anthropic's managed-agents ``SessionToolRunner`` on replay: its idle clock and backoff take no wall-clock time.

The runner (``anthropic.lib.tools._beta_session_runner``) stops when the session has been idle for ``max_idle``
seconds: an ``IdleCountdown`` sets the deadline of the cancel scope around its stream read to
``anyio.current_time()`` of the idle plus ``max_idle``; when it passes, the read is cancelled, the runner
reconnects after a backoff (``jitter`` of 0.25-0.5 s), reads the history again and, the countdown having ended
before that read began, stops. Recorded, that is: the event stream cut by the client after its last event
(``client_closed``), a second stream, the session and its history read, and that second stream closed unread.

Replayed as is, the test would wait ``max_idle`` and the backoff again in wall-clock time (60 s by default).
So on replay (replay only: nothing is real) this seam swaps in:

* a countdown that never ends by the clock: it ends when the replay reaches the place where the recording's
  client stopped reading an idle session's stream (the HTTP seam calls :meth:`SessionSeam.held` there, see
  :mod:`harness.seams.causal`). There, in the recording, its idle period had run out; here it runs out at once.
  Activity (a call finishing) or the session running again starts the countdown over, as in the recording.
* ``jitter`` returning 0: the reconnect and send-retry backoffs are instant.

The runner's decisions follow the recorded events, not the clock, so a replayed session is fast and the same
every time. If the runner's internals change shape (a newer SDK), nothing is patched and the replay takes the
runner's own time, as recorded.
"""

from __future__ import annotations

import math
import sys
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.seams.imports import after_import, restore

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

RUNNER_MODULE = "anthropic.lib.tools._beta_session_runner"


class SessionSeam:
    """Makes replayed ``SessionToolRunner`` runs take no idle or backoff time (see the module docstring)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] = []
        self._countdowns: weakref.WeakSet[Any] = weakref.WeakSet()

    def install(self) -> None:
        if not self.ledger.replaying or self.ledger.recording:
            return
        self.ledger.on_held.append(self.held)
        self._undo.append(lambda: self.ledger.on_held.remove(self.held))
        module = sys.modules.get(RUNNER_MODULE)
        if module is not None:
            self._patch(module)
        else:
            self._undo.append(after_import({RUNNER_MODULE: self._patch}))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()

    def held(self, url: str) -> None:
        """A replayed stream reached the point where the recording's client stopped reading it: for a
        session idle then, the runner's idle period ran out there."""
        if "/events/stream" not in url:
            return
        for countdown in list(self._countdowns):
            countdown.run_out()

    def _patch(self, module: Any) -> None:
        real = module.__dict__.get("IdleCountdown")
        real_jitter = module.__dict__.get("jitter")
        if not (isinstance(real, type) and callable(real_jitter)):
            return
        if not all(hasattr(real, name) for name in ("count_from", "record_activity", "new_cancel_scope", "ended_by")):
            return
        countdowns = self._countdowns

        class ReplayCountdown(real):  # type: ignore[misc,valid-type]
            """Ends when the replay says the recording's idle period ran out, never by the clock."""

            def __init__(self, max_idle: float | None) -> None:
                super().__init__(max_idle)
                self.idle = False
                self.ran_out = False
                countdowns.add(self)

            def run_out(self) -> None:
                if self.idle:
                    self.ran_out = True
                    self._scope.deadline = -math.inf

            def record_activity(self) -> None:
                super().record_activity()
                self.ran_out = False

            def count_from(self, idle_since: float | None) -> None:
                self.idle = idle_since is not None and self.max_idle is not None
                if not self.idle:
                    self.ran_out = False
                self._scope.deadline = -math.inf if self.idle and self.ran_out else math.inf

        def jitter(low: float, high: float) -> float:
            return 0.0

        module.IdleCountdown = ReplayCountdown
        module.jitter = jitter
        self._undo.append(lambda: restore(module.__dict__, "IdleCountdown", ReplayCountdown, real))
        self._undo.append(lambda: restore(module.__dict__, "jitter", jitter, real_jitter))
