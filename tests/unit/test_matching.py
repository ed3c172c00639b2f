"""harness.matching: request keys, ignore paths, the recorded-order index, path-level diffs."""

from __future__ import annotations

from typing import Any

import pytest

from harness.errors import ConfigError
from harness.matching import Index, Matcher, diff, distance, parse_path

URL = "https://api.example.com:443/v1/messages?b=2&a=1"


def key(matcher: Matcher, body: Any, url: str = URL, kind: str = "json") -> tuple[Any, ...]:
    return matcher.key("post", url, {"X-Api": "1"}, kind, body)


# --------------------------------------------------------------------------------------------- key


def test_default_key_is_method_path_sorted_query_and_canonical_body() -> None:
    assert key(Matcher(), {"b": 1, "a": [1, "é"]}) == ("POST", "/v1/messages", "a=1&b=2", '{"a":[1,"é"],"b":1}')


def test_key_does_not_depend_on_body_key_order_or_query_order() -> None:
    m = Matcher()
    assert key(m, {"x": 1, "y": {"p": 1, "q": 2}}) == key(m, {"y": {"q": 2, "p": 1}, "x": 1})
    assert key(m, None, "http://h/p?x=1&y=2") == key(m, None, "http://h/p?y=2&x=1")


def test_key_tells_different_bodies_apart() -> None:
    m = Matcher()
    assert key(m, {"n": 1}) != key(m, {"n": 2})
    assert key(m, {"n": True}) != key(m, {"n": 1})


def test_query_keeps_blank_values() -> None:
    assert key(Matcher(match_on=["query"]), None, "http://h/p?x=&y") == ("x=&y=",)


def test_host_and_headers_parts() -> None:
    m = Matcher(match_on=["host", "headers", "method"])
    assert m.key("get", "http://h.example:8080/p", {"b": "2", "a": "1"}, "json", None) == (
        "h.example",
        (("a", "1"), ("b", "2")),
        "GET",
    )


def test_host_and_headers_are_not_in_the_default_key() -> None:
    m = Matcher()
    assert m.key("GET", "http://127.0.0.1:1111/p", {"a": "1"}, "json", None) == m.key(
        "GET", "http://127.0.0.1:2222/p", {"a": "2"}, "json", None
    )


def test_match_on_without_body_ignores_the_body() -> None:
    m = Matcher(match_on=["method", "path"])
    assert key(m, {"a": 1}) == key(m, {"a": 2}) == ("POST", "/v1/messages")


def test_a_body_that_is_not_json_is_keyed_by_kind_and_value() -> None:
    m = Matcher(match_on=["body"], ignore_paths=["$.a"])
    assert key(m, '{"a":1}', kind="text") == (("text", '{"a":1}'),)
    assert key(m, b"\x00\x01", kind="binary") == (("binary", b"\x00\x01"),)


def test_unknown_match_on_part_is_refused_with_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        Matcher(match_on=["method", "bogus"])
    assert str(info.value) == "harness: unknown match_on part(s) ['bogus']; valid: method, host, path, query, body, headers"


# --------------------------------------------------------------------------------------------- ignore paths


@pytest.mark.parametrize(
    ("path", "body", "view"),
    [
        ("$.metadata.user_id", {"metadata": {"user_id": "u1", "k": 1}}, {"metadata": {"k": 1}}),
        ("$.messages[*].id", {"messages": [{"id": 1, "t": "a"}, {"id": 2}]}, {"messages": [{"t": "a"}, {}]}),
        ("$.tools[0]", {"tools": [1, 2, 3]}, {"tools": [2, 3]}),
        ("$.tools[*]", {"tools": [1, 2, 3]}, {"tools": []}),
        ("$[0]", [1, 2, 3], [2, 3]),
        ("$.*", {"a": 1, "b": 2}, {}),
        ("$.a.*.c", {"a": {"x": {"c": 1, "d": 2}, "y": {"c": 3}}}, {"a": {"x": {"d": 2}, "y": {}}}),
        ("$..id", {"id": 1, "a": [{"id": 2, "b": {"id": 3, "k": 0}}]}, {"a": [{"b": {"k": 0}}]}),
        ("$..b.id", {"b": {"id": 0}, "a": [{"id": 2, "b": {"id": 3}}]}, {"b": {}, "a": [{"id": 2, "b": {}}]}),
        ("$['a.b']", {"a.b": 1, "a": {"b": 2}}, {"a": {"b": 2}}),
        ('$["q"]', {"q": 0, "r": 1}, {"r": 1}),
        # Paths that lead nowhere (or through a non-container) change nothing.
        ("$.a[5]", {"a": [1]}, {"a": [1]}),
        ("$.nope.x", {"a": 1}, {"a": 1}),
        ("$.s.x", {"s": "str"}, {"s": "str"}),
    ],
)
def test_body_view_removes_ignored_paths(path: str, body: Any, view: Any) -> None:
    assert Matcher(ignore_paths=[path]).body_view(body) == view


def test_body_view_works_on_a_copy() -> None:
    body = {"metadata": {"user_id": "u1"}, "messages": [{"id": 1}]}
    Matcher(ignore_paths=["$.metadata.user_id", "$.messages[*].id"]).body_view(body)
    assert body == {"metadata": {"user_id": "u1"}, "messages": [{"id": 1}]}


def test_body_view_leaves_non_containers_and_no_ignores_alone() -> None:
    body = {"a": 1}
    assert Matcher().body_view(body) is body
    assert Matcher(ignore_paths=["$.a"]).body_view("text") == "text"


def test_ignored_paths_drop_out_of_the_key() -> None:
    m = Matcher(ignore_paths=["$.metadata.user_id"])
    assert key(m, {"metadata": {"user_id": "u1"}, "q": 1}) == key(m, {"metadata": {"user_id": "u2"}, "q": 1})
    assert key(m, {"metadata": {"user_id": "u1"}, "q": 1})[-1] == '{"metadata":{},"q":1}'
    assert key(m, {"q": 1}) != key(m, {"q": 2})


def test_parse_path_steps() -> None:
    assert parse_path("$.a[0]['b.c'][*]..d.*") == [
        ("key", "a"),
        ("index", 0),
        ("key", "b.c"),
        ("index", "*"),
        ("deep", "d"),
        ("key", "*"),
    ]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a.b", "harness: ignore path 'a.b' must start with '$' (like '$.metadata.user_id')"),
        ("$", "harness: ignore path '$' names the whole body; ignore 'body' in match_on instead"),
        ("$.a b", "harness: cannot read ignore path '$.a b' at ' b'"),
        ("$[x]", "harness: cannot read ignore path '$[x]' at '[x]'"),
        ("$.a[-1]", "harness: cannot read ignore path '$.a[-1]' at '[-1]'"),
    ],
)
def test_unreadable_ignore_paths_are_refused(path: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Matcher(ignore_paths=[path])
    assert str(info.value) == message


# --------------------------------------------------------------------------------------------- Index


def test_index_takes_each_key_in_recorded_order_then_none() -> None:
    index = Index()
    a, b = ("GET", "/a"), ("GET", "/b")
    for k, n in [(a, 3), (b, 1), (a, 0), (a, 5), (a, 3)]:
        index.add(k, n)
    assert [index.take(a) for _ in range(5)] == [3, 0, 5, 3, None]  # a duplicate stays queued
    assert [index.take(b), index.take(b)] == [1, None]
    assert index.take(("POST", "/never")) is None


# --------------------------------------------------------------------------------------------- diff, distance


def test_diff_lists_paths_recorded_then_requested() -> None:
    recorded = {"a": 1, "b": [1, 2], "c": "x", "d": {"e": 1}}
    requested = {"a": 2, "b": [1], "c": "x", "f": 3, "d": {"e": 1, "g": None}}
    assert diff(recorded, requested) == [
        "$.a: 1 != 2",
        "$.b[1]: 2 != (missing)",
        "$.d.g: (missing) != null",
        "$.f: (missing) != 3",
    ]


def test_diff_of_equal_values_is_empty() -> None:
    assert diff({"a": [1, {"b": "c"}]}, {"a": [1, {"b": "c"}]}) == []


def test_diff_quotes_keys_that_are_not_words() -> None:
    assert diff({"a.b": 1, "x y": "s", "é": 1}, {"a.b": 2, "x y": "t", "é": 2}) == [
        '$["a.b"]: 1 != 2',
        "$[\"x y\"]: 's' != 't'",
        "$.é: 1 != 2",
    ]


def test_diff_of_different_types_and_list_growth() -> None:
    assert diff({"k": [1]}, {"k": {"a": 1}}) == ['$.k: [1] != {"a": 1}']
    assert diff([1], [1, "two"]) == ["$[1]: (missing) != 'two'"]


def test_diff_shortens_long_values_to_120_characters() -> None:
    (line,) = diff("a" * 200, "b")
    assert line == "$: '" + "a" * 116 + "... != 'b'"  # 117 characters of the repr, then ...


def test_diff_stops_at_the_limit() -> None:
    assert diff({"x": list(range(30))}, {"x": list(range(100, 130))}, limit=3) == [
        "$.x[0]: 0 != 100",
        "$.x[1]: 1 != 101",
        "$.x[2]: 2 != 102",
    ]
    assert diff({"a": 1, "b": 1, "c": 1}, {}, limit=2) == ["$.a: 1 != (missing)", "$.b: 1 != (missing)"]
    assert diff({}, {"a": 1, "b": 1, "c": 1}, limit=2) == ["$.a: (missing) != 1", "$.b: (missing) != 1"]
    assert len(diff(list(range(20)), list(range(1, 21)))) == 12


def test_diff_asks_strings_how_two_texts_differ() -> None:
    seen: list[tuple[str, str, str]] = []

    def strings(path: str, a: str, b: str) -> list[str]:
        seen.append((path, a, b))
        return [f"{path}: text differs"]

    assert diff({"m": ["ab", 1]}, {"m": ["cd", 2]}, strings=strings) == ["$.m[0]: text differs", "$.m[1]: 1 != 2"]
    assert seen == [("$.m[0]", "ab", "cd")]


def test_diff_starts_at_the_given_path() -> None:
    assert diff({"a": 1}, {"a": 2}, path="$.body") == ["$.body.a: 1 != 2"]


def test_distance_counts_differing_paths_capped_at_50() -> None:
    assert distance({"a": 1}, {"a": 1}) == 0
    assert distance({"a": 1, "b": 2, "c": 3}, {"a": 2, "b": 3, "c": 3}) == 2
    assert distance(list(range(100)), list(range(1, 101))) == 50
