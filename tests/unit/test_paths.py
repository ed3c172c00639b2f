"""harness.paths: a test's cassette file name is unique and holds no key."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.paths import default_path, path_for, safe_name


@pytest.mark.parametrize("name", ["test_x", "TestA.test_b[stream]", "test_c[1-a=b,c+d.e]", "test_x[plain]"])
def test_a_name_that_is_safe_keeps_its_file_name(name: str) -> None:
    assert safe_name(name) == name


def test_names_that_differ_only_in_punctuation_get_different_files() -> None:
    a, b = safe_name("test_ask[Is it sunny?]"), safe_name("test_ask[Is it sunny!]")
    assert a != b
    assert a.startswith("test_ask[Is_it_sunny_]-") and b.startswith("test_ask[Is_it_sunny_]-")
    assert safe_name("test_ask[Is it sunny?]") == a  # stable


def test_a_long_name_is_cut_and_stays_unique() -> None:
    a, b = safe_name("test_" + "x" * 300 + "1"), safe_name("test_" + "x" * 300 + "2")
    assert a != b and len(a) < 220


@pytest.mark.parametrize(
    "key", ["sk-ant-api03-abcdefghijklmnop", "sk-proj-abcdefghijklmnopqrstuv", "AKIAABCDEFGHIJKLMNOP", "a1b2c3d4" * 5]
)
def test_a_key_given_as_a_parameter_stays_out_of_the_file_name(key: str) -> None:
    name = safe_name(f"test_auth[{key}]")
    assert key not in name and "redacted" in name
    assert safe_name(f"test_auth[{key}x]") != name


def test_a_long_test_name_with_digits_is_not_taken_for_a_key() -> None:
    name = "test_the_v2_api_answers_with_a_very_long_descriptive_name_1"
    assert safe_name(name) == name


def test_paths() -> None:
    assert default_path(Path("c"), "tests/test_a.py", "T.test_b") == Path("c/tests/test_a/T.test_b.json")
    assert path_for("tests/test_a.py::T::test_b", Path("c"), "shared") == Path("c/tests/test_a/shared.json")
