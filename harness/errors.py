"""The error tree. Each error renders as a small report: what happened, the context, how to fix it.

Errors subclass the builtin they resemble (a bad cassette is a ``ValueError``, a bad option a
``TypeError`` or ``ValueError``), so generic handlers keep working.
"""

from __future__ import annotations

import sys
from typing import Any


class HarnessError(Exception):
    """Base class of everything harness raises."""


class ConfigError(HarnessError, ValueError):
    """A setting has a value harness does not know: names the setting and the valid values."""


class CassetteFormatError(HarnessError, ValueError):
    """A cassette file that cannot be read: names the file, where in it, and what is wrong."""

    def __init__(self, path: Any, problem: str, where: str = "", hint: str = "") -> None:
        self.path = str(path)
        self.problem = problem
        self.where = where
        self.hint = hint
        lines = [f"harness: cannot read cassette {self.path}", f"  {where + ': ' if where else ''}{problem}"]
        if hint:
            lines.append(f"  {hint}")
        super().__init__("\n".join(lines))


class NoCassetteError(HarnessError, LookupError):
    """Replay was asked for, but the test has no cassette yet."""

    def __init__(self, path: Any, mode: str, rerecord: str) -> None:
        self.path = str(path)
        super().__init__(
            f"harness: this test has no cassette yet (mode {mode!r} only replays)\n"
            f"  expected: {self.path}\n"
            f"  How to fix: record it once, against the real servers:\n"
            f"    {rerecord.replace('--record-mode=all', '--record-mode=once')}"
        )


class CassetteMiss(HarnessError):
    """A request that no recorded interaction answers. Raised inside the code under test.

    It is never a connection error: the SDKs would retry one and hide the report. At raise time it
    also takes the base error classes of the SDKs already imported (``AnthropicError``,
    ``OpenAIError``), which those SDKs re-raise as they are, without retrying or wrapping.
    """

    def __init__(self, report: str) -> None:
        super().__init__(report)
        self.report = report


class UnplayedInteractions(HarnessError, AssertionError):
    """Recorded interactions that the test never asked for (the agent now does less than recorded)."""


_SDK_ERROR_BASES = (("anthropic._exceptions", "AnthropicError"), ("openai._exceptions", "OpenAIError"))
_miss_classes: dict[tuple[type, ...], type[CassetteMiss]] = {}


def cassette_miss(report: str) -> CassetteMiss:
    """A :class:`CassetteMiss` that the imported SDKs let through untouched."""
    bases: tuple[type, ...] = tuple(getattr(sys.modules[mod], name) for mod, name in _SDK_ERROR_BASES if mod in sys.modules)
    cls = _miss_classes.get(bases)
    if cls is None:
        cls = _miss_classes[bases] = type("CassetteMiss", (CassetteMiss, *bases), {"__module__": __name__})
    return cls(report)
