"""harness.matching: several ignore paths remove what they name in the original value (no index shift)."""

from __future__ import annotations

from harness.matching import Matcher


def test_several_index_paths_remove_the_original_positions() -> None:
    assert Matcher(ignore_paths=["$.m[0]", "$.m[1]"]).body_view({"m": ["a", "b", "c"]}) == {"m": ["c"]}


def test_an_index_path_and_a_wildcard_path_together() -> None:
    m = Matcher(ignore_paths=["$.m[2]", "$.m[*].t"])
    assert m.body_view({"m": [{"t": 1, "v": 0}, {"t": 2, "v": 1}, {"t": 3}]}) == {"m": [{"v": 0}, {"v": 1}]}
