"""``harness diff --html``: the two cassettes side by side, interaction by interaction.

The interactions are paired as the text report pairs them (:func:`harness.cli.diff.align`); each
changed pair lists its path-level changes (:func:`harness.cli.diff.pair_changes`, the text report's
lines) above a two-column table: A's transcript (what ``show`` prints for it) beside B's, lines aligned,
the words that differ marked (``<del>`` in A, ``<ins>`` in B). Timings and the per-run ids ``diff``
ignores are not marked. An interaction only in A (removed) or only in B (added) faces an empty column;
an unchanged pair is folded (``<details>``). An MCP server's tool-surface changes lead the page, and
each changed tool is compared side by side (description, schemas). No script; everything from the
cassettes is escaped (a cassette is untrusted input).
"""

from __future__ import annotations

import difflib
import html
import json
import re
from pathlib import Path
from typing import Any

from harness.cli.diff import DiffOptions, affixes, align, pair_changes
from harness.cli.html import page, write
from harness.cli.load import title
from harness.cli.show import ShowOptions, render
from harness.cli.style import Style, obj, plural

_CSS = """
.pair{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}
.pair.changed{border-color:#d9a400}.pair.added{border-color:#3a3}.pair.removed{border-color:#d33}
.pair>.head,.pair>summary{font-weight:600}.pair.same>summary{color:#666;cursor:pointer}
ul.changes{margin:.3em 0 .5em;padding-left:1.2em;font:12px/1.35 ui-monospace,monospace}
ul.changes pre{margin:0}li.surface{color:#a00;font-weight:600}
table.sbs{width:100%;table-layout:fixed;border-collapse:collapse;font:12px/1.35 ui-monospace,monospace}
table.sbs th{text-align:left;font:600 12px system-ui,sans-serif;color:#555;padding:.2em .4em;border-bottom:1px solid #ddd}
table.sbs td{width:50%;vertical-align:top;white-space:pre-wrap;word-break:break-word;padding:0 .4em}
table.sbs td.a{border-right:1px solid #ddd}td.empty{background:#f3f3f3}
tr.del td.a,tr.removed td.a{background:#fde8e8}tr.ins td.b,tr.added td.b{background:#e6f6e6}
tr.mod td.a{background:#fff4f4}tr.mod td.b{background:#f2fbf2}
del{background:#f7b6b6;text-decoration:line-through}ins{background:#a9e7a9;text-decoration:none}
section.surface{background:#fff0f0;border:2px solid #d33;border-radius:6px;padding:.5em .8em;margin:.6em 0}
section.surface h2{font-size:1em;color:#a00;margin:.2em 0}section.surface pre{margin:.1em 0}
table.sbs tr.tool th{color:#a00}
"""

#: One token of a transcript line: a per-run id, a duration, a word, spaces, or one other character.
_TOKEN = re.compile(r"(?:srvtoolu|toolu|call|fc)_[A-Za-z0-9_-]{6,}|\d+(?:\.\d+)? ?m?s\b|#\d+|\w+|\s+|[^\w\s]")
_DURATION = re.compile(r"\d+(?:\.\d+)? ?m?s")


#: Above this many cells (tokens of A x tokens of B, common head and tail cut), two sequences are aligned
#: with difflib's junk heuristic: coarser marks, in bounded time (without it, two long paragraphs of a
#: small vocabulary take minutes).
_EXACT_CELLS = 100_000


def _opcodes(x: list[str], y: list[str]) -> list[tuple[str, int, int, int, int]]:
    """difflib's opcodes from ``x`` to ``y``, in bounded time."""
    lo, hi = affixes(x, y)
    mid_x, mid_y = x[lo : len(x) - hi], y[lo : len(y) - hi]
    exact = len(mid_x) * len(mid_y) <= _EXACT_CELLS
    out = [("equal", 0, lo, 0, lo)] if lo else []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, mid_x, mid_y, autojunk=not exact).get_opcodes():
        out.append((op, i1 + lo, i2 + lo, j1 + lo, j2 + lo))
    if hi:
        out.append(("equal", len(x) - hi, len(x), len(y) - hi, len(y)))
    return out


def _tokens(line: str) -> list[str]:
    return _TOKEN.findall(line)


def _keys(tokens: list[str], ids: Any) -> list[str]:
    """What two tokens must share to be the same: a per-run id is its name (``<id 1>``); on an
    interaction's first line (``#3 POST ...  12 ms``), its number and durations are any others."""
    header = bool(tokens) and tokens[0].startswith("#") and tokens[0][1:].isdigit()
    out = []
    for n, t in enumerate(tokens):
        if header and (n == 0 or _DURATION.fullmatch(t)):
            out.append("#N" if n == 0 else "<duration>")
        else:
            out.append(str(ids(t)))
    return out


def _marked(tokens: list[str], spans: list[tuple[int, int]], tag: str) -> str:
    """The tokens escaped, those in ``spans`` (index ranges) wrapped in ``<tag>``."""
    out, at = [], 0
    for lo, hi in spans:
        out.append(html.escape("".join(tokens[at:lo])))
        out.append(f"<{tag}>{html.escape(''.join(tokens[lo:hi]))}</{tag}>")
        at = hi
    out.append(html.escape("".join(tokens[at:])))
    return "".join(out)


def _words(a: str, b: str, ids_a: Any, ids_b: Any) -> tuple[str, str]:
    """Two changed lines, the differing words marked."""
    ta, tb = _tokens(a), _tokens(b)
    ops = _opcodes(_keys(ta, ids_a), _keys(tb, ids_b))
    spans_a = [(i1, i2) for op, i1, i2, _, _ in ops if op in ("replace", "delete")]
    spans_b = [(j1, j2) for op, _, _, j1, j2 in ops if op in ("replace", "insert")]
    return _marked(ta, spans_a, "del"), _marked(tb, spans_b, "ins")


def _row(state: str, a: str | None, b: str | None) -> str:
    cell_a = "<td class='a empty'></td>" if a is None else f"<td class='a'>{a}</td>"
    cell_b = "<td class='b empty'></td>" if b is None else f"<td class='b'>{b}</td>"
    return f"<tr class='{state}'>{cell_a}{cell_b}</tr>"


def side_by_side(a: list[str], b: list[str], ids_a: Any = str, ids_b: Any = str) -> list[str]:
    """Table rows: A's lines beside B's, aligned; a changed line's words marked, a line only on one
    side facing an empty cell."""
    key_a = ["".join(_keys(_tokens(line), ids_a)) for line in a]
    key_b = ["".join(_keys(_tokens(line), ids_b)) for line in b]
    rows = []
    for op, i1, i2, j1, j2 in _opcodes(key_a, key_b):
        if op == "equal":
            rows += [_row("same", html.escape(a[i]), html.escape(b[j])) for i, j in zip(range(i1, i2), range(j1, j2))]
            continue
        k = min(i2 - i1, j2 - j1) if op == "replace" else 0
        for d in range(k):
            rows.append(_row("mod", *_words(a[i1 + d], b[j1 + d], ids_a, ids_b)))
        rows += [_row("del", html.escape(a[i]), None) for i in range(i1 + k, i2)]
        rows += [_row("ins", None, html.escape(b[j])) for j in range(j1 + k, j2)]
    return rows


def _table(head_a: str, head_b: str, rows: list[str], cls: str = "sbs") -> str:
    return (
        f"<table class='{cls}'><thead><tr><th class='a'>{html.escape(head_a)}</th><th class='b'>{html.escape(head_b)}</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


_TOOL_FIELDS = ("inputSchema", "outputSchema", "title", "annotations")


def _tool_lines(tool: dict[str, Any], fields: tuple[str, ...] = _TOOL_FIELDS) -> list[str]:
    """A tool as an agent is shown it: its description, then its other ``fields`` as indented JSON."""
    lines = [f"description: {line}" if n == 0 else line for n, line in enumerate(str(tool.get("description") or "").split("\n"))]
    for key in fields:
        if key in tool:
            lines += f"{key}: {json.dumps(tool[key], indent=2, sort_keys=True, ensure_ascii=False)}".split("\n")
    return lines


def _surface_table(x: Any, y: Any) -> str:
    """The tools of two ``tools/list`` answers that differ, side by side (empty when none do)."""
    if not (getattr(x, "method", None) == getattr(y, "method", None) == "tools/list"):
        return ""
    list_a, list_b = obj(x.result).get("tools"), obj(y.result).get("tools")
    if not (isinstance(list_a, list) and isinstance(list_b, list)):
        return ""
    tools_a = {str(obj(t).get("name")): obj(t) for t in list_a}
    tools_b = {str(obj(t).get("name")): obj(t) for t in list_b}
    rows = []
    for name in [*tools_a, *(n for n in tools_b if n not in tools_a)]:
        ta, tb = tools_a.get(name), tools_b.get(name)
        if ta == tb:
            continue
        state = "added" if ta is None else "removed" if tb is None else "changed"
        rows.append(f"<tr class='tool {state}'><th colspan='2'>tool {html.escape(name)}: {state}</th></tr>")
        if ta is None or tb is None:
            lines = [html.escape(line) for line in _tool_lines(ta or tb or {})]
            rows += [_row(state, line, None) if tb is None else _row(state, None, line) for line in lines]
        else:
            changed = tuple(k for k in _TOOL_FIELDS if ta.get(k) != tb.get(k))  # the unchanged ones would hide them
            rows += side_by_side(_tool_lines(ta, changed), _tool_lines(tb, changed))
    return _table("tools in A", "tools in B", rows, "sbs tools") if rows else ""


def _changes_list(lines: list[str]) -> tuple[str, list[str]]:
    """The path-level changes as a list (a change's detail lines under it), and the tool-surface ones."""
    groups: list[list[str]] = []
    for line in lines:
        if line.startswith("  ") and groups:
            groups[-1].append(line)
        else:
            groups.append([line])
    items, surface = [], []
    for head, *detail in groups:
        cls = " class='surface'" if head.startswith("TOOL SURFACE:") else ""
        if cls:
            surface.append("\n".join([head, *detail]))
        extra = f"<pre>{html.escape(chr(10).join(detail))}</pre>" if detail else ""
        items.append(f"<li{cls}>{html.escape(head)}{extra}</li>")
    return f"<ul class='changes'>{''.join(items)}</ul>", surface


def diff_page(path_a: Path, path_b: Path, a: list[Any], b: list[Any], options: DiffOptions) -> tuple[str, int]:
    """The page and the exit status (0 the same, 1 different), as the text report's."""
    o = ShowOptions(Style(False), full=True)
    name_a, name_b = f"A {path_a.name}", f"B {path_b.name}"
    sections: list[str] = []
    surface: list[tuple[int, str]] = []
    counts = {"changed": 0, "added": 0, "removed": 0}
    for k, (ia, ib) in enumerate(align(a, b)):
        anchor = f"id='pair-{k}' data-a='{'' if ia is None else ia}' data-b='{'' if ib is None else ib}'"
        if ia is None or ib is None:
            state = "added" if ia is None else "removed"
            counts[state] += 1
            n = ib if ia is None else ia
            assert n is not None
            item = (b if ia is None else a)[n]
            lines = [html.escape(line) for line in render(n, item, o)]
            rows = [_row(state, None, line) if ia is None else _row(state, line, None) for line in lines]
            where = f"+ #{ib} only in B" if ia is None else f"- #{ia} only in A"
            sections.append(
                f"<section class='pair {state}' {anchor}><div class='head'>{html.escape(f'{where}: {title(item)}')}</div>"
                f"{_table(name_a, name_b, rows)}</section>"
            )
            continue
        x, y = a[ia], b[ib]
        changes = pair_changes(x, y, options)
        rows = side_by_side(render(ia, x, o), render(ib, y, o), options.ids_a, options.ids_b)
        table = _table(f"{name_a} #{ia}", f"{name_b} #{ib}", rows)
        if not changes:
            sections.append(
                f"<details class='pair same' {anchor}><summary>{html.escape(f'= #{ia} {title(x)}')}</summary>{table}</details>"
            )
            continue
        counts["changed"] += 1
        listed, tool_lines = _changes_list(changes)
        surface += [(k, line) for line in tool_lines]
        where = f"#{ia}" if ia == ib else f"#{ia} (#{ib} in B)"
        sections.append(
            f"<section class='pair changed' {anchor}><div class='head'>{html.escape(f'~ {where} {title(x)}')}</div>"
            f"{listed}{_surface_table(x, y)}{table}</section>"
        )
    code = 1 if any(counts.values()) else 0
    summary = (
        f"{counts['changed']} changed, {counts['added']} added, {counts['removed']} removed"
        if code
        else f"same: {plural(len(a), 'interaction')}, no changes in requests or answers"
    )
    banner = ""
    if surface:
        links = "".join(f"<li><a href='#pair-{k}'><pre>{html.escape(line)}</pre></a></li>" for k, line in surface)
        banner = f"<section class='surface'><h2>The tool surface changed (an agent reads these)</h2><ul>{links}</ul></section>"
    body = (
        f"<h1>{html.escape(str(path_a))} ↔ {html.escape(str(path_b))}</h1>"
        f"<p class='meta'>A: {html.escape(str(path_a))} ({plural(len(a), 'interaction')}) · "
        f"B: {html.escape(str(path_b))} ({plural(len(b), 'interaction')}) · {html.escape(summary)} (timings ignored)</p>"
        f"{banner}{''.join(sections)}"
    )
    return page(f"harness diff {path_a} {path_b}", body, _CSS), code


def emit(path_a: Path, path_b: Path, a: list[Any], b: list[Any], options: DiffOptions, output: str | None) -> int:
    """``harness diff --html``: the page to ``output`` (atomically) or stdout; the exit status."""
    text, code = diff_page(path_a, path_b, a, b, options)
    write(text, output)
    return code
