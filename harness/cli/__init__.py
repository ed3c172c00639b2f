"""The ``harness`` command: read, compare, check and convert cassettes.

    harness show CASSETTE        the agent run as a transcript: turns, answers, tool calls, timings
    harness diff A B             what changed between two cassettes, in messages and tool calls
    harness lint [PATHS...]      credentials, unreadable or old files, orphaned cassettes, MCP tool-surface drift
    harness import-vcr SRC...    vcrpy / pytest-recording YAML cassettes -> harness cassettes
    harness drift [PATHS...]     what the installed SDKs drop or cannot parse in recorded answers

Exit status: 0 all good; 1 a finding (diff: the cassettes differ; lint: a problem; import-vcr: a file
failed; drift: the SDK drops or cannot parse a recorded field); 2 bad usage or unreadable input; 3 lint itself failed on a file (the file is named). Only the standard library (and harness modules that use
nothing else) is imported at start-up.

One command a module: :mod:`~harness.cli.show`, :mod:`~harness.cli.diff`, :mod:`~harness.cli.lint`,
:mod:`~harness.cli.vcr` (import-vcr), over :mod:`~harness.cli.style` (colours, formatters) and
:mod:`~harness.cli.load` (cassettes, titles). How a model call is read (:func:`turn_of` for the
request, :func:`answer_of` for the response) is each provider's (:mod:`harness.providers`):
Anthropic Messages, OpenAI Chat Completions, Responses and Assistants, as JSON or as SSE streams.
Other interaction kinds get a renderer in :data:`RENDERERS` and a differ in :data:`DIFFERS`, keyed
by the kind; a kind with neither is shown through its ``describe()``. This module holds the parser
and :func:`main`, and re-exports the names of the command modules.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.cli.diff import (
    DIFFERS,
    DiffOptions,
    align,
    changes,
    cmd_diff,
    diff_answers,
    diff_generic,
    diff_http,
    diff_mcp,
    diff_tool,
)
from harness.cli.drift import cmd_drift
from harness.cli.lint import LINT_PATTERNS, Finding, cmd_lint, lint_file, lint_targets, orphan_of, pytest_ini, unused_cassettes
from harness.cli.load import as_json, load_cassette, title
from harness.cli.show import (
    LABEL_WIDTH,
    RENDERERS,
    ShowOptions,
    answer_lines,
    cmd_show,
    field_lines,
    render,
    render_generic,
    render_http,
    render_mcp,
    render_tool,
)
from harness.cli.style import CliError, Style, color_enabled
from harness.cli.vcr import cmd_import_vcr, convert_vcr, decode_content, read_vcr, vcr_interaction
from harness.providers.base import Answer, Part
from harness.providers.read import answer_of, turn_of

__all__ = [
    "DIFFERS",
    "LABEL_WIDTH",
    "LINT_PATTERNS",
    "RENDERERS",
    "Answer",
    "CliError",
    "DiffOptions",
    "Finding",
    "Part",
    "ShowOptions",
    "Style",
    "align",
    "answer_lines",
    "answer_of",
    "as_json",
    "build_parser",
    "changes",
    "cmd_diff",
    "cmd_drift",
    "cmd_import_vcr",
    "cmd_lint",
    "cmd_show",
    "color_enabled",
    "convert_vcr",
    "decode_content",
    "diff_answers",
    "diff_generic",
    "diff_http",
    "diff_mcp",
    "diff_tool",
    "field_lines",
    "lint_file",
    "lint_targets",
    "load_cassette",
    "main",
    "orphan_of",
    "pytest_ini",
    "read_vcr",
    "render",
    "render_generic",
    "render_http",
    "render_mcp",
    "render_tool",
    "title",
    "turn_of",
    "unused_cassettes",
    "vcr_interaction",
]


def build_parser() -> argparse.ArgumentParser:
    colors = argparse.ArgumentParser(add_help=False)
    group = colors.add_mutually_exclusive_group()
    group.add_argument("--color", dest="color", action="store_const", const=True, default=None, help="always colour the output")
    group.add_argument(
        "--no-color", dest="color", action="store_const", const=False, help="never colour the output (NO_COLOR works too)"
    )

    parser = argparse.ArgumentParser(prog="harness", description="Read, compare, check and convert harness cassettes.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    show = sub.add_parser("show", parents=[colors], help="the agent run of a cassette as a readable transcript")
    show.add_argument("cassette", metavar="CASSETTE")
    show.add_argument("--raw-events", action="store_true", help="also list every SSE event")
    show.add_argument("--full", action="store_true", help="do not shorten long texts")
    show.add_argument("--html", action="store_true", help="a self-contained HTML page: the run as a timeline")
    show.add_argument("-o", "--output", metavar="FILE", help="with --html: write the page here (atomically)")
    show.set_defaults(func=cmd_show)

    diff = sub.add_parser(
        "diff",
        parents=[colors],
        help="what changed between two cassettes, in messages and tool calls",
        description="Pairs interactions in order and reports requests (method, path, headers, body) and answers "
        "(status, text, tool calls, stop reason, errors) that differ, as A != B. Timings, ids and usage are ignored; "
        "tool call ids the server makes fresh each run (toolu_..., call_..., fc_...) and their echoes in later requests "
        "are compared by their order of appearance (<id 1>, <id 2>...). Exit 0 when the same, 1 when different.",
    )
    diff.add_argument("a", metavar="A")
    diff.add_argument("b", metavar="B")
    diff.add_argument(
        "--html", action="store_true", help="the two cassettes side by side, changes marked: a self-contained HTML page"
    )
    diff.add_argument("-o", "--output", metavar="FILE", help="with --html: write the page here (atomically)")
    diff.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="a request body path to ignore, like '$.metadata.user_id' (repeatable)",
    )
    diff.add_argument("--no-headers", action="store_true", help="do not compare request headers")
    diff.set_defaults(func=cmd_diff)

    lint = sub.add_parser(
        "lint",
        parents=[colors],
        help="credentials, unreadable or old cassettes, orphaned cassettes",
        description="Checks cassettes (*.json under the cassette folder and examples/**/cassettes) and syrupy snapshots "
        "(__snapshots__ folders) for credentials, cassettes for unreadable files and old or unknown format versions, "
        "and reports orphaned cassettes: <cassettes>/<module path>/<test>.json whose <module path>.py is missing "
        "(a simple rule: cassettes shared by name through the marker can be false alarms); with --unused, also "
        "cassettes in a test module's folder that no collected test opens. Also scans vcrpy YAML cassettes (*.yaml "
        "under a cassettes folder), and MCP tool surfaces: cassettes holding different tools/list answers of one "
        "server. Exit 1 on a credential, an unreadable file or (with --against) a changed tool surface (orphans, unused "
        "cassettes and tool lists that differ between cassettes are warnings unless --strict); 3 when lint itself fails "
        "on a file.",
    )
    lint.add_argument(
        "paths", nargs="*", metavar="PATHS", help="files or folders to check (default: the cassette folder and snapshots)"
    )
    lint.add_argument(
        "--cassette-dir",
        default=None,
        metavar="DIR",
        help="the cassette folder (default: harness_cassette_dir of the pytest ini file, else cassettes under its folder)",
    )
    lint.add_argument("--pattern", action="append", default=[], metavar="REGEX", help="another credential pattern (repeatable)")
    lint.add_argument(
        "--unused",
        action="store_true",
        help="also report cassettes that no test opens any more (collects the tests with pytest: imports the test modules)",
    )
    lint.add_argument(
        "--strict",
        action="store_true",
        help="warnings (orphans, unused cassettes, stray temp files, tool-surface changes) fail too",
    )
    lint.add_argument(
        "--against",
        metavar="OLD",
        help="an older copy of the project (e.g. a worktree of the main branch): an MCP server's tool list that changed "
        "since (a tool added or removed, its description or schema changed) is an error",
    )
    lint.set_defaults(func=cmd_lint)

    imp = sub.add_parser(
        "import-vcr",
        help="convert vcrpy / pytest-recording YAML cassettes to harness cassettes",
        description="Each vcrpy interaction becomes an HTTP interaction: gzip/deflate bodies are decoded, SSE bodies "
        "become events, credentials are removed. Output: the same name with .json, or under -o OUT.",
    )
    imp.add_argument("src", nargs="+", metavar="SRC", help="vcrpy cassettes, or folders of them")
    imp.add_argument("-o", "--output", metavar="OUT", help="write the converted cassettes into this folder")
    imp.add_argument("--force", action="store_true", help="replace existing output files")
    imp.set_defaults(func=cmd_import_vcr)

    drift = sub.add_parser(
        "drift",
        parents=[colors],
        help="what the installed SDKs drop or cannot parse in recorded answers",
        description="Parses every recorded response body and stream event of a model call (Anthropic Messages, "
        "OpenAI Chat Completions, Responses, Assistants runs) with the installed SDK's own models, strictly, and "
        "reports per cassette and interaction the keys the SDK does not model (it would drop them) and what it "
        "cannot parse, with the SDK versions the cassette was recorded with. Exit 1 on findings, 0 when clean, "
        "2 on an unreadable file.",
    )
    drift.add_argument("paths", nargs="*", metavar="PATHS", help="files or folders to check (default: the cassette folder)")
    drift.add_argument("--cassette-dir", default=None, metavar="DIR", help="the cassette folder (default: as lint)")
    drift.add_argument("--json", action="store_true", help="the report as JSON")
    drift.add_argument("-v", "--verbose", action="store_true", help="also list clean cassettes and their versions")
    drift.set_defaults(func=cmd_drift)
    return parser


def main(argv: list[str] | None = None) -> int:
    from harness.errors import HarnessError

    args = build_parser().parse_args(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
        except (AttributeError, ValueError):
            pass  # not a text stream we can reconfigure: leave it as it is
    try:
        result: int = args.func(args)
        return result
    except CliError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 2
    except HarnessError as exc:
        message = str(exc)
        print(message if message.startswith("harness:") else f"harness: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `harness show x | head`: the reader left; say nothing more.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130
