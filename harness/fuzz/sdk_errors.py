"""What the SDKs raise for each fault, per stream format: measured by the fuzzer, not assumed.

The SDKs document one family of exceptions for API and network failures (``anthropic.APIError``,
``openai.APIError`` and their subclasses). Fuzzing their stream helpers with the faults of
:mod:`harness.fuzz.faults` shows that several paths raise something else, or nothing at all. This
table says, per format and fault, what the stream helper really does (anthropic 2.14 and openai
3.57, the versions this table was measured with; ``tests/test_strategies.py`` checks it against
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
    return "anthropic" if format == "anthropic" else "openai"


_RAW = "the raw transport exception reaches the caller, not the SDK's {wrapped}"

SDK_BEHAVIOUR: dict[tuple[str, str], SdkBehaviour] = {
    (b.format, b.fault): b
    for b in [
        # ------------------------------------------------------------------ anthropic Messages
        SdkBehaviour("anthropic", "status", ("anthropic.APIStatusError",)),
        SdkBehaviour(
            "anthropic",
            "error_event",
            ("anthropic.APIStatusError",),
            finding="an overloaded `error` event mid-stream raises the generic APIStatusError with status_code 200, "
            "not OverloadedError (make_status_error keys on the HTTP status, which is 200)",
        ),
        SdkBehaviour(
            "anthropic",
            "drop",
            ("{http}.RemoteProtocolError",),
            finding=_RAW.format(wrapped="APIConnectionError") + " (MessageStream does not wrap errors while iterating)",
        ),
        SdkBehaviour("anthropic", "read_timeout", ("{http}.ReadTimeout",), finding=_RAW.format(wrapped="APITimeoutError")),
        SdkBehaviour(
            "anthropic",
            "truncate",
            ("builtins.AssertionError",),
            returns=True,
            finding="a stream that ends cleanly before message_stop gives a partial message and no error (stop_reason None "
            "before message_delta); one that ends before message_start: a bare AssertionError from get_final_message()",
        ),
        # ------------------------------------------------------------------ openai Chat Completions
        SdkBehaviour("openai-chat", "status", ("openai.APIStatusError",)),
        SdkBehaviour("openai-chat", "error_event", ("openai.APIError",)),
        SdkBehaviour("openai-chat", "drop", ("openai.APIConnectionError",)),
        SdkBehaviour("openai-chat", "read_timeout", ("openai.APITimeoutError",)),
        SdkBehaviour(
            "openai-chat",
            "truncate",
            ("builtins.AssertionError",),
            returns=True,
            finding="a stream that ends cleanly before [DONE] gives a partial completion and no error (finish_reason None "
            "when cut before the last chunk); one that ends before its first chunk: a bare AssertionError from "
            "get_final_completion()",
        ),
        # ------------------------------------------------------------------ openai Responses
        SdkBehaviour("openai-responses", "status", ("openai.APIStatusError",)),
        SdkBehaviour(
            "openai-responses",
            "error_event",
            ("builtins.RuntimeError",),
            finding="the documented mid-stream `error` event ({type: error, code, message, param, sequence_number}) is "
            "yielded as a ResponseErrorEvent, then get_final_response() raises RuntimeError(\"Didn't receive a "
            '`response.completed` event."); the SDK raises APIError only for event data with an "error" key',
        ),
        SdkBehaviour("openai-responses", "drop", ("openai.APIConnectionError",)),
        SdkBehaviour("openai-responses", "read_timeout", ("openai.APITimeoutError",)),
        SdkBehaviour(
            "openai-responses",
            "truncate",
            ("builtins.RuntimeError",),
            finding="a stream that ends cleanly before response.completed: RuntimeError(\"Didn't receive a "
            '`response.completed` event.") from get_final_response(), not an APIError',
        ),
        # ------------------------------------------------------------------ openai Assistants (runs.stream)
        SdkBehaviour("openai-assistants", "status", ("openai.APIStatusError",)),
        SdkBehaviour("openai-assistants", "error_event", ("openai.APIError",)),
        SdkBehaviour(
            "openai-assistants",
            "drop",
            ("{http}.RemoteProtocolError",),
            finding=_RAW.format(wrapped="APIConnectionError")
            + ": openai/lib/streaming/_assistants.py catches APIConnectionError and re-raises its __cause__",
        ),
        SdkBehaviour(
            "openai-assistants",
            "read_timeout",
            ("{http}.ReadTimeout",),
            finding=_RAW.format(wrapped="APITimeoutError")
            + ": openai/lib/streaming/_assistants.py catches APIConnectionError and re-raises its __cause__",
        ),
        SdkBehaviour(
            "openai-assistants",
            "truncate",
            ("builtins.RuntimeError",),
            returns=True,
            finding="until_done() returns normally on a stream that ends early; get_final_messages() / get_final_run() "
            'then raise RuntimeError("No messages found" / "No final run object found") when those events never came, '
            "else return what came (a run still in_progress, a message cut short)",
        ),
    ]
}


def sdk_behaviour(format: str | None, fault: str | None) -> SdkBehaviour | None:
    """What the SDK's stream helper does for ``fault`` in a stream of ``format`` (None: not measured)."""
    if format is None or fault is None:
        return None
    return SDK_BEHAVIOUR.get((format, fault))
