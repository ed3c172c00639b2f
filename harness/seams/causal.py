"""Causal replay of a stream: its events come only after the requests that, while recording, came before them.

A long-lived event stream (anthropic's managed-agents ``/v1/sessions/{id}/events/stream``) sends events that
follow what the client posted meanwhile: the session runs a tool, posts its result, and only then does the
stream carry the agent's next events. Replayed at once, the stream would hand the client events before it
posted anything.

While recording, the HTTP seam notes, for each chunk of a streamed body, the state-changing requests (any
method but GET, HEAD, OPTIONS) the client made after the stream opened and before that chunk arrived: the
response's ``awaits`` list, ``[[chunk, "POST /v1/sessions/s/events"], ...]``. It also notes ``client_closed``
when the client stopped reading before the server ended the body.

On replay, :class:`Causal` turns these into waits the stream's twins already know how to take (a float:
sleep that long): before a linked chunk, short sleeps until that many such requests were replayed (matched)
since the stream opened, given up with a :class:`~harness.errors.CassetteMiss` naming the request after
:data:`CAUSE_WAIT` seconds; after the last chunk of a stream the client closed, the stream stays open as the
server kept it (the session seam ends the runner's idle wait there, see :mod:`harness.seams.sessions`), until
the client closes it or the read times out. A stream without links gets no :class:`Causal` and costs nothing.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from harness.engine import reports
from harness.errors import cassette_miss

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

#: Seconds a replayed stream waits for a request it awaits before it fails the test.
CAUSE_WAIT = 5.0
#: Seconds a replayed stream the recording's client closed stays open at most (less if its read timeout is less).
HOLD_WAIT = 30.0
#: Requests that change nothing on the server: they are never a stream's cause.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def causes(items: list[Any], after: int, seen: list[int], parts: list[bytes]) -> list[list[Any]]:
    """The ``awaits`` of a recorded stream: ``seen[n]`` is how many interactions had been started when chunk
    ``parts[n]`` arrived; those after slot ``after`` that change state are its chunk's causes. Empty chunks
    are not stored, so a cause noted at one moves to the next chunk stored."""
    out: list[list[Any]] = []
    before, n = after + 1, 0
    for part, count in zip(parts, seen):
        if not part:
            continue
        if count > before:
            made = [items[i].describe() for i in range(before, count) if _changes_state(items[i])]
            if made:
                out.append([n, *made])
            before = count
        n += 1
    return out


def _changes_state(item: Any) -> bool:
    request = getattr(item, "request", None)
    return item.kind == "http" and request is not None and request.method not in SAFE_METHODS


class Causal:
    """The waits of one replayed stream (see the module's docstring)."""

    __slots__ = ("counted", "held", "ledger", "misses", "needs", "read", "scanned", "url", "what")

    def __init__(self, ledger: Ledger, interaction: Any, url: str, read_timeout: float | None) -> None:
        self.ledger, self.url, self.read = ledger, url, read_timeout
        self.what = interaction.describe()
        response = interaction.response
        self.held = response.client_closed
        #: chunk -> the requests (description -> how many) made before it, counted from the stream's start.
        self.needs: dict[int, Counter[str]] = {}
        total: Counter[str] = Counter()
        for entry in response.awaits or ():
            total.update(entry[1:])
            self.needs[int(entry[0])] = Counter(total)
        self.scanned = len(ledger.cassette.played)
        self.misses = len(ledger.misses)
        self.counted: Counter[str] = Counter()

    def _count(self) -> None:
        c = self.ledger.cassette
        played = c.played
        while self.scanned < len(played):
            index = played[self.scanned]
            self.scanned += 1
            if index < len(c.interactions):
                self.counted[c.interactions[index].describe()] += 1

    def before(self, chunk: int, total: int) -> Iterator[float]:
        """Waits (seconds to sleep) until chunk ``chunk`` of ``total`` may be delivered."""
        need = self.needs.get(chunk)
        if need is None:
            return
        deadline = time.monotonic() + CAUSE_WAIT
        pause = 0.0005
        while True:
            self._count()
            missing = [what for what, n in need.items() if self.counted[what] < n]
            if not missing:
                return
            if len(self.ledger.misses) > self.misses:
                # The awaited request missed: that miss is the report; stop here without a second one.
                raise self.ledger.misses[self.misses]
            if time.monotonic() >= deadline:
                raise self._never_came(missing, need, chunk, total)
            yield pause
            pause = min(pause * 2, 0.02)

    def after(self) -> Iterator[float]:
        """After the last chunk: stay open, as the server did, when the recording's client closed the stream."""
        if not self.held:
            return
        for listener in list(self.ledger.on_held):
            listener(self.url)
        bound = HOLD_WAIT if self.read is None else min(self.read, HOLD_WAIT)
        deadline = time.monotonic() + bound
        while time.monotonic() < deadline:
            yield min(0.05, max(deadline - time.monotonic(), 0.0))

    def _never_came(self, missing: list[str], need: Counter[str], chunk: int, total: int) -> BaseException:
        ledger = self.ledger
        lines = [
            f"harness: the replayed stream {self.what} cannot go on: while recording, its next events came only"
            " after the client had made",
            *(f"    {what}  (the {_nth(need[what])} such request since the stream opened)" for what in missing),
            f"  and no such request came within {CAUSE_WAIT:g} s (before chunk {chunk + 1} of {total}).",
            f"  {reports.context_line(ledger)}",
            "  How to fix: if the agent no longer makes that request (a tool no longer answered, a result no"
            " longer posted), re-record the test:",
            f"    {ledger.rerecord_command()}",
        ]
        miss = cassette_miss("\n".join(lines))
        ledger.misses.append(miss)
        return miss


def _nth(n: int) -> str:
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"
