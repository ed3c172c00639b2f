"""A causal stream's links, carried over to its variants.

A recorded stream whose later chunks came only after the client's requests (``awaits``, see
:mod:`harness.seams.causal`) must keep that order in every variant: re-chunked, re-split or broken, the
bytes that followed a request are delivered only after it, and the bytes that came before it still come
before it (a client may need them to make that request). So the links are kept by position in the body
(:func:`offsets`): a re-chunked body is always cut where a linked chunk began and each link is put on the
chunk that now begins there (:func:`awaits`); a re-split stream keeps them by event (:func:`event_links`;
deltas are never merged across a link). ``client_closed`` (the stream stays open after its last chunk) is
kept by the variants that keep the whole stream.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import Any

from harness.cassette.model import Response

Link = tuple[int, list[str]]


def offsets(response: Response) -> list[Link]:
    """Each linked chunk of ``response`` as the offset in the body of its first byte, with its requests."""
    if not response.awaits or not response.chunks:
        return []
    starts = [0, *itertools.accumulate(int(c[0]) for c in response.chunks)]
    out: list[Link] = []
    for entry in response.awaits:
        n = int(entry[0])
        if 0 <= n < len(response.chunks):
            out.append((starts[n], [str(x) for x in entry[1:]]))
    return out


def cuts(links: Sequence[Link], n: int) -> set[int]:
    """The cuts every re-chunking of a body of ``n`` bytes keeps: where a linked chunk began."""
    return {at for at, _ in links if 0 < at < n}


def awaits(links: Sequence[Link], sizes: Sequence[int]) -> list[list[Any]] | None:
    """The ``awaits`` of a body cut into chunks of ``sizes``: each link on the chunk holding its first byte
    (links past the end of a shortened body are dropped: their bytes never come)."""
    if not links:
        return None
    ends = list(itertools.accumulate(int(s) for s in sizes))
    out: list[list[Any]] = []
    for at, requests in links:
        n = bisect.bisect_right(ends, at)
        if n >= len(ends):
            continue
        if out and out[-1][0] == n:
            out[-1].extend(requests)
        else:
            out.append([n, *requests])
    return out or None


def relinked(old: Response, new: Response, *, keep_open: bool = True) -> Response:
    """``new`` (a variant of ``old`` whose body starts with the same bytes) with ``old``'s links on its
    chunks; ``keep_open``: and ``old``'s ``client_closed``."""
    links = offsets(old)
    if links and new.chunks is not None:
        new.awaits = awaits(links, [int(c[0]) for c in new.chunks])
    if keep_open:
        new.client_closed = old.client_closed
    return new


def event_links(links: Sequence[Link], starts: Sequence[int]) -> dict[int, list[str]]:
    """The links by event: the event (of those beginning at ``starts``) holding each link's first byte."""
    out: dict[int, list[str]] = {}
    for at, requests in links:
        event = max(0, bisect.bisect_right(starts, at) - 1)
        out.setdefault(event, []).extend(requests)
    return out


def event_awaits(by_event: dict[int, list[str]], origin: Sequence[int], parts: Sequence[bytes]) -> list[list[Any]] | None:
    """The ``awaits`` of a rewritten stream sent one chunk per (non-empty) event: ``origin[i]`` is the
    recorded event new event ``i`` came from; each link goes on the first chunk of its event or a later one."""
    if not by_event:
        return None
    chunk_of: list[int] = []
    n = 0
    for part in parts:
        chunk_of.append(n)
        n += 1 if part else 0
    out: list[list[Any]] = []
    for event in sorted(by_event):
        i = next((i for i, o in enumerate(origin) if o >= event), None)
        if i is None or chunk_of[i] >= n:
            continue
        if out and out[-1][0] == chunk_of[i]:
            out[-1].extend(by_event[event])
        else:
            out.append([chunk_of[i], *by_event[event]])
    return out or None
