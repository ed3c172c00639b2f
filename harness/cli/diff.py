"""``harness diff A B``: what changed between two cassettes, in messages and tool calls.

Interactions are paired in order (:func:`align`); each kind has a differ in :data:`DIFFERS`; a kind
with none is compared as its cassette JSON.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.load import as_json, load_cassette, title
from harness.cli.streams import causal
from harness.cli.style import CliError, Style, body_summary, clip, color_enabled, obj, plural, short
from harness.providers.base import Answer, Part
from harness.providers.read import answer_of

if TYPE_CHECKING:
    from harness.cassette.model import HttpInteraction, Request
    from harness.matching import Matcher


def _signature(item: Any) -> tuple[Any, ...]:
    """What must be equal for two interactions to be paired: kind and method + path, or kind and name."""
    request = getattr(item, "request", None)
    if item.kind == "http" and request is not None:
        return ("http", request.method, request.path.split("?")[0])
    if item.kind == "websocket":
        return ("websocket", item.name)
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


def affixes(a: Sequence[Any], b: Sequence[Any]) -> tuple[int, int]:
    """How many items ``a`` and ``b`` share at their start, then at their end (not overlapping)."""
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    return start, end


def _text_change(label: str, a: str, b: str) -> list[str]:
    """A changed string: on one line when short; lines changed, as a unified diff, when it has lines;
    otherwise the part that changed, with some text either side (a long value never hides its change
    behind a cut-off)."""
    if "\n" not in a + b and len(a) <= 100 and len(b) <= 100:
        return [f"{label}: {short(a)} != {short(b)}"]
    if "\n" in a + b:
        import difflib

        lines = list(difflib.unified_diff(a.split("\n"), b.split("\n"), lineterm="", n=1))[2:]
        return [f"{label}:"] + [f"  {clip(line, 300)}" for line in lines]
    start, end = affixes(a, b)

    def window(text: str) -> str:
        lo, hi = max(0, start - _CONTEXT), len(text) - max(0, end - _CONTEXT)
        return ("…" if lo else "") + clip(text[lo:hi], 300) + ("…" if hi < len(text) else "")

    return [f"{label} (at character {start}): {window(a)!r} != {window(b)!r}"]


def changes(a: Any, b: Any, path: str = "$", limit: int = 20) -> list[str]:
    """Path-level changes, ``$.result: 'a' != 'b'`` (A != B); long or multi-line strings as text diffs."""
    from harness.matching import diff

    return diff(a, b, path, limit, strings=_text_change)


def _part_title(part: Part) -> str:
    if part.kind == "tool":
        return f"tool call {part.name} {short(part.input, 80)}"
    return f"{part.kind} {short(part.text, 80)}"


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
        out.append(f"stop: {short(a.stop)} != {short(b.stop)}")
    if a.error != b.error:
        out.append(f"error: {short(a.error)} != {short(b.error)}")
    return out


#: Ids a server makes fresh on every run, which the client echoes back (a tool call's id in the next
#: request's ``tool_result``): Anthropic ``toolu_``/``srvtoolu_``, OpenAI ``call_``, ``fc_`` and ``resp_``
#: (a response's id, sent back as the next request's ``previous_response_id``).
_RUN_ID = re.compile(r"(?:srvtoolu|toolu|call|fc|resp)_[A-Za-z0-9_-]{6,}")


class RunIds:
    """A cassette's per-run ids, each named by its order of first appearance (``<id 1>``): two
    recordings of one loop then read alike, and an echo of the wrong call still differs."""

    def __init__(self, items: list[Any]) -> None:
        self.names: dict[str, str] = {}
        for item in items:
            self._see(as_json(item))

    def _see(self, value: Any) -> None:
        if isinstance(value, str):
            if _RUN_ID.fullmatch(value) and value not in self.names:
                self.names[value] = f"<id {len(self.names) + 1}>"
        elif isinstance(value, dict):
            for v in value.values():
                self._see(v)
        elif isinstance(value, list):
            for v in value:
                self._see(v)

    def __call__(self, value: Any) -> Any:
        """``value`` with every per-run id replaced by its name."""
        if not self.names:
            return value
        if isinstance(value, str):
            return self.names.get(value, value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self(v) for v in value]
        return value


def _same(value: Any) -> Any:
    return value


@dataclass
class DiffOptions:
    matcher: Matcher
    headers: bool = True
    #: Per-run ids of A and of B replaced by names (:class:`RunIds`); unchanged by default.
    ids_a: Callable[[Any], Any] = _same
    ids_b: Callable[[Any], Any] = _same


def _request_view(request: Request, matcher: Matcher) -> Any:
    body = request.body
    return matcher.body_view(body.value) if body.kind == "json" else {body.kind: body.value}


def diff_http(a: HttpInteraction, b: HttpInteraction, o: DiffOptions) -> list[str]:
    ra, rb, out = a.request, b.request, []
    if (ra.method, ra.path) != (rb.method, rb.path):
        out.append(f"request: {ra.method} {ra.path} != {rb.method} {rb.path}")
    out += [f"request {d}" for d in changes(o.ids_a(_request_view(ra, o.matcher)), o.ids_b(_request_view(rb, o.matcher)))]
    if o.headers:
        out += [f"request {d}" for d in changes(ra.headers, rb.headers, "headers")]
    if a.error != b.error:
        out.append(f"transport error: {short(a.error)} != {short(b.error)}")
    sa, sb = a.response, b.response
    if sa is None or sb is None:
        if (sa is None) != (sb is None):
            out.append(f"response: {'none' if sa is None else sa.status} != {'none' if sb is None else sb.status}")
        return out
    if sa.status != sb.status:
        out.append(f"status: {sa.status} != {sb.status}")
    if sa.error != sb.error:
        out.append(f"stream error: {short(sa.error)} != {short(sb.error)}")
    if sa.body.kind == sb.body.kind == "sse" and (causal(sa) or causal(sb)):
        from harness.cli.diff_ws import diff_event_stream

        return out + diff_event_stream(sa, sb)
    xa, xb = answer_of(sa.body), answer_of(sb.body)
    if xa is not None or xb is not None:
        out += [f"answer {d}" for d in diff_answers(xa or Answer(), xb or Answer())]
    elif sa.body.kind == "json" and sb.body.kind == "json":
        out += [f"response {d}" for d in changes(o.ids_a(sa.body.value), o.ids_b(sb.body.value))]
    elif sa.body != sb.body:
        out.append(f"response body: {body_summary(sa.body)} != {body_summary(sb.body)} (contents differ)")
    return out


def diff_generic(a: Any, b: Any, o: DiffOptions) -> list[str]:
    return changes(o.ids_a(as_json(a)), o.ids_b(as_json(b)))


def _content_text(content: Any) -> str | None:
    """MCP content as one text (other blocks as ``[type]``), or None when it is not a content list."""
    if not isinstance(content, list):
        return None
    return "\n".join(
        str(b["text"]) if isinstance(b, dict) and isinstance(b.get("text"), str) else f"[{obj(b).get('type', '?')}]"
        for b in content
    )


def diff_mcp(a: Any, b: Any, o: DiffOptions) -> list[str]:
    """MCP calls: server, method, params (a tool's name and arguments), what the server sent during
    the call, and the result: its content as text (a unified diff when long), then its other fields."""
    out: list[str] = []
    if a.server != b.server:
        out.append(f"server: {short(a.server)} != {short(b.server)}")
    if (a.notification, a.method) != (b.notification, b.method):
        out.append(f"method: {a.name} != {b.name}")
    out += changes(o.ids_a(a.params), o.ids_b(b.params), "params")
    out += changes(a.during, b.during, "during")
    if (a.error is None) != (b.error is None):
        what = {"error": a.error} if a.error is not None else {"result": a.result}
        other = {"error": b.error} if b.error is not None else {"result": b.result}
        out.append(f"answer: {short(what)} != {short(other)}")
    elif a.error is not None:
        out += changes(a.error, b.error, "error")
    elif (
        a.method == "tools/list" and isinstance(obj(a.result).get("tools"), list) and isinstance(obj(b.result).get("tools"), list)
    ):
        out += tool_surface(a.result["tools"], b.result["tools"])
        rest_a = {k: v for k, v in obj(a.result).items() if k != "tools"}
        rest_b = {k: v for k, v in obj(b.result).items() if k != "tools"}
        out += changes(rest_a, rest_b, "result")
    else:
        ra, rb = a.result, b.result
        ta, tb = _content_text(obj(ra).get("content")), _content_text(obj(rb).get("content"))
        if ta is not None and tb is not None:
            if ta != tb:
                out += _text_change("result text", ta, tb)
            rest_a = {k: v for k, v in obj(ra).items() if k != "content"}
            rest_b = {k: v for k, v in obj(rb).items() if k != "content"}
            blocks_a = [x for x in ra["content"] if not (isinstance(x, dict) and isinstance(x.get("text"), str))]
            blocks_b = [x for x in rb["content"] if not (isinstance(x, dict) and isinstance(x.get("text"), str))]
            out += changes(blocks_a, blocks_b, "result.content (not text)")
            out += changes(rest_a, rest_b, "result")
        else:
            out += changes(ra, rb, "result")
    out += changes(a.after, b.after, "after")
    return out


def tool_surface(a: list[Any], b: list[Any]) -> list[str]:
    """An MCP server's tool list, A against B: tools added, removed, their description or schemas
    changed, each line marked ``TOOL SURFACE`` (a changed description is how a tool can redirect an agent)."""
    tools_a = {str(obj(t).get("name")): obj(t) for t in a}
    tools_b = {str(obj(t).get("name")): obj(t) for t in b}
    out: list[str] = []
    for name in sorted(tools_b.keys() - tools_a.keys()):
        out.append(f"TOOL SURFACE: tool added: {name}: {short(tools_b[name].get('description'))}")
    for name in sorted(tools_a.keys() - tools_b.keys()):
        out.append(f"TOOL SURFACE: tool removed: {name}")
    for name in sorted(tools_a.keys() & tools_b.keys()):
        x, y = tools_a[name], tools_b[name]
        if x.get("description") != y.get("description"):
            out.append(f"TOOL SURFACE: {name} description changed (an agent reads this):")
            out += [
                f"  {line}"
                for line in _text_change("description", str(x.get("description") or ""), str(y.get("description") or ""))
            ]
        for key in ("inputSchema", "outputSchema", "title", "annotations"):
            if x.get(key) != y.get(key):
                out.append(f"TOOL SURFACE: {name} {key} changed")
                out += [f"  {line}" for line in changes(x.get(key), y.get(key), key)]
    return out


def diff_tool(a: Any, b: Any, o: DiffOptions) -> list[str]:
    """Local tool calls: input, then result or error (long results as text diffs)."""
    out = changes(o.ids_a(a.input), o.ids_b(b.input), "$.input")
    if (a.error is None) != (b.error is None):
        out.append(f"answer: {short(a.error or a.result)} != {short(b.error or b.result)}")
    elif a.error is not None:
        out += changes(a.error, b.error, "$.error")
    else:
        out += changes(a.result, b.result, "$.result")
    return out


def diff_websocket(a: Any, b: Any, o: DiffOptions) -> list[str]:
    """WebSocket sessions: turn by turn (:mod:`harness.cli.diff_ws`)."""
    from harness.cli.diff_ws import diff_websocket as view

    return view(a, b, o)


Differ = Callable[[Any, Any, DiffOptions], list[str]]
#: kind -> the changes between two interactions of that kind; other kinds use :func:`diff_generic`.
DIFFERS: dict[str, Differ] = {"http": diff_http, "mcp": diff_mcp, "tool": diff_tool, "websocket": diff_websocket}


def pair_changes(x: Any, y: Any, options: DiffOptions) -> list[str]:
    """The changes between two paired interactions: their kind's differ's lines."""
    if x.kind != y.kind:
        return [f"kind: {x.kind} != {y.kind}"]
    try:
        return DIFFERS.get(x.kind, diff_generic)(x, y, options)
    except Exception:  # bodies are arbitrary JSON: compare an odd one as plain JSON
        return diff_generic(x, y, options)


def cmd_diff(args: argparse.Namespace) -> int:
    from harness.errors import ConfigError
    from harness.matching import Matcher

    as_html = getattr(args, "html", False)
    st = Style(False if as_html else color_enabled(args.color))
    path_a, path_b = Path(args.a), Path(args.b)
    a, b = load_cassette(path_a), load_cassette(path_b)
    try:
        options = DiffOptions(Matcher(ignore_paths=args.ignore), headers=not args.no_headers, ids_a=RunIds(a), ids_b=RunIds(b))
    except ConfigError as exc:
        raise CliError(str(exc).removeprefix("harness: ")) from None
    if as_html:
        from harness.cli import html_diff

        return html_diff.emit(path_a, path_b, a, b, options, getattr(args, "output", None))
    out = [
        st.paint(f"--- {path_a}  ({plural(len(a), 'interaction')})", "red"),
        st.paint(f"+++ {path_b}  ({plural(len(b), 'interaction')})", "green"),
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
        lines = pair_changes(x, y, options)
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
    print(f"same: {plural(len(a), 'interaction')}, no changes in requests or answers (timings ignored)")
    return 0
