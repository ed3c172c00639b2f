"""``harness lint [PATHS...]``: credentials, unreadable or old files, orphaned and unused cassettes."""

from __future__ import annotations

import argparse
import base64
import bisect
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.style import CliError, Style, color_enabled, plural

if TYPE_CHECKING:
    from harness.errors import CassetteFormatError
    from harness.redact import Redactor


@dataclass(order=True)
class Finding:
    path: str
    line: int
    what: str
    #: "secret", "unreadable", "format", "orphan", "unused", "stray", "surface" (cassettes disagree on a
    #: server's tools), "surface-baseline" (a server's tools changed since ``--against``'s copy)
    category: str = field(compare=False)

    @property
    def is_error(self) -> bool:
        return self.category in ("secret", "unreadable", "format", "surface-baseline")


_STRAY = re.compile(r"^\..+\.json\..+\.tmp$")
#: Folders never searched: tools' caches and installed packages (a virtualenv is told by its
#: ``pyvenv.cfg``, whatever its name: folders named ``env``, ``build`` or ``dist`` are searched).
_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
_VCR_SUFFIXES = (".yaml", ".yml")


def walk(root: Path) -> Iterator[Path]:
    """Every file under ``root``, sorted, skipping hidden folders, caches and virtualenvs."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in _SKIP_DIRS and not os.path.exists(os.path.join(folder, d, "pyvenv.cfg"))
        )
        for name in sorted(files):
            yield Path(folder) / name


def _classify(path: Path, explicit: bool = False) -> str | None:
    """``cassette``, ``vcr`` (a vcrpy YAML cassette), ``snapshot``, ``stray`` (a temp file left by an
    interrupted write) or None."""
    if _STRAY.match(path.name):
        return "stray"
    if "__snapshots__" in path.parts or path.suffix == ".ambr":
        return "snapshot" if path.suffix in (".ambr", ".json") else None
    if path.suffix in _VCR_SUFFIXES and (explicit or "cassettes" in path.parts):
        return "vcr"
    return "cassette" if path.suffix == ".json" else None


def lint_targets(paths: list[str], cassette_dir: Path) -> list[tuple[Path, str]]:
    """The files to check: the given paths, or the cassette dirs, every ``__snapshots__`` folder
    and the vcrpy YAML cassettes of every ``cassettes`` folder."""
    found: dict[Path, str] = {}
    if paths:
        for name in paths:
            path = Path(name)
            if not path.exists():
                raise CliError(f"no such file or folder: {name}")
            for file in [path] if path.is_file() else walk(path):
                kind = _classify(file, explicit=path.is_file()) or ("other" if path.is_file() else None)
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
    for file in walk(Path(".")):
        parts = file.parts
        if "__snapshots__" in parts and file.suffix in (".ambr", ".json"):
            found.setdefault(Path(os.path.normpath(file)), "snapshot")
        elif "cassettes" in parts and file.suffix in _VCR_SUFFIXES:
            found.setdefault(Path(os.path.normpath(file)), "vcr")
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


#: Extra patterns lint looks for. Empty: lint uses the recorder's catalogue (``harness.redact``),
#: query strings, form bodies and credential fields included, so it finds what the recorder scrubs.
LINT_PATTERNS: tuple[str, ...] = ()


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


class _Lines:
    """Line numbers of offsets in a text (found by bisection, only for what is reported)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._ends: list[int] | None = None

    def of(self, offset: int) -> int:
        if self._ends is None:
            self._ends = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._ends, offset) + 1

    def of_text(self, needle: str, default: int = 1) -> int:
        at = self.text.find(needle)
        return self.of(at) if at >= 0 else default


def _secret_findings(shown: str, text: str, lines: _Lines, redactor: Redactor) -> list[Finding]:
    from harness.redact import base64_values

    encoded = base64_values(text)  # scanned decoded, below; an encoding's key-shaped run is no key
    return [
        Finding(shown, lines.of(start), f"secret: {_mask(text[start:end])} looks like a credential", "secret")
        for start, end, _name in redactor.scanner.finditer(text, whole=True)
        if not any(a <= start and end <= b for a, b in encoded)
    ]


def _header_findings(shown: str, headers: object, lines: _Lines, redactor: Redactor, vcr: bool) -> list[Finding]:
    """Credential headers stored with a value (the recorder keeps only their names)."""
    from harness.redact import REDACTED

    out = []
    for name, value in headers.items() if isinstance(headers, dict) else ():
        values = value if isinstance(value, (list, tuple)) else [value]
        if not redactor.is_secret_header(str(name)) or all(str(v) == REDACTED for v in values):
            continue
        m = re.search(
            rf"^\s*{re.escape(str(name))}:" if vcr else rf"^\s*{re.escape(json.dumps(name))}: ",
            lines.text,
            re.MULTILINE | re.IGNORECASE,
        )
        line = lines.of(m.start()) if m else 1
        out.append(Finding(shown, line, f"secret: credential header {str(name).lower()!r} is stored", "secret"))
    return out


def _body_findings(shown: str, body: object, lines: _Lines, redactor: Redactor, where: str) -> list[Finding]:
    """Secrets the text of the file does not show: spelt across a stream's events, or in a binary body."""
    from harness.redact import stream_edits

    if not isinstance(body, dict):
        return []
    if isinstance(body.get("sse"), list):
        edits = stream_edits(body["sse"], redactor.scanner)
        if edits:
            first = body["sse"][edits[0][0]]
            line = lines.of_text(json.dumps(first, indent=None)[:40])
            text = f"secret: a credential spelt across {len({e[0] for e in edits})} events of the stream ({where})"
            return [Finding(shown, line, text, "secret")]
    if isinstance(body.get("base64"), str):
        try:
            data = base64.b64decode(body["base64"])
        except ValueError:
            return []
        if redactor.binary(data) != data:
            line = lines.of_text(body["base64"][:60])
            return [Finding(shown, line, f"secret: a credential in the binary body ({where})", "secret")]
    return []


def _structure_findings(shown: str, data: bytes, kind: str, lines: _Lines, redactor: Redactor) -> list[Finding]:
    """What only the structure of a cassette tells: credential headers, split streams, binary bodies."""
    if kind == "vcr":
        try:
            import yaml  # type: ignore[import-untyped,unused-ignore]

            doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except Exception:  # no PyYAML, or python tags: the text scan still ran
            return []
    else:
        try:
            doc = json.loads(data)
        except ValueError:
            return []  # reported as unreadable by the format check
    items = doc.get("interactions") if isinstance(doc, dict) else None
    out: list[Finding] = []
    for n, item in enumerate(items if isinstance(items, list) else []):
        for part in ("request", "response"):
            section = item.get(part) if isinstance(item, dict) else None
            if isinstance(section, dict):
                out += _header_findings(shown, section.get("headers"), lines, redactor, kind == "vcr")
                if kind != "vcr":
                    out += _body_findings(shown, section.get("body"), lines, redactor, f"interaction {n} {part}")
    return out


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
    lines = _Lines(text)
    findings = _secret_findings(shown, text, lines, redactor)
    if kind in ("cassette", "vcr"):
        findings += _structure_findings(shown, data, kind, lines, redactor)
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


def _surface_findings(targets: list[tuple[Path, str]], against: str | None) -> list[Finding]:
    """MCP tool lists that differ: between the checked cassettes (warnings), or from the cassettes of the
    older copy ``against`` (errors); see :mod:`harness.cli.surface`."""
    from harness.cli import surface

    checked = [s for path, kind in targets if kind == "cassette" for s in surface.surfaces_of(path)]
    if against is None:
        return [Finding(p, line, what, "surface") for p, line, what in surface.drift(checked, checked)]
    baseline = [s for path in walk(Path(against)) if _classify(path) == "cassette" for s in surface.surfaces_of(path)]
    return [Finding(p, line, what, "surface-baseline") for p, line, what in surface.drift(checked, baseline)]


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
    against = getattr(args, "against", None)
    if against is not None and not Path(against).is_dir():
        raise CliError(f"--against: no such folder: {against}")
    try:
        redactor = Redactor(patterns=[*LINT_PATTERNS, *args.pattern])
    except re.error as exc:
        raise CliError(f"bad --pattern: {exc}") from None
    findings: list[Finding] = []
    crashes: list[str] = []
    for path, kind in targets:
        try:
            findings += lint_file(path, kind, redactor, cassette_dir, rootdir)
        except Exception as exc:  # a bug of lint's own: say which file, check the others, exit 3
            crashes.append(f"{os.path.normpath(path)}: {type(exc).__name__}: {exc}")
    findings += _surface_findings(targets, against)
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
    files = {k: sum(1 for _, kind in targets if kind == k) for k in ("cassette", "vcr", "snapshot", "other")}
    checked = f"{plural(files['cassette'], 'cassette')}, {plural(files['snapshot'], 'snapshot file')}"
    if files["vcr"]:
        checked += f", {plural(files['vcr'], 'vcrpy cassette')}"
    if files["other"]:
        checked += f", {plural(files['other'], 'other file')}"
    names = {
        "secret": "secret",
        "unreadable": "unreadable file",
        "format": "old/unknown format",
        "orphan": "orphaned cassette",
        "unused": "unused cassette",
        "stray": "stray temp file",
        "surface": "tool-surface change",
        "surface-baseline": "tool-surface change",
    }
    problems = ", ".join(
        plural(counts[c], names[c]) + (" (warning)" if c in ("orphan", "unused", "stray", "surface") else "")
        for c in names
        if c in counts
    )
    failed = any(f.is_error for f in findings) or (args.strict and bool(findings))
    print(
        f"harness lint: {checked} checked: "
        + (st.paint(problems, "red" if failed else "yellow") if problems else st.paint("no problems", "green"))
    )
    if "orphan" in counts:
        print("  (orphaned = the test module file is missing; cassettes shared by name through the marker may be false alarms)")
    if "surface" in counts or "surface-baseline" in counts:
        print(
            "  (tool surface = an MCP server's tools/list answer: read the change (a description tells the agent what to do), "
            + (
                "then re-record the cassettes that hold the old one)"
                if "surface" in counts
                else "it is accepted once the baseline holds it)"
            )
        )
    if note:
        print(f"  ({note})")
    for crash in crashes:
        print(f"harness lint: crashed while checking {crash} (a bug in harness: please report it)", file=sys.stderr)
    return EXIT_CRASH if crashes else 1 if failed else 0


#: lint's exit status when it failed on a file for a reason of its own (0: clean, 1: a finding,
#: 2: bad usage or unreadable input, as every harness command).
EXIT_CRASH = 3
