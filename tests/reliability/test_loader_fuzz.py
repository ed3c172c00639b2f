"""The cassette loader, fuzzed: structural, text and stream edits of a valid cassette give clear errors
and never crash it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.cassette import format as fmt
from harness.errors import CassetteFormatError
from harness.matching import Matcher
from tests.reliability.valid_cassette import _valid_doc, _valid_text

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_KNOWN_KEYS = [
    "harness_cassette",
    "interactions",
    "kind",
    "request",
    "response",
    "method",
    "url",
    "headers",
    "body",
    "json",
    "sse",
    "text",
    "base64",
    "eol",
    "status",
    "chunks",
    "error",
    "elapsed_ms",
    "event",
    "data",
    "raw",
    "comments",
    "fields",
    "id",
    "retry",
    "name",
    "input",
    "result",
    "server",
    "notify",
    "params",
    "during",
    "after",
    "answer",
    "content",
    "isError",
    "structuredContent",
    "progress",
    "message",
    "level",
    "serverInfo",
    "protocolVersion",
]


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [here]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*here, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*here, i))
    return out


@st.composite
def _structural_edits(draw: Any) -> bytes:
    """A valid cassette with one to three values replaced, keys dropped or added, at any depth."""
    doc = _valid_doc()
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)[1:]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(_json_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(_KNOWN_KEYS))] = draw(_json_values)
        else:
            parent.append(draw(_json_values))
    return json.dumps(doc).encode()


@st.composite
def _text_edits(draw: Any) -> bytes:
    """The valid cassette's text, truncated, with a slice deleted, or with characters inserted."""
    text = _valid_text()
    at = draw(st.integers(0, len(text)))
    action = draw(st.sampled_from(["truncate", "delete", "insert", "bytes"]))
    if action == "truncate":
        return text[:at].encode()
    if action == "delete":
        return (text[:at] + text[at + draw(st.integers(1, 40)) :]).encode()
    if action == "insert":
        return (text[:at] + draw(st.text(min_size=1, max_size=8)) + text[at:]).encode("utf-8", "surrogatepass")
    raw = text.encode()
    return raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]


def _expected_events(item: Any) -> list[tuple[str | None, str, bool]]:
    """(name, data, whether the cassette shows the data as JSON) of each event a stored stream
    shows, as an SSE decoder must see them."""
    from harness import sse

    events = item.response.body.value
    out = []
    for n, entry in enumerate(events):
        if "raw" in entry:
            if n == len(events) - 1 and not sse._WHOLE.fullmatch(entry["raw"]):
                continue  # the last event of a stream that broke: it never completes
            lines = [line for line in sse._EOL_SPLIT.split(entry["raw"]) if line and not line.startswith(":")]
            fields = [(name, value.removeprefix(" ")) for name, _, value in (line.partition(":") for line in lines)]
            data = [value for name, value in fields if name == "data"]
            names = [value for name, value in fields if name == "event"]
            if data:
                out.append((names[-1] if names else None, "\n".join(data), "data" in entry))
        elif "data" in entry:
            out.append((entry.get("event"), sse._encode_json(entry["data"]), True))
        elif "text" in entry:
            out.append((entry.get("event"), entry["text"], False))
    return [(name or None, data, structured) for name, data, structured in out]  # anthropic's decoder reads "" as none


def _decoded_events(body: bytes) -> list[tuple[str | None, str]]:
    """(name, data) of each event with data that anthropic's SSE decoder reads from the bytes."""
    from anthropic._streaming import SSEDecoder

    return [
        (e.event or None, e.data)
        for e in SSEDecoder().iter_bytes(iter([body]))
        if any(r.partition(":")[0] == "data" for r in e.raw)
    ]


_sse_bits = st.sampled_from(["delta", "a\nb", "x\r\ny", "\r", "\n\n", "", " lead", "data: {}", "event: x\n", ":c\n"]) | st.text(
    st.sampled_from("ab:\r\n {}"), max_size=10
)


@st.composite
def _stream_edits(draw: Any) -> bytes:
    """The valid cassette's stream, edited where an SSE decoder is sensitive: line breaks in fields,
    exact texts cut, joined or replaced, the body kept as text, NaN in data; sometimes with no
    chunks (so the body's length is not checked) or with the stream broken."""
    from harness import sse

    doc = _valid_doc()
    resp = doc["interactions"][1]["response"]
    if draw(st.booleans()):
        del resp["chunks"]
    if draw(st.booleans()):
        resp["error"] = {"type": "RemoteProtocolError", "message": "peer closed connection"}
    events = resp["body"]["sse"]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(events) - 1))
        action = draw(st.sampled_from(["field", "raw", "raw_only", "text_body", "nan"]))
        if action == "field":
            events[i][draw(st.sampled_from(["event", "id", "retry", "text"]))] = draw(_sse_bits)
        elif action in ("raw", "raw_only"):
            rendered = sse.render_entry({k: v for k, v in events[i].items() if k != "raw"})
            a = draw(st.integers(0, len(rendered)))
            b = draw(st.integers(a, len(rendered)))
            raw = rendered[:a] + draw(_sse_bits) + rendered[b:]
            events[i] = {"raw": raw} if action == "raw_only" else {**events[i], "raw": raw}
        elif action == "text_body":
            text = "".join(sse.render_entry(e) for e in events)
            a = draw(st.integers(0, len(text)))
            resp["body"] = {"text": text[:a] + draw(_sse_bits) + text[draw(st.integers(a, len(text))) :]}
            break
        else:
            events[i]["data"] = {"k": draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))}
    return json.dumps(doc).encode()


def _strict_json(text: str) -> bool:
    """False for data that Python's json reads only with NaN or Infinity in it (not JSON)."""

    def reject(name: str) -> Any:
        raise ValueError(name)

    try:
        json.loads(text)
    except ValueError:
        return True  # text data, not JSON
    try:
        json.loads(text, parse_constant=reject)
    except ValueError:
        return False
    return True


def _use(items: list[Any]) -> None:
    """What replay and re-recording do with a loaded cassette: render every body, build each
    replayed response, decode each stream as an SDK does (it must see the events the cassette
    shows), show and diff every interaction, write the cassette back out and read that again."""
    import httpx2

    from harness import cli
    from harness.cassette.model import HttpInteraction
    from harness.seams.http import _replay_response, _Streams

    streams = _Streams.of(httpx2)
    for item in items:
        if isinstance(item, HttpInteraction):
            item.request.body.bytes()
            if item.response is not None:
                response = _replay_response(httpx2, streams, item, 0)
                try:
                    response.read()
                except httpx2.TransportError:
                    # A recorded transport error is replayed as one, after the recorded part of the body.
                    assert item.response.error is not None
                if item.response.body.kind == "sse":
                    expected = _expected_events(item)
                    assert _decoded_events(item.response.body.bytes()) == [(name, data) for name, data, _ in expected]
                    # what the cassette shows as JSON is JSON: no NaN or Infinity
                    assert all(_strict_json(data) for _, data, structured in expected if structured)
        else:
            # MCP calls and local tools: the renderer and the differ of their kind (not the fallback
            # that catches a renderer's crash) read anything the loader accepts.
            item.describe()
            item.key(Matcher())
            options = cli.ShowOptions(cli.Style(True), raw_events=True)
            cli.RENDERERS[item.kind](0, item, options)
            assert cli.DIFFERS[item.kind](item, item, cli.DiffOptions(matcher=None)) == []  # type: ignore[arg-type]
    assert len(fmt.loads(fmt.dumps(items), "again.json")) == len(items)


def test_loader_fuzz_gives_clear_errors_and_never_crashes(capsys):
    counts = {"tried": 0, "loaded": 0, "clear errors": 0, "crashes": 0}
    crashes: list[str] = []

    @settings(
        max_examples=1000,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(data=st.one_of(_structural_edits(), _text_edits(), _stream_edits(), st.binary(max_size=200)))
    def fuzz(data: bytes) -> None:
        counts["tried"] += 1
        try:
            items = fmt.loads(data, "fuzzed.json")
            _use(items)
        except CassetteFormatError as exc:
            assert "fuzzed.json" in str(exc) and exc.problem
            counts["clear errors"] += 1
            return
        except Exception as exc:  # an internal crash: counted, and shown below
            counts["crashes"] += 1
            if len(crashes) < 5:
                crashes.append(f"{type(exc).__name__}: {exc} <- {data[:300]!r}")
            return
        counts["loaded"] += 1

    fuzz()
    with capsys.disabled():
        print(
            f"\nloader fuzz: {counts['tried']} inputs tried, {counts['loaded']} loaded, {counts['clear errors']} clear errors, "
            f"{counts['crashes']} internal crashes"
        )
    assert counts["crashes"] == 0, "\n".join(crashes)
    assert counts["tried"] >= 1000 and counts["clear errors"] > counts["tried"] // 3 and counts["loaded"] > 0
