"""Reading model calls, whichever API made them: the answer in a response, the turn in a request.

Used by ``harness show`` and ``harness diff``. Each provider reads its own API; this module asks
them in registration order and holds only what no API owns (the error event, the summary bits
every request shares).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.providers import providers
from harness.providers.base import Answer, StreamState, error_text

if TYPE_CHECKING:
    from harness.cassette.model import Body


def _answer_json(data: Any) -> Answer | None:
    if not isinstance(data, dict):
        return None
    for provider in providers():
        answer = provider.answer(data)
        if answer is not None:
            return answer
    error = error_text(data)
    return Answer(error=error) if error is not None else None


def _is_error(name: str | None, data: dict[str, Any]) -> bool:
    if name == "error" or data.get("type") == "error":
        return True
    return isinstance(data.get("error"), dict) and not any(p.keeps_error_field(data) for p in providers())


def feed(stream: StreamState, name: str | None, data: dict[str, Any]) -> None:
    """One stream event into ``stream``: an error event, or the event of the API that reads it."""
    if _is_error(name, data):
        message = error_text(data) or f"{data.get('type') or data.get('code')}: {data.get('message')}"
        stream.answer.error, stream.seen = message, True
        return
    for provider in providers():
        if provider.reads(name, data):
            provider.feed(stream, name, data)
            return


def answer_of(body: Body) -> Answer | None:
    """The model's answer in a response body (JSON or SSE), or None when it is not a model answer."""
    if body.kind == "json":
        answer = _answer_json(body.value)
        if answer is not None:
            answer.parts = [p.finish() for p in answer.parts]
        return answer
    if body.kind == "sse":
        stream = StreamState()
        for event in body.value:
            data = event.get("data")
            if isinstance(data, dict):
                feed(stream, event.get("event"), data)
        return stream.result() if stream.seen else None
    return None


def turn_of(body: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """What a model request adds to the conversation: (summary bits, ``(label, text)`` lines).

    Anthropic Messages and OpenAI chat: the messages after the last assistant message (and the
    system prompt on the first turn); Responses: the ``input`` items after the model's last ones;
    Assistants: the tool outputs or messages sent. Anything else: ([], []).
    """
    if not isinstance(body, dict):
        return [], []
    for provider in providers():
        found = provider.turn(body)
        if found is not None:
            break
    else:
        return [], []
    summary: list[str] = [str(body["model"])] if isinstance(body.get("model"), str) else []
    summary += found[0]
    if body.get("tools"):
        summary.append(f"{len(body['tools'])} tool{'s' * (len(body['tools']) != 1)}")
    if body.get("stream"):
        summary.append("stream")
    return summary, found[1]
