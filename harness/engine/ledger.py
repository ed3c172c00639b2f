"""The ledger: one place decides, for every kind of interaction, whether to replay, record or miss.

A seam (HTTP, MCP, a local tool) hands the ledger the interaction it is about to make, with its
request part filled in; :meth:`Ledger.plan` answers from the cassette (replay), hands out a slot for
the seam to fill as the answer arrives (record), lets the real thing run (``real``), or raises a
miss. One index, one key function (:class:`harness.matching.Matcher`, ``ignore_paths`` included) and
one notion of "already played" serve every kind.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.cassette.merge import moved_chunks
from harness.cassette.model import Body, Cassette, HttpInteraction, Interaction, Request, Response
from harness.config import Settings
from harness.engine import reports
from harness.errors import cassette_miss
from harness.jsonutil import canonical
from harness.matching import Index, Matcher, wire_kind
from harness.redact import Redactor, stable_url

#: Content encodings replay can redo (with zlib): their header is kept with the decoded body.
ENCODINGS = frozenset({"gzip", "x-gzip", "deflate", "identity"})


def replayable_encoding(encoding: str) -> bool:
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    return bool(codings) and all(c in ENCODINGS for c in codings)


@dataclass(slots=True)
class Plan:
    """What to do with one interaction: answer it with ``replay``, fill ``slot`` while recording, or
    (``real``) let the real thing run unrecorded."""

    replay: Any = None
    slot: int = -1

    @property
    def real(self) -> bool:
        """Neither replayed nor recorded: the real thing runs, and nothing is noted."""
        return self.replay is None and self.slot < 0


@dataclass
class Substitution:
    """What happened during :meth:`Ledger.substitute`: whether the stand-in was played, and the misses."""

    played: bool = False
    misses: list[BaseException] = field(default_factory=list)


class Ledger:
    """The running cassette of one test: what was recorded, what was played, what missed."""

    def __init__(
        self,
        settings: Settings,
        cassette: Cassette,
        *,
        replaying: bool,
        recording: bool,
        loaded: int = 0,
        nodeid: str = "",
        rootdir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.cassette = cassette
        self.replaying = replaying
        self.recording = recording
        self.nodeid = nodeid
        #: pytest's rootdir: the re-record command starts with ``cd <rootdir>`` (works pasted anywhere).
        self.rootdir = rootdir
        #: How many interactions the file held when the test started (the reports' context line).
        self.loaded = loaded
        self.matcher = Matcher(settings.match_on, settings.ignore_paths)
        self.redactor = Redactor(settings.redact_headers, settings.redact_patterns)
        self.misses: list[BaseException] = []
        #: Recordings still streaming (slot -> sink): finished when the test ends.
        self.pending: dict[int, Any] = {}
        #: Called with the request's URL when a replayed stream reaches the point where the recording's
        #: client stopped reading it (harness.seams.sessions ends the session runner's idle wait there).
        self.on_held: list[Callable[[str], None]] = []
        self._index: Index | None = None
        #: ``stable_url`` of the URLs requested (a few per test), for :meth:`plan_http`.
        self._stable_urls: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- the one decision ---------------------------------------------------------------------

    def key(self, item: Interaction) -> tuple[Any, ...]:
        """What replay matches ``item`` on, for any kind (``match_on`` and ``ignore_paths`` applied)."""
        return item.key(self.matcher)

    def plan(self, item: Interaction, *, real: bool = False, replay_only: bool = False) -> Plan:
        """Decide how to answer ``item``; ``real``: run it for real even when it is recorded;
        ``replay_only``: the seam cannot reach the real thing (an MCP server replayed under
        ``new_episodes``), so an unrecorded ``item`` is a miss, never a slot to fill with a made-up answer."""
        with self._lock:
            if self.replaying:
                if self._index is None:
                    self._index = self._build_index()
                found = self._index.take(self.key(item))
                if found is not None:
                    self.cassette.played.append(found)
                    return Plan() if real else Plan(replay=self.cassette.interactions[found])
            if self.recording and not replay_only:
                slot = len(self.cassette.interactions)
                self.cassette.interactions.append(item)
                self.cassette.recorded.append(slot)
                return Plan(slot=slot)
            if real:
                return Plan()
        miss = cassette_miss(reports.miss(self, item, replay_only=replay_only and self.recording))
        self.misses.append(miss)
        raise miss

    def plan_http(self, method: str, url: str, raw_headers: Sequence[tuple[bytes, bytes]], body: bytes) -> Plan:
        """:meth:`plan` of :meth:`http_request`, the HTTP seams' call: a request that repeats a
        recorded one byte for byte (method, URL, content type, body) is answered from the index's
        ``exact`` map, without being parsed, scrubbed or keyed; any other goes the whole way."""
        index = self._index
        if index is not None and index.exact:
            ctype = b""
            for name, value in raw_headers:
                if len(name) == 12 and name.lower() == b"content-type":
                    ctype = ctype + b", " + value if ctype else value
            stable = self._stable_urls.get(url)
            if stable is None:
                stable = stable_url(url)
                if len(self._stable_urls) < 1000:
                    self._stable_urls[url] = stable
            bodies = index.exact.get((method.upper(), stable, ctype.decode("latin-1")))
            queue = bodies.get(body) if bodies is not None else None
            if queue:
                with self._lock:
                    if queue and self._index is index:
                        found = queue.popleft()
                        self.cassette.played.append(found)
                        return Plan(self.cassette.interactions[found])
        return self.plan(self.http_request(method, url, raw_headers, body))

    def _build_index(self) -> Index:
        index = Index()
        items = self.cassette.interactions
        keys = [self.key(item) for item in items]
        for n, key in enumerate(keys):
            index.add(key, n)
        self._exact(index, items, keys)
        return index

    def _exact(self, index: Index, items: Sequence[Interaction], keys: list[tuple[Any, ...]]) -> None:
        """Fill ``index.exact`` with the recorded HTTP requests whose wire bytes give their key: their
        URL, content type and body are what scrubbing leaves as they are (a request with those bytes
        is stored, and so keyed, the same), and the body's kind follows from its bytes and content type.
        Headers matched (``match_on``), or a content type the settings drop, leave the map empty."""
        red = self.redactor
        if "headers" in self.matcher.match_on or red.is_secret_header("content-type") or "content-type" in red.drop:
            return
        wires: list[tuple[int, tuple[str, str, str], bytes]] = []
        same: dict[str, bool] = {}
        shared: dict[tuple[str, str, str], tuple[str, str, str]] = {}
        for n, item in enumerate(items):
            if not isinstance(item, HttpInteraction):
                continue
            request = item.request
            ctype = request.headers.get("content-type", "")
            if request.body.kind not in ("json", "text", "empty"):
                continue
            try:
                data = request.body.bytes()
            except UnicodeEncodeError:  # a lone surrogate: no request's bytes give it
                continue
            if wire_kind(ctype, data) != request.body.kind:
                continue
            url = request.url
            if url not in same:
                same[url] = red.url(url) == url
            if same[url]:
                wire = (request.method.upper(), url, ctype)
                wires.append((n, shared.setdefault(wire, wire), data))
        # Scrubbing leaves a text without needles as it is (and each of its parts: a content type
        # sent in two headers is scrubbed part by part, then joined).
        ctypes = list(dict.fromkeys(wire[2] for _, wire, _ in wires))
        ctype_clean = dict(zip(ctypes, red.scanner.needle_free([c.encode("utf-8") for c in ctypes]), strict=True))
        bodies = red.scanner.needle_free([data for _, _, data in wires])
        for (n, wire, data), body_clean in zip(wires, bodies, strict=True):
            if body_clean and ctype_clean[wire[2]]:
                index.add_exact(wire, data, keys[n])

    def replay_from_start(self) -> None:
        """Forget what was played: the next interactions replay the cassette from its first one.

        ``harness.strategies`` calls it around each generated variant of a recorded stream.
        """
        with self._lock:
            self.cassette.played.clear()
            self._index = None

    @contextlib.contextmanager
    def substitute(
        self, index: int, stand_in: Interaction, before: Sequence[Interaction] = (), *, cut_short_ok: bool = False
    ) -> Iterator[Substitution]:
        """For the block, ``stand_in`` (preceded by ``before``) replays in place of interaction
        ``index``, and the cassette replays from its first interaction, so the block can run the
        whole agent loop again (the fuzzer's variants). Afterwards the cassette is put back, what
        was played before the block stays played, and what the block played counts as played
        (``cut_short_ok``: everything does, as a fault may legitimately end the run early). The
        block's misses are taken out of the ledger and handed back in the :class:`Substitution`."""
        c = self.cassette
        saved = list(c.interactions)
        played_before = list(c.played)
        misses_before = len(self.misses)
        swapped, origin = list(saved), list(range(len(saved)))
        swapped[index] = stand_in
        for extra in reversed(before):
            swapped.insert(index, extra)
            origin.insert(index, index)
        with self._lock:
            c.interactions[:] = swapped
        self.replay_from_start()
        result = Substitution()
        try:
            yield result
        finally:
            played = [origin[i] for i in c.played if i < len(origin)]
            result.played = index in played
            with self._lock:
                c.interactions[:] = saved
            self.replay_from_start()
            rest = range(len(saved)) if cut_short_ok else ()
            c.played.extend(dict.fromkeys([*played_before, *played, *rest]))
            result.misses = self.misses[misses_before:]
            del self.misses[misses_before:]

    def rerecord_command(self) -> str:
        return reports.rerecord_command(self.nodeid, bool(self.settings.path), self.rootdir)

    def scrubbed(self, value: Any) -> Any:
        """A JSON input (MCP params, a tool's input) as the file will hold it, so that a replayed
        call matches the stored one: secrets scrubbed (the value itself when it holds none)."""
        if value is not None and self.redactor.contains_secret(canonical(value)):
            return self.redactor.value(value)
        return value

    def finish_pending(self) -> None:
        for sink in list(self.pending.values()):
            sink.done()

    # -- HTTP: the request as stored, the answer as it arrives -------------------------------

    def http_request(self, method: str, url: str, raw_headers: Iterable[tuple[bytes, bytes]], body: bytes) -> HttpInteraction:
        """The interaction a request would be stored as: headers, URL and body scrubbed (the file's
        form, so a replayed request matches the stored one), loopback ports dropped."""
        red = self.redactor
        headers = red.headers((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw_headers)
        stored = red.body(Body.from_bytes(body, headers.get("content-type", "")), body)
        return HttpInteraction(Request(method.upper(), red.url(stable_url(url)), headers, stored))

    def headers_arrived(self, slot: int, t0: float) -> None:
        self.cassette.interactions[slot].elapsed_ms = round((time.perf_counter() - t0) * 1000, 1)  # type: ignore[attr-defined]

    def fail_http(self, slot: int, exc: BaseException, t0: float) -> None:
        item: Any = self.cassette.interactions[slot]
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
        awaits: list[list[Any]] | None = None,
        client_closed: bool = False,
    ) -> None:
        headers = self.redactor.headers(raw_headers)
        encoding = next((v for k, v in raw_headers if k.lower() == "content-encoding"), "")
        if encoding and replayable_encoding(encoding):
            # The body is stored decoded (readable); the header says it came encoded, and replay encodes
            # it again to match (harness.seams.http). An encoding replay cannot redo stays dropped.
            headers["content-encoding"] = encoding
        parsed = Body.from_bytes(body, headers.get("content-type", ""))
        stored = self.redactor.body(parsed, body)
        # One chunk holding the whole body is the ordinary case: no need to store it.
        keep_chunks: list[list[float]] | None = chunks if (len(chunks) > 1 or error or awaits) else None
        if keep_chunks is not None and sum(int(c[0]) for c in keep_chunks) != len(stored.bytes()):
            # Scrubbing changed the body: move the chunk ends to match, keeping their count and timings.
            keep_chunks = moved_chunks(keep_chunks, body, parsed, stored)
        item: Any = self.cassette.interactions[slot]
        item.response = Response(status, headers, stored, keep_chunks, error, awaits=awaits or None, client_closed=client_closed)
