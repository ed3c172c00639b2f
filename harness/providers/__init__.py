"""One module per API wire format, and the registry of them.

* :mod:`harness.providers.anthropic`         Anthropic Messages
* :mod:`harness.providers.openai_chat`       OpenAI Chat Completions (and legacy completions)
* :mod:`harness.providers.openai_responses`  OpenAI Responses
* :mod:`harness.providers.openai_assistants` OpenAI Assistants (threads and runs)

Each knows, for its API: how to recognise a recorded stream, how to re-split its deltas keeping
the meaning, its mid-stream error event and HTTP error body, what its SDK raises for each fault,
how to read its requests and answers (``harness show`` / ``diff``) and its callback names. The
fuzzer, the CLI and the drift check ask the registry (:func:`detect`, :func:`get`, :func:`registry`)
rather than knowing a format themselves. :func:`register` adds a format (or replaces one); formats
are tried in registration order. Only the standard library is imported here.
"""

from __future__ import annotations

from harness.providers.anthropic import Anthropic
from harness.providers.base import Answer, Entry, Part, Provider, SdkFailure, StreamState
from harness.providers.openai_assistants import OpenAIAssistants
from harness.providers.openai_chat import OpenAIChat
from harness.providers.openai_responses import OpenAIResponses

__all__ = [
    "Answer",
    "Anthropic",
    "OpenAIAssistants",
    "OpenAIChat",
    "OpenAIResponses",
    "Part",
    "Provider",
    "SdkFailure",
    "StreamState",
    "detect",
    "get",
    "register",
    "registry",
]

_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> Provider:
    """Add (or replace) the provider of a format; detection tries formats in registration order."""
    _PROVIDERS[provider.name] = provider
    return provider


for _provider in (Anthropic(), OpenAIChat(), OpenAIResponses(), OpenAIAssistants()):
    register(_provider)


def registry() -> dict[str, Provider]:
    """The providers by name, in registration order (a copy)."""
    return dict(_PROVIDERS)


def providers() -> list[Provider]:
    """The providers in registration order."""
    return list(_PROVIDERS.values())


def get(name: str | None) -> Provider | None:
    """The provider of format ``name`` (``anthropic``, ``openai-chat``...), or None."""
    return _PROVIDERS.get(name or "")


def detect(events: list[Entry] | None) -> str | None:
    """The format of a recorded SSE stream (``anthropic``, ``openai-chat``...), or None."""
    if not events:
        return None
    for name, provider in _PROVIDERS.items():
        if provider.detect(events):
            return name
    return None
