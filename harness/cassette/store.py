"""Where cassettes live, and writing them so that nothing is ever half-written or lost."""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: writes stay atomic, but concurrent merges are not serialised
    fcntl = None  # type: ignore[assignment]


#: What ``open`` says in a folder this process may not write to.
_READ_ONLY = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})
_UNSAFE = re.compile(r"[^\w.\-\[\]=,+]+")


def atomic_write(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all (temp file in the same folder + ``os.replace``).

    A process killed mid-write leaves the previous file intact and, at worst, a stray ``.tmp`` file.
    Writers racing on one path (xdist workers) each replace the file whole; to combine what they
    recorded, read, merge and write under :func:`write_lock`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def lock_path(path: Path) -> Path:
    """The lock file of ``path``: a dot-file beside it (``harness lint`` looks only at ``*.json``)."""
    return path.with_name(f".{path.name}.lock")


@contextmanager
def write_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive, cross-process lock on writing ``path`` for the ``with`` block.

    Sessions of several xdist workers sharing one cassette read the file again, merge what they
    recorded into it and write it, inside this block, one at a time. The lock is ``flock`` on
    ``.<name>.lock`` beside the cassette, removed again before the lock is released so that no
    lock file stays in the cassette folder. A waiter may then hold the lock of a removed file: it
    checks that the file it locked is still the one at the path, and tries again if not. A process
    killed while holding the lock leaves the file behind, harmless (the kernel drops the lock) and
    reused or removed by the next writer. Without ``fcntl`` (Windows) there is no lock, nor in a
    folder this process may not write to (a read-only checkout): a caller with nothing to write
    then needs no write access at all.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock = lock_path(path)
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            if exc.errno not in _READ_ONLY:
                raise
            # A folder nobody may write to (a read-only checkout): no writer to wait for, and a
            # session with nothing new writes nothing. One that has something fails in atomic_write.
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held, now = os.fstat(fd), os.stat(lock)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:
            pass  # removed by the holder before us between our open and stat: try again
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        try:
            os.unlink(lock)
        finally:
            os.close(fd)  # releases the lock


def _sweep(tmp: Path, max_age: float = 86400.0) -> None:
    """Remove the claim folders of xdist runs that ended long ago (nothing else ever removes them)."""
    import shutil
    import time

    for old in tmp.glob("harness-xdist-*"):
        try:
            if time.time() - old.stat().st_mtime > max_age:
                shutil.rmtree(old, ignore_errors=True)
        except OSError:
            pass


#: Cassettes written so far in this process's run, with their text from before the run (None: no file).
_claimed: dict[tuple[str, str], str | None] = {}


def _note(path: Path, run: str) -> tuple[tuple[str, str], Path | None]:
    """The claim's key, and for an xdist run the file that holds it."""
    key = (run, os.path.abspath(path))
    if not run.startswith("xdist-"):
        return key, None
    folder = Path(tempfile.gettempdir()) / _UNSAFE.sub("_", f"harness-{run}")
    return key, folder / hashlib.sha256(key[1].encode("utf-8")).hexdigest()[:32]


#: Cassettes this process's run created (for ``once`` on a shared cassette).
_created: set[tuple[str, str]] = set()


def note_created(path: Path, run: str) -> None:
    """Note that run ``run`` created ``path`` (call it under :func:`write_lock`, before writing)."""
    key, note = _note(path, run)
    if note is None:
        _created.add(key)
        return
    if not note.parent.is_dir():
        _sweep(note.parent.parent)
        note.parent.mkdir(mode=0o700, exist_ok=True)
    atomic_write(note.with_name(note.name + ".created"), "")


def created_in_run(path: Path, run: str) -> bool:
    """Whether a session of run ``run`` created ``path`` (:func:`note_created`)."""
    key, note = _note(path, run)
    if note is None:
        return key in _created
    return note.with_name(note.name + ".created").exists()


def claim_for_run(path: Path, run: str, before: str | None) -> tuple[bool, str | None]:
    """Note that run ``run`` writes ``path`` (call it under :func:`write_lock`).

    Returns ``(first, text)``: ``first`` is True when no session of this run wrote ``path`` before,
    and ``text`` is the file's text from before the run (``before``, as given by the first claimant).
    A run is one pytest session, all its xdist workers included: workers claim through a small file
    in a folder of the temporary directory named after the xdist run id; a run without xdist keeps
    its claims in memory.
    """
    key, note = _note(path, run)
    if note is None:
        if key in _claimed:
            return False, _claimed[key]
        _claimed[key] = before
        return True, before
    folder = note.parent
    if not folder.is_dir():
        _sweep(folder.parent)
        folder.mkdir(mode=0o700, exist_ok=True)
    try:
        text = note.read_text(encoding="utf-8")
    except FileNotFoundError:
        # "-" for no file, "+" then the text: written before the cassette is, under the cassette's lock.
        atomic_write(note, "-" if before is None else "+" + before)
        return True, before
    return False, (text[1:] if text.startswith("+") else None)
