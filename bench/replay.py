"""Replay overhead: a recorded N-event stream replayed into the SDK's stream helper.

Cases, interleaved round by round in one process:

- ``floor``: the same bytes, in the same chunks as recorded, from a bare ``httpx2.MockTransport``
  (no cassette library at all). This is what the SDK itself costs.
- ``floor (one body)``: the same bytes as a single body, the way vcrpy serves them.
- ``harness``: the SDK's default transport, answered by harness from a loaded cassette. Timed:
  the request (matching, building the response, serving the chunks, the SDK consuming them).
  The cassette is loaded before each call, untimed (its load has its own rows).
- ``harness cold``: loading the cassette file, starting and stopping the session, and the request.
- ``vcrpy`` / ``vcrpy cold``: the same, through ``vcr.use_cassette`` on the equivalent YAML cassette
  (libyaml); vcrpy's ratio is against ``floor (one body)``, the way it serves the body.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row, interleaved, last_samples, paired_ratio

PROMPT = "What is the weather in Paris?"


def sdk_call(api: str, http_client: Any) -> Callable[[], Any]:
    """One streamed model call through the SDK's stream helper, returning the final message."""
    if api == "anthropic":
        import anthropic

        client = anthropic.Anthropic(
            api_key="sk-ant-bench-key-000000", base_url=streams.ANTHROPIC_URL, http_client=http_client, max_retries=0
        )

        def call() -> Any:
            with client.messages.stream(
                model="claude-opus-4-7", max_tokens=1024, messages=[{"role": "user", "content": PROMPT}]
            ) as stream:
                return stream.get_final_message()

        return call
    import openai

    oclient = openai.OpenAI(
        api_key="sk-bench-key-0000000000000000", base_url=streams.OPENAI_URL, http_client=http_client, max_retries=0
    )

    def ocall() -> Any:
        with oclient.chat.completions.stream(
            model="gpt-5.1", messages=[{"role": "user", "content": PROMPT}], stream_options={"include_usage": True}
        ) as stream:
            return stream.get_final_completion()

    return ocall


class _Parts:
    """A response body given in recorded chunks (set up once per library: its stream base classes)."""

    cls: Any = None

    @classmethod
    def make(cls, parts: list[bytes]) -> Any:
        if cls.cls is None:
            import httpx2

            class PartsStream(httpx2.SyncByteStream):
                def __init__(self, parts: list[bytes]) -> None:
                    self.parts = parts

                def __iter__(self) -> Any:
                    yield from self.parts

            cls.cls = PartsStream
        return cls.cls(parts)


def mock_client(ex: streams.Exchange, *, chunked: bool, seen: list[Any] | None = None) -> Any:
    """An ``httpx2.Client`` whose transport answers every request with ``ex`` (the floor)."""
    import httpx2

    def handler(request: Any) -> Any:
        request.read()
        if seen is not None:
            seen.append(request)
        if chunked:
            return httpx2.Response(ex.status, headers=ex.headers, stream=_Parts.make(ex.parts))
        return httpx2.Response(ex.status, headers=ex.headers, content=ex.body)

    return httpx2.Client(transport=httpx2.MockTransport(handler))


def sdk_request(api: str, ex: streams.Exchange) -> dict[str, Any]:
    """The JSON body the SDK really sends for :func:`sdk_call` (so the cassette matches it)."""
    seen: list[Any] = []
    sdk_call(api, mock_client(ex, chunked=False, seen=seen))()
    return json.loads(seen[0].content)


def prepare(api: str, n: int, folder: Path) -> tuple[streams.Exchange, dict[str, Path]]:
    ex = streams.stream(api, n)
    ex.request = sdk_request(api, ex)
    return ex, streams.write_all(folder, f"{api}-{n}", [ex])


def _session(path: Path, text: str | None = None) -> Any:
    from harness.config import Settings
    from harness.session import Session

    return Session(Settings(record_mode="none"), path, "bench::replay", old_text=text)


def cases(api: str, ex: streams.Exchange, paths: dict[str, Path]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    import httpx2
    import vcr

    real = httpx2.Client()  # the default transport: what harness and vcrpy patch
    on_real = sdk_call(api, real)
    floor = sdk_call(api, mock_client(ex, chunked=True))
    floor_blob = sdk_call(api, mock_client(ex, chunked=False))
    text = paths["harness"].read_text(encoding="utf-8")
    hpath, vpath = paths["harness"], str(paths["vcrpy"])
    recorder = vcr.VCR(record_mode="none")

    def harness_setup() -> Any:
        session = _session(hpath, text)
        session.start()
        return session

    def harness_teardown(session: Any) -> None:
        session.stop()
        session.check()

    def harness_cold(_: Any = None) -> None:
        session = _session(hpath)
        session.start()
        try:
            on_real()
        finally:
            session.stop()

    def vcr_setup() -> Any:
        cm = recorder.use_cassette(vpath)
        cm.__enter__()
        return cm

    def vcr_cold(_: Any = None) -> None:
        with recorder.use_cassette(vpath):
            on_real()

    run = {
        "floor": lambda _=None: floor(),
        "floor (one body)": lambda _=None: floor_blob(),
        "harness": lambda _: on_real(),
        "harness cold": harness_cold,
        "vcrpy": lambda _: on_real(),
        "vcrpy cold": vcr_cold,
    }
    setup = {"harness": harness_setup, "vcrpy": vcr_setup}
    teardown = {"harness": harness_teardown, "vcrpy": lambda cm: cm.__exit__(None, None, None)}
    return run, setup, teardown


TARGET = {100: 1.05, 1000: 1.03, 10000: 1.03}
#: Seconds of measuring per stream (a full run; --quick takes a quarter), at least 3 rounds each.
BUDGET = {"anthropic": {100: 8, 1000: 10, 10000: 14}, "openai": {100: 8, 1000: 14, 10000: 40}}


def run(
    quick: bool = False,
    sizes: tuple[int, ...] = (100, 1000, 10000),
    apis: tuple[str, ...] = ("anthropic", "openai"),
    log: Callable[[str], None] = print,
) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        for api in apis:
            for n in sizes:
                ex, paths = prepare(api, n, Path(tmp))
                run_cases, setup, teardown = cases(api, ex, paths)
                if n >= 10_000:
                    # A cold run is a load plus a warm one: the load has its own rows. Saves minutes.
                    del run_cases["harness cold"], run_cases["vcrpy cold"]
                budget = BUDGET[api][n] / (4 if quick else 1)
                t = interleaved(run_cases, 200, setup=setup, teardown=teardown, budget=budget, warmup=1)
                rounds = len(last_samples["floor"])
                f = t["floor"]
                row = Row("replay", f"{api} stream, {n:,} events", "floor", f, dict(t))
                row.ratios = {"harness": paired_ratio("harness", "floor"), "vcrpy": paired_ratio("vcrpy", "floor (one body)")}
                if "harness cold" in t:
                    row.ratios["harness cold"] = paired_ratio("harness cold", "floor")
                    row.ratios["vcrpy cold"] = paired_ratio("vcrpy cold", "floor (one body)")
                row.target = f"harness <= {TARGET[n]:.2f} x"
                row.ok = row.ratios["harness"] <= TARGET[n]
                row.note = f"harness adds {(row.ratios['harness'] - 1) * f * 1e3:+.2f} ms per request (median of paired rounds); {rounds} rounds"
                log(
                    f"  replay {api} {n:>6}: floor {f * 1e3:.2f} ms, "
                    + ", ".join(f"{k} x{v:.3f}" for k, v in row.ratios.items())
                    + f" ({rounds} rounds)"
                )
                rows.append(row)
    return rows


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
