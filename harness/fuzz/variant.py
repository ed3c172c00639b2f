"""A variant of one recorded interaction: what replays in its place, and a readable account of why."""

from __future__ import annotations

from typing import Any

from harness.cassette.model import HttpInteraction, Response


class Variant:
    """One rewritten recorded response, ready to replay through the unchanged HTTP seam.

    ``index``        the recorded interaction it replaces (its position in the cassette)
    ``interaction``  the same request with the rewritten response (events, chunks, error, status)
    ``before``       interactions answered first for the same request (a 529, then the stream)
    ``kind``         ``original``, ``rechunk``, ``resplit``, ``resplit+rechunk`` or ``fault``
    ``fault``        for faults: ``truncate``, ``drop``, ``error_event``, ``status``, ``read_timeout``
    ``preserving``   True when the SDK must give the same result as for the recording
    ``label``        one line, shown as the variant's repr (hypothesis prints it when a test fails)
    ``details``      more lines: which event, which byte, which text (``explain()``)
    ``played``       after a ``substitute`` block: whether the code under test got to it at all
    """

    __slots__ = ("before", "details", "fault", "format", "index", "interaction", "kind", "label", "played", "preserving")

    def __init__(
        self,
        index: int,
        interaction: HttpInteraction,
        *,
        kind: str,
        label: str,
        details: list[str] | None = None,
        before: tuple[HttpInteraction, ...] = (),
        fault: str | None = None,
        preserving: bool = True,
        format: str | None = None,
    ) -> None:
        self.index = index
        self.interaction = interaction
        self.before = before
        self.kind = kind
        self.fault = fault
        self.preserving = preserving
        self.label = label
        self.details = details or []
        self.format = format
        #: after ``substitute``: whether the code under test requested it at all
        self.played: bool | None = None

    @property
    def response(self) -> Response | None:
        # An MCP fault's stand-in (harness.fuzz.mcp_faults) is an MCP call: it has no HTTP response.
        return getattr(self.interaction, "response", None)

    def explain(self) -> str:
        more = [d for d in self.details if d not in self.label]
        return "\n".join([f"variant of interaction #{self.index}: {self.label}", *(f"  {d}" for d in more)])

    def __repr__(self) -> str:
        return self.label

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:  # hypothesis' and IPython's pretty printer
        p.text(self.label)


def original(index: int, interaction: HttpInteraction) -> Variant:
    """The recorded interaction itself, as a variant (what replay without fuzzing plays)."""
    return Variant(index, interaction, kind="original", label=f"original(#{index})")
