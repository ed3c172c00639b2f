"""How ``harness show`` draws a stream replayed causally (:mod:`harness.seams.causal`): each event on a line,
and before the events that came only after the client's posts, those posts (``after POST /path``).

Session events (anthropic's managed agents: ``agent.*``, ``user.*``, ``session.*``) get a short summary:
a message's text, a tool call's name and input, a tool result's text, an idle's stop reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness import sse
from harness.cli.style import clip, compact

if TYPE_CHECKING:
    from harness.cassette.model import Response
    from harness.cli.show import ShowOptions


def causal(resp: Response) -> bool:
    """Whether ``resp`` is a stream with causal links or one its client closed (drawn event by event)."""
    return resp.body.kind == "sse" and bool(resp.awaits or resp.client_closed)


def _texts(content: Any) -> str:
    if not isinstance(content, list):
        return ""
    return " ".join(str(b.get("text", "")) for b in content if isinstance(b, dict) and b.get("type") == "text")


def summary(data: Any) -> str:
    """A session event in a few words (empty for an event with nothing more to say than its type)."""
    if not isinstance(data, dict):
        return compact(data)
    kind = str(data.get("type", ""))
    if kind in ("agent.message", "user.message", "agent.thinking"):
        return _texts(data.get("content"))
    if kind.endswith("tool_use"):
        return f"{data.get('name')} {compact(data.get('input', {}))}"
    if kind.endswith("tool_result"):
        return ("error: " if data.get("is_error") else "") + _texts(data.get("content"))
    if kind.startswith("session.") and isinstance(data.get("stop_reason"), dict):
        stop = data["stop_reason"]
        ids = stop.get("event_ids")
        return str(stop.get("type", "")) + (f" {', '.join(map(str, ids))}" if isinstance(ids, list) else "")
    return ""


def chunk_starts(resp: Response) -> dict[int, int]:
    """chunk -> the first event that begins in it."""
    ends, at = [], 0
    for chunk in resp.chunks or [[len(resp.body.bytes())]]:
        ends.append(at)
        at += int(chunk[0])
    out: dict[int, int] = {}
    offset = k = 0
    for n, entry in enumerate(resp.body.value):
        size = len(sse.render_entry(entry, resp.body.eol).encode("utf-8"))
        while k < len(ends) and ends[k] < offset + size:
            out.setdefault(k, n)
            k += 1
        offset += size
    return out


def waits_by_event(resp: Response) -> dict[int, list[str]]:
    """event -> the client posts (``POST /path``) replay waits for before delivering it."""
    by_event: dict[int, list[str]] = {}
    starts = chunk_starts(resp)
    for entry in resp.awaits or ():
        event = starts.get(int(entry[0]), len(resp.body.value))
        by_event.setdefault(event, []).extend(str(e) for e in entry[1:])
    return by_event


def lines(resp: Response, o: ShowOptions) -> list[str]:
    from harness.cli.show import field_lines

    st = o.style
    by_event = waits_by_event(resp)
    out: list[str] = []
    for n, entry in enumerate(resp.body.value):
        for what in by_event.get(n, ()):
            out += field_lines(st, "after", st.paint(what, "magenta") + st.paint("  (replay waits for it)", "dim"), "magenta")
        name = str(entry.get("event", ""))
        data = entry.get("data", entry.get("text", ""))
        said = summary(data) if isinstance(data, dict) else clip(str(data), 120)
        out += field_lines(st, "event", f"[{n}] {name}" + (f"  {clip(said, None if o.full else 160)}" if said else ""), "cyan")
    if resp.client_closed:
        out += field_lines(
            st, "open", st.paint("the client stopped reading here; the server had not ended the stream", "dim"), "dim"
        )
    return out
