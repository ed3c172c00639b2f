"""Server labels: the name an MCP server is stored under, the same on every machine and from any folder.

A stdio server is labelled by its command line: the interpreter by its name (``python``), an absolute
path relative to the project's root (the nearest folder up holding ``pyproject.toml``, ``pytest.ini``,
``tox.ini``, ``setup.cfg`` or ``.git``; else its file name), never relative to the folder pytest runs in;
and the environment the test gives it (``StdioServerParameters.env``), so one script started with two
environments is two servers. A variable whose name says key/token/secret/password is labelled by its name
alone (its value is a secret and differs between machines). A URL server is labelled by its URL. On
loopback, a port the OS picked (in the ephemeral range, 32768 and up) is dropped, since it changes on
every run: the second, third... server at one such URL in a test gets `` (server 2)``... in the order the
test first connects to each, and recording warns that only that order tells them apart. A port below the
ephemeral range is one the user fixed, and is kept: two servers on fixed ports are two labels.
"""

from __future__ import annotations

import os
import re
import shlex
from typing import Any

from harness.redact import stable_url

_ROOT_MARKS = ("pyproject.toml", "pytest.ini", "tox.ini", "setup.cfg", ".git")
_SECRET_NAME = re.compile(r"key|token|secret|passw|credential|auth", re.IGNORECASE)


def project_root(path: str) -> str | None:
    """The nearest folder above ``path`` that looks like a project's root, if any."""
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        if any(os.path.exists(os.path.join(folder, mark)) for mark in _ROOT_MARKS):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _path_label(arg: str) -> str:
    if not os.path.isabs(arg):
        return arg
    root = project_root(arg)
    if root is None:
        return os.path.basename(arg)
    try:
        rel = os.path.relpath(arg, root)
    except ValueError:
        return os.path.basename(arg)
    return rel.replace(os.sep, "/") if not rel.startswith("..") else os.path.basename(arg)


def command_label(command: str, args: list[str], env: dict[str, str] | None = None) -> str:
    """The server command, the same on every machine: no interpreter path, no absolute paths; the
    environment the test sets for it in front, as a shell would show it (``MODE=fast python srv.py``)."""
    exe = (
        re.sub(r"^(python|pypy)[\d.]*(\.exe)?$", r"\1", os.path.basename(command))
        if os.sep in command or command.startswith("python")
        else command
    )
    words = [exe, *(_path_label(str(a)) for a in args)]
    prefix = [
        name if _SECRET_NAME.search(name) else f"{name}={_path_label(str(value))}" for name, value in sorted((env or {}).items())
    ]
    return " ".join([*(shlex.quote(p) for p in prefix), shlex.join(words)])


def stdio_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    server = args[0] if args else kwargs.get("server")
    command = getattr(server, "command", None)
    if not isinstance(command, str):
        return "stdio"
    env = getattr(server, "env", None)
    return command_label(command, list(getattr(server, "args", None) or []), env if isinstance(env, dict) else None)


#: Where the ports the OS hands out start (Linux's default ``ip_local_port_range``; Windows and macOS: 49152).
EPHEMERAL_PORTS = 32768
_LOOPBACK_PORT = re.compile(r"^\w+://(?:[^/@]*@)?(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]):(\d+)(?=/|$)")


def url_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    return str(args[0] if args else kwargs.get("url", ""))


def url_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The URL, with a loopback port the OS picked dropped (a port the user fixed is kept)."""
    url = url_of(args, kwargs)
    port = _LOOPBACK_PORT.match(url)
    if port is not None and int(port.group(1)) < EPHEMERAL_PORTS:
        return url
    return stable_url(url)


def legacy_url_label(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The label of cassettes recorded before fixed ports were kept: every loopback port dropped."""
    return stable_url(url_of(args, kwargs))


def numbered(seen: dict[str, list[str]], label: str, url: str) -> str:
    """``label`` for the server at ``url``: the n-th distinct URL a test connects to under one label (loopback
    servers differing only in their port) is `` (server n)``, in the order of first connection."""
    urls = seen.setdefault(label, [])
    if url not in urls:
        urls.append(url)
    n = urls.index(url) + 1
    return label if n == 1 else f"{label} (server {n})"
