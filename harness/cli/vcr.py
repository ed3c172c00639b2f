"""``harness import-vcr SRC...``: vcrpy / pytest-recording YAML cassettes -> harness cassettes."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cli.load import walk
from harness.cli.style import CliError

if TYPE_CHECKING:
    from harness.cassette.model import HttpInteraction
    from harness.redact import Redactor


class Refused(CliError):
    """A file import-vcr does not convert: ``reason`` is the short name it is counted under."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


# Python tags a vcrpy cassette holds through no choice of its author: aiohttp's header names are
# multidict's case-insensitive ``istr`` (PyYAML's full dumper writes them as objects), and some
# recorders keep yarl URLs and multidicts. Their values are read as plain data; no other object tag
# is built (vcrpy's own loader would import and call whatever a tag names).
_ISTR = frozenset(f"multidict.{m}istr" for m in ("", "_multidict.", "_multidict_py.", "_multidict_base."))
_MULTIDICT = frozenset(
    f"multidict.{m}{c}"
    for m in ("", "_multidict.", "_multidict_py.")
    for c in ("MultiDict", "CIMultiDict", "MultiDictProxy", "CIMultiDictProxy")
)
_URL = frozenset({"yarl.URL", "yarl._url.URL"})
_PLAIN = {
    "str": "str",
    "unicode": "str",
    "bytes": "binary",
    "int": "int",
    "long": "int",
    "float": "float",
    "bool": "bool",
    "none": "null",
    "list": "seq",
    "dict": "map",
}


def _yaml_loader() -> Any:
    try:
        import yaml  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        raise CliError("import-vcr needs PyYAML: pip install 'pytest-agent-harness[vcr]'") from None
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class VcrLoader(base):  # type: ignore[misc,valid-type]
        """A safe loader that also reads the harmless Python tags vcrpy writes (above)."""

    def args_of(loader: Any, node: Any) -> list[Any]:
        if isinstance(node, yaml.SequenceNode):
            return list(loader.construct_sequence(node, deep=True))
        if isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
            args = list(value.get("args") or ())
            state = value.get("state")
            return args or ([state] if state is not None else [])
        return [loader.construct_scalar(node)]

    def python(loader: Any, suffix: str, node: Any) -> Any:
        kind, _, name = suffix.partition(":")
        if kind in _PLAIN and not name:
            return loader.yaml_constructors["tag:yaml.org,2002:" + _PLAIN[kind]](loader, node)
        if kind == "tuple" and not name:
            return tuple(loader.construct_sequence(node, deep=True))
        if kind in ("object/apply", "object/new"):
            args = args_of(loader, node)
            if name in _ISTR and args and isinstance(args[0], str):
                return str(args[0])
            if name in _URL and args:
                return _url_of(args[0])
            if name in _MULTIDICT:
                merged: dict[str, list[Any]] = {}
                for k, v in args[0] if args else []:
                    merged.setdefault(str(k), []).append(v)
                return merged
        where = f" at line {node.start_mark.line + 1}" if node.start_mark is not None else ""
        raise Refused(
            "Python tag not read",
            f"the YAML tag !!python/{suffix}{where} is not read "
            "(it would run code; harness reads only multidict's istr, yarl's URL and plain Python tags)",
        )

    VcrLoader.add_multi_constructor("tag:yaml.org,2002:python/", python)
    return VcrLoader


def _url_of(value: Any) -> str:
    from urllib.parse import urlunsplit

    if isinstance(value, str):
        return value
    parts = value[0] if isinstance(value, tuple) and value and isinstance(value[0], tuple) else value
    return urlunsplit(tuple(str(p) for p in parts[:5]))


def read_vcr(path: Path) -> list[Any]:
    """The raw interactions of a vcrpy cassette (YAML, or vcrpy's JSON serializer)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused("cannot be read", f"{path}: cannot be read ({getattr(exc, 'strerror', None) or exc})") from None
    if path.suffix == ".json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise Refused("not valid JSON", f"{path}: not valid JSON ({exc})") from None
        if isinstance(doc, dict) and "harness_cassette" in doc:
            raise Refused("already a harness cassette", f"{path}: already a harness cassette")
    else:
        loader = _yaml_loader()
        import yaml  # type: ignore[import-untyped,unused-ignore]

        try:
            doc = yaml.load(text, Loader=loader)  # a safe loader (above)
        except Refused as exc:
            raise Refused(exc.reason, f"{path}: {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise Refused("not valid YAML", f"{path}: not valid YAML{where}: {getattr(exc, 'problem', None) or exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise Refused("not a vcrpy cassette", f"{path}: not a vcrpy cassette (no 'interactions' list)")
    for n, raw in enumerate(doc["interactions"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("request"), dict) or not isinstance(raw.get("response"), dict):
            keys = ", ".join(sorted(map(str, raw))) if isinstance(raw, dict) else type(raw).__name__
            raise Refused(
                "not a vcrpy cassette",
                f"{path}: not a vcrpy cassette: interaction {n} has no 'request' and 'response' (keys: {keys})",
            )
    return list(doc["interactions"])


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _vcr_headers(raw: Any, side: str) -> list[tuple[str, str]]:
    """vcrpy headers (``{name: [values]}``, or ``{name: value}`` in old files) as pairs."""
    pairs: list[tuple[str, str]] = []
    for name, values in (raw or {}).items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise Refused("invalid header", f"the {side} header name {name!r} is not a valid HTTP header name")
        for value in values if isinstance(values, (list, tuple)) else [values]:
            pairs.append((str(name), value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return pairs


def _body_of(side: dict[str, Any], key: str = "body") -> bytes:
    """A request's or response's body: under ``body`` (``{string: ...}`` for responses), or as JSON under
    ``parsed_body`` (pydantic-ai's serializer, which vcrpy replays through its deserializer)."""
    if side.get("parsed_body") is not None:
        return json.dumps(side["parsed_body"]).encode("utf-8")
    return _vcr_bytes(side.get(key))


def _vcr_bytes(raw: Any) -> bytes:
    if raw is None:
        return b""
    if isinstance(raw, dict):
        return _vcr_bytes(raw.get("string"))
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str):
        return raw.encode("utf-8")
    raise Refused("body not supported", f"a body of type {type(raw).__name__} is not supported")


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
            raise Refused("body not decodable", f"a {coding}-encoded body cannot be decoded (harness decodes gzip and deflate)")
    return data, [(k, v) for k, v in headers if k.lower() != "content-encoding"]


def vcr_interaction(raw: dict[str, Any], redactor: Redactor) -> tuple[HttpInteraction, int]:
    """One vcrpy interaction as an :class:`HttpInteraction`, and how many credential headers it dropped."""
    from harness.cassette.model import Body, HttpInteraction, Request, Response
    from harness.redact import SECRET_HEADERS, stable_url

    req, resp = raw["request"], raw["response"]
    req_headers = _vcr_headers(req.get("headers"), "request")
    req_data, req_headers = decode_content(_body_of(req), req_headers)
    request = Request(
        str(req["method"]).upper(),
        redactor.url(stable_url(str(req["uri"]))),
        redactor.headers(req_headers),
        redactor.body(Body.from_bytes(req_data, _header(req_headers, "content-type")), req_data),
    )
    # vcrpy's httpx stubs before 4.x wrote `status_code` and `content` (vcrpy 9 still replays them)
    old_httpx = "status_code" in resp
    status = resp["status_code"] if old_httpx else resp["status"]
    resp_headers = _vcr_headers(resp.get("headers"), "response")
    resp_data, resp_headers = decode_content(_body_of(resp, "content" if old_httpx else "body"), resp_headers)
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
    from harness.errors import CassetteFormatError
    from harness.redact import REDACTED, Redactor

    redactor = Redactor()
    items: list[HttpInteraction] = []
    dropped = 0
    for n, raw in enumerate(read_vcr(path)):
        try:
            item, k = vcr_interaction(raw, redactor)
        except Refused as exc:
            raise Refused(exc.reason, f"{path}: interaction {n}: {exc}") from None
        except (KeyError, TypeError, ValueError, AttributeError, OSError, EOFError) as exc:
            raise Refused(
                "not in vcrpy's format", f"{path}: interaction {n} is not in vcrpy's format ({type(exc).__name__}: {exc})"
            ) from None
        items.append(item)
        dropped += k
    text = redactor.file_text(cassette_format.dumps(items))
    try:  # never write a cassette harness would refuse to read
        cassette_format.loads(text, path)
    except CassetteFormatError as exc:
        raise Refused(
            "not readable as a harness cassette", f"{path}: converts to a cassette harness cannot read: {exc}"
        ) from None
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
    converted = 0
    refused: dict[str, int] = {}
    for src, base in _vcr_sources(args.src):
        dest = (out_dir / src.relative_to(base) if out_dir else src).with_suffix(".json")
        try:
            if dest.resolve() == src.resolve():
                raise Refused(
                    "output is the source", f"{src}: the output would replace the source: give an output folder with -o"
                )
            if dest.exists() and not args.force:
                raise Refused("output exists", f"{dest} exists: use --force to replace it")
            text, summary = convert_vcr(src)
        except Refused as exc:
            print(f"harness: {exc}", file=sys.stderr)
            refused[exc.reason] = refused.get(exc.reason, 0) + 1
            continue
        atomic_write(dest, text)
        converted += 1
        print(f"{src} -> {dest}: {summary}")
    line = f"harness import-vcr: {converted} converted"
    if refused:
        by_reason = sorted(refused.items(), key=lambda kv: (-kv[1], kv[0]))
        line += f", {sum(refused.values())} refused (" + ", ".join(f"{n} {reason}" for reason, n in by_reason) + ")"
    print(line)
    return 1 if refused else 0
