"""``python -m bench [--quick] [--only replay,cold,load,match,scan,suite,record,fuzz]``: every benchmark, one table.

Medians throughout; every ratio is against a baseline measured in the same run (in-process cases
interleaved round by round and timed in CPU time; whole pytest runs interleaved and timed by
their CPU time; time to first event by the wall clock).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from bench.common import Row, fmt_time

SECTIONS = ("replay", "cold", "load", "match", "scan", "suite", "record", "fuzz")
MODULES = {"match": "matching", "fuzz": "bench_fuzz"}


def _x(value: float) -> str:
    return f"{value:.3f} x" if value < 10 else f"{value:.0f} x"


def _speed(times_faster: float) -> str:
    return f"{times_faster:.1f} x faster" if times_faster >= 1 else f"{1 / times_faster:.1f} x slower"


def cells(row: Row) -> tuple[str, str, str, str, str]:
    """(benchmark, baseline, harness, others, result) for one row of the table."""
    m, r = row.measured, row.ratios
    if row.section == "replay":
        return (
            f"replay: {row.case}",
            f"floor {fmt_time(m['floor'])}",
            f"{fmt_time(m['harness'])} = **{_x(r['harness'])}**"
            + (f" (cold: {_x(r['harness cold'])})" if "harness cold" in r else ""),
            f"vcrpy {_x(r['vcrpy'])}" + (f" (cold: {_x(r['vcrpy cold'])})" if "vcrpy cold" in r else ""),
            row.note,
        )
    if row.section == "cold":
        return (
            f"cold whole test, default client: {row.case}",
            f"MockTransport twin {fmt_time(m['twin'])}",
            f"{fmt_time(m['harness'])} = **{_x(r['harness'])}**",
            "",
            row.note,
        )
    if row.section == "load":
        others = f"cassetter {fmt_time(m['cassetter'])}" if "cassetter" in m else "cassetter: not installed"
        faster = f"**{_speed(r['vcrpy / harness'])}** than vcrpy"
        if "cassetter / harness" in r:
            faster += f", {_speed(r['cassetter / harness'])} than cassetter"
        return (f"load: {row.case}", f"vcrpy {fmt_time(m['vcrpy'])}", f"{fmt_time(m['harness'])}: {faster}", others, row.note)
    if row.section == "match":
        return (
            f"match: {row.case}",
            f"{fmt_time(m['harness @ 10'])} per request @ 10",
            f"{fmt_time(m['harness @ 10,000'])} @ 10,000 = **{_x(r['harness 10,000 / 10'])}**",
            f"vcrpy {fmt_time(m['vcrpy @ 10'])} @ 10, {fmt_time(m['vcrpy @ 10,000'])} @ 10,000 ({_x(r['vcrpy 10,000 / 10'])})",
            f"{row.note}; a body that differs from its recording's bytes (padded JSON) takes the whole way: "
            f"{fmt_time(m['harness padded @ 10'])} @ 10, {fmt_time(m['harness padded @ 10,000'])} @ 10,000",
        )
    if row.section == "scan":
        return (
            f"scan: {row.case}",
            f"plain scan {r['plain']:.1f} MB/s",
            f"lint's scan **{r['scan']:.0f} MB/s**, final scrub {r['file_text']:.0f} MB/s",
            "",
            row.note,
        )
    if row.section == "fuzz":
        end = r["end to end"]
        return (
            f"fuzz: {row.case}",
            f"plain replay {fmt_time(m['plain'])} = {1 / m['plain']:.1f} replays/s",
            f"{fmt_time(m['end to end'])} per variant = {1 / m['end to end']:.1f} variants/s = **{_x(end)}** of plain",
            "",
            row.note,
        )
    if row.section == "suite":
        return (
            f"per test: {row.case}",
            f"floor {m['floor']:.2f} s CPU",
            f"{m['harness']:.2f} s = **{_x(r['harness'])}** (wall {_x(r['harness (wall)'])})",
            f"vcrpy (pytest-recording) {m['vcrpy']:.2f} s = {_x(r['vcrpy'])}",
            row.note,
        )
    return (
        f"record: {row.case}",
        f"live {fmt_time(m['live'])}",
        f"recording {fmt_time(m['recording'])} (**{r['recording - live (ms)']:+.2f} ms**)",
        "",
        row.note,
    )


def _version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def table(rows: list[Row]) -> str:
    out = ["| Benchmark | Baseline | harness | Others | Target | Met | Notes |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        bench, base, harness, others, notes = cells(row)
        met = "yes" if row.ok else "**no**" if row.ok is not None else ""
        out.append(f"| {bench} | {base} | {harness} | {others} | {row.target} | {met} | {notes} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a smoke run; noisier figures)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections to run (default: all of {', '.join(SECTIONS)})"
    )
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    import importlib

    rows: list[Row] = []
    start = time.perf_counter()
    for section in SECTIONS:
        if section not in chosen:
            continue
        log(f"{section} ...")
        module = importlib.import_module(f"bench.{MODULES.get(section, section)}")
        rows.extend(module.run(quick=args.quick, log=log))
    elapsed = time.perf_counter() - start
    import anthropic
    import openai
    import vcr
    import yaml

    try:
        from importlib.metadata import version

        cassetter_version = version("cassetter")
    except Exception:
        cassetter_version = "not installed"
    print(table(rows))
    print()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, anthropic {anthropic.__version__}, openai {openai.__version__}, "
        f"vcrpy {vcr.__version__}, PyYAML {yaml.__version__} (libyaml: {'yes' if hasattr(yaml, 'CSafeLoader') else 'no'}), "
        f"cassetter {cassetter_version}, orjson {_version('orjson')}; {'--quick, ' if args.quick else ''}{elapsed:.0f} s; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores at the end."
    )
    missed = [r for r in rows if r.ok is False]
    if missed:
        print(f"{len(missed)} target(s) missed: " + "; ".join(f"{r.section}: {r.case}" for r in missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
