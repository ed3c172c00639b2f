"""A hand-written consumer of an OpenAI Chat Completions stream, the naive way and the fixed way.

Both read the raw SSE bytes (``response.iter_bytes()``), as a proxy or a UI bridge that forwards
tokens without the SDK's stream helper does, and return the reply: its text and its tool calls.

The naive one decodes each network chunk on its own and splits each chunk into lines on its own.
That holds as long as every chunk is whole events, which is what a loopback server (and the
recording) gives; a real network cuts anywhere: in the middle of a ``data:`` line, in the middle
of a multi-byte character. The half-fixed one buffers lines but still decodes chunk by chunk.
The fixed one keeps an incremental UTF-8 decoder and a line buffer.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    text: str = ""
    tool_calls: dict[int, dict[str, str]] = field(default_factory=dict)
    finish_reason: str | None = None

    def add(self, chunk: dict[str, Any]) -> None:
        """One ``chat.completion.chunk``: text deltas appended, tool-call fragments joined by index."""
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            self.text += delta.get("content") or ""
            for fragment in delta.get("tool_calls") or []:
                call = self.tool_calls.setdefault(fragment["index"], {"id": "", "name": "", "arguments": ""})
                function = fragment.get("function") or {}
                call["id"] = fragment.get("id") or call["id"]
                call["name"] = function.get("name") or call["name"]
                call["arguments"] += function.get("arguments") or ""
            self.finish_reason = choice.get("finish_reason") or self.finish_reason


def naive_reply(chunks: Iterable[bytes]) -> Reply:
    """NAIVE: assumes every network chunk holds whole lines of whole characters."""
    reply = Reply()
    for chunk in chunks:
        for line in chunk.decode("utf-8").split("\n"):
            if line.startswith("data: ") and line != "data: [DONE]":
                reply.add(json.loads(line[len("data: ") :]))
    return reply


def half_fixed_reply(chunks: Iterable[bytes]) -> Reply:
    """HALF FIXED: buffers partial lines across chunks, but still decodes each chunk on its own."""
    reply = Reply()
    pending = ""
    for chunk in chunks:
        pending += chunk.decode("utf-8")
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.startswith("data: ") and line != "data: [DONE]":
                reply.add(json.loads(line[len("data: ") :]))
    return reply


def fixed_reply(chunks: Iterable[bytes]) -> Reply:
    """FIXED: decodes incrementally and parses whole lines only, as the SSE spec says:
    lines end with CRLF, LF or CR; an event's ``data:`` lines are joined; a blank line ends it."""
    reply = Reply()
    decoder = codecs.getincrementaldecoder("utf-8")()
    pending = ""
    data: list[str] = []

    def line(text: str) -> None:
        if text == "":
            if data and data != ["[DONE]"]:
                reply.add(json.loads("\n".join(data)))
            data.clear()
        elif text.startswith("data:"):
            data.append(text[5:].removeprefix(" "))

    for chunk in [*chunks, None]:
        pending += decoder.decode(chunk or b"", final=chunk is None)
        while True:
            cut = min((i for i in (pending.find("\r"), pending.find("\n")) if i >= 0), default=-1)
            # a CR at the very end may be the first half of a CRLF: wait for the next chunk
            if cut < 0 or (pending[cut] == "\r" and cut == len(pending) - 1 and chunk is not None):
                break
            end = cut + 2 if pending.startswith("\r\n", cut) else cut + 1
            line(pending[:cut])
            pending = pending[end:]
    if pending:
        line(pending)
    line("")
    return reply
