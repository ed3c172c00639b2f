"""Settings, and the one function that merges them.

Precedence, highest first: the command line, the ``@pytest.mark.cassette(...)`` marker, the
``harness_config`` fixture, then ``[tool.pytest.ini_options]`` in pyproject (``harness_*`` keys),
then the defaults. Scalar settings take the highest source that sets them; the list settings
(``ignore_paths``, ``redact_headers``, ``redact_patterns``) add up across all sources.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from harness.errors import ConfigError

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")
#: ``rewrite`` is pytest-recording's name for "record everything anew"; harness treats it as ``all``.
_ALIASES = {"rewrite": "all"}
_LISTS = ("ignore_paths", "redact_headers", "redact_patterns", "match_on")


@dataclass(frozen=True)
class Settings:
    record_mode: str = "none"
    cassette_dir: str = "cassettes"
    #: the cassette's file name or path (relative to ``cassette_dir``); default: from the test's id
    path: str | None = None
    match_on: tuple[str, ...] = ("method", "path", "query", "body")
    ignore_paths: tuple[str, ...] = ()
    allow_unplayed: bool = False
    #: 0 replays instantly; 1.0 paces chunks as recorded; 2.0 twice as fast
    replay_speed: float = 0.0
    redact_headers: tuple[str, ...] = ()
    redact_patterns: tuple[str, ...] = ()
    #: run the real local tools on replay instead of returning their recorded results
    real_tools: bool = False
    before_record: Callable[[Any], Any] | None = None


_FIELDS = {f.name for f in fields(Settings)}


def marker_options(
    path: str | None = None,
    *,
    record_mode: str | None = None,
    match_on: Any = None,
    ignore_paths: Any = None,
    allow_unplayed: bool | None = None,
    replay_speed: float | None = None,
    redact_headers: Any = None,
    redact_patterns: Any = None,
    real_tools: bool | None = None,
) -> dict[str, Any]:
    """``@pytest.mark.cassette(path=None, *, record_mode, match_on, ignore_paths, allow_unplayed,
    replay_speed, redact_headers, redact_patterns, real_tools)`` — a misspelt option is a TypeError."""
    given = dict(locals())
    return {k: v for k, v in given.items() if v is not None}


_code = marker_options.__code__
#: The marker's options, in order: ``path`` (also the one positional argument), then the keywords.
MARKER_OPTIONS: tuple[str, ...] = _code.co_varnames[: _code.co_argcount + _code.co_kwonlyargcount]


def marker_settings(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The options of ``@pytest.mark.cassette(*args, **kwargs)``; a misspelt option is a report
    naming the valid ones (and the closest, when one is close)."""
    import difflib

    for name in kwargs:
        if name not in MARKER_OPTIONS:
            close = difflib.get_close_matches(name, MARKER_OPTIONS, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"harness: @pytest.mark.cassette has no option {name!r}{hint}\n  valid options: {', '.join(MARKER_OPTIONS)}"
            )
    if len(args) > 1:
        raise ConfigError(
            f"harness: @pytest.mark.cassette takes one positional argument (the cassette path), got {len(args)}: "
            f"{', '.join(map(repr, args))}\n  valid options: {', '.join(MARKER_OPTIONS)}"
        )
    if args and "path" in kwargs:
        raise ConfigError("harness: @pytest.mark.cassette got the path twice (positional and path=...)")
    return marker_options(*args, **kwargs)


def _check(name: str, value: Any, source: str) -> Any:
    if name == "record_mode":
        if value not in RECORD_MODES:
            raise ConfigError(f"harness: {source}: record mode {value!r} is not one of {', '.join(RECORD_MODES)}")
        return _ALIASES.get(value, value)
    if name in _LISTS:
        if isinstance(value, str):
            value = value.split()
        return tuple(value)
    if name == "replay_speed":
        try:
            speed = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"harness: {source}: replay_speed must be a number, got {value!r}") from None
        if speed < 0:
            raise ConfigError(f"harness: {source}: replay_speed must be >= 0 (0 = instant), got {speed}")
        return speed
    if name in ("allow_unplayed", "real_tools") and isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return value


def resolve(cli: Mapping[str, Any], marker: Mapping[str, Any], fixture: Mapping[str, Any], ini: Mapping[str, Any]) -> Settings:
    """Merge the four sources in the documented order (see the module docstring)."""
    merged: dict[str, Any] = {}
    for source, values in (
        ("pyproject", ini),
        ("harness_config fixture", fixture),
        ("cassette marker", marker),
        ("command line", cli),
    ):
        for name, value in values.items():
            if name not in _FIELDS:
                raise ConfigError(f"harness: {source}: unknown setting {name!r}; valid: {', '.join(sorted(_FIELDS))}")
            if value is None or value == () or value == []:
                continue
            value = _check(name, value, source)
            if name in _LISTS and name != "match_on":
                merged[name] = tuple(dict.fromkeys((*merged.get(name, ()), *value)))
            else:
                merged[name] = value
    return Settings(**merged)
