"""What a session writes: its recordings merged with what other sessions wrote meanwhile, and a
stream's chunk boundaries moved onto the scrubbed body.

Tests sharing one cassette (the marker's ``path``) on several xdist workers each load it at their
start and write it at their end; written whole, the last writer would drop what the others
recorded. So the file is read again under a cross-process lock and merged (:func:`merged`):

* ``once`` / ``new_episodes``: what other sessions added since this one loaded the file is kept,
  and this session's recordings are appended, except those another session already wrote (tests
  sharing a cassette often make the same requests).
* ``all``, shared cassette: the cassette becomes what *this run* records into it. The first session
  of the run to write it replaces it; the later ones (on any worker) merge into that as above. A
  single test re-recorded alone so leaves only its own traffic (the re-record command says so),
  and a whole run of its tests rebuilds it whole. Interactions that were already in the file
  before the run keep their place and timings, so re-recording an unchanged shared cassette leaves
  it byte for byte unchanged whatever order the workers ran in; new ones follow, in the order they
  were written.
* ``all``, the test's own cassette: replaced, as nobody else writes it.

A shared cassette that this run created grows in ``once`` mode too: a test that opens it after
another test of the run wrote it records what it does not find (see
:func:`harness.cassette.store.note_created`), so ``once`` records every test of the run that uses it.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness import sse
from harness.cassette import format as cassette_format
from harness.cassette.model import Body, Interaction
from harness.cassette.store import claim_for_run, note_created


@dataclass
class Loaded:
    """The file as the session loaded it: its text and interactions (empty when it did not exist)."""

    text: str | None
    interactions: list[Interaction]


def merged(
    path: Path,
    items: list[tuple[Interaction, bool]],
    disk: str | None,
    loaded: Loaded,
    *,
    mode: str,
    shared: bool,
    run: str,
    scrub: Callable[[str], str],
) -> list[Interaction]:
    """What to write, given this session's ``items`` (each with: recorded by it?) and the file's
    text on ``disk`` now. ``scrub`` is the redactor's final pass (two interactions are the same
    when they are written the same)."""
    same = _Same(scrub)
    mine = [item for item, _ in items]
    if mode == "all" and shared:
        first, before = claim_for_run(path, run, disk)
        current = [] if first or disk is None else cassette_format.loads(disk, path)
        every = current + same.missing(mine, current)
        return same.in_pre_run_order(every, cassette_format.loads(before, path) if before else [])
    if shared and disk is None:
        # This run creates the file: a later test of the run sharing it in ``once`` mode then
        # records its own traffic into it too.
        note_created(path, run)
    base = loaded.interactions
    if mode != "all" and disk is not None and disk != loaded.text:
        # Another session wrote the file since this one loaded it: keep all it holds now.
        current = cassette_format.loads(disk, path)
        theirs = same.missing(current, loaded.interactions)
        mine = current + same.missing([item for item, rec in items if rec], theirs)
        base = current
    # Keep the old timings where nothing else changed, so re-recording an unchanged exchange
    # leaves the file unchanged.
    for n, item in enumerate(mine):
        if n < len(base) and item.kind == base[n].kind and item.timeless() == base[n].timeless():
            mine[n] = base[n]
    return mine


class _Same:
    """Tells interactions apart by what they write, without their timings."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        self.scrub = scrub

    def canonical(self, item: Interaction) -> str:
        return self.scrub(cassette_format.dumps([item.timeless()]))

    def missing(self, items: list[Interaction], present: list[Interaction]) -> list[Interaction]:
        """``items`` minus ``present``, counting duplicates (a request made twice is kept twice)."""
        if not present:
            return list(items)
        counts: dict[str, int] = {}
        for item in present:
            key = self.canonical(item)
            counts[key] = counts.get(key, 0) + 1
        out = []
        for item in items:
            key = self.canonical(item)
            if counts.get(key, 0):
                counts[key] -= 1
            else:
                out.append(item)
        return out

    def in_pre_run_order(self, items: list[Interaction], before: list[Interaction]) -> list[Interaction]:
        """Interactions that were in the file before the run first, as they were (place and
        timings), then the new ones in their order."""
        if not before:
            return items
        places: dict[str, list[int]] = {}
        for n, item in enumerate(before):
            places.setdefault(self.canonical(item), []).append(n)
        kept: list[int] = []
        new: list[Interaction] = []
        for item in items:
            free = places.get(self.canonical(item))
            if free:
                kept.append(free.pop(0))
            else:
                new.append(item)
        return [before[n] for n in sorted(kept)] + new


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
