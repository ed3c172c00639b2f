"""One test's life with a cassette: load it, make the ledger, install the seams, stop, save.

The plugin builds one :class:`Session` per test that uses a cassette, starts it before the test
and stops it after. The seams never see the session: they find the running
:class:`~harness.engine.ledger.Ledger` through :mod:`harness.active`.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path
from typing import Any

from harness import active
from harness.cassette import format as cassette_format
from harness.cassette.merge import Loaded, merged
from harness.cassette.model import Cassette, Interaction
from harness.cassette.store import atomic_write, created_in_run, write_lock
from harness.config import Settings
from harness.engine import reports
from harness.engine.ledger import Ledger
from harness.errors import NoCassetteError, UnplayedInteractions
from harness.seams import SEAMS

_PROCESS_RUN = f"process-{uuid.uuid4().hex}"


def run_id() -> str:
    """This pytest run: the xdist workers of one run share xdist's test-run id; without xdist, the
    process. (Several pytest runs in one process, as pytester's in-process runs are, count as one.)"""
    xdist = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    return f"xdist-{xdist}" if xdist else _PROCESS_RUN


class Session:
    def __init__(
        self, settings: Settings, path: Path, nodeid: str = "", *, old_text: str | None = None, rootdir: Path | None = None
    ) -> None:
        self.settings = settings
        self.nodeid = nodeid
        mode = settings.record_mode
        existed = path.exists()
        #: Shared through the marker's path: several tests' traffic in one file.
        self.shared = bool(settings.path)
        self.loaded = Loaded(None, [])
        if existed:
            text = cassette_format.read_text(path) if old_text is None else old_text
            self.loaded = Loaded(text, cassette_format.loads(text, path))
        # ``once`` records a shared cassette whole in the run that creates it: a test using it
        # after another test of the same run created it replays what matches and records the rest.
        growing = mode == "once" and existed and self.shared and created_in_run(path, run_id())
        self.replaying = mode in ("none", "new_episodes") or (mode == "once" and existed)
        self.recording = mode in ("all", "new_episodes") or (mode == "once" and (not existed or growing))
        keep = self.loaded.interactions if self.replaying else []
        self.cassette = Cassette(path=path, interactions=list(keep), mode=mode, existed=existed)
        self.ledger = Ledger(
            settings,
            self.cassette,
            replaying=self.replaying,
            recording=self.recording,
            loaded=len(self.loaded.interactions),
            nodeid=nodeid,
            rootdir=rootdir,
        )
        self._seams: list[Any] = []

    @property
    def judges_unplayed(self) -> bool:
        """Whether the test fails for recorded interactions it did not play. Not for a shared
        cassette: it holds the other tests' traffic too, and which test recorded what is not
        stored (pytest-recording does not check either); a miss still fails every test."""
        return self.replaying and not self.shared and not self.settings.allow_unplayed

    @property
    def misses(self) -> list[BaseException]:
        return self.ledger.misses

    def rerecord_command(self) -> str:
        return self.ledger.rerecord_command()

    def start(self) -> None:
        if self.settings.record_mode == "none" and not self.cassette.existed:
            raise NoCassetteError(reports.rel(self.cassette.path), "none", self.rerecord_command())
        active.activate(self.ledger)
        for seam in SEAMS:
            self.add_seam(seam(self.ledger))

    def add_seam(self, seam: Any) -> None:
        seam.install()
        self._seams.append(seam)

    def stop(self, *, failed: bool = False) -> None:
        """Undo every patch, then write what was recorded. Always call it (``finally``).

        ``failed``: the test failed (or its set-up did). A failed test that recorded nothing
        writes nothing: no empty cassette that the next ``once`` run would replay and miss on,
        and no ``all`` re-recording that wipes the file."""
        try:
            while self._seams:
                self._seams.pop().uninstall()
        finally:
            active.deactivate(self.ledger)
            self.ledger.finish_pending()
            _hold_generic_models()
            if self.recording and not (failed and not self.cassette.recorded):
                self.save()

    def check(self) -> None:
        """Raise what the test must fail on even if its code swallowed it: misses, then unplayed."""
        if self.misses:
            raise self.misses[0]
        if self.judges_unplayed:
            unplayed = self.cassette.unplayed
            if unplayed:
                raise UnplayedInteractions(reports.unplayed(self.ledger, unplayed))

    def save(self) -> None:
        """Write the cassette: under its lock, merged with what other sessions wrote meanwhile
        (see :mod:`harness.cassette.merge`), scrubbed, atomically, and only if it changed."""
        recorded = set(self.cassette.recorded)
        hook = self.settings.before_record
        items: list[tuple[Interaction, bool]] = []
        for n, item in enumerate(self.cassette.interactions):
            if hook is not None and n in recorded:
                item = hook(item)
            if item is not None:
                items.append((item, n in recorded))
        path = self.cassette.path
        scrub = self.ledger.redactor.file_text
        with write_lock(path):
            try:
                disk: str | None = cassette_format.read_text(path)
            except FileNotFoundError:
                disk = None
            interactions = merged(
                path,
                items,
                disk,
                self.loaded,
                mode=self.settings.record_mode,
                shared=self.shared,
                run=run_id(),
                scrub=scrub,
            )
            # The SDK versions of this recording; a save that recorded nothing keeps those of the file.
            sdk = sdk_versions() if self.cassette.recorded else (cassette_format.sdk_of(disk) if disk else None)
            text = scrub(cassette_format.dumps(interactions, sdk))
            if text != disk:
                atomic_write(path, text)


# The model SDKs whose versions a recording stores (``harness drift`` reads them back).
RECORDED_SDKS = ("anthropic", "openai", "mcp")


def sdk_versions() -> dict[str, str]:
    """The versions of the model SDKs imported in this process (``{"anthropic": "2.16.0"}``)."""
    import sys
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for name in RECORDED_SDKS:
        if name in sys.modules:
            try:
                out[name] = version(name)
            except PackageNotFoundError:
                continue
    return out


#: pydantic's parametrized generic models (``ParsedChatCompletion[T]``, ...) kept alive, at most this many.
_HELD_MAX = 4096
_held: set[Any] = set()


def _hold_generic_models() -> None:
    """Keep the generic models the SDKs parametrized during the test alive for the next tests.

    pydantic caches ``Model[T]`` only weakly, and such a class lives in a reference cycle: a test's
    allocations (a cassette parsed at set-up is thousands of objects) set off the garbage collector,
    which drops it, and the SDK's next call builds it again (about 2 ms for openai's parsed chat
    completion, on every such call). There are a few dozen of them per SDK."""
    generics = sys.modules.get("pydantic._internal._generics")
    cache = getattr(generics, "_GENERIC_TYPES_CACHE", None)
    if cache is None or len(_held) >= _HELD_MAX:
        return
    try:
        _held.update(list(cache.values())[: _HELD_MAX - len(_held)])
    except (TypeError, RuntimeError):  # another pydantic's cache shape; changed while copied
        return
