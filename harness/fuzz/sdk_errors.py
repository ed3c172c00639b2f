"""What the SDKs raise for each fault, per stream format: measured by the fuzzer, not assumed.

Each provider module (:mod:`harness.providers`) holds its own measured table (``sdk_errors``);
this module gathers them into :data:`SDK_BEHAVIOUR` and looks them up.

The SDKs document one family of exceptions for API and network failures (``anthropic.APIError``,
``openai.APIError`` and their subclasses). Fuzzing their stream helpers with the faults of
:mod:`harness.fuzz.faults` shows that several paths raise something else, or nothing at all. This
table says, per format and fault, what the stream helper really does (anthropic 2.14 and openai
3.57, the versions this table was measured with; ``tests/fuzzing/test_faults.py`` checks it against
the installed SDKs on every run). :func:`harness.strategies.assert_fails_cleanly` takes its
default expectation from here: the code under test may fail the way the SDK fails, nothing else.

``raises``    the exceptions that reach the caller (dotted names; ``{http}`` is the client's HTTP
              library, ``httpx2`` or ``httpx``)
``returns``   the helper may also return normally: a partial result, and no error
``finding``   what differs from the documented behaviour ("" when nothing does)

The stream helpers measured: anthropic ``messages.stream(...).get_final_message()``, openai
``chat.completions.stream(...).get_final_completion()``, ``responses.stream(...).get_final_response()``
and ``beta.threads.runs.stream(..., event_handler=...)`` with ``until_done()`` /
``get_final_run()`` / ``get_final_messages()``, sync and async alike. Code reading the raw bytes
(``with_streaming_response.create(...).iter_bytes()``) sees the HTTP library's own exceptions.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from harness import providers

__all__ = ["SDK_BEHAVIOUR", "SdkBehaviour", "sdk_behaviour"]

_HTTP_LIBRARIES = ("httpx2", "httpx")


@dataclass(frozen=True)
class SdkBehaviour:
    """What an SDK's stream helper does for one fault of one stream format."""

    format: str
    fault: str
    raises: tuple[str, ...]
    returns: bool = False
    finding: str = ""

    @property
    def documented(self) -> bool:
        """Whether the SDK does what it documents: raises only its ``APIError`` family."""
        sdk = _sdk(self.format)
        try:
            base = importlib.import_module(sdk).APIError
        except (ImportError, AttributeError):
            return False
        return not self.returns and all(issubclass(c, base) for c in self.classes())

    def classes(self) -> tuple[type[BaseException], ...]:
        """The exception classes of ``raises``, those importable here (``{http}``: every library installed)."""
        found: list[type[BaseException]] = []
        for name in self.raises:
            for dotted in [name.replace("{http}", lib) for lib in _HTTP_LIBRARIES] if "{http}" in name else [name]:
                module, _, attr = dotted.rpartition(".")
                try:
                    cls = getattr(importlib.import_module(module), attr)
                except (ImportError, AttributeError):
                    continue
                if isinstance(cls, type) and issubclass(cls, BaseException) and cls not in found:
                    found.append(cls)
        return tuple(found)


def _sdk(format: str) -> str:
    provider = providers.get(format)
    return provider.sdk if provider is not None and provider.sdk else "openai"


def _table() -> dict[tuple[str, str], SdkBehaviour]:
    """Each provider's measured failures (``Provider.sdk_errors``), keyed by (format, fault)."""
    return {
        (p.name, f.fault): SdkBehaviour(p.name, f.fault, f.raises, f.returns, f.finding)
        for p in providers.providers()
        for f in p.sdk_errors
    }


#: (format, fault) -> what the SDK's stream helper does: the table of every provider, at import
SDK_BEHAVIOUR: dict[tuple[str, str], SdkBehaviour] = _table()


def sdk_behaviour(format: str | None, fault: str | None) -> SdkBehaviour | None:
    """What the SDK's stream helper does for ``fault`` in a stream of ``format`` (None: not measured)."""
    if format is None or fault is None:
        return None
    found = SDK_BEHAVIOUR.get((format, fault))
    if found is None and providers.get(format) is not None:  # a provider registered since
        found = _table().get((format, fault))
    return found
