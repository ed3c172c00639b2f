"""``harness show --html``: one self-contained page (inline CSS, no script
from anywhere, no network) showing a cassette as a timeline: each interaction in order with a
waterfall bar of its duration, the text ``show`` prints for it, and a stream's chunk timing (a WebSocket
session's frames, by direction).

The text of each interaction comes from :data:`harness.cli.show.RENDERERS` (so a kind another module
registers is shown here too, and a kind with none through its ``describe()``); this module only lays
it out. Everything from the cassette is escaped: a cassette is untrusted input. ``harness diff --html``
(:mod:`harness.cli.html_diff`) uses its page and :func:`write`.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from harness.cassette.store import atomic_write
from harness.cli.show import ShowOptions, render
from harness.cli.style import Style, ms, obj

_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.2em}.meta{color:#666}
.item{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.6em 0;padding:.5em .8em}
.item.error{border-color:#d33}.kind{font-weight:600;text-transform:uppercase;font-size:.8em;color:#555}
.bar{position:relative;height:8px;background:#eee;border-radius:4px;margin:.3em 0}
.bar span{position:absolute;top:0;height:8px;border-radius:4px;background:#48c}
.k-mcp .bar span{background:#a5c}.k-tool .bar span{background:#4a6}.error .bar span{background:#d33}
pre{white-space:pre-wrap;word-break:break-word;margin:.3em 0;font:12px/1.35 ui-monospace,monospace}
.chunks,.frames{color:#666;font-size:.8em}.chunks b,.frames b{display:inline-block;width:3px;height:10px;background:#48c;margin-right:1px}
.k-websocket .bar span{background:#c84}.frames b.c{background:#36c;height:14px}.frames b.s{background:#c84}
"""


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _elapsed(item: Any) -> float | None:
    """How long an interaction took: its ``elapsed_ms``, or for a WebSocket session its last frame's time."""
    frames = getattr(item, "frames", None)
    if item.kind == "websocket" and frames:
        return _number(obj(frames[-1]).get("ms"))
    return _number(getattr(item, "elapsed_ms", None))


def _frame_marks(item: Any) -> str:
    """A WebSocket session's frames as marks spaced by their times: client frames (``c``) and server ones (``s``)."""
    frames = [obj(f) for f in getattr(item, "frames", None) or [] if _number(obj(f).get("ms")) is not None]
    if item.kind != "websocket" or len(frames) < 2:
        return ""
    last = float(frames[-1]["ms"]) or 1.0
    marks, before = [], 0.0
    for f in frames:
        side = "c" if f.get("from") == "client" else "s"
        marks.append(f"<b class='{side}' style='margin-left:{max(0.0, (float(f['ms']) - before) / last * 40):.1f}px'></b>")
        before = float(f["ms"])
    return f"<div class='frames'>{len(frames)} frames over {html.escape(ms(last))}: {''.join(marks)}</div>"


def _chunk_times(item: Any) -> list[float]:
    """The arrival time (ms) of each recorded chunk of a streamed HTTP answer."""
    response = getattr(item, "response", None)
    chunks = getattr(response, "chunks", None) or []
    times = []
    for chunk in chunks:
        if isinstance(chunk, (list, tuple)) and chunk and isinstance(chunk[-1], (int, float)):
            times.append(float(chunk[-1]))
    return times


def _is_error(item: Any) -> bool:
    if getattr(item, "error", None):
        return True
    response = getattr(item, "response", None)
    status = getattr(response, "status", None)
    return isinstance(status, int) and status >= 400


def page(title: str, body: str, css: str = "") -> str:
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}{css}</style></head><body>{body}</body></html>\n"
    )


def timeline(path: Path, items: list[Any]) -> str:
    """The page for one cassette."""
    o = ShowOptions(Style(False), full=True)
    durations = [_elapsed(i) or 0.0 for i in items]
    total = sum(durations) or 1.0
    start = 0.0
    parts = [
        f"<h1>{html.escape(str(path))}</h1>",
        f"<p class='meta'>{len(items)} interaction{'s' * (len(items) != 1)}, {html.escape(ms(sum(durations)))}</p>",
    ]
    for n, item in enumerate(items):
        d = durations[n]
        kind = html.escape(str(item.kind))
        classes = f"item k-{kind}" + (" error" if _is_error(item) else "")
        left, width = 100 * start / total, max(0.5, 100 * d / total)
        start += d
        text = "\n".join(render(n, item, o))
        chunks = _chunk_times(item)
        chunk_html = ""
        if len(chunks) > 1:
            last = chunks[-1] or 1.0
            marks = "".join(
                f"<b style='margin-left:{max(0.0, (t - p) / last * 40):.1f}px'></b>" for p, t in zip([0.0, *chunks], chunks)
            )
            chunk_html = f"<div class='chunks'>{len(chunks)} chunks over {html.escape(ms(last))}: {marks}</div>"
        parts.append(
            f"<section class='{classes}' data-kind='{kind}' data-n='{n}'>"
            f"<div class='kind'>{kind} #{n} · {html.escape(ms(d)) if _elapsed(item) is not None else 'no timing'}</div>"
            f"<div class='bar'><span style='left:{left:.2f}%;width:{width:.2f}%'></span></div>"
            f"<pre>{html.escape(text)}</pre>{chunk_html}{_frame_marks(item)}</section>"
        )
    return page(f"harness show {path}", "".join(parts))


def write(text: str, output: str | None) -> None:
    """The page to ``output`` (whole or not at all, its folder made, readable as any report), or to stdout."""
    if output is None:
        print(text, end="")
        return
    atomic_write(Path(output), text)
