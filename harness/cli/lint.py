"""``harness lint [PATHS...]``: credentials, unreadable or old files, orphaned and unused cassettes."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.load import SKIP_DIRS, walk
from harness.cli.style import CliError, Style, color_enabled, plural

if TYPE_CHECKING:
    from harness.errors import CassetteFormatError
    from harness.redact import Redactor


@dataclass(order=True)
class Finding:
    path: str
    line: int
    what: str
    category: str = field(compare=False)  # "secret", "unreadable", "format", "orphan", "unused", "stray"

    @property
    def is_error(self) -> bool:
        return self.category in ("secret", "unreadable", "format")


_CREDENTIAL_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "api-key", "x-goog-api-key", "cookie", "set-cookie")
_HEADER_LINE = re.compile(r'^\s*"(' + "|".join(_CREDENTIAL_HEADERS) + r')"\s*:', re.IGNORECASE)
_STRAY = re.compile(r"^\..+\.json\..+\.tmp$")


def _classify(path: Path) -> str | None:
    """``cassette``, ``snapshot``, ``stray`` (a temp file left by an interrupted write) or None."""
    if _STRAY.match(path.name):
        return "stray"
    if "__snapshots__" in path.parts or path.suffix == ".ambr":
        return "snapshot" if path.suffix in (".ambr", ".json") else None
    return "cassette" if path.suffix == ".json" else None


def lint_targets(paths: list[str], cassette_dir: Path) -> list[tuple[Path, str]]:
    """The files to check: the given paths, or the cassette dirs and every ``__snapshots__`` folder."""
    found: dict[Path, str] = {}
    if paths:
        for name in paths:
            path = Path(name)
            if not path.exists():
                raise CliError(f"no such file or folder: {name}")
            for file in [path] if path.is_file() else walk(path):
                kind = _classify(file) or ("other" if path.is_file() else None)
                if kind:
                    found.setdefault(file, kind)
        return sorted(found.items())
    roots = [cassette_dir, *sorted(Path(".").glob("examples/**/cassettes"))]
    for root in roots:
        if root.is_dir():
            for file in walk(root):
                kind = _classify(file)
                if kind:
                    found.setdefault(file, kind)
    for folder, dirs, _files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        if Path(folder).name == "__snapshots__":
            dirs[:] = []
            for file in walk(Path(folder)):
                if file.suffix in (".ambr", ".json"):
                    found.setdefault(Path(os.path.normpath(file)), "snapshot")
    return sorted(found.items())


def _mask(secret: str) -> str:
    return f"{secret[:8]}… ({len(secret)} chars)"


def _line_of(text: str, pattern: str, nth: int = 0) -> int:
    for k, m in enumerate(re.finditer(pattern, text, re.MULTILINE)):
        if k == nth:
            return text.count("\n", 0, m.start()) + 1
    return 1


def _format_finding(exc: CassetteFormatError, text: str) -> tuple[int, str, str]:
    from harness.cassette.format import FORMAT_KEY

    hint = str(exc).split("\n")[2].strip() if str(exc).count("\n") >= 2 else ""
    problem = f"{exc.where}: {exc.problem}" if exc.where else exc.problem
    if hint:
        problem += f"; {hint[0].lower()}{hint[1:].rstrip('.')}"
    if "format version" in exc.problem:
        return _line_of(text, rf'^\s*"{FORMAT_KEY}"'), f"old or unknown format: {problem}", "format"
    at = re.search(r"at line (\d+)", exc.problem)
    if at:
        return int(at.group(1)), f"unreadable: {problem}", "unreadable"
    where = re.match(r"interactions\[(\d+)\]", exc.where)
    line = _line_of(text, r'^ {6}"kind": ', int(where.group(1))) if where else 1
    return line, f"unreadable: {problem}", "unreadable"


def _cassette_root(path: Path, cassette_dir: Path) -> Path | None:
    full = path.resolve()
    base = cassette_dir.resolve()
    if full.is_relative_to(base):
        return base
    for parent in full.parents:
        if parent.name == cassette_dir.name:
            return parent
    return None


def orphan_of(path: Path, cassette_dir: Path, rootdir: Path | None = None) -> str | None:
    """The missing test module of a cassette at ``<cassettes>/<module path>/<test>.json``, if it is missing.

    Kept simple on purpose: a cassette shared by name (``@pytest.mark.cassette("shared/name")``)
    whose folder is not a test module's path is reported too.
    """
    root = _cassette_root(path, cassette_dir)
    if root is None:
        return None
    rel = path.resolve().parent.relative_to(root)
    if rel == Path("."):
        return None  # directly in the cassette folder: named through the marker, no module to check
    module = Path(f"{rel}.py")
    if (root.parent / module).exists() or module.exists() or (rootdir is not None and (rootdir / module).exists()):
        return None
    return str(module)


#: Besides the recorder's patterns (``harness.redact``), lint looks for a secret in a URL's query
#: string wherever it sits in the file (the recorder scrubs it from the URLs it records).
LINT_PATTERNS = (
    r"(?<=[?&])(?i:api[_-]?key|apikey|key|token|access_token|id_token|refresh_token|auth|secret|client_secret"
    r"|password|passwd|sig|signature)=[^&#\s\"'\\<]{8,}",
)


def pytest_ini(start: Path) -> tuple[Path, dict[str, str]]:
    """pytest's rootdir and ini settings as pytest finds them: the first ``pytest.ini``,
    ``.pytest.ini``, ``pyproject.toml`` (with ``[tool.pytest.ini_options]``), ``tox.ini`` (with
    ``[pytest]``) or ``setup.cfg`` (with ``[tool:pytest]``) in ``start`` or a folder above it."""
    import configparser

    for folder in (start, *start.parents):
        for name in ("pytest.ini", ".pytest.ini", "pyproject.toml", "tox.ini", "setup.cfg"):
            path = folder / name
            if not path.is_file():
                continue
            try:
                if name == "pyproject.toml":
                    import tomllib

                    table = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("pytest", {})
                    options = table.get("ini_options") if isinstance(table, dict) else None
                    if isinstance(options, dict):
                        return folder, {k: str(v) for k, v in options.items() if isinstance(v, (str, int, float))}
                    continue
                parser = configparser.ConfigParser(interpolation=None)
                parser.read_string(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError, configparser.Error) as exc:
                raise CliError(f"{path}: cannot be read ({exc})") from None
            section = {"setup.cfg": "tool:pytest", "tox.ini": "pytest"}.get(name, "pytest")
            if parser.has_section(section):
                return folder, dict(parser.items(section))
            if name in ("pytest.ini", ".pytest.ini"):
                return folder, {}  # pytest.ini is the ini file even when empty
    return start, {}


def _relative(path: Path) -> Path:
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive
        return path


def lint_file(path: Path, kind: str, redactor: Redactor, cassette_dir: Path, rootdir: Path | None = None) -> list[Finding]:
    from harness.cassette import format as cassette_format
    from harness.errors import CassetteFormatError

    shown = os.path.normpath(path)
    if kind == "stray":
        return [Finding(shown, 1, "leftover temporary file from an interrupted write: delete it", "stray")]
    try:
        data = cassette_format.read_bytes(path)  # a FIFO is not read (it would block for ever)
    except OSError as exc:
        return [Finding(shown, 1, f"unreadable: {exc.strerror}", "unreadable")]
    except CassetteFormatError as exc:
        return [Finding(shown, 1, f"unreadable: {exc.problem}", "unreadable")]
    text = data.decode("utf-8", "replace")
    findings = []
    for number, line in enumerate(text.split("\n"), 1):
        for m in redactor.pattern.finditer(line):
            findings.append(Finding(shown, number, f"secret: {_mask(m.group())} looks like a credential", "secret"))
        header = _HEADER_LINE.match(line) if kind == "cassette" else None
        if header:
            findings.append(Finding(shown, number, f"secret: credential header {header.group(1).lower()!r} is stored", "secret"))
    if kind == "cassette":
        try:
            cassette_format.loads(data, shown)
        except CassetteFormatError as exc:
            where, what, category = _format_finding(exc, text)
            findings.append(Finding(shown, where, what, category))
        module = orphan_of(path, cassette_dir, rootdir)
        if module is not None:
            findings.append(Finding(shown, 1, f"orphaned: its test module {module} does not exist", "orphan"))
    return findings


def unused_cassettes(rootdir: Path) -> tuple[set[Path], dict[Path, str], str]:
    """Cassette files under the test modules' folders that no collected test opens, found by
    collecting the suite for real (``pytest --collect-only`` with harness's plugin listing every
    collected test's cassette path: parametrized ids, classes and marker paths all count).

    Returns the unused files (resolved), the module each belongs to, and a note when pytest could
    not collect everything (modules it could not collect are not judged)."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="harness-lint-") as tmp:
        listing = Path(tmp) / "cassettes.json"
        command = [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--harness-cassette-list={listing}",
        ]
        if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
            command[3:3] = ["-p", "harness.plugin"]
        try:
            done = subprocess.run(command, cwd=rootdir, capture_output=True, text=True, check=False, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise CliError(f"--unused: could not run pytest to collect the tests ({exc})") from None
        if not listing.exists():
            tail = "\n  ".join((done.stdout + done.stderr).strip().splitlines()[-8:])
            raise CliError(f"--unused: pytest collected nothing (exit {done.returncode}):\n  {tail}")
        data = json.loads(listing.read_text(encoding="utf-8"))
    note = ""
    if done.returncode == 2:  # interrupted by collection errors (other plugins may set 1: syrupy's unused snapshots)
        errors = [line for line in done.stdout.splitlines() if line.startswith("ERROR ")]
        note = f"pytest could not collect everything ({len(errors) or 'some'} error(s)): modules it could not collect are not checked"
    from harness.usage import Usage

    usage = Usage()
    usage.merge(data)
    unused: set[Path] = set()
    modules: dict[Path, str] = {}
    for file, module in usage.unused(ran=False):
        unused.add(file.resolve())
        modules[file.resolve()] = f"{module} ({plural(len(usage.modules[module]['items']), 'test')} collected)"
    return unused, modules, note


def cmd_lint(args: argparse.Namespace) -> int:
    from harness.redact import Redactor

    st = Style(color_enabled(args.color))
    rootdir, ini = pytest_ini(Path.cwd())
    if args.cassette_dir is not None:
        cassette_dir = Path(args.cassette_dir)
    elif ini.get("harness_cassette_dir"):
        cassette_dir = _relative(rootdir / ini["harness_cassette_dir"])
    else:
        cassette_dir = _relative(rootdir / "cassettes")
    targets = lint_targets(args.paths, cassette_dir)
    try:
        redactor = Redactor(patterns=[*LINT_PATTERNS, *args.pattern])
    except re.error as exc:
        raise CliError(f"bad --pattern: {exc}") from None
    findings: list[Finding] = []
    for path, kind in targets:
        findings += lint_file(path, kind, redactor, cassette_dir, rootdir)
    note = ""
    if args.unused:
        unused, modules, note = unused_cassettes(rootdir)
        for path, kind in targets:
            if kind == "cassette" and path.resolve() in unused:
                module = modules[path.resolve()]
                findings.append(Finding(os.path.normpath(path), 1, f"unused: no collected test of {module} opens it", "unused"))
    for f in sorted(findings):
        color = "red" if f.is_error else "yellow"
        print(f"{f.path}:{f.line}: {st.paint(f.what, color)}")
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.category] = counts.get(f.category, 0) + 1
    files = {k: sum(1 for _, kind in targets if kind == k) for k in ("cassette", "snapshot", "other")}
    checked = f"{plural(files['cassette'], 'cassette')}, {plural(files['snapshot'], 'snapshot file')}"
    if files["other"]:
        checked += f", {plural(files['other'], 'other file')}"
    names = {
        "secret": "secret",
        "unreadable": "unreadable file",
        "format": "old/unknown format",
        "orphan": "orphaned cassette",
        "unused": "unused cassette",
        "stray": "stray temp file",
    }
    problems = ", ".join(
        plural(counts[c], names[c]) + (" (warning)" if c in ("orphan", "unused", "stray") else "") for c in names if c in counts
    )
    failed = any(f.is_error for f in findings) or (args.strict and bool(findings))
    print(
        f"harness lint: {checked} checked: "
        + (st.paint(problems, "red" if failed else "yellow") if problems else st.paint("no problems", "green"))
    )
    if "orphan" in counts:
        print("  (orphaned = the test module file is missing; cassettes shared by name through the marker may be false alarms)")
    if note:
        print(f"  ({note})")
    return 1 if failed else 0
