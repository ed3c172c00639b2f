"""``harness show CASSETTE``: the agent run as a transcript: turns, answers, tool calls, timings.

How a model call is read (``turn_of`` for the request, ``answer_of`` for the response) is each
provider's business (:mod:`harness.providers.read`). Other interaction kinds get a renderer in
:data:`RENDERERS`, keyed by the kind; a kind with none is shown through its ``describe()``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli import streams
from harness.cli.load import as_json, load_cassette, title
from harness.cli.style import Style, body_summary, clip, color_enabled, compact, ms, obj, size
from harness.providers.base import Answer
from harness.providers.read import answer_of, turn_of

if TYPE_CHECKING:
    from harness.cassette.model import Body, HttpInteraction


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


def answer_lines(answer: Answer, o: ShowOptions) -> list[str]:
    st, out = o.style, []
    several = len({p.choice for p in answer.parts}) > 1
    for part in answer.parts:
        prefix = f"[choice {part.choice}] " if several else ""
        if part.kind == "tool":
            ident = st.paint(f"  [{part.id}]", "dim") if part.id else ""
            text = clip(f"{part.name} {compact(part.input)}", o.input_limit)
            out += field_lines(st, "tool call", prefix + text + ident)
        elif part.kind == "text":
            out += field_lines(st, "assistant", prefix + clip(part.text, o.output_limit))
        elif part.kind == "other":
            out += field_lines(st, "output", prefix + f"[{part.text}]", "green")
        else:
            out += field_lines(st, part.kind, prefix + clip(part.text, o.output_limit))
    if not answer.parts and not answer.error:
        out += field_lines(st, "assistant", st.paint("(no content)", "dim"))
    if answer.stop:
        out += field_lines(st, "stop", str(answer.stop))
    if answer.error:
        out += field_lines(st, "error", st.paint(answer.error, "red"))
    return out


def _plain_lines(label: str, body: Body, o: ShowOptions) -> list[str]:
    if body.kind == "json":
        return field_lines(o.style, label, clip(compact(body.value), 200 if not o.full else None), "blue")
    if body.kind == "text":
        return field_lines(o.style, label, clip(str(body.value), 200 if not o.full else None), "blue")
    return []


def render_http(n: int, item: HttpInteraction, o: ShowOptions) -> list[str]:
    st, req, resp = o.style, item.request, item.response
    head = [st.paint(f"#{n} {req.method} {req.path}", "bold")]
    if resp is not None:
        head.append(st.paint(str(resp.status), "red" if resp.status >= 400 else "green"))
        head.append(body_summary(resp.body))
    if item.error is not None:
        head.append(st.paint(f"{item.error.get('type', 'Error')}: {item.error.get('message', '')}", "red"))
    if item.elapsed_ms is not None:
        head.append(ms(item.elapsed_ms))
    if resp is not None and resp.chunks:
        head.append(f"stream {ms(resp.chunks[-1][-1])}" if len(resp.chunks[-1]) > 1 else f"{len(resp.chunks)} chunks")
    out = ["  ".join(head)]

    summary, turn = turn_of(req.body.value) if req.body.kind == "json" else ([], [])
    answer = answer_of(resp.body) if resp is not None else None
    if summary:
        out.append("  " + st.paint(", ".join(summary), "dim"))
    for label, text in turn:
        out += field_lines(st, label, clip(text, o.input_limit))
    if not summary and not turn:
        out += _plain_lines("request", req.body, o)
    if answer is not None:
        out += answer_lines(answer, o)
    elif resp is not None and streams.causal(resp):
        out += streams.lines(resp, o)
    elif resp is not None:
        if resp.status >= 400:
            text = compact(resp.body.value) if resp.body.kind == "json" else resp.body.bytes().decode("utf-8", "replace")
            out += field_lines(st, "error", st.paint(f"HTTP {resp.status}: {clip(text, 200)}", "red"))
        else:
            out += _plain_lines("response", resp.body, o)
    if resp is not None and resp.error is not None:
        out += field_lines(st, "error", st.paint(f"stream broken: {resp.error.get('type')}: {resp.error.get('message')}", "red"))
    if o.raw_events and resp is not None and resp.body.kind == "sse":
        for k, event in enumerate(resp.body.value):
            name = event.get("event", "")
            payload = event["data"] if "data" in event else event.get("text", "")
            text = f"[{k}] {name + ' ' if name else ''}{payload if isinstance(payload, str) else compact(payload)}"
            out.append("      " + st.paint(clip(text, None if o.full else 160), "dim"))
    return out


def _timing(item: Any) -> str:
    """``  12 ms`` when the interaction kept how long it took."""
    elapsed = getattr(item, "elapsed_ms", None)
    return f"  {ms(elapsed)}" if isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) else ""


def render_tool(n: int, item: Any, o: ShowOptions) -> list[str]:
    st = o.style
    out = [st.paint(f"#{n} tool {item.name}", "bold") + _timing(item)]
    out += field_lines(st, "input", clip(compact(item.input), o.input_limit))
    if item.error:
        out += field_lines(st, "error", st.paint(f"{item.error.get('type')}: {item.error.get('message')}", "red"))
    else:
        result = item.result if isinstance(item.result, str) else compact(item.result)
        out += field_lines(st, "result", clip(result, o.input_limit))
    return out


def _b64_size(data: Any) -> str:
    if not isinstance(data, str):
        return "?"
    data = data.strip()
    return size(max(0, len(data) * 3 // 4 - data[-2:].count("=")))


def _mcp_block(block: Any, o: ShowOptions) -> str:
    """One piece of MCP content: its text (clipped), or what it is: ``[image/png 1.2 kB]``."""
    if not isinstance(block, dict):
        return clip(compact(block), o.input_limit)
    kind = block.get("type")
    if kind == "text" or (kind is None and isinstance(block.get("text"), str)):
        return clip(str(block.get("text", "")), o.input_limit)
    if kind in ("image", "audio") or "blob" in block:
        mime = block.get("mimeType") or kind or "blob"
        uri = f" {block['uri']}" if isinstance(block.get("uri"), str) else ""
        return f"[{mime} {_b64_size(block.get('data', block.get('blob')))}{uri}]"
    if kind == "resource_link":
        return f"[link {block.get('uri')}" + (f" {block['name']}" if block.get("name") else "") + "]"
    if kind == "resource":
        inner = obj(block.get("resource"))
        if isinstance(inner.get("text"), str):
            return f"[resource {inner.get('uri')}] " + clip(inner["text"], o.input_limit)
        return _mcp_block(inner, o) if inner else "[resource]"
    return f"[{kind}] " + clip(compact(block), 200 if not o.full else None)


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
    e = obj(error)
    code, message = e.get("code"), e.get("message")
    text = f"{code}: {message}" if code is not None else str(message if message is not None else compact(error))
    if e.get("data") is not None:
        text += f" {compact(e['data'])}"
    return text


def _names(items: Any, key: str = "name") -> str:
    return ", ".join(str(obj(i).get(key) or obj(i).get("uri") or obj(i).get("uriTemplate") or "?") for i in items or [])


def _mcp_result(method: str, result: Any, o: ShowOptions) -> list[str]:
    """The lines of an MCP result, read by method: content, listings, resources, prompts."""
    st = o.style
    if not isinstance(result, dict):
        return field_lines(st, "result", clip(compact(result), o.input_limit))
    r = result
    out: list[str] = []
    if r.get("resultType") == "input_required":
        for key, asked in obj(r.get("inputRequests")).items():
            a = obj(asked)
            what = obj(a.get("params")).get("message")
            out += field_lines(
                st, "needs input", f"{a.get('method', '?')} " + (clip(str(what), o.input_limit) if what else f"[{key}]")
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
            out += field_lines(st, "structured", clip(compact(structured), o.input_limit))
    if "contents" in r:  # resources/read
        out += _mcp_content("contents", r["contents"], o)
    if "messages" in r:  # prompts/get
        if r.get("description"):
            out += field_lines(st, "description", clip(str(r["description"]), o.input_limit))
        for m in r["messages"] if isinstance(r["messages"], list) else []:
            out += _mcp_content(str(obj(m).get("role", "?")), obj(m).get("content"), o)
    for key, label in (
        ("tools", "tools"),
        ("prompts", "prompts"),
        ("resources", "resources"),
        ("resourceTemplates", "templates"),
    ):
        if isinstance(r.get(key), list):
            out += field_lines(st, label, f"{len(r[key])}: " + clip(_names(r[key]), o.input_limit))
    if isinstance(r.get("completion"), dict):
        out += field_lines(st, "result", clip(", ".join(map(str, r["completion"].get("values") or [])), o.input_limit))
    if not out:
        rest = {k: v for k, v in r.items() if k not in ("_meta", "resultType")}
        if rest:
            out += field_lines(st, "result", clip(compact(rest), o.input_limit))
    return out


def _mcp_server_message(entry: Any, o: ShowOptions) -> list[str]:
    """What the server sent during (or after) a call: progress, logs, requests and the client's answers."""
    st = o.style
    e = obj(entry)
    params = obj(e.get("params"))
    if "notify" in e:
        method = str(e["notify"])
        if method == "notifications/progress":
            total = f"/{params['total']}" if params.get("total") is not None else ""
            message = f" {params['message']}" if params.get("message") else ""
            return field_lines(st, "progress", f"{params.get('progress')}{total}{message}")
        if method == "notifications/message":
            data = params.get("data")
            text = data if isinstance(data, str) else compact(data)
            logger = f" [{params['logger']}]" if params.get("logger") else ""
            return field_lines(st, "log", f"{params.get('level', '?')}{logger} {clip(text, o.input_limit)}")
        rest = {k: v for k, v in params.items() if k != "_meta"}
        return field_lines(st, "notify", method + (f" {clip(compact(rest), 200 if not o.full else None)}" if rest else ""))
    method = str(e.get("request", "?"))
    if method == "elicitation/create":
        schema = obj(params.get("requestedSchema")).get("properties")
        fields = f" {{{', '.join(schema)}}}" if isinstance(schema, dict) and schema else ""
        out = field_lines(st, "elicitation", clip(str(params.get("message", "")), o.input_limit) + fields)
    elif method == "sampling/createMessage":
        messages = params.get("messages") if isinstance(params.get("messages"), list) else []
        last = obj(messages[-1]).get("content") if messages else None
        out = field_lines(st, "server asks", "sampling: " + clip(_mcp_block(last, o) if last is not None else "", o.input_limit))
    else:
        rest = {k: v for k, v in params.items() if k != "_meta"}
        out = field_lines(st, "server asks", method + (f" {clip(compact(rest), 200 if not o.full else None)}" if rest else ""))
    answer = e.get("answer")
    if not isinstance(answer, dict):
        return out + field_lines(st, "answer", st.paint("(none recorded)", "dim"))
    if "error" in answer:
        return out + field_lines(st, "answer", st.paint(f"error {_rpc_error(answer['error'])}", "red"))
    result = answer.get("result")
    r = obj(result)
    if method == "elicitation/create" and "action" in r:
        content = f" {compact(r['content'])}" if r.get("content") is not None else ""
        return out + field_lines(st, "answer", f"{r['action']}{content}")
    if method == "sampling/createMessage" and "content" in r:
        return out + field_lines(st, "answer", _mcp_block(r["content"], o))
    if method == "roots/list" and isinstance(r.get("roots"), list):
        return out + field_lines(st, "answer", ", ".join(str(obj(x).get("uri")) for x in r["roots"]) or "(no roots)")
    return out + field_lines(st, "answer", clip(compact(result), o.input_limit))


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
        info = obj(result.get("serverInfo"))
        who = " ".join(str(info[k]) for k in ("name", "version") if info.get(k)) or "server"
        versions = result.get("protocolVersion") or ", ".join(map(str, result.get("supportedVersions") or [])) or "?"
        caps = ", ".join(sorted(obj(result.get("capabilities"))))
        line = f"{who}, protocol {versions}" + (f" ({caps})" if caps else "")
        return [st.paint(f"#{n} mcp {method}", "bold") + f"  {line}" + server + _timing(item)]
    p = obj(params)
    named = method in ("tools/call", "prompts/get") and isinstance(p.get("name"), str)
    head = f"#{n} mcp {'notify ' if item.notification else ''}{method}" + (f" {p['name']}" if named else "")
    if method == "resources/read" and isinstance(p.get("uri"), str):
        head += f" {p['uri']}"
    out = [st.paint(head, "bold") + server + _timing(item)]
    if named:
        out += field_lines(st, "input", clip(compact(p.get("arguments") or {}), o.input_limit))
        rest = {k: v for k, v in p.items() if k not in ("name", "arguments", "_meta")}
        if rest:
            out += field_lines(st, "params", clip(compact(rest), o.input_limit), "blue")
    elif params not in (None, {}) and not (method == "resources/read" and set(p) <= {"uri", "_meta"}):
        out += field_lines(st, "params", clip(compact(params), o.input_limit), "blue")
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
        out.append("      " + st.paint(clip(compact(raw), None if o.full else 400), "dim"))
    return out


def _frame_text(frame: dict[str, Any]) -> str:
    if "json" in frame:
        value = frame["json"]
        kind = value.get("type") if isinstance(value, dict) else None
        rest = {k: v for k, v in value.items() if k != "type"} if isinstance(kind, str) else value
        return (f"{kind} " if isinstance(kind, str) else "") + compact(rest)
    if "text" in frame:
        return str(frame["text"])
    return f"[binary, {size(len(str(frame.get('base64', ''))) * 3 // 4)}]"


def _ws_answer(frames: list[dict[str, Any]], o: ShowOptions) -> list[str]:
    """What a run of server frames said, reassembled: output text deltas joined, function calls whole."""
    st, out, text = o.style, [], ""
    for frame in frames:
        value = obj(frame.get("json"))
        kind, item = value.get("type"), obj(value.get("item"))
        if kind in ("response.output_text.delta", "response.output_audio_transcript.delta") and isinstance(
            value.get("delta"), str
        ):
            text += value["delta"]
        elif kind == "response.output_item.done" and item.get("type") == "function_call":
            ident = st.paint(f"  [{item.get('call_id')}]", "dim") if item.get("call_id") else ""
            out += field_lines(st, "tool call", clip(f"{item.get('name')} {item.get('arguments')}", o.input_limit) + ident)
        elif kind == "error":
            out += field_lines(st, "error", st.paint(clip(compact(value.get("error")), o.input_limit), "red"))
    return (field_lines(st, "assistant", clip(text, o.output_limit)) if text else []) + out


def render_websocket(n: int, item: Any, o: ShowOptions) -> list[str]:
    """A WebSocket session: each client frame (``→``), each run of server frames (``←``) summed up by event
    type with its text reassembled (every frame with ``--raw-events``), then how it closed."""
    st, frames = o.style, list(item.frames)
    last = frames[-1].get("ms") if frames else None
    took = f"  {ms(last)}" if isinstance(last, (int, float)) else ""
    out = [
        st.paint(f"#{n} websocket {item.url}", "bold")
        + st.paint(f"  {len(frames)} frame{'s' * (len(frames) != 1)}", "dim")
        + took
    ]
    if item.error:
        out += field_lines(st, "error", st.paint(f"{item.error.get('type')}: {item.error.get('message')}", "red"))
    runs: list[list[dict[str, Any]]] = []
    for frame in frames:
        if runs and frame.get("from") == "server" and runs[-1][0].get("from") == "server":
            runs[-1].append(frame)
        else:
            runs.append([frame])
    for run in runs:
        if run[0].get("from") == "client":
            out += field_lines(st, "→ client", clip(_frame_text(run[0]), o.input_limit), "blue")
            continue
        if o.raw_events:
            for frame in run:
                out += field_lines(st, "← server", clip(_frame_text(frame), o.input_limit), "green")
        else:
            kinds: dict[str, int] = {}
            for frame in run:
                kind = str(obj(frame.get("json")).get("type") or next(k for k in ("json", "text", "base64") if k in frame))
                kinds[kind] = kinds.get(kind, 0) + 1
            summary = ", ".join(k + (f" x{c}" if c > 1 else "") for k, c in kinds.items())
            out += field_lines(
                st,
                "← server",
                st.paint(clip(f"{len(run)} frame{'s' * (len(run) != 1)}: {summary}", o.input_limit), "dim"),
                "green",
            )
        out += _ws_answer(run, o)
    if item.close:
        out += field_lines(
            st,
            "close",
            f"{item.close.get('code')} by {item.close.get('by')}"
            + (f": {item.close['reason']}" if item.close.get("reason") else ""),
            "dim",
        )
    return out


def render_generic(n: int, item: Any, o: ShowOptions) -> list[str]:
    describe = getattr(item, "describe", None)
    if callable(describe):
        return [o.style.paint(f"#{n} ", "bold") + str(describe())]
    return [o.style.paint(f"#{n} {item.kind}", "bold") + "  " + clip(compact(as_json(item)), 200)]


Renderer = Callable[[int, Any, ShowOptions], list[str]]
#: kind -> the lines that show one interaction of that kind; other kinds use :func:`render_generic`.
RENDERERS: dict[str, Renderer] = {"http": render_http, "tool": render_tool, "mcp": render_mcp, "websocket": render_websocket}


def cmd_show(args: argparse.Namespace) -> int:
    path = Path(args.cassette)
    items = load_cassette(path)
    if getattr(args, "html", False):
        from harness.cli import html

        html.write(html.timeline(path, items), getattr(args, "output", None))
        return 0
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
