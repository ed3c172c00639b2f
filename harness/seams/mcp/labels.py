"""Server labels: the name an MCP server is stored under, the same on every machine."""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from harness.redact import stable_url


def _path_label(arg: str) -> str:
    if not os.path.isabs(arg):
        return arg
    try:
        rel = os.path.relpath(arg)
    except ValueError:
        return os.path.basename(arg)
    return rel if not rel.startswith("..") else os.path.basename(arg)


def command_label(command: str, args: list[str]) -> str:
    """The server command, the same on every machine: no interpreter path, no absolute paths."""
    exe = (
        re.sub(r"^(python|pypy)[\d.]*(\.exe)?$", r"\1", os.path.basename(command))
        if os.sep in command or command.startswith("python")
        else command
    )
    return shlex.join([exe, *(_path_label(str(a)) for a in args)])


def stdio_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    server = args[0] if args else kwargs.get("server")
    command = getattr(server, "command", None)
    if not isinstance(command, str):
        return "stdio"
    return command_label(command, list(getattr(server, "args", None) or []))


def url_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    url = args[0] if args else kwargs.get("url", "")
    return stable_url(str(url))
