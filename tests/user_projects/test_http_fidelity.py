"""HTTP replay fidelity: a gzip-encoded response comes back with its content-encoding (issue 12, item 16)."""

from __future__ import annotations

import json

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)

GZIP = """
    import os

    import httpx
    import pytest


    @pytest.mark.cassette
    def test_gzipped():
        body = {"model": "m", "max_tokens": 20, "messages": [{"role": "user", "content": "hi"}]}
        headers = {"x-api-key": "k", "x-fake-scenario": "gzip"}  # the fake server gzips its answer
        for stream in (False, True):
            r = httpx.post(os.environ["MODEL_URL"] + "/v1/messages", json={**body, "stream": stream}, headers=headers)
            assert r.headers["content-encoding"] == "gzip"
            assert "message_stop" in r.text if stream else r.json()["content"][0]["text"]
"""


def test_a_gzip_response_replays_with_its_content_encoding_and_is_stored_readable(project):
    project.write({"tests/test_gzip.py": GZIP})
    project.record().assert_outcomes(passed=1)
    answers = [i["response"] for i in json.loads(next(iter(project.cassettes().values())))["interactions"]]
    assert answers[0]["body"]["json"]["content"] and answers[1]["body"]["sse"]  # readable: stored decoded
    assert [a["headers"]["content-encoding"] for a in answers] == ["gzip", "gzip"]

    project.replay().assert_outcomes(passed=1)
