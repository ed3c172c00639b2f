"""``harness drift [PATHS...]``: what the installed SDKs drop or cannot parse in recorded answers.

Every response body and stream event of a model call is parsed with the installed SDK's own models
(see :mod:`harness.drift`); findings are listed per cassette with the SDK versions it was recorded
with. Exit 0 clean, 1 on findings, 2 on an unreadable file. The SDKs are imported only when the
command runs.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

from harness.cli.lint import lint_targets, pytest_ini
from harness.cli.style import CliError, Style, color_enabled


def drift_targets(paths: list[str], cassette_dir: str | None) -> list[Path]:
    """The harness cassettes to check: the given files and folders, else the cassette folder (as ``lint``)."""
    if paths:
        targets = lint_targets(paths, Path("."))
        return [p for p, kind in targets if kind in ("cassette", "other") and p.suffix == ".json"]
    rootdir, ini = pytest_ini(Path.cwd())
    folder = Path(cassette_dir) if cassette_dir else rootdir / ini.get("harness_cassette_dir", "cassettes")
    return [p for p, kind in lint_targets([], folder) if kind == "cassette"]


def cmd_drift(args: argparse.Namespace) -> int:
    from harness.drift import check_file, installed, versions_line
    from harness.errors import CassetteFormatError

    st = Style(color_enabled(args.color))
    targets = drift_targets(args.paths, args.cassette_dir)
    now = installed()
    report: list[dict[str, Any]] = []
    unreadable: list[str] = []
    events = bodies = 0
    start = time.perf_counter()
    for path in targets:
        try:
            drift = check_file(path)
        except CassetteFormatError as exc:
            unreadable.append(str(exc))
            continue
        events, bodies = events + drift.events, bodies + drift.bodies
        if drift.findings or args.verbose:
            report.append(
                {
                    "cassette": os.path.normpath(path),
                    "sdk": drift.sdk,
                    "versions": versions_line(drift.sdk, now),
                    "findings": [f.line() for f in drift.findings],
                }
            )
    seconds = time.perf_counter() - start
    findings = sum(len(r["findings"]) for r in report)
    if args.json:
        doc = {"installed": now, "cassettes": report, "unreadable": unreadable, "checked": len(targets)}
        print(json.dumps(doc, indent=2))
    else:
        for r in report:
            print(f"{st.paint(r['cassette'], 'bold')}  {r['versions']}")
            for line in r["findings"]:
                print(f"  {line}")
        for message in unreadable:
            print(st.paint(message, "red"))
        sdks = ", ".join(f"{k} {v}" for k, v in sorted(now.items())) or "no model SDK installed"
        print(
            f"{len(targets)} cassette{'s' * (len(targets) != 1)}, {bodies} bodies, {events} events checked with {sdks}"
            f" in {seconds * 1000:.0f} ms: {findings} finding{'s' * (findings != 1)}"
            + (f", {len(unreadable)} unreadable" if unreadable else "")
        )
    if unreadable:
        return 2
    if not targets and args.paths:
        raise CliError("no harness cassettes (*.json) in " + ", ".join(args.paths))
    return 1 if findings else 0
