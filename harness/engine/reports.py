"""The reports a test fails with: a miss (with the closest recorded interaction and a path-level
diff), interactions never played, and the command that re-records the test."""

from __future__ import annotations

import os
import shlex
from typing import Any, Protocol
from urllib.parse import parse_qsl

from harness.cassette.model import Cassette, HttpInteraction, Interaction, McpInteraction, Request
from harness.matching import Matcher, diff, distance, multipart


class Ledger(Protocol):
    """What a report reads of the ledger (:class:`harness.engine.ledger.Ledger`)."""

    cassette: Cassette
    loaded: int
    replaying: bool
    matcher: Matcher

    def rerecord_command(self) -> str: ...


def rel(path: Any) -> str:
    try:
        return str(os.path.relpath(path))
    except ValueError:
        return str(path)


def rerecord_command(nodeid: str, shared: bool, rootdir: Any = None) -> str:
    """The command that re-records the test. A node id is relative to pytest's rootdir, so the
    command starts with ``cd <rootdir> &&`` when that is known: pasted in any folder, it runs."""
    target = shlex.quote(nodeid) if nodeid else "<test id>"
    if rootdir is not None:
        target = f"cd {shlex.quote(str(rootdir))} && pytest {target}"
    else:
        target = f"pytest {target}"
    if shared:
        # Shared through the marker's path: 'all' on this test alone would rewrite the file with
        # its traffic only, and the other tests using it would then miss. Which tests those are
        # is not known here, so say how to re-record it whole. (A shell comment: the line still
        # runs as it is when pasted.)
        return (
            f"{target} --record-mode=new_episodes  # shared cassette: record mode 'all' on this test alone"
            " would keep only its traffic; to re-record it whole, run every test that uses it with record mode 'all'"
        )
    return f"{target} --record-mode=all"


def context_line(ledger: Ledger) -> str:
    c = ledger.cassette
    return f"cassette: {rel(c.path)} (mode: {c.mode}, {ledger.loaded} recorded, {len(c.played)} played)"


def miss(ledger: Ledger, item: Interaction, *, replay_only: bool = False) -> str:
    """Why ``item`` has no recorded answer, what comes closest, and how to fix it (``replay_only``:
    recording is on, but what ``item`` talks to is replayed from the cassette, not connected)."""
    if isinstance(item, HttpInteraction):
        return _request_miss(ledger, item.request)
    return _call_miss(ledger, item, replay_only)


def _request_miss(ledger: Ledger, request: Request) -> str:
    lines = [
        "harness: no recorded response matches this request" + ("" if ledger.replaying else " (recording is off)"),
        f"  {request.method} {request.path}",
        f"  {context_line(ledger)}",
    ]
    closest = _closest_request(ledger, request)
    diffs: list[str] = []
    if closest is not None:
        n, item, diffs = closest
        played = " (already played)" if n in ledger.cassette.played else ""
        lines.append(
            f"  closest recorded request: #{n} {item.request.method} {item.request.path}{played}; recorded != requested:"
        )
        lines.extend(
            f"    {d}"
            for d in diffs or ["(the same request: it was already played; the test now sends it more often than recorded)"]
        )
    elif ledger.cassette.interactions:
        lines.append("  no recorded request has this method and path")
    lines += [
        "  How to fix:",
        "    1. If the change is intended, re-record this test:",
        f"       {ledger.rerecord_command()}",
        _hint(ledger.matcher, diffs),
    ]
    return "\n".join(lines)


def _call_miss(ledger: Ledger, item: Any, replay_only: bool = False) -> str:
    lines = [
        f"harness: no recorded {item.kind} call matches this one" + ("" if ledger.replaying else " (recording is off)"),
        f"  {item.describe()}",
        f"  {context_line(ledger)}",
    ]
    if replay_only:
        lines.append(
            "  this server is in the cassette, so it is replayed, not connected: new_episodes cannot record a new"
            " call to it (nothing was saved for it)"
        )
    played = ledger.cassette.played
    same = [
        (n, other)
        for n, other in enumerate(ledger.cassette.interactions)
        if other.kind == item.kind and getattr(other, "name", None) == getattr(item, "name", None)
    ]
    if same:
        want = _call_view(ledger.matcher, item)
        n, other = min(same, key=lambda p: (p[0] in played, distance(_call_view(ledger.matcher, p[1]), want), p[0]))
        lines.append(f"  closest recorded call: #{n} {other.describe()}; recorded != requested:")
        lines.extend(
            f"    {d}"
            for d in diff(_call_view(ledger.matcher, other), want)
            or ["(the same call, already played: it now happens more often than recorded)"]
        )
    lines += ["  How to fix:", "    1. If the change is intended, re-record this test:", f"       {ledger.rerecord_command()}"]
    return "\n".join(lines)


def _call_view(matcher: Matcher, item: Any) -> Any:
    """A call's input as matching sees it: ignore paths apply to a tool's input and to an MCP call's params."""
    if isinstance(item, McpInteraction):
        return {"server": item.server, "params": matcher.body_view(item.params)}
    return matcher.body_view(item.input)


def _closest_request(ledger: Ledger, request: Request) -> tuple[int, HttpInteraction, list[str]] | None:
    matcher = ledger.matcher
    best: tuple[tuple[bool, int, int], int, HttpInteraction, Any, Any] | None = None
    for n, item in enumerate(ledger.cassette.interactions):
        if not isinstance(item, HttpInteraction) or item.request.method != request.method:
            continue
        if item.request.path.split("?")[0] != request.path.split("?")[0]:
            continue
        have, want = _views(matcher, item.request, request)
        rank = (n in ledger.cassette.played, distance(have, want), n)
        if best is None or rank < best[0]:
            best = (rank, n, item, have, want)
    if best is None:
        return None
    _, n, item, have, want = best
    return n, item, diff(have, want)


def _query(path: str) -> dict[str, Any]:
    """A query string as ``{name: value}`` (a repeated name: its values as a list), for a path-level diff."""
    out: dict[str, Any] = {}
    for k, v in parse_qsl(path.partition("?")[2], keep_blank_values=True):
        out[k] = [*out[k], v] if isinstance(out.get(k), list) else [out[k], v] if k in out else v
    return out


def _body_view(matcher: Matcher, request: Request) -> Any:
    body = request.body
    if body.kind == "json":
        return matcher.body_view(body.value)
    form = multipart(request.headers, body.kind, body.value)
    return matcher.body_view(form) if form is not None else body.value


def _views(matcher: Matcher, recorded: Request, requested: Request) -> tuple[Any, Any]:
    """Both requests as the diff compares them: the body alone, or ``{"query", "body"}`` when either has a
    query that matching looks at (so a query-only difference is one line, not the whole body)."""
    a, b = _body_view(matcher, recorded), _body_view(matcher, requested)
    if "query" in matcher.match_on and ("?" in recorded.path or "?" in requested.path):
        return {"query": _query(recorded.path), "body": a}, {"query": _query(requested.path), "body": b}
    return a, b


def _hint(matcher: Matcher, diffs: list[str]) -> str:
    if diffs and all(d.startswith("$.query") for d in diffs):
        parts = ", ".join(f'"{p}"' for p in matcher.match_on if p != "query")
        return f"    2. If the query differs on every run, leave it out of matching: @pytest.mark.cassette(match_on=[{parts}])"
    return "    2. If a field differs on every run, ignore it: @pytest.mark.cassette(ignore_paths=['$.path.to.field'])"


def unplayed(ledger: Ledger, indices: list[int]) -> str:
    lines = [
        f"harness: {len(indices)} recorded interaction(s) were never played",
        f"  {context_line(ledger)}",
    ]
    for n in indices[:8]:
        lines.append(f"    #{n} {ledger.cassette.interactions[n].describe()}")
    if len(indices) > 8:
        lines.append(f"    ... and {len(indices) - 8} more")
    lines += [
        "  The code under test now does less than when it was recorded.",
        "  How to fix:",
        f"    1. If that is intended, re-record this test: {ledger.rerecord_command()}",
        "    2. Or allow it: @pytest.mark.cassette(allow_unplayed=True)",
    ]
    return "\n".join(lines)
