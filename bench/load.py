"""Cassette load: the same exchanges as a harness, a vcrpy (libyaml) and a cassetter cassette.

Timed: from the file on disk to interactions ready to answer a request. For harness that is
``harness.cassette.format.load`` (read, parse, check, and render each stream once to its bytes);
for vcrpy its filesystem persister with its YAML serializer (libyaml's loader when PyYAML has it);
for cassetter its ``Cassette(...).load()``.

For the stream, the floors of harness's own way are timed in the same rounds (the row's note): reading
the file's bytes, parsing them with ``json`` and with orjson (where installed), rendering the parsed
events to the wire's bytes (``harness.sse.render``), and splitting the file into lines and slicing each
(what a reader that takes each event's wire text from its line would do, per event); each with the
cyclic collector held off, as harness reads a cassette (``no_cycle_collection``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import streams
from bench.common import Row, interleaved, last_samples, paired_ratio


def loaders(paths: dict[str, Path], count: int) -> dict[str, Callable[[], Any]]:
    from vcr.persisters.filesystem import FilesystemPersister
    from vcr.serializers import yamlserializer

    from harness.cassette import format as fmt

    def harness() -> None:
        assert len(fmt.load(paths["harness"])) == count

    def vcrpy() -> None:
        requests, _ = FilesystemPersister.load_cassette(str(paths["vcrpy"]), yamlserializer)
        assert len(requests) == count

    out = {"harness": harness, "vcrpy": vcrpy}
    try:
        from cassetter import RecordMode
        from cassetter.cassette import Cassette
    except ImportError:  # pragma: no cover - cassetter lives in the bench environment only
        return out

    def cassetter() -> None:
        c = Cassette(paths["cassetter"], record_mode=RecordMode.NONE)
        c.load()
        assert len(c.interactions) == count

    out["cassetter"] = cassetter
    return out


def floors(path: Path) -> dict[str, Callable[[], Any]]:
    """The parts of loading a stream's cassette, each alone (see the module's doc)."""
    import json

    from harness import sse
    from harness.cassette.decode import no_cycle_collection

    def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with no_cycle_collection():
                return fn()

        return run

    data = path.read_bytes()
    events = [i["response"]["body"]["sse"] for i in json.loads(data)["interactions"] if "sse" in i["response"]["body"]]
    out: dict[str, Callable[[], Any]] = {
        "floor: read": path.read_bytes,
        "floor: parse (json)": quiet(lambda: json.loads(data)),
        "floor: render": quiet(lambda: [sse.render(e) for e in events]),
        "floor: split + slice lines": quiet(lambda: [line[12:-2] for line in data.split(b"\n")]),
    }
    try:
        import orjson
    except ImportError:  # the `fast` extra is not installed
        return out
    out["floor: parse (orjson)"] = quiet(lambda: orjson.loads(data))
    return out


def libyaml() -> bool:
    import yaml

    return hasattr(yaml, "CSafeLoader")


def run(quick: bool = False, log: Callable[[str], None] = print) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
        sets = [
            ("Anthropic stream, 10,000 events", "stream-10k", [streams.stream("anthropic", 10_000)]),
            (
                "1,000 small JSON interactions",
                "small-1000",
                [
                    (streams.anthropic_message if i % 2 else streams.openai_completion)(i, prompt=f"question {i}")
                    for i in range(1000)
                ],
            ),
        ]
        for case, name, exchanges in sets:
            paths = streams.write_all(Path(tmp), name, exchanges)
            cases = loaders(paths, len(exchanges))
            if name == "stream-10k":
                cases.update(floors(paths["harness"]))
            t = interleaved(cases, 5 if quick else 15)
            samples = dict(last_samples)
            parts = {k.removeprefix("floor: "): t.pop(k) for k in list(t) if k.startswith("floor: ")}
            row = Row("load", case, "vcrpy", t["vcrpy"], dict(t))
            row.ratios = {"vcrpy / harness": paired_ratio("vcrpy", "harness", samples)}
            if "cassetter" in t:
                row.ratios["cassetter / harness"] = paired_ratio("cassetter", "harness", samples)
            row.target = "vcrpy/harness >= 5, cassetter/harness >= 1"
            row.ok = row.ratios["vcrpy / harness"] >= 5 and row.ratios.get("cassetter / harness", 1) >= 1
            size = paths["harness"].stat().st_size
            row.note = f"harness file {size / 1e6:.2f} MB; libyaml: {'yes' if libyaml() else 'NO'}"
            if parts:
                row.note += "; its parts alone: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in parts.items())
            log(f"  load {case}: " + ", ".join(f"{k} {v * 1e3:.1f} ms" for k, v in t.items()))
            rows.append(row)
    return rows


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
