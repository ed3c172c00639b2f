"""The ``harness`` command: read, compare, check and convert cassettes.

    harness show CASSETTE        the agent run as a transcript: turns, answers, tool calls, timings
    harness diff A B             what changed between two cassettes, in messages and tool calls
    harness lint [PATHS...]      credentials, unreadable or old files, orphaned cassettes
    harness import-vcr SRC...    vcrpy / pytest-recording YAML cassettes -> harness cassettes

Exit status: 0 all good; 1 a finding (diff: the cassettes differ; lint: a problem; import-vcr: a file
failed); 2 bad usage or unreadable input. Only the standard library is imported at start-up.

How a model call is read (:func:`turn_of` for the request, :func:`answer_of` for the response)
covers Anthropic Messages, OpenAI Chat Completions, Responses and Assistants, as JSON or as SSE
streams. Other interaction kinds get a renderer in :data:`RENDERERS` and a differ in
:data:`DIFFERS`, keyed by the kind; a kind with neither is shown through its ``describe()``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cassette.model import Body, HttpInteraction, Request
    from harness.errors import CassetteFormatError
    from harness.matching import Matcher
    from harness.redact import Redactor


class CliError(Exception):
    """Bad input: reported as ``harness: <what>``, never as a traceback."""


# --------------------------------------------------------------------------------------------------- output


class Style:
    """ANSI colours, or plain text when disabled."""

    CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not text or not styles:
            return text
        return f"\x1b[{';'.join(self.CODES[s] for s in styles)}m{text}\x1b[0m"


def color_enabled(choice: bool | None, stream: Any = None) -> bool:
    """``--color`` / ``--no-color`` win; then NO_COLOR (set: no colour), then FORCE_COLOR (set and not
    ``0``: colour, even into a pipe); otherwise colour when the stream is a TTY."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "0") not in ("", "0", "false"):
        return True
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def _clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} chars)"


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else _compact(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB"


# --------------------------------------------------------------------------------------------------- loading


def load_cassette(path: Path) -> list[Any]:
    """The interactions of a cassette file; a missing or bad file is a short report."""
    from harness.cassette import format as cassette_format

    if not path.exists():
        raise CliError(f"no such cassette: {path}")
    if path.is_dir():
        raise CliError(f"{path} is a folder, not a cassette file")
    return cassette_format.load(path)


def as_json(item: Any) -> dict[str, Any]:
    """An interaction as its cassette JSON (without timings where the kind can drop them)."""
    from harness.cassette import format as cassette_format

    timeless = getattr(item, "timeless", None)
    if callable(timeless):
        item = timeless()
    data: dict[str, Any] = json.loads(cassette_format.dumps([item]))["interactions"][0]
    data.pop("kind", None)
    return data


def title(item: Any) -> str:
    """One line naming an interaction: ``POST /v1/messages``, ``tool get_weather({...})``."""
    request = getattr(item, "request", None)
    if item.kind == "http" and request is not None:
        return f"{request.method} {request.path}"
    describe = getattr(item, "describe", None)
    if callable(describe):
        return str(describe())
    return f"{item.kind} {_short(as_json(item), 100)}"


# --------------------------------------------------------------------------------------------------- reading model calls


@dataclass
class Part:
    """One piece of a model's answer: text, thinking, a refusal, a tool call, or some other output item."""

    kind: str  # "text", "thinking", "refusal", "tool", "other"
    text: str = ""
    name: str = ""
    id: str = ""
    input: Any = None  # a tool call's input: parsed JSON where it is JSON
    raw: str = ""  # streamed tool-call arguments, joined
    choice: int = 0

    def finish(self) -> Part:
        if self.kind == "tool":
            source = self.raw if self.raw else self.input
            if isinstance(source, str):
                try:
                    self.input = json.loads(source) if source.strip() else {}
                except ValueError:
                    self.input = source
            elif source is None:
                self.input = {}
            self.raw = ""
        return self


@dataclass
class Answer:
    parts: list[Part] = field(default_factory=list)
    stop: str | None = None
    error: str | None = None
    model: str | None = None


def _text_of(content: Any) -> str:
    """The text of a message content: a string, or text blocks joined (other blocks as ``[type]``)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        pieces = []
        for block in content:
            if isinstance(block, str):
                pieces.append(block)
            elif isinstance(block, dict):
                text = block.get("text")
                if isinstance(text, dict):  # Assistants: {"value": ...}
                    text = text.get("value")
                pieces.append(str(text) if isinstance(text, str) else f"[{block.get('type', '?')}]")
        return "\n".join(pieces)
    return _compact(content)


def _error_text(data: dict[str, Any]) -> str | None:
    error = data.get("error")
    if isinstance(error, str):
        return error
    if not isinstance(error, dict):
        return None
    kind = error.get("type") or error.get("code")
    message = error.get("message") or _compact(error)
    return f"{kind}: {message}" if kind else str(message)


def _anthropic_blocks(blocks: list[Any]) -> list[Part]:
    parts = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = str(block.get("type", ""))
        if kind == "text":
            parts.append(Part("text", str(block.get("text", ""))))
        elif kind == "thinking":
            parts.append(Part("thinking", str(block.get("thinking", ""))))
        elif kind == "redacted_thinking":
            parts.append(Part("thinking", "(redacted)"))
        elif kind.endswith("tool_use"):
            parts.append(Part("tool", name=str(block.get("name", "")), id=str(block.get("id", "")), input=block.get("input")))
        else:
            parts.append(Part("other", kind))
    return parts


def _chat_answer(data: dict[str, Any]) -> Answer:
    answer = Answer(error=_error_text(data), model=data.get("model"))
    for choice in data["choices"]:
        if not isinstance(choice, dict):
            continue
        index = int(choice.get("index") or 0)
        message = choice.get("message") or {}
        if isinstance(choice.get("text"), str):  # legacy completions
            answer.parts.append(Part("text", choice["text"], choice=index))
        text = _text_of(message.get("content"))
        if text:
            answer.parts.append(Part("text", text, choice=index))
        if message.get("refusal"):
            answer.parts.append(Part("refusal", str(message["refusal"]), choice=index))
        calls = list(message.get("tool_calls") or [])
        if message.get("function_call"):
            calls.append({"function": message["function_call"]})
        for call in calls:
            function = call.get("function") or {}
            answer.parts.append(
                Part(
                    "tool",
                    name=str(function.get("name", "")),
                    id=str(call.get("id", "")),
                    input=function.get("arguments"),
                    choice=index,
                )
            )
        answer.stop = answer.stop or choice.get("finish_reason")
    return answer


def _responses_output(items: list[Any]) -> list[Part]:
    parts = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = str(item.get("type", ""))
        if kind == "message":
            for piece in item.get("content") or []:
                if not isinstance(piece, dict):
                    continue
                if piece.get("type") == "refusal":
                    parts.append(Part("refusal", str(piece.get("refusal", ""))))
                elif "text" in piece:
                    parts.append(Part("text", str(piece["text"])))
        elif kind == "function_call":
            parts.append(
                Part("tool", name=str(item.get("name", "")), id=str(item.get("call_id", "")), input=item.get("arguments"))
            )
        elif kind == "reasoning":
            summary = "\n".join(str(s.get("text", "")) for s in item.get("summary") or [] if isinstance(s, dict))
            if summary:
                parts.append(Part("thinking", summary))
        elif kind:
            parts.append(Part("other", kind))
    return parts


def _responses_stop(data: dict[str, Any]) -> str | None:
    status = data.get("status")
    reason = (data.get("incomplete_details") or {}).get("reason")
    return f"{status} ({reason})" if reason else status


def _run_tool_calls(run: dict[str, Any]) -> list[Part]:
    calls = (((run.get("required_action") or {}).get("submit_tool_outputs")) or {}).get("tool_calls") or []
    return [
        Part(
            "tool",
            name=str((c.get("function") or {}).get("name", "")),
            id=str(c.get("id", "")),
            input=(c.get("function") or {}).get("arguments"),
        )
        for c in calls
    ]


def _answer_json(data: Any) -> Answer | None:
    if not isinstance(data, dict):
        return None
    obj, kind = data.get("object"), data.get("type")
    if kind == "message" and isinstance(data.get("content"), list):
        return Answer(_anthropic_blocks(data["content"]), data.get("stop_reason"), None, data.get("model"))
    if isinstance(data.get("choices"), list):
        return _chat_answer(data)
    if obj == "response" and isinstance(data.get("output"), list):
        return Answer(_responses_output(data["output"]), _responses_stop(data), _error_text(data), data.get("model"))
    if obj == "thread.run":
        last = data.get("last_error")
        error = f"{last.get('code')}: {last.get('message')}" if isinstance(last, dict) else None
        return Answer(_run_tool_calls(data), data.get("status"), error, data.get("model"))
    if obj == "thread.message" and data.get("role") == "assistant":
        return Answer([Part("text", _text_of(data.get("content")))], data.get("status"))
    error = _error_text(data)
    return Answer(error=error) if error is not None else None


class _Stream:
    """Reassembles a streamed answer from its events, whichever API sent them."""

    ANTHROPIC = frozenset(
        {
            "message_start",
            "content_block_start",
            "content_block_delta",
            "message_delta",
            "message_stop",
            "content_block_stop",
            "ping",
        }
    )

    def __init__(self) -> None:
        self.parts: dict[Any, Part] = {}
        self.answer = Answer()
        self.seen = False
        self.final: dict[str, Any] | None = None  # Responses: the completed response object

    def part(self, key: Any, kind: str, **values: Any) -> Part:
        part = self.parts.get(key)
        if part is None:
            part = self.parts[key] = Part(kind, **values)
        return part

    def feed(self, name: str | None, data: dict[str, Any]) -> None:
        kind = data.get("type") if isinstance(data.get("type"), str) else None
        if name == "error" or kind == "error" or (isinstance(data.get("error"), dict) and "choices" not in data):
            message = _error_text(data) or f"{data.get('type') or data.get('code')}: {data.get('message')}"
            self.answer.error, self.seen = message, True
        elif data.get("object") == "chat.completion.chunk" or isinstance(data.get("choices"), list):
            self._chat(data)
        elif kind and kind.startswith("response."):
            self._responses(kind, data)
        elif name and name.startswith("thread."):
            self._assistants(name, data)
        elif kind in self.ANTHROPIC:
            self._anthropic(kind, data)

    def _anthropic(self, kind: str | None, data: dict[str, Any]) -> None:
        self.seen = True
        index = data.get("index")
        if kind == "message_start":
            message = data.get("message") or {}
            self.answer.model = message.get("model")
            self.answer.stop = message.get("stop_reason")
        elif kind == "content_block_start":
            block = data.get("content_block") or {}
            btype = str(block.get("type", ""))
            if btype.endswith("tool_use"):
                self.part(index, "tool", name=str(block.get("name", "")), id=str(block.get("id", "")), input=block.get("input"))
            elif btype == "text":
                self.part(index, "text").text += str(block.get("text", ""))
            elif btype == "thinking":
                self.part(index, "thinking").text += str(block.get("thinking", ""))
            elif btype == "redacted_thinking":
                self.part(index, "thinking").text = "(redacted)"
            else:
                self.part(index, "other", text=btype)
        elif kind == "content_block_delta":
            delta = data.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                self.part(index, "text").text += str(delta.get("text", ""))
            elif dtype == "input_json_delta":
                self.part(index, "tool").raw += str(delta.get("partial_json", ""))
            elif dtype == "thinking_delta":
                self.part(index, "thinking").text += str(delta.get("thinking", ""))
        elif kind == "message_delta":
            self.answer.stop = (data.get("delta") or {}).get("stop_reason") or self.answer.stop

    def _chat(self, data: dict[str, Any]) -> None:
        self.seen = True
        self.answer.model = self.answer.model or data.get("model")
        for choice in data.get("choices") or []:
            index = int(choice.get("index") or 0)
            delta = choice.get("delta") or {}
            if isinstance(choice.get("text"), str):
                self.part((index, "text"), "text", choice=index).text += choice["text"]
            if delta.get("content"):
                self.part((index, "text"), "text", choice=index).text += _text_of(delta["content"])
            if delta.get("refusal"):
                self.part((index, "refusal"), "refusal", choice=index).text += str(delta["refusal"])
            for call in delta.get("tool_calls") or []:
                function = call.get("function") or {}
                part = self.part((index, "tool", call.get("index", 0)), "tool", choice=index)
                part.name = part.name or str(function.get("name") or "")
                part.id = part.id or str(call.get("id") or "")
                part.raw += str(function.get("arguments") or "")
            if choice.get("finish_reason"):
                self.answer.stop = choice["finish_reason"]

    def _responses(self, kind: str, data: dict[str, Any]) -> None:
        self.seen = True
        at = data.get("output_index")
        response = data.get("response") if isinstance(data.get("response"), dict) else None
        if response is not None:
            self.answer.model = response.get("model") or self.answer.model
            if kind in ("response.completed", "response.incomplete", "response.failed"):
                self.final = response
                self.answer.stop = _responses_stop(response)
                self.answer.error = _error_text(response) or self.answer.error
        elif kind == "response.output_item.added":
            item = data.get("item") or {}
            if item.get("type") == "function_call":
                self.part((at, "tool"), "tool", name=str(item.get("name", "")), id=str(item.get("call_id", "")))
        elif kind == "response.output_text.delta":
            self.part((at, "text"), "text").text += str(data.get("delta", ""))
        elif kind == "response.refusal.delta":
            self.part((at, "refusal"), "refusal").text += str(data.get("delta", ""))
        elif kind == "response.function_call_arguments.delta":
            self.part((at, "tool"), "tool").raw += str(data.get("delta", ""))
        elif kind == "response.reasoning_summary_text.delta":
            self.part((at, "thinking"), "thinking").text += str(data.get("delta", ""))

    def _assistants(self, name: str, data: dict[str, Any]) -> None:
        self.seen = True
        if name == "thread.message.delta":
            for piece in (data.get("delta") or {}).get("content") or []:
                text = (piece.get("text") or {}).get("value", "") if isinstance(piece.get("text"), dict) else ""
                self.part((data.get("id"), piece.get("index", 0)), "text").text += str(text)
        elif name == "thread.run.step.delta":
            details = (data.get("delta") or {}).get("step_details") or {}
            for call in details.get("tool_calls") or []:
                function = call.get("function") or {}
                part = self.part((data.get("id"), call.get("index", 0)), "tool", name=str(call.get("type", "")))
                if function.get("name"):
                    part.name = str(function["name"])
                part.id = part.id or str(call.get("id") or "")
                part.raw += str(function.get("arguments") or "")
        elif name.startswith("thread.run.") and not name.startswith("thread.run.step") and isinstance(data.get("status"), str):
            self.answer.model = data.get("model") or self.answer.model
            self.answer.stop = data["status"]
            last = data.get("last_error")
            if isinstance(last, dict):
                self.answer.error = f"{last.get('code')}: {last.get('message')}"

    def result(self) -> Answer:
        self.answer.parts = [p.finish() for p in self.parts.values()]
        if not self.answer.parts and self.final is not None:
            self.answer.parts = [p.finish() for p in _responses_output(self.final.get("output") or [])]
        return self.answer


def answer_of(body: Body) -> Answer | None:
    """The model's answer in a response body (JSON or SSE), or None when it is not a model answer."""
    if body.kind == "json":
        answer = _answer_json(body.value)
        if answer is not None:
            answer.parts = [p.finish() for p in answer.parts]
        return answer
    if body.kind == "sse":
        stream = _Stream()
        for event in body.value:
            data = event.get("data")
            if isinstance(data, dict):
                stream.feed(event.get("event"), data)
        return stream.result() if stream.seen else None
    return None


def _tag(value: Any) -> str:
    return f"[{value}] " if value else ""


def _message_lines(message: dict[str, Any]) -> list[tuple[str, str]]:
    """``(label, text)`` lines for one input message (Anthropic, OpenAI chat, Responses or Assistants)."""
    role = str(message.get("role", "?"))
    content = message.get("content")
    if role == "tool":
        return [("tool result", _tag(message.get("tool_call_id")) + _text_of(content))]
    if role == "function":
        return [("tool result", _tag(message.get("name")) + _text_of(content))]
    lines: list[tuple[str, str]] = []
    if not isinstance(content, list):
        if content is not None:
            lines.append((role, _text_of(content)))
    else:
        for block in content:
            if not isinstance(block, dict):
                lines.append((role, str(block)))
                continue
            kind = str(block.get("type", ""))
            if kind == "tool_result":
                error = "(error) " if block.get("is_error") else ""
                lines.append(("tool result", _tag(block.get("tool_use_id")) + error + _text_of(block.get("content"))))
            elif kind == "tool_use":
                lines.append(("tool call", f"{block.get('name')} {_compact(block.get('input'))}"))
            else:
                lines.append((role, _text_of([block])))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        lines.append(("tool call", f"{function.get('name')} {function.get('arguments')}"))
    return lines


_MODEL_ITEMS = frozenset(
    {"function_call", "reasoning", "computer_call", "web_search_call", "file_search_call", "custom_tool_call", "mcp_call"}
)


def _responses_lines(body: dict[str, Any]) -> list[tuple[str, str]]:
    raw = body.get("input")
    items = [{"role": "user", "content": raw}] if isinstance(raw, str) else [i for i in raw or [] if isinstance(i, dict)]
    start = max((n + 1 for n, i in enumerate(items) if i.get("role") == "assistant" or i.get("type") in _MODEL_ITEMS), default=0)
    lines: list[tuple[str, str]] = []
    if start == 0 and body.get("instructions"):
        lines.append(("instructions", _text_of(body["instructions"])))
    for item in items[start:] or items[-1:]:
        if item.get("type") == "function_call_output":
            lines.append(("tool result", _tag(item.get("call_id")) + _text_of(item.get("output"))))
        elif "role" in item:
            lines += _message_lines(item)
        else:
            lines.append(("input", f"[{item.get('type', '?')}]"))
    return lines


def turn_of(body: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """What a model request adds to the conversation: (summary bits, ``(label, text)`` lines).

    Anthropic Messages and OpenAI chat: the messages after the last assistant message (and the
    system prompt on the first turn); Responses: the ``input`` items after the model's last ones;
    Assistants: the tool outputs or messages sent. Anything else: ([], []).
    """
    if not isinstance(body, dict):
        return [], []
    summary: list[str] = [str(body["model"])] if isinstance(body.get("model"), str) else []
    lines: list[tuple[str, str]] = []
    if isinstance(body.get("messages"), list):
        messages = [m for m in body["messages"] if isinstance(m, dict)]
        start = max((n + 1 for n, m in enumerate(messages) if m.get("role") == "assistant"), default=0)
        if start == 0 and body.get("system"):
            lines.append(("system", _text_of(body["system"])))
        for message in messages[start:] or messages[-1:]:
            lines += _message_lines(message)
        summary.append(f"{len(messages)} message{'s' * (len(messages) != 1)}")
    elif "input" in body and ("model" in body or "instructions" in body):
        lines = _responses_lines(body)
        items = body["input"] if isinstance(body["input"], list) else [body["input"]]
        summary.append(f"{len(items)} input item{'s' * (len(items) != 1)}")
    elif isinstance(body.get("tool_outputs"), list):
        lines = [
            ("tool result", _tag(o.get("tool_call_id")) + _text_of(o.get("output")))
            for o in body["tool_outputs"]
            if isinstance(o, dict)
        ]
    elif "role" in body and "content" in body:
        lines = _message_lines(body)
    elif isinstance(body.get("thread"), dict) or "assistant_id" in body:
        if body.get("assistant_id"):
            summary.append(f"assistant {body['assistant_id']}")
        for message in ((body.get("thread") or {}).get("messages") or []) + list(body.get("additional_messages") or []):
            lines += _message_lines(message)
    elif isinstance(body.get("prompt"), str):
        lines = [("prompt", body["prompt"])]
    else:
        return [], []
    if body.get("tools"):
        summary.append(f"{len(body['tools'])} tool{'s' * (len(body['tools']) != 1)}")
    if body.get("stream"):
        summary.append("stream")
    return summary, lines


# --------------------------------------------------------------------------------------------------- show


@dataclass
class ShowOptions:
    style: Style
    raw_events: bool = False
    full: bool = False

    @property
    def input_limit(self) -> int | None:
        return None if self.full else 400

    @property
    def output_limit(self) -> int | None:
        return None if self.full else 4000


LABEL_WIDTH = 13
_LABEL_COLORS = {
    "progress": "dim",
    "log": "yellow",
    "elicitation": "magenta",
    "server asks": "magenta",
    "answer": "green",
    "structured": "green",
    "needs input": "yellow",
    "notify": "dim",
    "assistant": "green",
    "tool call": "magenta",
    "thinking": "dim",
    "refusal": "yellow",
    "stop": "dim",
    "error": "red",
    "input": "blue",
    "result": "green",
}


def field_lines(style: Style, label: str, text: str, color: str | None = None) -> list[str]:
    """``  label        text``, continuation lines indented under the text."""
    color = color or _LABEL_COLORS.get(label, "cyan")
    first, *rest = text.split("\n") if text else [""]
    padded = label.ljust(LABEL_WIDTH - 1) + " "
    return [f"  {style.paint(padded, color)}{first}".rstrip()] + [f"  {' ' * LABEL_WIDTH}{line}".rstrip() for line in rest]


def _body_summary(body: Body) -> str:
    if body.kind == "sse":
        return f"sse {len(body.value)} event{'s' * (len(body.value) != 1)}"
    if body.kind in ("text", "base64"):
        return f"{'binary' if body.kind == 'base64' else 'text'} {_size(len(body.bytes()))}"
    return body.kind


def answer_lines(answer: Answer, o: ShowOptions) -> list[str]:
    st, out = o.style, []
    several = len({p.choice for p in answer.parts}) > 1
    for part in answer.parts:
        prefix = f"[choice {part.choice}] " if several else ""
        if part.kind == "tool":
            ident = st.paint(f"  [{part.id}]", "dim") if part.id else ""
            text = _clip(f"{part.name} {_compact(part.input)}", o.input_limit)
            out += field_lines(st, "tool call", prefix + text + ident)
        elif part.kind == "text":
            out += field_lines(st, "assistant", prefix + _clip(part.text, o.output_limit))
        elif part.kind == "other":
            out += field_lines(st, "output", prefix + f"[{part.text}]", "green")
        else:
            out += field_lines(st, part.kind, prefix + _clip(part.text, o.output_limit))
    if not answer.parts and not answer.error:
        out += field_lines(st, "assistant", st.paint("(no content)", "dim"))
    if answer.stop:
        out += field_lines(st, "stop", str(answer.stop))
    if answer.error:
        out += field_lines(st, "error", st.paint(answer.error, "red"))
    return out


def _plain_lines(label: str, body: Body, o: ShowOptions) -> list[str]:
    if body.kind == "json":
        return field_lines(o.style, label, _clip(_compact(body.value), 200 if not o.full else None), "blue")
    if body.kind == "text":
        return field_lines(o.style, label, _clip(str(body.value), 200 if not o.full else None), "blue")
    return []


def render_http(n: int, item: HttpInteraction, o: ShowOptions) -> list[str]:
    st, req, resp = o.style, item.request, item.response
    head = [st.paint(f"#{n} {req.method} {req.path}", "bold")]
    if resp is not None:
        head.append(st.paint(str(resp.status), "red" if resp.status >= 400 else "green"))
        head.append(_body_summary(resp.body))
    if item.error is not None:
        head.append(st.paint(f"{item.error.get('type', 'Error')}: {item.error.get('message', '')}", "red"))
    if item.elapsed_ms is not None:
        head.append(_ms(item.elapsed_ms))
    if resp is not None and resp.chunks:
        head.append(f"stream {_ms(resp.chunks[-1][-1])}" if len(resp.chunks[-1]) > 1 else f"{len(resp.chunks)} chunks")
    out = ["  ".join(head)]

    summary, turn = turn_of(req.body.value) if req.body.kind == "json" else ([], [])
    answer = answer_of(resp.body) if resp is not None else None
    if summary:
        out.append("  " + st.paint(", ".join(summary), "dim"))
    for label, text in turn:
        out += field_lines(st, label, _clip(text, o.input_limit))
    if not summary and not turn:
        out += _plain_lines("request", req.body, o)
    if answer is not None:
        out += answer_lines(answer, o)
    elif resp is not None:
        if resp.status >= 400:
            text = _compact(resp.body.value) if resp.body.kind == "json" else resp.body.bytes().decode("utf-8", "replace")
            out += field_lines(st, "error", st.paint(f"HTTP {resp.status}: {_clip(text, 200)}", "red"))
        else:
            out += _plain_lines("response", resp.body, o)
    if resp is not None and resp.error is not None:
        out += field_lines(st, "error", st.paint(f"stream broken: {resp.error.get('type')}: {resp.error.get('message')}", "red"))
    if o.raw_events and resp is not None and resp.body.kind == "sse":
        for k, event in enumerate(resp.body.value):
            name = event.get("event", "")
            payload = event["data"] if "data" in event else event.get("text", "")
            text = f"[{k}] {name + ' ' if name else ''}{payload if isinstance(payload, str) else _compact(payload)}"
            out.append("      " + st.paint(_clip(text, None if o.full else 160), "dim"))
    return out


def _timing(item: Any) -> str:
    """``  12 ms`` when the interaction kept how long it took."""
    elapsed = getattr(item, "elapsed_ms", None)
    return f"  {_ms(elapsed)}" if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else ""


def render_tool(n: int, item: Any, o: ShowOptions) -> list[str]:
    st = o.style
    out = [st.paint(f"#{n} tool {item.name}", "bold") + _timing(item)]
    out += field_lines(st, "input", _clip(_compact(item.input), o.input_limit))
    if item.error:
        out += field_lines(st, "error", st.paint(f"{item.error.get('type')}: {item.error.get('message')}", "red"))
    else:
        result = item.result if isinstance(item.result, str) else _compact(item.result)
        out += field_lines(st, "result", _clip(result, o.input_limit))
    return out


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _b64_size(data: Any) -> str:
    if not isinstance(data, str):
        return "?"
    data = data.strip()
    return _size(max(0, len(data) * 3 // 4 - data[-2:].count("=")))


def _mcp_block(block: Any, o: ShowOptions) -> str:
    """One piece of MCP content: its text (clipped), or what it is: ``[image/png 1.2 kB]``."""
    if not isinstance(block, dict):
        return _clip(_compact(block), o.input_limit)
    kind = block.get("type")
    if kind == "text" or (kind is None and isinstance(block.get("text"), str)):
        return _clip(str(block.get("text", "")), o.input_limit)
    if kind in ("image", "audio") or "blob" in block:
        mime = block.get("mimeType") or kind or "blob"
        uri = f" {block['uri']}" if isinstance(block.get("uri"), str) else ""
        return f"[{mime} {_b64_size(block.get('data', block.get('blob')))}{uri}]"
    if kind == "resource_link":
        return f"[link {block.get('uri')}" + (f" {block['name']}" if block.get("name") else "") + "]"
    if kind == "resource":
        inner = _obj(block.get("resource"))
        if isinstance(inner.get("text"), str):
            return f"[resource {inner.get('uri')}] " + _clip(inner["text"], o.input_limit)
        return _mcp_block(inner, o) if inner else "[resource]"
    return f"[{kind}] " + _clip(_compact(block), 200 if not o.full else None)


def _mcp_content(label: str, content: Any, o: ShowOptions, color: str | None = None, prefix: str = "") -> list[str]:
    blocks = content if isinstance(content, list) else [content]
    text = prefix + ("\n".join(_mcp_block(b, o) for b in blocks) if blocks else "(no content)")
    return field_lines(o.style, label, o.style.paint(text, color) if color else text, color)


def _single_text(content: Any) -> str | None:
    if isinstance(content, list) and len(content) == 1 and isinstance(content[0], dict) and content[0].get("type") == "text":
        text = content[0].get("text")
        return text if isinstance(text, str) else None
    return None


def _parses_to(text: str, value: Any) -> bool:
    try:
        return bool(json.loads(text) == value)
    except ValueError:
        return False


def _rpc_error(error: Any) -> str:
    e = _obj(error)
    code, message = e.get("code"), e.get("message")
    text = f"{code}: {message}" if code is not None else str(message if message is not None else _compact(error))
    if e.get("data") is not None:
        text += f" {_compact(e['data'])}"
    return text


def _names(items: Any, key: str = "name") -> str:
    return ", ".join(str(_obj(i).get(key) or _obj(i).get("uri") or _obj(i).get("uriTemplate") or "?") for i in items or [])


def _mcp_result(method: str, result: Any, o: ShowOptions) -> list[str]:
    """The lines of an MCP result, read by method: content, listings, resources, prompts."""
    st = o.style
    if not isinstance(result, dict):
        return field_lines(st, "result", _clip(_compact(result), o.input_limit))
    r = result
    out: list[str] = []
    if r.get("resultType") == "input_required":
        for key, asked in _obj(r.get("inputRequests")).items():
            a = _obj(asked)
            what = _obj(a.get("params")).get("message")
            out += field_lines(
                st, "needs input", f"{a.get('method', '?')} " + (_clip(str(what), o.input_limit) if what else f"[{key}]")
            )
        if not out:
            out = field_lines(st, "needs input", "(request state only)")
        return out
    if "content" in r:
        if r.get("isError"):
            out += _mcp_content("error", r["content"], o, "red", prefix="isError: ")
        else:
            out += _mcp_content("result", r["content"], o)
    if r.get("structuredContent") is not None:
        structured = r["structuredContent"]
        same = _single_text(r.get("content"))
        if same is not None and _parses_to(same, structured):
            out += field_lines(st, "structured", st.paint("(the result text above, as JSON)", "dim"))
        else:
            out += field_lines(st, "structured", _clip(_compact(structured), o.input_limit))
    if "contents" in r:  # resources/read
        out += _mcp_content("contents", r["contents"], o)
    if "messages" in r:  # prompts/get
        if r.get("description"):
            out += field_lines(st, "description", _clip(str(r["description"]), o.input_limit))
        for m in r["messages"] if isinstance(r["messages"], list) else []:
            out += _mcp_content(str(_obj(m).get("role", "?")), _obj(m).get("content"), o)
    for key, label in (
        ("tools", "tools"),
        ("prompts", "prompts"),
        ("resources", "resources"),
        ("resourceTemplates", "templates"),
    ):
        if isinstance(r.get(key), list):
            out += field_lines(st, label, f"{len(r[key])}: " + _clip(_names(r[key]), o.input_limit))
    if isinstance(r.get("completion"), dict):
        out += field_lines(st, "result", _clip(", ".join(map(str, r["completion"].get("values") or [])), o.input_limit))
    if not out:
        rest = {k: v for k, v in r.items() if k not in ("_meta", "resultType")}
        if rest:
            out += field_lines(st, "result", _clip(_compact(rest), o.input_limit))
    return out


def _mcp_server_message(entry: Any, o: ShowOptions) -> list[str]:
    """What the server sent during (or after) a call: progress, logs, requests and the client's answers."""
    st = o.style
    e = _obj(entry)
    params = _obj(e.get("params"))
    if "notify" in e:
        method = str(e["notify"])
        if method == "notifications/progress":
            total = f"/{params['total']}" if params.get("total") is not None else ""
            message = f" {params['message']}" if params.get("message") else ""
            return field_lines(st, "progress", f"{params.get('progress')}{total}{message}")
        if method == "notifications/message":
            data = params.get("data")
            text = data if isinstance(data, str) else _compact(data)
            logger = f" [{params['logger']}]" if params.get("logger") else ""
            return field_lines(st, "log", f"{params.get('level', '?')}{logger} {_clip(text, o.input_limit)}")
        rest = {k: v for k, v in params.items() if k != "_meta"}
        return field_lines(st, "notify", method + (f" {_clip(_compact(rest), 200 if not o.full else None)}" if rest else ""))
    method = str(e.get("request", "?"))
    if method == "elicitation/create":
        schema = _obj(params.get("requestedSchema")).get("properties")
        fields = f" {{{', '.join(schema)}}}" if isinstance(schema, dict) and schema else ""
        out = field_lines(st, "elicitation", _clip(str(params.get("message", "")), o.input_limit) + fields)
    elif method == "sampling/createMessage":
        messages = params.get("messages") if isinstance(params.get("messages"), list) else []
        last = _obj(messages[-1]).get("content") if messages else None
        out = field_lines(st, "server asks", "sampling: " + _clip(_mcp_block(last, o) if last is not None else "", o.input_limit))
    else:
        rest = {k: v for k, v in params.items() if k != "_meta"}
        out = field_lines(st, "server asks", method + (f" {_clip(_compact(rest), 200 if not o.full else None)}" if rest else ""))
    answer = e.get("answer")
    if not isinstance(answer, dict):
        return out + field_lines(st, "answer", st.paint("(none recorded)", "dim"))
    if "error" in answer:
        return out + field_lines(st, "answer", st.paint(f"error {_rpc_error(answer['error'])}", "red"))
    result = answer.get("result")
    r = _obj(result)
    if method == "elicitation/create" and "action" in r:
        content = f" {_compact(r['content'])}" if r.get("content") is not None else ""
        return out + field_lines(st, "answer", f"{r['action']}{content}")
    if method == "sampling/createMessage" and "content" in r:
        return out + field_lines(st, "answer", _mcp_block(r["content"], o))
    if method == "roots/list" and isinstance(r.get("roots"), list):
        return out + field_lines(st, "answer", ", ".join(str(_obj(x).get("uri")) for x in r["roots"]) or "(no roots)")
    return out + field_lines(st, "answer", _clip(_compact(result), o.input_limit))


_HANDSHAKE = frozenset({"initialize", "server/discover"})


def render_mcp(n: int, item: Any, o: ShowOptions) -> list[str]:
    """An MCP call like an HTTP one: method and params, the server's messages during the call, then
    its result (or error, in the error colour); the handshake on one line."""
    st = o.style
    method = str(item.method)
    params = item.params
    server = st.paint(f"  @ {item.server}", "dim")
    result, error = item.result, item.error
    if method in _HANDSHAKE and not item.notification and error is None and isinstance(result, dict):
        info = _obj(result.get("serverInfo"))
        who = " ".join(str(info[k]) for k in ("name", "version") if info.get(k)) or "server"
        versions = result.get("protocolVersion") or ", ".join(map(str, result.get("supportedVersions") or [])) or "?"
        caps = ", ".join(sorted(_obj(result.get("capabilities"))))
        line = f"{who}, protocol {versions}" + (f" ({caps})" if caps else "")
        return [st.paint(f"#{n} mcp {method}", "bold") + f"  {line}" + server + _timing(item)]
    p = _obj(params)
    named = method in ("tools/call", "prompts/get") and isinstance(p.get("name"), str)
    head = f"#{n} mcp {'notify ' if item.notification else ''}{method}" + (f" {p['name']}" if named else "")
    if method == "resources/read" and isinstance(p.get("uri"), str):
        head += f" {p['uri']}"
    out = [st.paint(head, "bold") + server + _timing(item)]
    if named:
        out += field_lines(st, "input", _clip(_compact(p.get("arguments") or {}), o.input_limit))
        rest = {k: v for k, v in p.items() if k not in ("name", "arguments", "_meta")}
        if rest:
            out += field_lines(st, "params", _clip(_compact(rest), o.input_limit), "blue")
    elif params not in (None, {}) and not (method == "resources/read" and set(p) <= {"uri", "_meta"}):
        out += field_lines(st, "params", _clip(_compact(params), o.input_limit), "blue")
    for entry in item.during or []:
        out += _mcp_server_message(entry, o)
    if error is not None:
        out += field_lines(st, "error", st.paint(_rpc_error(error), "red"))
    elif result is not None:
        out += _mcp_result(method, result, o)
    elif not item.notification:
        out += field_lines(st, "result", st.paint("(no answer recorded)", "dim"))
    if item.after:
        out.append("  " + st.paint("after the answer:", "dim"))
        for entry in item.after:
            out += _mcp_server_message(entry, o)
    if o.raw_events and (result is not None or error is not None):
        raw = {"error": error} if error is not None else {"result": result}
        out.append("      " + st.paint(_clip(_compact(raw), None if o.full else 400), "dim"))
    return out


def render_generic(n: int, item: Any, o: ShowOptions) -> list[str]:
    describe = getattr(item, "describe", None)
    if callable(describe):
        return [o.style.paint(f"#{n} ", "bold") + str(describe())]
    return [o.style.paint(f"#{n} {item.kind}", "bold") + "  " + _clip(_compact(as_json(item)), 200)]


Renderer = Callable[[int, Any, ShowOptions], list[str]]
#: kind -> the lines that show one interaction of that kind; other kinds use :func:`render_generic`.
RENDERERS: dict[str, Renderer] = {"http": render_http, "tool": render_tool, "mcp": render_mcp}


def cmd_show(args: argparse.Namespace) -> int:
    path = Path(args.cassette)
    items = load_cassette(path)
    o = ShowOptions(Style(color_enabled(args.color)), args.raw_events, args.full)
    kinds: dict[str, int] = {}
    for item in items:
        kinds[item.kind] = kinds.get(item.kind, 0) + 1
    counts = ", ".join(f"{v} {k}" for k, v in kinds.items())
    out = [
        o.style.paint(str(path), "bold")
        + o.style.paint(f"  {len(items)} interaction{'s' * (len(items) != 1)}" + (f" ({counts})" if counts else ""), "dim")
    ]
    for n, item in enumerate(items):
        out += render(n, item, o)
    print("\n".join(out))
    return 0


def render(n: int, item: Any, o: ShowOptions) -> list[str]:
    """One interaction's lines; a body of an unexpected shape falls back to the generic line."""
    try:
        return RENDERERS.get(item.kind, render_generic)(n, item, o)
    except Exception as exc:  # bodies are arbitrary JSON: never a traceback for an odd one
        note = o.style.paint(f"  (not shown in detail: {type(exc).__name__}: {exc})", "dim")
        return [o.style.paint(f"#{n} ", "bold") + title(item), note]


# --------------------------------------------------------------------------------------------------- diff


def _signature(item: Any) -> tuple[Any, ...]:
    """What must be equal for two interactions to be paired: kind and method + path, or kind and name."""
    request = getattr(item, "request", None)
    if item.kind == "http" and request is not None:
        return ("http", request.method, request.path.split("?")[0])
    return (item.kind, getattr(item, "name", None), getattr(item, "method", None))


def align(a: list[Any], b: list[Any]) -> list[tuple[int | None, int | None]]:
    """Pair interactions in order; unpaired ones are removed (only in A) or added (only in B)."""
    import difflib

    matcher = difflib.SequenceMatcher(None, [_signature(x) for x in a], [_signature(x) for x in b], autojunk=False)
    pairs: list[tuple[int | None, int | None]] = []
    for _op, i1, i2, j1, j2 in matcher.get_opcodes():
        k = min(i2 - i1, j2 - j1)
        pairs += [(i1 + d, j1 + d) for d in range(k)]
        pairs += [(i, None) for i in range(i1 + k, i2)]
        pairs += [(None, j) for j in range(j1 + k, j2)]
    return pairs


_CONTEXT = 40


def _text_change(label: str, a: str, b: str) -> list[str]:
    """A changed string: on one line when short; lines changed, as a unified diff, when it has lines;
    otherwise the part that changed, with some text either side (a long value never hides its change
    behind a cut-off)."""
    if "\n" not in a + b and len(a) <= 100 and len(b) <= 100:
        return [f"{label}: {_short(a)} != {_short(b)}"]
    if "\n" in a + b:
        import difflib

        lines = list(difflib.unified_diff(a.split("\n"), b.split("\n"), lineterm="", n=1))[2:]
        return [f"{label}:"] + [f"  {_clip(line, 300)}" for line in lines]
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1

    def window(text: str) -> str:
        lo, hi = max(0, start - _CONTEXT), len(text) - max(0, end - _CONTEXT)
        return ("…" if lo else "") + _clip(text[lo:hi], 300) + ("…" if hi < len(text) else "")

    return [f"{label} (at character {start}): {window(a)!r} != {window(b)!r}"]


def changes(a: Any, b: Any, path: str = "$", limit: int = 20) -> list[str]:
    """Path-level changes, ``$.result: 'a' != 'b'`` (A != B); long or multi-line strings as text diffs."""
    from harness.matching import diff

    return diff(a, b, path, limit, strings=_text_change)


def _part_title(part: Part) -> str:
    if part.kind == "tool":
        return f"tool call {part.name} {_short(part.input, 80)}"
    return f"{part.kind} {_short(part.text, 80)}"


def diff_answers(a: Answer, b: Answer) -> list[str]:
    """Changes in text, tool calls (name and input), stop reason and error; ids and usage are ignored."""
    out: list[str] = []
    for i in range(max(len(a.parts), len(b.parts))):
        if i >= len(a.parts):
            out.append(f"+ {_part_title(b.parts[i])}")
        elif i >= len(b.parts):
            out.append(f"- {_part_title(a.parts[i])}")
        else:
            x, y = a.parts[i], b.parts[i]
            if x.kind != y.kind or (x.kind == "tool" and x.name != y.name):
                out.append(f"{_part_title(x)} != {_part_title(y)}")
            elif x.kind == "tool":
                out += [f"tool call {x.name} {d}" for d in changes(x.input, y.input)]
            elif x.text != y.text:
                out += _text_change(x.kind, x.text, y.text)
    if a.stop != b.stop:
        out.append(f"stop: {_short(a.stop)} != {_short(b.stop)}")
    if a.error != b.error:
        out.append(f"error: {_short(a.error)} != {_short(b.error)}")
    return out


@dataclass
class DiffOptions:
    matcher: Matcher
    headers: bool = True


def _request_view(request: Request, matcher: Matcher) -> Any:
    body = request.body
    return matcher.body_view(body.value) if body.kind == "json" else {body.kind: body.value}


def diff_http(a: HttpInteraction, b: HttpInteraction, o: DiffOptions) -> list[str]:
    ra, rb, out = a.request, b.request, []
    if (ra.method, ra.path) != (rb.method, rb.path):
        out.append(f"request: {ra.method} {ra.path} != {rb.method} {rb.path}")
    out += [f"request {d}" for d in changes(_request_view(ra, o.matcher), _request_view(rb, o.matcher))]
    if o.headers:
        out += [f"request {d}" for d in changes(ra.headers, rb.headers, "headers")]
    if a.error != b.error:
        out.append(f"transport error: {_short(a.error)} != {_short(b.error)}")
    sa, sb = a.response, b.response
    if sa is None or sb is None:
        if (sa is None) != (sb is None):
            out.append(f"response: {'none' if sa is None else sa.status} != {'none' if sb is None else sb.status}")
        return out
    if sa.status != sb.status:
        out.append(f"status: {sa.status} != {sb.status}")
    if sa.error != sb.error:
        out.append(f"stream error: {_short(sa.error)} != {_short(sb.error)}")
    xa, xb = answer_of(sa.body), answer_of(sb.body)
    if xa is not None or xb is not None:
        out += [f"answer {d}" for d in diff_answers(xa or Answer(), xb or Answer())]
    elif sa.body.kind == "json" and sb.body.kind == "json":
        out += [f"response {d}" for d in changes(sa.body.value, sb.body.value)]
    elif sa.body != sb.body:
        out.append(f"response body: {_body_summary(sa.body)} != {_body_summary(sb.body)} (contents differ)")
    return out


def diff_generic(a: Any, b: Any, o: DiffOptions) -> list[str]:
    return changes(as_json(a), as_json(b))


def _content_text(content: Any) -> str | None:
    """MCP content as one text (other blocks as ``[type]``), or None when it is not a content list."""
    if not isinstance(content, list):
        return None
    return "\n".join(
        str(b["text"]) if isinstance(b, dict) and isinstance(b.get("text"), str) else f"[{_obj(b).get('type', '?')}]"
        for b in content
    )


def diff_mcp(a: Any, b: Any, o: DiffOptions) -> list[str]:
    """MCP calls: server, method, params (a tool's name and arguments), what the server sent during
    the call, and the result: its content as text (a unified diff when long), then its other fields."""
    out: list[str] = []
    if a.server != b.server:
        out.append(f"server: {_short(a.server)} != {_short(b.server)}")
    if (a.notification, a.method) != (b.notification, b.method):
        out.append(f"method: {a.name} != {b.name}")
    out += changes(a.params, b.params, "params")
    out += changes(a.during, b.during, "during")
    if (a.error is None) != (b.error is None):
        what = {"error": a.error} if a.error is not None else {"result": a.result}
        other = {"error": b.error} if b.error is not None else {"result": b.result}
        out.append(f"answer: {_short(what)} != {_short(other)}")
    elif a.error is not None:
        out += changes(a.error, b.error, "error")
    else:
        ra, rb = a.result, b.result
        ta, tb = _content_text(_obj(ra).get("content")), _content_text(_obj(rb).get("content"))
        if ta is not None and tb is not None:
            if ta != tb:
                out += _text_change("result text", ta, tb)
            rest_a = {k: v for k, v in _obj(ra).items() if k != "content"}
            rest_b = {k: v for k, v in _obj(rb).items() if k != "content"}
            blocks_a = [x for x in ra["content"] if not (isinstance(x, dict) and isinstance(x.get("text"), str))]
            blocks_b = [x for x in rb["content"] if not (isinstance(x, dict) and isinstance(x.get("text"), str))]
            out += changes(blocks_a, blocks_b, "result.content (not text)")
            out += changes(rest_a, rest_b, "result")
        else:
            out += changes(ra, rb, "result")
    out += changes(a.after, b.after, "after")
    return out


def diff_tool(a: Any, b: Any, o: DiffOptions) -> list[str]:
    """Local tool calls: input, then result or error (long results as text diffs)."""
    out = changes(a.input, b.input, "$.input")
    if (a.error is None) != (b.error is None):
        out.append(f"answer: {_short(a.error or a.result)} != {_short(b.error or b.result)}")
    elif a.error is not None:
        out += changes(a.error, b.error, "$.error")
    else:
        out += changes(a.result, b.result, "$.result")
    return out


Differ = Callable[[Any, Any, DiffOptions], list[str]]
#: kind -> the changes between two interactions of that kind; other kinds use :func:`diff_generic`.
DIFFERS: dict[str, Differ] = {"http": diff_http, "mcp": diff_mcp, "tool": diff_tool}


def cmd_diff(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.matching import Matcher

    st = Style(color_enabled(args.color))
    path_a, path_b = Path(args.a), Path(args.b)
    a, b = load_cassette(path_a), load_cassette(path_b)
    try:
        options = DiffOptions(Matcher(ignore_paths=args.ignore), headers=not args.no_headers)
    except ConfigError as exc:
        raise CliError(str(exc).removeprefix("harness: ")) from None
    out = [
        st.paint(f"--- {path_a}  ({_plural(len(a), 'interaction')})", "red"),
        st.paint(f"+++ {path_b}  ({_plural(len(b), 'interaction')})", "green"),
    ]
    changed = added = removed = 0
    for ia, ib in align(a, b):
        if ia is None:
            assert ib is not None
            added += 1
            out.append(st.paint(f"+ #{ib} only in {path_b.name}: {title(b[ib])}", "green"))
            continue
        if ib is None:
            removed += 1
            out.append(st.paint(f"- #{ia} only in {path_a.name}: {title(a[ia])}", "red"))
            continue
        x, y = a[ia], b[ib]
        if x.kind != y.kind:
            lines = [f"kind: {x.kind} != {y.kind}"]
        else:
            try:
                lines = DIFFERS.get(x.kind, diff_generic)(x, y, options)
            except Exception:  # bodies are arbitrary JSON: compare an odd one as plain JSON
                lines = diff_generic(x, y, options)
        if lines:
            changed += 1
            where = f"#{ia}" if ia == ib else f"#{ia} (#{ib} in {path_b.name})"
            out.append(st.paint(f"~ {where} {title(x)}", "yellow", "bold"))
            out += [f"    {line}" for line in lines]
    if changed or added or removed:
        out.append(
            f"{changed} changed, {added} added, {removed} removed (values: {path_a.name} != {path_b.name}; timings ignored)"
        )
        print("\n".join(out))
        return 1
    print(f"same: {len(a)} interaction{'s' * (len(a) != 1)}, no changes in requests or answers (timings ignored)")
    return 0


# --------------------------------------------------------------------------------------------------- lint


@dataclass(order=True)
class Finding:
    path: str
    line: int
    what: str
    category: str = field(compare=False)  # "secret", "unreadable", "format", "orphan", "unused", "stray"

    @property
    def is_error(self) -> bool:
        return self.category in ("secret", "unreadable", "format")


_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages", "venv", "env", "build", "dist"})
_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie")
_HEADER_LINE = re.compile(r'^\s*"(' + "|".join(_CREDENTIAL_HEADERS) + r')"\s*:', re.IGNORECASE)
_STRAY = re.compile(r"^\..+\.json\..+\.tmp$")


def _walk(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(files):
            yield Path(folder) / name


def _classify(path: Path) -> str | None:
    """``cassette``, ``snapshot``, ``stray`` (a temp file left by an interrupted write) or None."""
    if _STRAY.match(path.name):
        return "stray"
    if "__snapshots__" in path.parts or path.suffix == ".ambr":
        return "snapshot" if path.suffix in (".ambr", ".json") else None
    return "cassette" if path.suffix == ".json" else None


def lint_targets(paths: list[str], cassette_dir: Path) -> list[tuple[Path, str]]:
    """The files to check: the given paths, or the cassette dirs and every ``__snapshots__`` folder."""
    found: dict[Path, str] = {}
    if paths:
        for name in paths:
            path = Path(name)
            if not path.exists():
                raise CliError(f"no such file or folder: {name}")
            for file in [path] if path.is_file() else _walk(path):
                kind = _classify(file) or ("other" if path.is_file() else None)
                if kind:
                    found.setdefault(file, kind)
        return sorted(found.items())
    roots = [cassette_dir, *sorted(Path(".").glob("examples/**/cassettes"))]
    for root in roots:
        if root.is_dir():
            for file in _walk(root):
                kind = _classify(file)
                if kind:
                    found.setdefault(file, kind)
    for folder, dirs, _files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        if Path(folder).name == "__snapshots__":
            dirs[:] = []
            for file in _walk(Path(folder)):
                if file.suffix in (".ambr", ".json"):
                    found.setdefault(Path(os.path.normpath(file)), "snapshot")
    return sorted(found.items())


def _mask(secret: str) -> str:
    return f"{secret[:8]}… ({len(secret)} chars)"


def _line_of(text: str, pattern: str, nth: int = 0) -> int:
    for k, m in enumerate(re.finditer(pattern, text, re.MULTILINE)):
        if k == nth:
            return text.count("\n", 0, m.start()) + 1
    return 1


def _format_finding(exc: CassetteFormatError, text: str) -> tuple[int, str, str]:
    from harness.cassette.format import FORMAT_KEY

    hint = str(exc).split("\n")[2].strip() if str(exc).count("\n") >= 2 else ""
    problem = f"{exc.where}: {exc.problem}" if exc.where else exc.problem
    if hint:
        problem += f"; {hint[0].lower()}{hint[1:].rstrip('.')}"
    if "format version" in exc.problem:
        return _line_of(text, rf'^\s*"{FORMAT_KEY}"'), f"old or unknown format: {problem}", "format"
    at = re.search(r"at line (\d+)", exc.problem)
    if at:
        return int(at.group(1)), f"unreadable: {problem}", "unreadable"
    where = re.match(r"interactions\[(\d+)\]", exc.where)
    line = _line_of(text, r'^ {6}"kind": ', int(where.group(1))) if where else 1
    return line, f"unreadable: {problem}", "unreadable"


def _cassette_root(path: Path, cassette_dir: Path) -> Path | None:
    full = path.resolve()
    base = cassette_dir.resolve()
    if full.is_relative_to(base):
        return base
    for parent in full.parents:
        if parent.name == cassette_dir.name:
            return parent
    return None


def orphan_of(path: Path, cassette_dir: Path, rootdir: Path | None = None) -> str | None:
    """The missing test module of a cassette at ``<cassettes>/<module path>/<test>.json``, if it is missing.

    Kept simple on purpose: a cassette shared by name (``@pytest.mark.cassette("shared/name")``)
    whose folder is not a test module's path is reported too.
    """
    root = _cassette_root(path, cassette_dir)
    if root is None:
        return None
    rel = path.resolve().parent.relative_to(root)
    if rel == Path("."):
        return None  # directly in the cassette folder: named through the marker, no module to check
    module = Path(f"{rel}.py")
    if (root.parent / module).exists() or module.exists() or (rootdir is not None and (rootdir / module).exists()):
        return None
    return str(module)


#: Besides the recorder's patterns (``harness.redact``), lint looks for a secret in a URL's query
#: string wherever it sits in the file (the recorder scrubs it from the URLs it records).
LINT_PATTERNS = (
    r"(?<=[?&])(?i:api[_-]?key|apikey|key|token|access_token|id_token|refresh_token|auth|secret|client_secret"
    r"|password|passwd|sig|signature)=[^&#\s\"'\\<]{8,}",
)


def pytest_ini(start: Path) -> tuple[Path, dict[str, str]]:
    """pytest's rootdir and ini settings as pytest finds them: the first ``pytest.ini``,
    ``.pytest.ini``, ``pyproject.toml`` (with ``[tool.pytest.ini_options]``), ``tox.ini`` (with
    ``[pytest]``) or ``setup.cfg`` (with ``[tool:pytest]``) in ``start`` or a folder above it."""
    import configparser

    for folder in (start, *start.parents):
        for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if not path.is_file():
                continue
            try:
                if name == "pyproject.toml":
                    import tomllib

                    table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {})
                    options = table.get("ini_options") if isinstance(table, dict) else None
                    if isinstance(options, dict):
                        return folder, {k: str(v) for k, v in options.items() if isinstance(v, (str, int, float))}
                    continue
                parser = configparser.ConfigParser(interpolation=None)
                parser.read_string(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError, configparser.Error) as exc:
                raise CliError(f"{path}: cannot be read ({exc})") from None
            section = {"setup.cfg": "tool:pytest", "tox.ini": "pytest"}.get(name, "pytest")
            if parser.has_section(section):
                return folder, dict(parser.items(section))
            if name in ("pytest.ini", ".pytest.ini"):
                return folder, {}  # pytest.ini is the ini file even when empty
    return start, {}


def _relative(path: Path) -> Path:
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive
        return path


def lint_file(path: Path, kind: str, redactor: Redactor, cassette_dir: Path, rootdir: Path | None = None) -> list[Finding]:
    from harness.cassette import format as cassette_format
    from harness.errors import CassetteFormatError

    shown = os.path.normpath(path)
    if kind == "stray":
        return [Finding(shown, 1, "leftover temporary file from an interrupted write: delete it", "stray")]
    try:
        data = path.read_bytes()
    except OSError as exc:
        return [Finding(shown, 1, f"unreadable: {exc.strerror}", "unreadable")]
    text = data.decode("utf-8", "replace")
    findings = []
    for number, line in enumerate(text.split("\n"), 1):
        for m in redactor.pattern.finditer(line):
            findings.append(Finding(shown, number, f"secret: {_mask(m.group())} looks like a credential", "secret"))
        header = _HEADER_LINE.match(line) if kind == "cassette" else None
        if header:
            findings.append(Finding(shown, number, f"secret: credential header {header.group(1).lower()!r} is stored", "secret"))
    if kind == "cassette":
        try:
            cassette_format.loads(data, shown)
        except CassetteFormatError as exc:
            where, what, category = _format_finding(exc, text)
            findings.append(Finding(shown, where, what, category))
        module = orphan_of(path, cassette_dir, rootdir)
        if module is not None:
            findings.append(Finding(shown, 1, f"orphaned: its test module {module} does not exist", "orphan"))
    return findings


def unused_cassettes(rootdir: Path) -> tuple[set[Path], dict[Path, str], str]:
    """Cassette files under the test modules' folders that no collected test opens, found by
    collecting the suite for real (``pytest --collect-only`` with harness's plugin listing every
    collected test's cassette path: parametrized ids, classes and marker paths all count).

    Returns the unused files (resolved), the module each belongs to, and a note when pytest could
    not collect everything (modules it could not collect are not judged)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="harness-lint-") as tmp:
        listing = Path(tmp) / "cassettes.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--harness-cassette-list={listing}",
        ]
        if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
            command[3:3] = ["-p", "harness.plugin"]
        try:
            done = subprocess.run(command, cwd=rootdir, capture_output=True, text=True, check=False, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CliError(f"--unused: could not run pytest to collect the tests ({exc})") from None
        if not listing.exists():
            tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            raise CliError(f"--unused: pytest collected nothing (exit {done.returncode}):\n  {tail}")
        data = json.loads(listing.read_text(encoding="utf-8"))
    note = ""
    if done.returncode == 2:  # interrupted by collection errors (other plugins may set 1: syrupy's unused snapshots)
        errors = [line for line in done.stdout.splitlines() if line.startswith("ERROR ")]
        note = f"pytest could not collect everything ({len(errors) or 'some'} error(s)): modules it could not collect are not checked"
    from harness.usage import Usage

    usage = Usage()
    usage.merge(data)
    unused: set[Path] = set()
    modules: dict[Path, str] = {}
    for file, module in usage.unused(ran=False):
        unused.add(file.resolve())
        modules[file.resolve()] = f"{module} ({_plural(len(usage.modules[module]['items']), 'test')} collected)"
    return unused, modules, note


def cmd_lint(args: argparse.Namespace) -> int:
    from harness.redact import Redactor

    st = Style(color_enabled(args.color))
    rootdir, ini = pytest_ini(Path.cwd())
    if args.cassette_dir is not None:
        cassette_dir = Path(args.cassette_dir)
    elif ini.get("harness_cassette_dir"):
        cassette_dir = _relative(rootdir / ini["harness_cassette_dir"])
    else:
        cassette_dir = _relative(rootdir / "cassettes")
    targets = lint_targets(args.paths, cassette_dir)
    try:
        redactor = Redactor(patterns=[*LINT_PATTERNS, *args.pattern])
    except re.error as exc:
        raise CliError(f"bad --pattern: {exc}") from None
    findings: list[Finding] = []
    for path, kind in targets:
        findings += lint_file(path, kind, redactor, cassette_dir, rootdir)
    note = ""
    if args.unused:
        unused, modules, note = unused_cassettes(rootdir)
        for path, kind in targets:
            if kind == "cassette" and path.resolve() in unused:
                module = modules[path.resolve()]
                findings.append(Finding(os.path.normpath(path), 1, f"unused: no collected test of {module} opens it", "unused"))
    for f in sorted(findings):
        color = "red" if f.is_error else "yellow"
        print(f"{f.path}:{f.line}: {st.paint(f.what, color)}")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.category] = counts.get(f.category, 0) + 1
    files = {k: sum(1 for _, kind in targets if kind == k) for k in ("cassette", "snapshot", "other")}
    checked = f"{_plural(files['cassette'], 'cassette')}, {_plural(files['snapshot'], 'snapshot file')}"
    if files["other"]:
        checked += f", {_plural(files['other'], 'other file')}"
    names = {
        "secret": "secret",
        "unreadable": "unreadable file",
        "format": "old/unknown format",
        "orphan": "orphaned cassette",
        "unused": "unused cassette",
        "stray": "stray temp file",
    }
    problems = ", ".join(
        _plural(counts[c], names[c]) + (" (warning)" if c in ("orphan", "unused", "stray") else "") for c in names if c in counts
    )
    failed = any(f.is_error for f in findings) or (args.strict and bool(findings))
    print(
        f"harness lint: {checked} checked: "
        + (st.paint(problems, "red" if failed else "yellow") if problems else st.paint("no problems", "green"))
    )
    if "orphan" in counts:
        print("  (orphaned = the test module file is missing; cassettes shared by name through the marker may be false alarms)")
    if note:
        print(f"  ({note})")
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------------- import-vcr


def _yaml_loader() -> Any:
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise CliError("import-vcr needs PyYAML: pip install 'harness[vcr]'") from None
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class VcrLoader(base):  # type: ignore[misc,valid-type]
        """A safe loader that also reads the harmless Python tags vcrpy writes."""

    def scalar(loader: Any, node: Any) -> Any:
        return loader.construct_scalar(node)

    def sequence(loader: Any, node: Any) -> Any:
        return tuple(loader.construct_sequence(node))

    VcrLoader.add_constructor("tag:yaml.org,2002:python/str", scalar)
    VcrLoader.add_constructor("tag:yaml.org,2002:python/unicode", scalar)
    VcrLoader.add_constructor("tag:yaml.org,2002:python/tuple", sequence)
    return VcrLoader


def read_vcr(path: Path) -> list[Any]:
    """The raw interactions of a vcrpy cassette (YAML, or vcrpy's JSON serializer)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise CliError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(doc, dict) and "harness_cassette" in doc:
            raise CliError(f"{path}: already a harness cassette")
    else:
        import yaml  # type: ignore[import-untyped,unused-ignore]

        try:
            doc = yaml.load(text, Loader=_yaml_loader())  # a safe loader (above)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise CliError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise CliError(f"{path}: not a vcrpy cassette (no 'interactions' list)")
    return list(doc["interactions"])


def _vcr_headers(raw: Any) -> list[tuple[str, str]]:
    """vcrpy headers (``{name: [values]}``, or ``{name: value}`` in old files) as pairs."""
    pairs: list[tuple[str, str]] = []
    for name, values in (raw or {}).items():
        for value in values if isinstance(values, (list, tuple)) else [values]:
            pairs.append((str(name), value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def _vcr_bytes(raw: Any) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, dict):
        return _vcr_bytes(raw.get("string"))
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    raise CliError(f"a body of type {type(raw).__name__} is not supported")


def _header(pairs: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in pairs if k.lower() == name), "")


def decode_content(data: bytes, headers: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """Undo ``content-encoding`` (gzip, deflate) and drop the header: harness stores plain bodies."""
    import gzip
    import zlib

    codings = [c.strip().lower() for c in _header(headers, "content-encoding").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            if data[:2] == b"\x1f\x8b":  # not already decoded (vcrpy's decode_compressed_response)
                data = gzip.decompress(data)
        elif coding == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:
                try:
                    data = zlib.decompress(data, -zlib.MAX_WBITS)
                except zlib.error:
                    pass  # already decoded
        elif coding != "identity":
            raise CliError(f"a {coding}-encoded body cannot be decoded (harness decodes gzip and deflate)")
    return data, [(k, v) for k, v in headers if k.lower() != "content-encoding"]


def _redacted(body: Body, redactor: Redactor) -> Body:
    from harness.cassette.model import Body

    if body.kind in ("json", "text", "sse") and redactor.contains_secret(body.bytes().decode("utf-8", "replace")):
        return Body(body.kind, redactor.value(body.value), body.eol)
    return body


def vcr_interaction(raw: dict[str, Any], redactor: Redactor) -> tuple[HttpInteraction, int]:
    """One vcrpy interaction as an :class:`HttpInteraction`, and how many credential headers it dropped."""
    from harness.cassette.model import Body, HttpInteraction, Request, Response
    from harness.redact import SECRET_HEADERS
    from harness.session import stable_url

    req, resp = raw["request"], raw["response"]
    req_headers = _vcr_headers(req.get("headers"))
    req_data, req_headers = decode_content(_vcr_bytes(req.get("body")), req_headers)
    request = Request(
        str(req["method"]).upper(),
        redactor.url(stable_url(str(req["uri"]))),
        redactor.headers(req_headers),
        _redacted(Body.from_bytes(req_data, _header(req_headers, "content-type")), redactor),
    )
    status = resp["status"]
    resp_headers = _vcr_headers(resp.get("headers"))
    resp_data, resp_headers = decode_content(_vcr_bytes(resp.get("body")), resp_headers)
    response = Response(
        int(status["code"] if isinstance(status, dict) else status),
        redactor.headers(resp_headers),
        _redacted(Body.from_bytes(resp_data, _header(resp_headers, "content-type")), redactor),
    )
    dropped = sum(1 for k, _ in req_headers + resp_headers if k.lower() in SECRET_HEADERS)
    return HttpInteraction(request, response), dropped


def convert_vcr(path: Path) -> tuple[str, str]:
    """A vcrpy cassette as the text of a harness cassette, and a summary of what was converted."""
    from harness.cassette import format as cassette_format
    from harness.redact import REDACTED, Redactor

    redactor = Redactor()
    items: list[HttpInteraction] = []
    dropped = 0
    for n, raw in enumerate(read_vcr(path)):
        try:
            item, k = vcr_interaction(raw, redactor)
        except CliError as exc:
            raise CliError(f"{path}: interaction {n}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OSError, EOFError) as exc:
            raise CliError(f"{path}: interaction {n} is not in vcrpy's format ({type(exc).__name__}: {exc})") from None
        items.append(item)
        dropped += k
    text = redactor.text(cassette_format.dumps(items))
    kinds: dict[str, int] = {}
    for item in items:
        kind = item.response.body.kind if item.response is not None else "error"
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = f"{len(items)} interaction{'s' * (len(items) != 1)}"
    if kinds:
        summary += " (" + ", ".join(f"{v} {k}" for k, v in kinds.items()) + ")"
    scrubbed = text.count(REDACTED)
    if dropped or scrubbed:
        summary += f"; removed {dropped} credential header{'s' * (dropped != 1)}, scrubbed {scrubbed} key-shaped string{'s' * (scrubbed != 1)}"
    return text, summary


def _vcr_sources(names: list[str]) -> list[tuple[Path, Path]]:
    """(file, the folder its output path is relative to) for each file or folder given."""
    sources: list[tuple[Path, Path]] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            sources += [(f, path) for f in _walk(path) if f.suffix in (".yaml", ".yml")]
        elif path.is_file():
            sources.append((path, path.parent))
        else:
            raise CliError(f"no such file or folder: {name}")
    if not sources:
        raise CliError("no vcrpy cassettes (*.yaml, *.yml) found in " + ", ".join(names))
    return sources


def cmd_import_vcr(args: argparse.Namespace) -> int:
    from harness.cassette.store import atomic_write

    out_dir = Path(args.output) if args.output else None
    converted = failed = 0
    for src, base in _vcr_sources(args.src):
        dest = (out_dir / src.relative_to(base) if out_dir else src).with_suffix(".json")
        try:
            if dest.resolve() == src.resolve():
                raise CliError(f"{src}: the output would replace the source: give an output folder with -o")
            if dest.exists() and not args.force:
                raise CliError(f"{dest} exists: use --force to replace it")
            text, summary = convert_vcr(src)
        except CliError as exc:
            print(f"harness: {exc}", file=sys.stderr)
            failed += 1
            continue
        atomic_write(dest, text)
        converted += 1
        print(f"{src} -> {dest}: {summary}")
    print(f"harness import-vcr: {converted} converted" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


# --------------------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    colors = argparse.ArgumentParser(add_help=False)
    group = colors.add_mutually_exclusive_group()
    group.add_argument("--color", dest="color", action="store_const", const=True, default=None, help="always colour the output")
    group.add_argument(
        "--no-color", dest="color", action="store_const", const=False, help="never colour the output (NO_COLOR works too)"
    )

    parser = argparse.ArgumentParser(prog="harness", description="Read, compare, check and convert harness cassettes.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = sub.add_parser("show", parents=[colors], help="the agent run of a cassette as a readable transcript")
    show.add_argument("cassette", metavar="CASSETTE")
    show.add_argument("--raw-events", action="store_true", help="also list every SSE event")
    show.add_argument("--full", action="store_true", help="do not shorten long texts")
    show.set_defaults(func=cmd_show)

    diff = sub.add_parser(
        "diff",
        parents=[colors],
        help="what changed between two cassettes, in messages and tool calls",
        description="Pairs interactions in order and reports requests (method, path, headers, body) and answers "
        "(status, text, tool calls, stop reason, errors) that differ, as A != B. Timings, ids and usage are ignored. "
        "Exit 0 when the same, 1 when different.",
    )
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a request body path to ignore, like '$.metadata.user_id' (repeatable)",
    )
    diff.add_argument("--no-headers", action="store_true", help="do not compare request headers")
    diff.set_defaults(func=cmd_diff)

    lint = sub.add_parser(
        "lint",
        parents=[colors],
        help="credentials, unreadable or old cassettes, orphaned cassettes",
        description="Checks cassettes (*.json under the cassette folder and examples/**/cassettes) and syrupy snapshots "
        "(__snapshots__ folders) for credentials, cassettes for unreadable files and old or unknown format versions, "
        "and reports orphaned cassettes: <cassettes>/<module path>/<test>.json whose <module path>.py is missing "
        "(a simple rule: cassettes shared by name through the marker can be false alarms); with --unused, also "
        "cassettes in a test module's folder that no collected test opens. Exit 1 on a credential or an unreadable "
        "file; orphans and unused cassettes are warnings unless --strict.",
    )
    lint.add_argument(
        "paths", nargs="*", metavar="PATHS", help="files or folders to check (default: the cassette folder and snapshots)"
    )
    lint.add_argument(
        "--cassette-dir",
        default=None,
        metavar="DIR",
        help="the cassette folder (default: harness_cassette_dir of the pytest ini file, else cassettes under its folder)",
    )
    lint.add_argument("--pattern", action="append", default=[], metavar="REGEX", help="another credential pattern (repeatable)")
    lint.add_argument(
        "--unused",
        action="store_true",
        help="also report cassettes that no test opens any more (collects the tests with pytest: imports the test modules)",
    )
    lint.add_argument("--strict", action="store_true", help="warnings (orphans, unused cassettes, stray temp files) fail too")
    lint.set_defaults(func=cmd_lint)

    imp = sub.add_parser(
        "import-vcr",
        help="convert vcrpy / pytest-recording YAML cassettes to harness cassettes",
        description="Each vcrpy interaction becomes an HTTP interaction: gzip/deflate bodies are decoded, SSE bodies "
        "become events, credentials are removed. Output: the same name with .json, or under -o OUT.",
    )
    imp.add_argument("src", nargs="+", metavar="SRC", help="vcrpy cassettes, or folders of them")
    imp.add_argument("-o", "--output", metavar="OUT", help="write the converted cassettes into this folder")
    imp.add_argument("--force", action="store_true", help="replace existing output files")
    imp.set_defaults(func=cmd_import_vcr)
    return parser


def main(argv: list[str] | None = None) -> int:
    from harness.errors import HarnessError

    args = build_parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass  # not a text stream we can reconfigure: leave it as it is
    try:
        result: int = args.func(args)
        return result
    except CliError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        message = str(exc)
        print(message if message.startswith("harness:") else f"harness: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `harness show x | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
