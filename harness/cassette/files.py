"""Reading a cassette file: its bytes (refusing what is not a regular file, without blocking on a FIFO)
and its text (naming the byte and line that is not UTF-8)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.errors import CassetteFormatError

__all__ = ["not_a_file", "not_utf8", "read_bytes", "read_text"]


def not_utf8(path: Path | str, data: bytes, exc: UnicodeDecodeError) -> CassetteFormatError:
    line = data.count(b"\n", 0, exc.start) + 1
    return CassetteFormatError(path, f"not UTF-8 text (byte {exc.start}, line {line}: {data[exc.start : exc.start + 4]!r})")


_NOT_A_FILE = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def not_a_file(mode: int) -> str | None:
    """What a file of ``st_mode`` ``mode`` is when it is not a regular file (a cassette must be one)."""
    if stat.S_ISREG(mode):
        return None
    for test, what in _NOT_A_FILE:
        if test(mode):
            return f"is {what}, not a cassette file"
    return "is not a regular file, so not a cassette file"


def read_bytes(path: Path | str) -> bytes:
    """A cassette file's bytes. Something other than a regular file at the path (a folder, a FIFO
    that would block a reader for ever, a device) is a :class:`CassetteFormatError` saying what it
    is; it is opened without blocking and never read. ``OSError`` is left to the caller."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        problem = not_a_file(os.fstat(fd).st_mode)
    except BaseException:
        os.close(fd)
        raise
    if problem is not None:
        os.close(fd)
        raise CassetteFormatError(path, problem, hint="Remove it: harness writes the cassette file at this path.")
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def read_text(path: Path) -> str:
    """A cassette file's text. A file that is not UTF-8 is a :class:`CassetteFormatError` naming the
    file, the byte and its line, and so is a path that is not a regular file (:func:`read_bytes`);
    ``OSError`` (``FileNotFoundError``...) is left to the caller."""
    data = read_bytes(path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise not_utf8(path, data, exc) from None
