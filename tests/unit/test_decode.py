"""harness.cassette.decode: orjson (the ``fast`` extra) reads a cassette exactly as the standard library does, or
leaves it to the standard library; without orjson the same interactions load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cassette import decode
from harness.cassette import format as fmt
from tests.reliability.valid_cassette import _valid_text

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = sorted((ROOT / "cassettes").rglob("*.json"))


def test_orjson_reads_every_committed_cassette_as_the_standard_library_does() -> None:
    pytest.importorskip("orjson")
    assert len(CASSETTES) > 10
    for path in CASSETTES:
        text = path.read_text(encoding="utf-8")
        assert decode.fast(text) == json.loads(text), path
        assert decode.fast(text.encode()) == json.loads(text), path


@pytest.mark.parametrize(
    "text",
    [
        '{"n": 123456789012345678901234567890}',  # orjson would read it as a float
        '{"n": 18446744073709551616}',  # 2 ** 64
        "[-123456789012345678901]",
        "123456789012345678901",
        '{"t": "\\ud800"}',  # a lone surrogate
        '{"x": NaN}',
        '{"x": 1e400}',
        "[" * 2000 + "]" * 2000,
        "",
        '{"a": 1',
    ],
)
def test_what_orjson_would_not_read_exactly_is_left_to_the_standard_library(text: str) -> None:
    assert decode.fast(text) is None


def test_an_id_with_a_run_of_digits_is_read_by_orjson() -> None:
    pytest.importorskip("orjson")
    assert decode.fast('{"id": "req_000000000000000000000000"}') == {"id": "req_000000000000000000000000"}


def test_a_big_integer_loads_exactly(tmp_path: Path) -> None:
    doc = json.loads(_valid_text())
    doc["interactions"][0]["response"]["body"] = {"json": {"id": 123456789012345678901234567890}}
    item = fmt.loads(json.dumps(doc), tmp_path / "c.json")[0]
    assert item.response.body.value == {"id": 123456789012345678901234567890}


def test_without_orjson_the_same_interactions_load(monkeypatch: pytest.MonkeyPatch) -> None:
    fast = [fmt.loads(p.read_bytes(), p) for p in CASSETTES]
    monkeypatch.setattr(decode, "orjson", None)
    assert decode.fast("{}") is None
    assert [fmt.loads(p.read_bytes(), p) for p in CASSETTES] == fast


def test_reading_a_cassette_holds_the_collector_off_and_leaves_it_as_it_was(tmp_path: Path) -> None:
    import gc

    seen: list[bool] = []
    real = fmt._loads_with_sdk

    def spy(text: str | bytes, path: Path | str) -> object:
        seen.append(gc.isenabled())
        return real(text, path)

    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(_valid_text(), encoding="utf-8")
    bad.write_text(_valid_text()[:-40], encoding="utf-8")
    fmt._loads_with_sdk = spy  # type: ignore[assignment]
    try:
        assert gc.isenabled()
        assert fmt.load(good)
        with pytest.raises(fmt.CassetteFormatError):
            fmt.load(bad)
        # Given a caller that turned the collector off itself, it stays off
        gc.disable()
        try:
            assert fmt.load(good)
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        fmt._loads_with_sdk = real  # type: ignore[assignment]
    # Then every read ran with the collector off, and it came back on after a good file and a bad one
    assert seen == [False, False, False]
    assert gc.isenabled()
