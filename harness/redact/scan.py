"""The secret scan's engine: the catalogue (and any extra patterns) as one combined pattern, tried
only where a match can start.

Where a match can start is found by a few *probes* run on the text as it is (no lower-cased copy):
each is a regular expression that starts with one literal character or string, which ``re`` finds
at C speed, and checks what must surround it with look-arounds (``-`` after ``sk``, ``xox[bpas]``
or ``GOCSPX``; ``=`` after a credential name; ``:`` after a quoted credential name; ``A`` before
``KIA``, ``SIA`` or ``Iza``). About ten passes cover the whole catalogue, where one literal search
per needle took twenty-two (the scan ran at ~43 MB/s; see the README's performance table).

A probe is written for the exact pattern of the entries it covers (:data:`_COVERED` holds a
fingerprint of each): an entry whose pattern changed, or any entry a probe does not cover, is
found through its needles instead, the slower way (each needle searched in the text lower-cased
as ASCII), so a changed catalogue can make the scan slower, never blind. ``tests/unit`` checks
that the fast scan finds exactly what the combined pattern's ``finditer`` finds."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from harness.redact.catalogue import _NAME_REACH, CATALOGUE, REDACTED, Secret

#: The credential names by length: the ends of every name of ``_SECRET_NAMES`` (catalogue), and
#: the bare ``key``, ``token``, ``auth``, ``sig``, ``signature`` of a query string.
_PARAM_ENDS = {
    3: "key|sig",
    4: "auth",
    5: "token",
    6: "secret|passwd",
    8: "password|verifier",
    9: "assertion|signature",
    10: "credential",
}
#: Tried first at each colon (most colons of a JSON text fail it): the last two letters of every
#: name of _FIELD_ENDS and a quote before it, or whitespace (a field needs 5 characters before its colon).
_FIELD_GUARD = "(?<=[eEwWrRoOaA][yYnNtTdDrReElL][\"']:|[\\s\\S]{2}\\s:)"
_FIELD_ENDS = {3: "key", 5: "token", 6: "secret|passwd", 8: "password|verifier", 9: "assertion|signature", 10: "credential"}


@dataclass(frozen=True)
class Window:
    """A probe's alternative: a hit at offset ``q`` means a match may start in ``[q - back, q - front]``;
    with ``spaces``, ``q`` is first moved back over the whitespace before it."""

    check: str
    back: int
    front: int = 0
    spaces: bool = False
    guard: str = ""  # a cheaper check that the alternatives with this guard share (tried once, first)


#: (what the probe starts with, its alternatives, the catalogue entries whose every match it finds).
_PROBES: tuple[tuple[str, tuple[Window, ...], tuple[str, ...]], ...] = (
    (
        "-",
        # Each with the shortest run of key characters its pattern needs after it ("task-list" fails here).
        tuple(
            Window(f"(?<={before}-)(?={after})", n, n, guard="(?<=[kbpasX]-)")
            for before, after, n in (
                ("sk", r"[A-Za-z0-9_\-]{12}", 2),
                ("xox[bpas]", r"[A-Za-z0-9\-]{10}", 4),
                ("GOCSPX", r"[A-Za-z0-9_\-]{10}", 6),
            )
        ),
        ("anthropic key", "openai key", "slack token", "google client secret"),
    ),
    ("g", (Window("h[pousr]_", 0), Window("ithub_pat_", 0)), ("github token",)),
    ("A", (Window("(?:KIA|SIA|Iza)", 0),), ("aws access key", "google api key")),
    (".", (Window("(?<=ya29\\.)", 4, 4),), ("google oauth token",)),
    ("/", (Window("(?<=1/)(?=/0)", 1, 1),), ("google refresh token",)),
    ("J", (Window(r"(?<=eyJ)(?=[A-Za-z0-9_\-]{8})", 2, 2),), ("jwt",)),
    ("b", (Window(r"(?ai:earer)(?=\s)", 0),), ("bearer token",)),
    ("B", (Window(r"(?ai:earer)(?=\s)", 0),), ("bearer token",)),
    ("=", tuple(Window(f"(?<=(?ai:{ends})=)", n + _NAME_REACH, n) for n, ends in _PARAM_ENDS.items()), ("credential parameter",)),
    (
        ":",
        (
            Window("//(?=[^/\\s:@\"'<>\\\\]{1,128}:)", 0),  # a URL's user and password
            *(
                Window(f"(?<=(?ai:{ends})[\"']:)", n + 1 + _NAME_REACH, n + 1, guard=_FIELD_GUARD)
                for n, ends in _FIELD_ENDS.items()
            ),
            # Whitespace before the colon (``"api_key" : "..."``): rare; the name is looked for before it.
            Window(r"(?<=\s:)", 10 + 1 + _NAME_REACH, 0, spaces=True, guard=_FIELD_GUARD),
        ),
        ("url userinfo", "credential field"),
    ),
)
#: The patterns the probes were written for (a fingerprint of each covered entry's pattern).
_COVERED: dict[str, frozenset[str]] = {
    "anthropic key": frozenset({"55dbcf18"}),
    "openai key": frozenset({"e2f73fd8"}),
    "bearer token": frozenset({"fef839bf"}),
    "aws access key": frozenset({"7f8a6787"}),
    "github token": frozenset({"1ec4609d"}),
    "slack token": frozenset({"621c67f3"}),
    "google api key": frozenset({"21d332f3"}),
    "google oauth token": frozenset({"9fe925aa"}),
    "google refresh token": frozenset({"277bc00a"}),
    "google client secret": frozenset({"51d8c237"}),
    "jwt": frozenset({"718271fe"}),
    "url userinfo": frozenset({"3e6a09a3"}),
    "credential parameter": frozenset({"1057c3ef"}),
    "credential field": frozenset({"7db15dd7", "689b1bc2"}),  # JSON, and a Python repr
}


def _probe(start: str, windows: tuple[Window, ...]) -> re.Pattern[str]:
    """The probe's pattern: ``start``, then its alternatives (those sharing a guard behind it), each
    ending in an empty group that tells which matched."""
    parts: list[str] = []
    for guard, group in itertools.groupby(enumerate(windows), key=lambda nw: nw[1].guard):
        alternatives = "|".join(f"{w.check}(?P<w{n}>)" for n, w in group)
        parts.append(f"{guard}(?:{alternatives})" if guard else alternatives)
    return re.compile(f"{re.escape(start)}(?:{'|'.join(parts)})")


def fingerprint(secret: Secret) -> str:
    return hashlib.sha256(secret.pattern.encode()).hexdigest()[:8]


def _core(needle: bytes) -> bytes:
    """What the slow path searches for to find ``needle``: its name without the ``=``/quote after
    it, or a shorter prefix that several needles share (each literal search is one pass)."""
    for shared in (b"gh", b"passw"):
        if needle.startswith(shared):
            return shared
    return needle.rstrip(b"=\"'") or needle


class Scanner:
    """The catalogue (and any extra patterns) as one combined pattern behind a prefilter.

    The probes (module docstring) give the entries that may match in a text and where their
    matches may start; entries no probe covers are found through their needles: the text is read
    lower-cased as ASCII (one byte a character, anything else a ``?``) and each needle is found by a
    literal search (through the shortest needle it starts with: ``sk-`` finds ``sk-ant-``, ``key``
    finds ``key=``, ``key"``, ``key'``), a match starting up to the entry's ``reach`` before it. The
    combined pattern of the entries that may match is then tried only there, in order, the way
    ``finditer`` would meet them. A pattern with no needles (a user's) means a scan of the whole text."""

    def __init__(self, extra: Iterable[str] = (), *, defaults: bool = True) -> None:
        self.entries = [*(CATALOGUE if defaults else ()), *(Secret(f"pattern {p}", p, ()) for p in extra)]
        self._compiled: dict[tuple[int, ...], re.Pattern[str] | None] = {}
        self._always = tuple(i for i, e in enumerate(self.entries) if not e.needles)
        self.pattern = self._combined(tuple(range(len(self.entries))))  # everything (checked by re.compile now)
        covered = {i for i, e in enumerate(self.entries) if fingerprint(e) in _COVERED.get(e.name, ())}
        # The probes: one pattern each, its alternatives told apart by an empty group (w0, w1, ...).
        self._fast: list[tuple[re.Pattern[str], tuple[Window, ...], frozenset[int]]] = []
        for start, windows, names in _PROBES:
            ids = frozenset(i for i in covered if self.entries[i].name in names)
            if ids:
                self._fast.append((_probe(start, windows), windows, ids))
        self.covered = frozenset().union(*(ids for _, _, ids in self._fast))
        self._probes = self._needle_probes(range(len(self.entries)))
        self._slow = self._needle_probes(i for i in range(len(self.entries)) if i not in self.covered)

    def _needle_probes(self, which: Iterable[int]) -> list[tuple[bytes, tuple[tuple[bytes, frozenset[int], int], ...]]]:
        """(a searched prefix, the needles it finds with their entries and reach) for the needles of ``which``."""
        needles: dict[bytes, tuple[set[int], int]] = {}
        for i in which:
            e = self.entries[i]
            for n in e.needles:
                ids, reach = needles.setdefault(n.lower().encode("ascii"), (set(), 0))
                ids.add(i)
                needles[n.lower().encode("ascii")] = (ids, max(reach, e.reach))
        probes: dict[bytes, list[tuple[bytes, frozenset[int], int]]] = {}
        cores = sorted({_core(n) for n in needles}, key=len)
        for needle, (ids, reach) in needles.items():
            core = next(c for c in cores if needle.startswith(c))
            probes.setdefault(core, []).append((needle, frozenset(ids), reach))
        return [(core, tuple(found)) for core, found in probes.items()]

    def _combined(self, which: tuple[int, ...]) -> re.Pattern[str] | None:
        found = self._compiled.get(which, False)
        if found is not False:
            return found  # type: ignore[return-value]
        parts = [f"(?P<s{i}>{self.entries[i].pattern.replace('(?P<keep>', f'(?P<k{i}>')})" for i in which]
        compiled = re.compile("|".join(parts)) if parts else None
        self._compiled[which] = compiled
        return compiled

    def _starts(self, text: str) -> tuple[re.Pattern[str] | None, list[tuple[int, int]] | None]:
        """The combined pattern of the entries that may match in ``text`` (None: none can), and
        the windows ``(first, last)`` where a match may start, sorted (None: anywhere)."""
        present: set[int] = set()
        windows: list[tuple[int, int]] = []
        for probe, alternatives, ids in self._fast:
            hit = False
            for m in probe.finditer(text):
                w = alternatives[int(m.lastgroup[1:])]  # type: ignore[index]
                q = m.start()
                if w.spaces:
                    while q > 0 and text[q - 1].isspace():
                        q -= 1
                windows.append((max(0, q - w.back), q - w.front))
                hit = True
            if hit:
                present |= ids
        if self._slow:
            self._slow_starts(text, present, windows)
        if self._always:  # a pattern with no needles may match anywhere: the whole text is searched
            return self._combined(tuple(sorted(present.union(self._always)))), None
        if not present:
            return None, None
        windows.sort()
        return self._combined(tuple(sorted(present))), windows

    def _slow_starts(self, text: str, present: set[int], windows: list[tuple[int, int]]) -> None:
        """The needles of the entries no probe covers, found in ``text`` lower-cased as ASCII."""
        low = text.encode("ascii", "replace").lower()  # one byte a character: offsets are the text's
        for core, found in self._slow:
            at = low.find(core)
            while at >= 0:
                for needle, ids, reach in found:
                    if low.startswith(needle, at):
                        present.update(ids)
                        windows.append((max(0, at - reach), at))
                at = low.find(core, at + 1)

    def needle_free(self, datas: list[bytes]) -> list[bool]:
        """For each UTF-8 text in ``datas``: True when it holds none of the needles, so that no
        secret can match in it (:meth:`matches` finds nothing); False when it may hold one (or when
        a pattern has no needles). One pass of each literal search over all the texts joined."""
        if self._always:
            return [False] * len(datas)
        joined = b"\n".join(datas).lower()
        ends: list[int] = []
        end = -1
        for data in datas:
            end += len(data) + 1
            ends.append(end)
        clean = [True] * len(datas)
        for core, found in self._probes:
            at = joined.find(core)
            while at >= 0:
                if any(joined.startswith(needle, at) for needle, _, _ in found):
                    # A needle across two texts' join marks both: only ever a false alarm.
                    first = bisect.bisect_left(ends, at)
                    last = bisect.bisect_left(ends, at + max(len(needle) for needle, _, _ in found))
                    for n in range(first, min(len(datas), last + 1)):
                        clean[n] = False
                at = joined.find(core, at + 1)
        return clean

    def for_text(self, text: str) -> re.Pattern[str] | None:
        """The combined pattern of the entries that may match in ``text`` (None: none can)."""
        return self._starts(text)[0]

    def matches(self, text: str) -> Iterator[re.Match[str]]:
        """Every match of the combined pattern in ``text``, as ``pattern.finditer`` finds them."""
        pattern, windows = self._starts(text)
        if pattern is None:
            return
        if windows is None:
            yield from pattern.finditer(text)
            return
        match = pattern.match
        at = 0  # the first offset neither tried nor inside a match
        for first, last in windows:
            at = max(at, first)
            while at <= last:
                m = match(text, at)
                if m is None:
                    at += 1
                else:
                    yield m
                    at = m.end()

    def _keep(self, m: re.Match[str]) -> tuple[int, str]:
        i = int((m.lastgroup or "s0")[1:])
        keep = m.group(f"k{i}") if f"k{i}" in m.re.groupindex else None
        return i, keep or ""

    def finditer(self, text: str, *, whole: bool = False) -> Iterator[tuple[int, int, str]]:
        """(start, end, entry name) of each secret in ``text``; start is after a kept prefix
        (``api_key=``, ``Bearer``), unless ``whole``."""
        for m in self.matches(text):
            i, keep = self._keep(m)
            yield m.start() + (0 if whole else len(keep)), m.end(), self.entries[i].name

    def sub(self, text: str) -> str:
        out: list[str] = []
        at = 0
        for m in self.matches(text):
            keep = self._keep(m)[1]
            out += (text[at : m.start()], keep, REDACTED)
            at = m.end()
        if not out:
            return text
        out.append(text[at:])
        return "".join(out)
