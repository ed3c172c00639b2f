"""harness.jsonutil: the small JSON helpers, against the standard library's own encoder."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from harness import jsonutil

SAMPLES: list[Any] = [
    None,
    True,
    0,
    -3,
    1.5,
    1e100,
    "",
    'é \u2028 "quoted" \\ \n\t\x00',
    "😀",
    [],
    {},
    [1, [2, [3, {}]]],
    {"b": 1, "a": {"d": [True, None], "c": "x"}},
    {"é": "ü", "z": [{"y": 1, "x": 2}]},
    {10: "int keys sort as numbers", 9: 2},
]


@pytest.mark.parametrize("value", SAMPLES)
def test_canonical_is_sorted_compact_json(value: Any) -> None:
    assert jsonutil.canonical(value) == json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@pytest.mark.parametrize("value", SAMPLES)
def test_compact_keeps_key_order(value: Any) -> None:
    assert jsonutil.compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def test_canonical_exact_text() -> None:
    assert jsonutil.canonical({"b": [1, {"d": 2, "c": "é"}], "a": None}) == '{"a":null,"b":[1,{"c":"é","d":2}]}'
    assert jsonutil.compact({"b": [1, {"d": 2, "c": "é"}], "a": None}) == '{"b":[1,{"d":2,"c":"é"}],"a":null}'


def test_canonical_does_not_depend_on_key_order() -> None:
    assert jsonutil.canonical({"x": 1, "y": {"p": 1, "q": 2}}) == jsonutil.canonical({"y": {"q": 2, "p": 1}, "x": 1})


def test_canonical_writes_a_non_json_value_as_its_str() -> None:
    assert jsonutil.canonical({"amount": Decimal("1.10"), "when": (1, 2)}) == '{"amount":"1.10","when":[1,2]}'


def test_compact_refuses_a_non_json_value() -> None:
    with pytest.raises(TypeError, match="Decimal is not JSON serializable"):
        jsonutil.compact({"amount": Decimal("1")})


def test_copy_is_deep_for_dicts_and_lists() -> None:
    original = {"a": [1, {"b": [2]}], "c": "s"}
    copied = jsonutil.copy(original)
    assert copied == original
    copied["a"][1]["b"].append(3)
    copied["a"].append(4)
    copied["new"] = 1
    assert original == {"a": [1, {"b": [2]}], "c": "s"}
    assert copied["a"] is not original["a"] and copied["a"][1] is not original["a"][1]


def test_copy_shares_what_it_does_not_rebuild() -> None:
    inner = {"k": 1}
    value = ("t", inner)
    assert jsonutil.copy(value) is value  # a tuple is kept as is, with what it holds
    assert jsonutil.copy("text") == "text"


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("abcdef", 6, "abcdef"),
        ("abcdefg", 6, "abc..."),
        ("", 3, ""),
        ("x" * 121, 120, "x" * 117 + "..."),
        ("x" * 120, 120, "x" * 120),
    ],
)
def test_short(text: str, limit: int, expected: str) -> None:
    assert jsonutil.short(text, limit) == expected
    assert len(jsonutil.short(text, limit)) <= limit


def test_short_default_limit_is_120() -> None:
    assert jsonutil.short("y" * 200) == "y" * 117 + "..."


def test_preview() -> None:
    assert jsonutil.preview("Paris") == "'Paris'"
    assert jsonutil.preview({"city": "Zürich", "n": [1, 2]}) == '{"city": "Zürich", "n": [1, 2]}'
    assert jsonutil.preview({"at": Decimal("2")}) == '{"at": "2"}'
    assert jsonutil.preview(list(range(100)), 20) == "[0, 1, 2, 3, 4, 5..."
