"""The engine one test uses: binds a cassette to the seams, for record or replay.

The plugin builds one :class:`Session` per test that uses a cassette, starts it before the test
and stops it after; everything else (the seams, the fixtures) talks to the session.
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import re
import shlex
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import active, sse
from harness.cassette import format as cassette_format
from harness.cassette.model import Body, Cassette, HttpInteraction, Request, Response
from harness.cassette.store import atomic_write, claim_for_run, write_lock
from harness.config import Settings
from harness.errors import NoCassetteError, UnplayedInteractions, cassette_miss
from harness.matching import Index, Matcher, diff, distance
from harness.redact import Redactor


@dataclass(slots=True)
class Plan:
    """What to do with one request: answer it from ``replay``, or send it and record into ``slot``."""

    replay: HttpInteraction | None = None
    slot: int = -1


_PROCESS_RUN = f"process-{uuid.uuid4().hex}"


def run_id() -> str:
    """This pytest run: the xdist workers of one run share xdist's test-run id; without xdist, the
    process. (Several pytest runs in one process, as pytester's in-process runs are, count as one.)"""
    xdist = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return f"xdist-{xdist}" if xdist else _PROCESS_RUN


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class Session:
    def __init__(self, settings: Settings, path: Path, nodeid: str = "", *, old_text: str | None = None) -> None:
        self.settings = settings
        self.nodeid = nodeid
        mode = settings.record_mode
        existed = path.exists()
        self._old: list[Any] = []
        self._old_text: str | None = None
        if existed:
            self._old_text = cassette_format.read_text(path) if old_text is None else old_text
            self._old = cassette_format.loads(self._old_text, path)
        self.replaying = mode in ("none", "new_episodes") or (mode == "once" and existed)
        self.recording = mode in ("all", "new_episodes") or (mode == "once" and not existed)
        keep = self._old if self.replaying else []
        self.cassette = Cassette(path=path, interactions=list(keep), mode=mode, existed=existed)
        self.matcher = Matcher(settings.match_on, settings.ignore_paths)
        self.redactor = Redactor(settings.redact_headers, settings.redact_patterns)
        self.misses: list[BaseException] = []
        self.pending: dict[int, Any] = {}
        self._index: Index | None = None
        self._lock = threading.Lock()
        self._seams: list[Any] = []
        self._t_headers: dict[int, float] = {}

    # -- life cycle -------------------------------------------------------------------------

    def rerecord_command(self) -> str:
        target = shlex.quote(self.nodeid) if self.nodeid else "<test id>"
        if self.settings.path:
            # Shared through the marker's path: 'all' on this test alone would rewrite the file with
            # its traffic only, and the other tests using it would then miss. Which tests those are
            # is not known here, so say how to re-record it whole. (A shell comment: the line still
            # runs as it is when pasted.)
            return (
                f"pytest {target} --record-mode=new_episodes  # shared cassette: record mode 'all' on this test alone"
                " would keep only its traffic; to re-record it whole, run every test that uses it with record mode 'all'"
            )
        return f"pytest {target} --record-mode=all"

    def start(self) -> None:
        if self.settings.record_mode == "none" and not self.cassette.existed:
            raise NoCassetteError(_rel(self.cassette.path), "none", self.rerecord_command())
        from harness.seams.http import HttpSeam
        from harness.seams.mcp import McpSeam
        from harness.seams.tools import ToolSeam

        active.activate(self)
        for seam in (HttpSeam, ToolSeam, McpSeam):
            self.add_seam(seam(self))

    def add_seam(self, seam: Any) -> None:
        seam.install()
        self._seams.append(seam)

    def stop(self) -> None:
        """Undo every patch, then write what was recorded. Always call it (``finally``)."""
        try:
            while self._seams:
                self._seams.pop().uninstall()
        finally:
            active.deactivate(self)
            for sink in list(self.pending.values()):
                sink.done()
            if self.recording:
                self.save()

    def replay_from_start(self) -> None:
        """Forget what was played: the next requests replay the cassette from its first interaction.

        ``harness.strategies`` calls it around each generated variant of a recorded stream.
        """
        with self._lock:
            self.cassette.played.clear()
            self._index = None

    def check(self) -> None:
        """Raise what the test must fail on even if its code swallowed it: misses, then unplayed."""
        if self.misses:
            raise self.misses[0]
        if self.replaying and not self.settings.allow_unplayed:
            unplayed = self.cassette.unplayed
            if unplayed:
                raise UnplayedInteractions(self._unplayed_report(unplayed))

    # -- HTTP -------------------------------------------------------------------------------

    def _stored_request(self, method: str, url: str, raw_headers: Any, body: bytes) -> Request:
        red = self.redactor
        headers = red.headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers)
        stored = Body.from_bytes(body, headers.get("content-type", ""))
        if stored.kind in ("json", "text") and red.contains_secret(body.decode("utf-8", "replace")):
            stored = Body(stored.kind, red.value(stored.value))
        return Request(method.upper(), red.url(stable_url(url)), headers, stored)

    def _key(self, request: Request) -> tuple[Any, ...]:
        return self.matcher.key(request.method, request.url, request.headers, request.body.kind, request.body.value)

    def _key_of(self, item: Any) -> tuple[Any, ...]:
        return self._key(item.request) if isinstance(item, HttpInteraction) else item.key()

    def _build_index(self) -> Index:
        index = Index()
        for n, item in enumerate(self.cassette.interactions):
            index.add(self._key_of(item), n)
        return index

    def plan_item(self, item: Any, *, real: bool = False) -> tuple[str, Any]:
        """For non-HTTP seams: ("replay", recorded item), ("record", slot) or ("real", None)."""
        with self._lock:
            if self.replaying:
                if self._index is None:
                    self._index = self._build_index()
                found = self._index.take(self._key_of(item))
                if found is not None:
                    self.cassette.played.append(found)
                    if not real:
                        return "replay", self.cassette.interactions[found]
                    return "real", None
            if self.recording:
                slot = len(self.cassette.interactions)
                self.cassette.interactions.append(item)
                self.cassette.recorded.append(slot)
                return "record", slot
            if real:
                return "real", None
        miss = cassette_miss(self._miss_report_item(item))
        self.misses.append(miss)
        raise miss

    def plan_http(self, method: str, url: str, raw_headers: Any, body: bytes) -> Plan:
        """Decide how to answer one request (called by the HTTP seam, on the hot path)."""
        request = self._stored_request(method, url, raw_headers, body)
        with self._lock:
            if self.replaying:
                if self._index is None:
                    self._index = self._build_index()
                found = self._index.take(self._key(request))
                if found is not None:
                    self.cassette.played.append(found)
                    return Plan(replay=self.cassette.interactions[found])
            if self.recording:
                slot = len(self.cassette.interactions)
                self.cassette.interactions.append(HttpInteraction(request))
                self.cassette.recorded.append(slot)
                return Plan(slot=slot)
        miss = cassette_miss(self._miss_report(request))
        self.misses.append(miss)
        raise miss

    def headers_arrived(self, slot: int, t0: float) -> None:
        self._t_headers[slot] = time.perf_counter()
        self.cassette.interactions[slot].elapsed_ms = round((self._t_headers[slot] - t0) * 1000, 1)

    def fail_http(self, slot: int, exc: BaseException, t0: float) -> None:
        item = self.cassette.interactions[slot]
        item.error = {"type": type(exc).__name__, "message": str(exc)}
        item.elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)

    def finish_http(
        self,
        slot: int,
        status: int,
        raw_headers: list[tuple[str, str]],
        body: bytes,
        chunks: list[list[float]],
        error: dict[str, str] | None,
    ) -> None:
        headers = self.redactor.headers(raw_headers)
        stored = parsed = Body.from_bytes(body, headers.get("content-type", ""))
        if stored.kind in ("json", "text", "sse") and self.redactor.contains_secret(body.decode("utf-8", "replace")):
            stored = Body(stored.kind, self.redactor.value(stored.value), stored.eol)
        # One chunk holding the whole body is the ordinary case: no need to store it.
        keep_chunks: list[list[float]] | None = chunks if (len(chunks) > 1 or error) else None
        if keep_chunks is not None and sum(int(c[0]) for c in keep_chunks) != len(stored.bytes()):
            # Scrubbing changed the body's length: move the chunk ends to match, keeping their count and timings.
            keep_chunks = moved_chunks(keep_chunks, body, parsed, stored)
        self.cassette.interactions[slot].response = Response(status, headers, stored, keep_chunks, error)

    # -- writing ----------------------------------------------------------------------------

    def save(self) -> None:
        """Write the cassette: under its lock, merged with what other sessions wrote meanwhile.

        Tests sharing one cassette (the marker's ``path``) on several xdist workers each load it at
        their start and write it at their end; written whole, the last writer would drop what the
        others recorded. So the file is read again under a cross-process lock and merged:

        * ``once`` / ``new_episodes``: what other sessions added since this one loaded the file is
          kept, and this session's recordings are appended, except those another session already
          wrote (tests sharing a cassette often make the same requests).
        * ``all``, shared cassette: the cassette becomes what *this run* records into it. The first
          session of the run to write it replaces it; the later ones (on any worker) merge into that
          as above. A single test re-recorded alone so leaves only its own traffic (the re-record
          command says so), and a whole run of its tests rebuilds it whole. Interactions that were
          already in the file before the run keep their place and timings, so re-recording an
          unchanged shared cassette leaves it byte for byte unchanged whatever order the workers
          ran in; new ones follow, in the order they were written.
        * ``all``, the test's own cassette: replaced, as nobody else writes it.
        """
        recorded = set(self.cassette.recorded)
        hook = self.settings.before_record
        items: list[tuple[Any, bool]] = []
        for n, item in enumerate(self.cassette.interactions):
            if hook is not None and n in recorded:
                item = hook(item)
            if item is not None:
                items.append((item, n in recorded))
        path = self.cassette.path
        with write_lock(path):
            try:
                disk: str | None = cassette_format.read_text(path)
            except FileNotFoundError:
                disk = None
            interactions = self._merged(items, disk)
            text = self.redactor.text(cassette_format.dumps(interactions))
            if text != disk:
                atomic_write(path, text)

    def _merged(self, items: list[tuple[Any, bool]], disk: str | None) -> list[Any]:
        """What to write (see :meth:`save`), given the file's text on disk now."""
        path = self.cassette.path
        mine = [item for item, _ in items]
        if self.settings.record_mode == "all" and self.settings.path:
            first, before = claim_for_run(path, run_id(), disk)
            current = [] if first or disk is None else cassette_format.loads(disk, path)
            merged = current + self._missing(mine, current)
            return self._in_pre_run_order(merged, cassette_format.loads(before, path) if before else [])
        base = self._old
        if self.settings.record_mode != "all" and disk is not None and disk != self._old_text:
            # Another session wrote the file since this one loaded it: keep all it holds now.
            current = cassette_format.loads(disk, path)
            theirs = self._missing(current, self._old)
            mine = current + self._missing([item for item, rec in items if rec], theirs)
            base = current
        # Keep the old timings where nothing else changed, so re-recording an unchanged exchange
        # leaves the file unchanged.
        for n, item in enumerate(mine):
            if n < len(base) and hasattr(item, "timeless") and getattr(item, "kind", None) == getattr(base[n], "kind", None):
                if item.timeless() == base[n].timeless():
                    mine[n] = base[n]
        return mine

    def _canonical(self, item: Any) -> str:
        """An interaction as written, without its timings: equal for the same exchange recorded twice."""
        return self.redactor.text(cassette_format.dumps([item.timeless() if hasattr(item, "timeless") else item]))

    def _missing(self, items: list[Any], present: list[Any]) -> list[Any]:
        """``items`` minus ``present``, counting duplicates (a request made twice is kept twice)."""
        if not present:
            return list(items)
        counts: dict[str, int] = {}
        for item in present:
            key = self._canonical(item)
            counts[key] = counts.get(key, 0) + 1
        out = []
        for item in items:
            key = self._canonical(item)
            if counts.get(key, 0):
                counts[key] -= 1
            else:
                out.append(item)
        return out

    def _in_pre_run_order(self, items: list[Any], before: list[Any]) -> list[Any]:
        """Interactions that were in the file before the run first, as they were (place and
        timings), then the new ones in their order."""
        if not before:
            return items
        places: dict[str, list[int]] = {}
        for n, item in enumerate(before):
            places.setdefault(self._canonical(item), []).append(n)
        kept: list[int] = []
        new: list[Any] = []
        for item in items:
            free = places.get(self._canonical(item))
            if free:
                kept.append(free.pop(0))
            else:
                new.append(item)
        return [before[n] for n in sorted(kept)] + new

    # -- reports ----------------------------------------------------------------------------

    def _context_line(self) -> str:
        c = self.cassette
        return f"cassette: {_rel(c.path)} (mode: {c.mode}, {len(self._old)} recorded, {len(c.played)} played)"

    def _miss_report(self, request: Request) -> str:
        lines = [
            "harness: no recorded response matches this request" + ("" if self.replaying else " (recording is off)"),
            f"  {request.method} {request.path}",
            f"  {self._context_line()}",
        ]
        closest = self._closest(request)
        if closest is not None:
            n, item, diffs = closest
            played = " (already played)" if n in self.cassette.played else ""
            lines.append(
                f"  closest recorded request: #{n} {item.request.method} {item.request.path}{played}; recorded != requested:"
            )
            lines.extend(
                f"    {d}"
                for d in diffs or ["(the same request: it was already played; the test now sends it more often than recorded)"]
            )
        elif self.cassette.interactions:
            lines.append("  no recorded request has this method and path")
        lines += [
            "  How to fix:",
            "    1. If the change is intended, re-record this test:",
            f"       {self.rerecord_command()}",
            "    2. If a field differs on every run, ignore it: @pytest.mark.cassette(ignore_paths=['$.path.to.field'])",
        ]
        return "\n".join(lines)

    def _miss_report_item(self, item: Any) -> str:
        lines = [
            f"harness: no recorded {item.kind} call matches this one" + ("" if self.replaying else " (recording is off)"),
            f"  {item.describe()}",
            f"  {self._context_line()}",
        ]
        same = [
            (n, other)
            for n, other in enumerate(self.cassette.interactions)
            if getattr(other, "kind", None) == getattr(item, "kind", None)
            and getattr(other, "name", None) == getattr(item, "name", None)
        ]
        if same:
            n, other = min(same, key=lambda p: (p[0] in self.cassette.played, distance(p[1].input, item.input), p[0]))
            lines.append(f"  closest recorded call: #{n} {other.describe()}; recorded != requested:")
            lines.extend(
                f"    {d}"
                for d in diff(other.input, item.input)
                or ["(the same call, already played: it now happens more often than recorded)"]
            )
        lines += ["  How to fix:", "    1. If the change is intended, re-record this test:", f"       {self.rerecord_command()}"]
        return "\n".join(lines)

    def _closest(self, request: Request) -> tuple[int, HttpInteraction, list[str]] | None:
        want = _view(self.matcher, request)
        best: tuple[tuple[int, int, int], int, HttpInteraction, Any] | None = None
        for n, item in enumerate(self.cassette.interactions):
            if not isinstance(item, HttpInteraction) or item.request.method != request.method:
                continue
            same_path = item.request.path.split("?")[0] == request.path.split("?")[0]
            if not same_path:
                continue
            have = _view(self.matcher, item.request)
            rank = (n in self.cassette.played, distance(have, want), n)
            if best is None or rank < best[0]:
                best = (rank, n, item, have)
        if best is None:
            return None
        _, n, item, have = best
        return n, item, diff(have, want)

    def _unplayed_report(self, unplayed: list[int]) -> str:
        lines = [
            f"harness: {len(unplayed)} recorded interaction(s) were never played",
            f"  {self._context_line()}",
        ]
        for n in unplayed[:8]:
            lines.append(f"    #{n} {_describe(self.cassette.interactions[n])}")
        if len(unplayed) > 8:
            lines.append(f"    ... and {len(unplayed) - 8} more")
        lines += [
            "  The code under test now does less than when it was recorded.",
            "  How to fix:",
            f"    1. If that is intended, re-record this test: {self.rerecord_command()}",
            "    2. Or allow it: @pytest.mark.cassette(allow_unplayed=True)",
        ]
        return "\n".join(lines)


_LOOPBACK = re.compile(r"^(\w+://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])):\d+(?=/|$)")


def stable_url(url: str) -> str:
    """Loopback ports change on every run: drop them, so re-recording gives the same file."""
    return _LOOPBACK.sub(r"\1", url) if "://127." in url or "://localhost" in url or "://[::1]" in url else url


def moved_chunks(chunks: list[list[float]], wire: bytes, parsed: Body, stored: Body) -> list[list[float]]:
    """The chunk list of ``wire`` (the bytes as they came), moved onto ``stored.bytes()`` (the same
    body after scrubbing): same number of chunks, same timings, each boundary where it was relative
    to the text around it.

    A stream is aligned event by event (an event's size changes only where a secret was scrubbed
    from it), and inside an event that changed, a boundary before the change stays, one after it
    keeps its distance to the event's end, and one inside the scrubbed text moves proportionally.
    Collapsing the whole body into one chunk would lose the boundaries the SDKs' stream decoders
    are tested against and the pacing of replay.
    """
    new = stored.bytes()
    old_parts: list[bytes] = [wire]
    new_parts: list[bytes] = [new]
    if parsed.kind == "sse" and stored.kind == "sse" and len(parsed.value) == len(stored.value):
        olds = [sse.render_entry(e, parsed.eol).encode("utf-8") for e in parsed.value]
        news = [sse.render_entry(e, stored.eol).encode("utf-8") for e in stored.value]
        if b"".join(olds) == wire and b"".join(news) == new:
            old_parts, new_parts = olds, news
    old_ends = list(itertools.accumulate(map(len, old_parts)))
    new_ends = list(itertools.accumulate(map(len, new_parts)))
    out: list[list[float]] = []
    at_old = at_new = 0
    for chunk in chunks:
        at_old += int(chunk[0])
        j = min(bisect.bisect_left(old_ends, at_old), len(old_parts) - 1)
        start_old, start_new = old_ends[j] - len(old_parts[j]), new_ends[j] - len(new_parts[j])
        end = start_new + _moved_offset(old_parts[j], new_parts[j], at_old - start_old)
        out.append([end - at_new, *chunk[1:]])
        at_new = end
    if at_new != len(new):  # the chunks did not cover the wire bytes: one chunk, as loadable as can be
        return [[len(new), *chunks[-1][1:]]] if chunks else []
    return out


def _moved_offset(old: bytes, new: bytes, rel: int) -> int:
    """Where offset ``rel`` of ``old`` is in ``new``, the same text with a part replaced."""
    if old == new or rel <= 0:
        return min(max(rel, 0), len(new))
    if rel >= len(old):
        return len(new)
    short = min(len(old), len(new))
    prefix = 0
    while prefix < short and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < short - prefix and old[-1 - suffix] == new[-1 - suffix]:
        suffix += 1
    if rel <= prefix:
        return rel
    if rel >= len(old) - suffix:
        return len(new) - (len(old) - rel)
    old_mid, new_mid = len(old) - prefix - suffix, len(new) - prefix - suffix
    return prefix + (rel - prefix) * new_mid // old_mid


def _view(matcher: Matcher, request: Request) -> Any:
    body = request.body
    view = matcher.body_view(body.value) if body.kind == "json" else body.value
    return {"query": request.path.partition("?")[2], "body": view} if "?" in request.path else view


def _describe(item: Any) -> str:
    if isinstance(item, HttpInteraction):
        return f"{item.request.method} {item.request.path}"
    describe = getattr(item, "describe", None)
    return describe() if describe else json.dumps(getattr(item, "kind", "?"))
