"""pytest entry point: options, the ``cassette`` marker and fixture, the end-of-session line.

Cheap to load: this module imports nothing but pytest and the standard library, creates nothing
on disk, and leaves the engine (``harness.session``) and the HTTP libraries to the first test
that uses a cassette.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_INI: dict[str, tuple[str, str, Any]] = {
    "record_mode": ("string", "default record mode: none (replay only), once, new_episodes, all", None),
    "cassette_dir": ("string", "folder of the cassettes, relative to the rootdir (default: cassettes)", None),
    "ignore_paths": ("linelist", "JSON paths in request bodies that matching ignores", []),
    "match_on": ("args", "request parts matched: method host path query body headers", []),
    "allow_unplayed": ("bool", "do not fail a test that leaves recorded interactions unplayed", None),
    "replay_speed": ("string", "0 replays instantly; 1.0 paces streams as recorded", None),
    "redact_headers": ("args", "more header names never written to cassettes", []),
    "redact_patterns": ("linelist", "more regular expressions scrubbed from everything written", []),
}

_summary_key = pytest.StashKey[dict[str, int]]()
_call_excinfo_key = pytest.StashKey[Any]()
_setup_failed_key = pytest.StashKey[bool]()
_session_key = pytest.StashKey[Any]()
_usage_key = pytest.StashKey[Any]()
# --harness-drift: the cassettes the session used, then what the installed SDKs make of them.
_drift_key = pytest.StashKey[set[str]]()
_drift_found_key = pytest.StashKey[list[Any]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "harness: record and replay agent traffic")
    group.addoption(
        "--cassette-dir", dest="harness_cassette_dir", default=None, help="where cassettes live (default: <rootdir>/cassettes)"
    )
    group.addoption(
        "--replay-speed",
        dest="harness_replay_speed",
        default=None,
        help="pace replayed streams: 0 instant (default), 1.0 as recorded",
    )
    group.addoption(
        "--allow-unplayed",
        dest="harness_allow_unplayed",
        action="store_true",
        default=None,
        help="do not fail tests that leave recorded interactions unplayed",
    )
    group.addoption(
        "--real-tools",
        dest="harness_real_tools",
        action="store_true",
        default=None,
        help="run local tools for real on replay instead of returning recorded results",
    )
    group.addoption(
        "--harness-cassette-list",
        dest="harness_cassette_list",
        default=None,
        metavar="FILE",
        help="write the cassette paths the collected tests use to FILE, as JSON (for `harness lint --unused`)",
    )
    group.addoption(
        "--harness-drift",
        dest="harness_drift",
        action="store_true",
        default=False,
        help="at the end, parse the answers of every cassette the session used with the installed SDKs' models "
        "(as `harness drift`) and fail the session if they drop or cannot parse a recorded field",
    )
    for name, (kind, help_text, default) in _INI.items():
        parser.addini(f"harness_{name}", help_text, type=kind, default=default)  # type: ignore[arg-type]


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    # ``--record-mode`` is shared with pytest-recording, cassetter and other cassette plugins. They
    # add it unconditionally from their own pytest_addoption; this hook runs after every installed
    # plugin's, so harness adds the option only if nobody did, and both plugins load side by side.
    from harness.config import RECORD_MODES

    if any("--record-mode" in opt.names() for group in parser._groups for opt in group.options) or any(
        "--record-mode" in opt.names() for opt in parser._anonymous.options
    ):
        return
    try:
        parser.getgroup("harness").addoption(
            "--record-mode",
            action="store",
            default=None,
            choices=RECORD_MODES,
            help="none: replay only (default); once: record missing cassettes; new_episodes: record "
            "requests not in the cassette; all (or rewrite): record everything anew",
        )
    except ValueError:  # added meanwhile by a plugin that does not check first
        pass


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cassette(path=None, *, record_mode=None, match_on=None, ignore_paths=None, allow_unplayed=None, "
        "replay_speed=None, redact_headers=None, redact_patterns=None, real_tools=None): record this test's "
        "model and MCP traffic into a cassette, and replay it with no network. See the harness README.",
    )
    config.stash[_summary_key] = {"replayed": 0, "recorded": 0, "unplayed": 0}
    from harness.usage import Usage

    config.stash[_usage_key] = Usage()


def _uses_cassette(item: pytest.Item) -> bool:
    return item.get_closest_marker("cassette") is not None or "cassette" in (getattr(item, "fixturenames", None) or ())


def _module_of(nodeid: str) -> str:
    return nodeid.partition("::")[0]


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    usage = config.stash.get(_usage_key, None)
    if usage is None:
        return
    uses = [item for item in session.items if _uses_cassette(item)]
    listing = config.getoption("harness_cassette_list", None)
    if not uses and not listing:
        return  # no test uses a cassette: nothing to load, nothing to count
    from harness.paths import default_path

    folder = _cassette_folder(config)
    for arg in config.args:
        if "::" in arg:
            usage.partial_paths.add(Path(config.invocation_params.dir, arg.partition("::")[0]).resolve())
    for item in session.items:
        module = _module_of(item.nodeid)
        entry = usage.modules.get(module)
        if entry is None:
            entry = usage.modules[module] = {"folder": str(default_path(folder, module, "x").parent), "items": set()}
            if item.path.resolve() in usage.partial_paths:
                usage.partial.add(module)
        entry["items"].add(item.nodeid)
    for item in uses:
        try:
            usage.expected.add(str(cassette_path(config, item, folder)))
        except Exception:  # a bad marker: the test fails with its report; its module is not judged
            usage.partial.add(_module_of(item.nodeid))
    if listing:
        import json

        Path(listing).write_text(
            json.dumps({"rootdir": str(config.rootpath), "cassette_dir": str(folder), **usage.to_json()}), encoding="utf-8"
        )


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        usage = items[0].config.stash.get(_usage_key, None)
        if usage is not None:
            usage.partial.update(_module_of(item.nodeid) for item in items)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item) -> Any:
    result = yield
    usage = item.config.stash.get(_usage_key, None)
    if usage is not None:
        usage.ran.add(item.nodeid)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "call" and call.excinfo is not None:
        item.stash[_call_excinfo_key] = call.excinfo
    elif call.excinfo is not None and report.failed:
        if call.when == "setup":
            item.stash[_setup_failed_key] = True
        _short_report(item, call.excinfo, report)
    return report


def _short_report(item: pytest.Item, excinfo: Any, report: pytest.TestReport) -> None:
    """A harness error in the cassette fixture (a bad cassette file, a bad setting, no cassette,
    unplayed interactions) is a report written for the user: show it alone, without the traceback
    through harness's own code (``--tb=long`` or ``--full-trace`` show it all)."""
    errors = sys.modules.get("harness.errors")
    if errors is None or not isinstance(excinfo.value, errors.HarnessError):
        return
    option = item.config.option
    if getattr(option, "tbstyle", "auto") == "long" or getattr(option, "fulltrace", False):
        return
    report.longrepr = f"{type(excinfo.value).__name__}: {excinfo.value}"


@pytest.fixture
def harness_config() -> dict[str, Any]:
    """Override to give every test in a folder or module the same settings (see harness.config)."""
    return {}


@pytest.fixture
def agent_snapshot(snapshot: Any) -> Any:
    """syrupy's ``snapshot`` with the harness extension: SDK objects and callback traces, with
    volatile ids and timestamps replaced by stable placeholders (``<msg_1>``, ``<timestamp>``)."""
    from harness.snapshot import agent_snapshot_fixture

    return agent_snapshot_fixture(snapshot)


def _cli_options(config: pytest.Config) -> dict[str, Any]:
    return {
        "record_mode": config.getoption("--record-mode", None),
        "cassette_dir": config.getoption("harness_cassette_dir"),
        "replay_speed": config.getoption("harness_replay_speed"),
        "allow_unplayed": config.getoption("harness_allow_unplayed"),
        "real_tools": config.getoption("harness_real_tools"),
    }


def _ini_options(config: pytest.Config) -> dict[str, Any]:
    return {name: config.getini(f"harness_{name}") for name in _INI}


def _marker_kwargs(node: pytest.Item) -> dict[str, Any]:
    from harness.config import marker_settings
    from harness.errors import ConfigError

    marker = node.get_closest_marker("cassette")
    if marker is None:
        return {}
    try:
        return marker_settings(marker.args, marker.kwargs)
    except TypeError as exc:  # a value of the wrong kind
        raise ConfigError(f"harness: bad @pytest.mark.cassette(...) arguments: {exc}") from None


def _folder(config: pytest.Config, cassette_dir: str) -> Path:
    folder = Path(cassette_dir)
    return folder if folder.is_absolute() else config.rootpath / folder


def _cassette_folder(config: pytest.Config) -> Path:
    """The cassette folder (command line, then pyproject): the marker and fixture cannot move it."""
    from harness.config import resolve

    return _folder(config, resolve(_cli_options(config), {}, {}, _ini_options(config)).cassette_dir)


def cassette_path(config: pytest.Config, item: pytest.Item, folder: Path | None = None) -> Path:
    """The cassette file a collected test opens (its marker's path, or the one named after it)."""
    from harness.paths import path_for

    name = _marker_kwargs(item).get("path")
    return path_for(item.nodeid, folder or _cassette_folder(config), name)


@pytest.fixture(autouse=True)
def _harness_cassette_first(request: pytest.FixtureRequest) -> None:
    """A marked test's cassette starts before its other function-scoped fixtures (autouse fixtures
    of plugins are set up first), so HTTP and MCP sessions opened in fixtures are recorded and
    replayed too, and it stops after them. A marker on one ``pytest.param`` is that
    parametrization's alone: the marker is read here, on the test item."""
    if request.node.get_closest_marker("cassette") is None:
        return
    value = request.getfixturevalue("cassette")
    session = request.node.stash.get(_session_key, None)
    if session is None or value is not session.cassette:
        from harness.errors import ConfigError

        raise ConfigError(_shadowed(request))


def _shadowed(request: pytest.FixtureRequest) -> str:
    """The report for a ``cassette`` fixture that is not harness's (cassetter's plugin, a conftest)."""
    import inspect

    where = "another plugin or a conftest"
    defs = getattr(request, "_arg2fixturedefs", {}).get("cassette") or ()
    for fixturedef in reversed(defs):
        func = getattr(fixturedef, "func", None)
        if func is not None and (func.__module__, func.__name__) != (__name__, "cassette"):
            try:
                source = str(Path(inspect.getsourcefile(func) or "?").resolve().relative_to(request.config.rootpath))
            except (TypeError, ValueError):
                source = inspect.getsourcefile(func) or "?"
            where = f"{func.__module__}.{func.__name__} ({source})"
            break
    return (
        f"harness: another `cassette` fixture, {where}, shadows harness's for this test: its traffic "
        "would be neither recorded nor replayed by harness, and in replay it would reach the network.\n"
        "  How to fix: rename or remove that fixture, or disable the plugin that defines it "
        "(for cassetter: `-p no:cassetter`, or uninstall it); a fixture named `cassette` that wraps "
        "harness's must request `cassette` itself and return it."
    )


@pytest.fixture
def cassette(request: pytest.FixtureRequest, harness_config: dict[str, Any]) -> Iterator[Any]:
    """The test's cassette, loaded and bound to the HTTP (and MCP) seams for the test's duration.

    ``cassette.path``, ``cassette.mode``, ``cassette.interactions``, ``cassette.played``,
    ``cassette.recorded``. Used by ``@pytest.mark.cassette`` tests automatically, before their
    other function-scoped fixtures.
    """
    from harness.config import resolve
    from harness.errors import CassetteMiss
    from harness.paths import path_for
    from harness.session import Session

    config = request.config
    marker_kwargs = _marker_kwargs(request.node)
    settings = resolve(_cli_options(config), marker_kwargs, harness_config, _ini_options(config))
    path = path_for(request.node.nodeid, _folder(config, settings.cassette_dir), settings.path)

    session = Session(settings, path, request.node.nodeid, rootdir=config.rootpath)
    request.node.stash[_session_key] = session
    session.start()
    excinfo = None
    try:
        yield session.cassette
    finally:
        excinfo = request.node.stash.get(_call_excinfo_key, None)
        failed = excinfo is not None or request.node.stash.get(_setup_failed_key, False)
        session.stop(failed=failed)
        if config.getoption("harness_drift", False):
            config.stash.setdefault(_drift_key, set()).add(str(session.cassette.path))
        summary = config.stash[_summary_key]
        summary["recorded" if session.cassette.recorded else "replayed"] += 1
        summary["unplayed"] += len(session.cassette.unplayed) if session.judges_unplayed else 0
    if request.node.stash.get(_setup_failed_key, False):
        return  # the test never ran: its set-up error is the report
    if excinfo is None:
        session.check()
    elif session.misses and not isinstance(excinfo.value, CassetteMiss):
        # The code under test swallowed the miss and then failed on something else: say why.
        raise session.misses[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    # An xdist worker hands its counts to the controller, which prints the one summary line.
    config = session.config
    usage = config.stash.get(_usage_key, None)
    workeroutput = getattr(config, "workeroutput", None)
    summary = config.stash.get(_summary_key, None)
    if workeroutput is not None and summary is not None:
        workeroutput["harness_summary"] = dict(summary)
        if usage is not None and usage.modules:
            workeroutput["harness_usage"] = usage.to_json()
        workeroutput["harness_drift"] = sorted(_drift_used(config))
    elif config.getoption("harness_drift", False):
        _check_drift(session)


def _drift_used(config: pytest.Config) -> set[str]:
    used: set[str] = config.stash.get(_drift_key, set())
    return used


def _check_drift(session: pytest.Session) -> None:
    """--harness-drift: check the cassettes the session used; findings fail the session."""
    from harness.drift import check_file
    from harness.errors import CassetteFormatError

    found: list[Any] = []
    for name in sorted(_drift_used(session.config)):
        path = Path(name)
        if not path.is_file():
            continue
        try:
            drift = check_file(path)
        except CassetteFormatError as exc:
            found.append((path, None, [str(exc)]))
            continue
        if drift.findings:
            found.append((path, drift.sdk, [f.line() for f in drift.findings]))
    session.config.stash[_drift_found_key] = found
    if found and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist (controller side): add up the counts of a worker that finished."""
    output = getattr(node, "workeroutput", {})
    counts = output.get("harness_summary")
    summary = node.config.stash.get(_summary_key, None)
    if counts and summary is not None:
        for key, value in counts.items():
            summary[key] = summary.get(key, 0) + int(value)
    usage = node.config.stash.get(_usage_key, None)
    if usage is not None and output.get("harness_usage"):
        usage.merge(output["harness_usage"])
    if output.get("harness_drift"):
        node.config.stash.setdefault(_drift_key, set()).update(output["harness_drift"])


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    _drift_summary(terminalreporter, config)
    summary = config.stash.get(_summary_key, None)
    usage = config.stash.get(_usage_key, None)
    unused = [path for path, _ in usage.unused()] if usage is not None and usage.modules else []
    if not summary or not (summary["replayed"] or summary["recorded"] or unused):
        return
    parts = [f"{summary['replayed']} cassette(s) replayed", f"{summary['recorded']} recorded"]
    if summary["unplayed"]:
        parts.append(f"{summary['unplayed']} interaction(s) unplayed")
    if unused:
        parts.append(f"{len(unused)} unused")
    terminalreporter.write_line("harness: " + ", ".join(parts) + ".")
    if unused:
        if config.get_verbosity() > 0:
            for path in unused:
                terminalreporter.write_line(f"  unused: {_shown(path, config.rootpath)}")
        else:
            terminalreporter.write_line("  (no collected test opens them: -v lists them, `harness lint --unused` too)")


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _drift_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("harness_drift", False) or _drift_found_key not in config.stash:
        return
    from harness.drift import installed, versions_line

    found = config.stash[_drift_found_key]
    used = len(_drift_used(config))
    if not found:
        terminalreporter.write_line(f"harness drift: {used} cassette(s) used, the installed SDKs read them whole.")
        return
    terminalreporter.section("harness drift", sep="=", red=True)
    now = installed()
    for path, sdk, lines in found:
        terminalreporter.write_line(f"{_shown(path, config.rootpath)}  {versions_line(sdk, now)}")
        for line in lines:
            terminalreporter.write_line(f"  {line}")
    terminalreporter.write_line(
        f"harness drift: {len(found)} of {used} cassette(s) used hold what the installed SDKs drop or cannot parse "
        "(re-record them with --record-mode=all, or see `harness drift`)."
    )
