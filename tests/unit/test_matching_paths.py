"""harness.matching: several ignore paths remove what they name in the original value (no index shift)."""

from __future__ import annotations

from harness.matching import Matcher, multipart


def test_several_index_paths_remove_the_original_positions() -> None:
    assert Matcher(ignore_paths=["$.m[0]", "$.m[1]"]).body_view({"m": ["a", "b", "c"]}) == {"m": ["c"]}


def test_an_index_path_and_a_wildcard_path_together() -> None:
    m = Matcher(ignore_paths=["$.m[2]", "$.m[*].t"])
    assert m.body_view({"m": [{"t": 1, "v": 0}, {"t": 2, "v": 1}, {"t": 3}]}) == {"m": [{"v": 0}, {"v": 1}]}


def test_multipart_bodies_match_by_their_parts_not_the_boundary() -> None:
    def body(boundary: str, content: str) -> str:
        return (
            f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\n{content}\r\n--{boundary}--\r\n"
        )

    def key(boundary: str, content: str) -> tuple[object, ...]:
        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        return Matcher().key("POST", "http://h/v1/files", headers, "text", body(boundary, content))

    assert key("abc123", "hi") == key("zzz999", "hi")
    assert key("abc123", "hi") != key("abc123", "ho")
    form = multipart({"Content-Type": "multipart/form-data; boundary=b"}, "text", body("b", "hi"))
    assert form == [
        {"name": "purpose", "content": "assistants"},
        {"name": "file", "filename": "a.txt", "content_type": "text/plain", "content": "hi"},
    ]
