"""A cassette file's JSON document, read by orjson when it is installed (the ``fast`` extra) and can read
the file exactly as the standard library does, else by the standard library, whose errors name the line.

orjson reads a 10,000-event stream's cassette about twice as fast. It refuses NaN, Infinity, lone
surrogates and very deep nesting, where the standard path then reads the file (and reports what is wrong
with it); and it would read an integer beyond 64 bits as a float, so a file with a run of 20 digits that
does not follow a letter or ``_`` (a number does not; an id in a string mostly does) is left to the
standard path: a cheap test that may send a file there for nothing, never one that lets a long number by.
"""

from __future__ import annotations

import codecs
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness.errors import CassetteFormatError

orjson: Any
try:
    import orjson
except ImportError:  # the optional extra is not installed
    orjson = None

__all__ = ["document", "fast", "no_cycle_collection"]

#: Digits to "0", letters and "_" to "a", anything else to a space: a number of 20 digits or more is then
#: a space and 20 zeros (C speed).
_DIGITS = bytes(0x30 if chr(b).isdigit() else 0x61 if chr(b).isalpha() or b == 0x5F else 0x20 for b in range(128)) + b" " * 128
_TWENTY_DIGITS = b" " + b"0" * 20


def fast(text: str | bytes) -> Any | None:
    """The document, read by orjson; None when orjson is not installed or may not read it exactly."""
    if orjson is None:
        return None
    try:
        data = text if isinstance(text, bytes) else text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in the text: the standard path says where
        return None
    data = data.removeprefix(codecs.BOM_UTF8)
    if _TWENTY_DIGITS in data.translate(_DIGITS) or data.lstrip()[:1].isdigit():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return None


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """The cyclic garbage collector held off while a cassette is read.

    A parsed cassette is dicts, lists and strings: no cycles, nothing for the collector to find. But a
    10,000-event stream is some 40,000 new containers, all alive until the end, and in a test process
    (the SDKs imported, some 230,000 objects) they set off full collections as they are made: measured,
    orjson's parse of that file took 15 ms with the collector on and 8 ms with it off, a whole read
    52 against 46 ms, and 104 against 51 ms on a busy machine. Collections resume at the end (the next
    one then finds the new objects as it would have). A collector the caller had disabled stays so."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decoder() -> tuple[Callable[[str], Any], list[str]]:
    """A JSON decoder that notes NaN and Infinity (Python reads them; JSON has no such values)."""
    seen: list[str] = []

    def constant(name: str) -> float:
        seen.append(name)
        return float(name)

    return json.JSONDecoder(parse_constant=constant).decode, seen


def document(text: str | bytes, path: Path | str) -> tuple[Any, list[str]]:
    """The JSON document of a cassette file's content, and the NaN and Infinity constants it held (not
    JSON: the caller names the place). A file that is not UTF-8, empty or not JSON is a
    :class:`CassetteFormatError` naming the file, and the line and column where it can."""
    found = fast(text)
    if found is not None:
        return found, []
    if isinstance(text, bytes):
        from harness.cassette.files import not_utf8

        data = text
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise not_utf8(path, data, exc) from None
    # A UTF-8 byte order mark (what some Windows editors add on save) says nothing JSON needs: dropped.
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise CassetteFormatError(path, "the file is empty", hint="Delete it and record again (--record-mode=once).")
    decode, constants = _decoder()
    try:
        return decode(text), constants
    except json.JSONDecodeError as exc:
        problem = f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        # harness writes a closing brace last: a file that ends elsewhere was cut short.
        if exc.pos >= len(text.rstrip()) - 1 or not text.rstrip().endswith("}"):
            problem += " (the file looks truncated)"
        raise CassetteFormatError(path, problem) from None
    except RecursionError:
        raise CassetteFormatError(path, "not a cassette: JSON nested too deeply to read") from None
    except ValueError as exc:  # e.g. an integer longer than Python converts
        raise CassetteFormatError(path, f"not valid JSON: {exc}") from None
