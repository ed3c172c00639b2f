"""Output for the ``harness`` command: colours (or none) and the small formatters every command uses."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.cassette.model import Body


class CliError(Exception):
    """Bad input: reported as ``harness: <what>``, never as a traceback."""


class Style:
    """ANSI colours, or plain text when disabled."""

    CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36"}

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, *styles: str) -> str:
        if not self.enabled or not text or not styles:
            return text
        return f"\x1b[{';'.join(self.CODES[s] for s in styles)}m{text}\x1b[0m"


def color_enabled(choice: bool | None, stream: Any = None) -> bool:
    """``--color`` / ``--no-color`` win; then NO_COLOR (set: no colour), then FORCE_COLOR (set and not
    ``0``: colour, even into a pipe); otherwise colour when the stream is a TTY."""
    if choice is not None:
        return choice
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR", "0") not in ("", "0", "false"):
        return True
    stream = sys.stdout if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)


def clip(text: str, limit: int | None) -> str:
    if limit is None or len(text) <= limit:
        return text
    return f"{text[:limit]}… (+{len(text) - limit} chars)"


def short(value: Any, limit: int = 120) -> str:
    text = repr(value) if isinstance(value, str) else compact(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def ms(value: float) -> str:
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def size(n: int) -> str:
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} kB"


# --------------------------------------------------------------------------------------------------- loading


def body_summary(body: Body) -> str:
    if body.kind == "sse":
        return f"sse {len(body.value)} event{'s' * (len(body.value) != 1)}"
    if body.kind in ("text", "base64"):
        return f"{'binary' if body.kind == 'base64' else 'text'} {size(len(body.bytes()))}"
    return body.kind


def obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
