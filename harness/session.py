"""One test's life with a cassette: load it, make the ledger, install the seams, stop, save.

The plugin builds one :class:`Session` per test that uses a cassette, starts it before the test
and stops it after. The seams never see the session: they find the running
:class:`~harness.engine.ledger.Ledger` through :mod:`harness.active`.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from harness import active
from harness.cassette import format as cassette_format
from harness.cassette.merge import Loaded, merged
from harness.cassette.model import Cassette, Interaction
from harness.cassette.store import atomic_write, write_lock
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
    def __init__(self, settings: Settings, path: Path, nodeid: str = "", *, old_text: str | None = None) -> None:
        self.settings = settings
        self.nodeid = nodeid
        mode = settings.record_mode
        existed = path.exists()
        self.loaded = Loaded(None, [])
        if existed:
            text = cassette_format.read_text(path) if old_text is None else old_text
            self.loaded = Loaded(text, cassette_format.loads(text, path))
        self.replaying = mode in ("none", "new_episodes") or (mode == "once" and existed)
        self.recording = mode in ("all", "new_episodes") or (mode == "once" and not existed)
        keep = self.loaded.interactions if self.replaying else []
        self.cassette = Cassette(path=path, interactions=list(keep), mode=mode, existed=existed)
        self.ledger = Ledger(
            settings,
            self.cassette,
            replaying=self.replaying,
            recording=self.recording,
            loaded=len(self.loaded.interactions),
            nodeid=nodeid,
        )
        self._seams: list[Any] = []

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

    def stop(self) -> None:
        """Undo every patch, then write what was recorded. Always call it (``finally``)."""
        try:
            while self._seams:
                self._seams.pop().uninstall()
        finally:
            active.deactivate(self.ledger)
            self.ledger.finish_pending()
            if self.recording:
                self.save()

    def check(self) -> None:
        """Raise what the test must fail on even if its code swallowed it: misses, then unplayed."""
        if self.misses:
            raise self.misses[0]
        if self.replaying and not self.settings.allow_unplayed:
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
        scrub = self.ledger.redactor.text
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
                shared=bool(self.settings.path),
                run=run_id(),
                scrub=scrub,
            )
            text = scrub(cassette_format.dumps(interactions))
            if text != disk:
                atomic_write(path, text)
