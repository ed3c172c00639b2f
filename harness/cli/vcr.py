"""``harness import-vcr SRC...``: vcrpy / pytest-recording YAML cassettes -> harness cassettes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.load import walk
from harness.cli.style import CliError

if TYPE_CHECKING:
    from harness.cassette.model import HttpInteraction
    from harness.redact import Redactor


def _yaml_loader() -> Any:
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise CliError("import-vcr needs PyYAML: pip install 'harness[vcr]'") from None
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class VcrLoader(base):  # type: ignore[misc,valid-type]
        """A safe loader that also reads the harmless Python tags vcrpy writes."""

    def scalar(loader: Any, node: Any) -> Any:
        return loader.construct_scalar(node)

    def sequence(loader: Any, node: Any) -> Any:
        return tuple(loader.construct_sequence(node))

    VcrLoader.add_constructor("tag:yaml.org,2002:python/str", scalar)
    VcrLoader.add_constructor("tag:yaml.org,2002:python/unicode", scalar)
    VcrLoader.add_constructor("tag:yaml.org,2002:python/tuple", sequence)
    return VcrLoader


def read_vcr(path: Path) -> list[Any]:
    """The raw interactions of a vcrpy cassette (YAML, or vcrpy's JSON serializer)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise CliError(f"{path}: not valid JSON ({exc})") from None
        if isinstance(doc, dict) and "harness_cassette" in doc:
            raise CliError(f"{path}: already a harness cassette")
    else:
        import yaml  # type: ignore[import-untyped,unused-ignore]

        try:
            doc = yaml.load(text, Loader=_yaml_loader())  # a safe loader (above)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise CliError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise CliError(f"{path}: not a vcrpy cassette (no 'interactions' list)")
    return list(doc["interactions"])


def _vcr_headers(raw: Any) -> list[tuple[str, str]]:
    """vcrpy headers (``{name: [values]}``, or ``{name: value}`` in old files) as pairs."""
    pairs: list[tuple[str, str]] = []
    for name, values in (raw or {}).items():
        for value in values if isinstance(values, (list, tuple)) else [values]:
            pairs.append((str(name), value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def _vcr_bytes(raw: Any) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, dict):
        return _vcr_bytes(raw.get("string"))
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    raise CliError(f"a body of type {type(raw).__name__} is not supported")


def _header(pairs: list[tuple[str, str]], name: str) -> str:
    return next((v for k, v in pairs if k.lower() == name), "")


def decode_content(data: bytes, headers: list[tuple[str, str]]) -> tuple[bytes, list[tuple[str, str]]]:
    """Undo ``content-encoding`` (gzip, deflate) and drop the header: harness stores plain bodies."""
    import gzip
    import zlib

    codings = [c.strip().lower() for c in _header(headers, "content-encoding").split(",") if c.strip()]
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip"):
            if data[:2] == b"\x1f\x8b":  # not already decoded (vcrpy's decode_compressed_response)
                data = gzip.decompress(data)
        elif coding == "deflate":
            try:
                data = zlib.decompress(data)
            except zlib.error:
                try:
                    data = zlib.decompress(data, -zlib.MAX_WBITS)
                except zlib.error:
                    pass  # already decoded
        elif coding != "identity":
            raise CliError(f"a {coding}-encoded body cannot be decoded (harness decodes gzip and deflate)")
    return data, [(k, v) for k, v in headers if k.lower() != "content-encoding"]


def vcr_interaction(raw: dict[str, Any], redactor: Redactor) -> tuple[HttpInteraction, int]:
    """One vcrpy interaction as an :class:`HttpInteraction`, and how many credential headers it dropped."""
    from harness.cassette.model import Body, HttpInteraction, Request, Response
    from harness.redact import SECRET_HEADERS, stable_url

    req, resp = raw["request"], raw["response"]
    req_headers = _vcr_headers(req.get("headers"))
    req_data, req_headers = decode_content(_vcr_bytes(req.get("body")), req_headers)
    request = Request(
        str(req["method"]).upper(),
        redactor.url(stable_url(str(req["uri"]))),
        redactor.headers(req_headers),
        redactor.body(Body.from_bytes(req_data, _header(req_headers, "content-type")), req_data),
    )
    status = resp["status"]
    resp_headers = _vcr_headers(resp.get("headers"))
    resp_data, resp_headers = decode_content(_vcr_bytes(resp.get("body")), resp_headers)
    response = Response(
        int(status["code"] if isinstance(status, dict) else status),
        redactor.headers(resp_headers),
        redactor.body(Body.from_bytes(resp_data, _header(resp_headers, "content-type")), resp_data),
    )
    dropped = sum(1 for k, _ in req_headers + resp_headers if k.lower() in SECRET_HEADERS)
    return HttpInteraction(request, response), dropped


def convert_vcr(path: Path) -> tuple[str, str]:
    """A vcrpy cassette as the text of a harness cassette, and a summary of what was converted."""
    from harness.cassette import format as cassette_format
    from harness.redact import REDACTED, Redactor

    redactor = Redactor()
    items: list[HttpInteraction] = []
    dropped = 0
    for n, raw in enumerate(read_vcr(path)):
        try:
            item, k = vcr_interaction(raw, redactor)
        except CliError as exc:
            raise CliError(f"{path}: interaction {n}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OSError, EOFError) as exc:
            raise CliError(f"{path}: interaction {n} is not in vcrpy's format ({type(exc).__name__}: {exc})") from None
        items.append(item)
        dropped += k
    text = redactor.text(cassette_format.dumps(items))
    kinds: dict[str, int] = {}
    for item in items:
        kind = item.response.body.kind if item.response is not None else "error"
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = f"{len(items)} interaction{'s' * (len(items) != 1)}"
    if kinds:
        summary += " (" + ", ".join(f"{v} {k}" for k, v in kinds.items()) + ")"
    scrubbed = text.count(REDACTED)
    if dropped or scrubbed:
        summary += f"; removed {dropped} credential header{'s' * (dropped != 1)}, scrubbed {scrubbed} key-shaped string{'s' * (scrubbed != 1)}"
    return text, summary


def _vcr_sources(names: list[str]) -> list[tuple[Path, Path]]:
    """(file, the folder its output path is relative to) for each file or folder given."""
    sources: list[tuple[Path, Path]] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            sources += [(f, path) for f in walk(path) if f.suffix in (".yaml", ".yml")]
        elif path.is_file():
            sources.append((path, path.parent))
        else:
            raise CliError(f"no such file or folder: {name}")
    if not sources:
        raise CliError("no vcrpy cassettes (*.yaml, *.yml) found in " + ", ".join(names))
    return sources


def cmd_import_vcr(args: argparse.Namespace) -> int:
    from harness.cassette.store import atomic_write

    out_dir = Path(args.output) if args.output else None
    converted = failed = 0
    for src, base in _vcr_sources(args.src):
        dest = (out_dir / src.relative_to(base) if out_dir else src).with_suffix(".json")
        try:
            if dest.resolve() == src.resolve():
                raise CliError(f"{src}: the output would replace the source: give an output folder with -o")
            if dest.exists() and not args.force:
                raise CliError(f"{dest} exists: use --force to replace it")
            text, summary = convert_vcr(src)
        except CliError as exc:
            print(f"harness: {exc}", file=sys.stderr)
            failed += 1
            continue
        atomic_write(dest, text)
        converted += 1
        print(f"{src} -> {dest}: {summary}")
    print(f"harness import-vcr: {converted} converted" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0
