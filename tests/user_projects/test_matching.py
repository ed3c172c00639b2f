"""Matching: ``ignore_paths`` on MCP arguments and local-tool inputs, query-only differences,
multipart uploads (issue 12, items 9-11)."""

from __future__ import annotations

import harness.session  # noqa: F401  (loaded once for every inner run: see the note in conftest)

MCP_TIMESTAMP = """
    import os, time

    import anyio
    import pytest
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client


    # MCP ignore paths are relative to the request's params: the tool's arguments are under $.arguments.
    @pytest.mark.cassette(ignore_paths=["$.arguments.text"])
    def test_echo_with_a_timestamp():
        async def main():
            async with streamable_http_client(os.environ["MCP_URL"]) as (read, write):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    out = await session.call_tool("echo", {"text": f"now {time.time_ns()}"})
                    assert out.content[0].text.startswith("now")

        anyio.run(main)
"""

TOOL_TIMESTAMP = """
    import time

    import harness
    import pytest

    calls = []


    @harness.recorded_tool
    def lookup(city, at):
        calls.append(city)
        return {"city": city, "temp": 21}


    # A tool's ignore paths are relative to its input: the arguments by name.
    @pytest.mark.cassette(ignore_paths=["$.at"])
    def test_lookup_with_a_timestamp():
        assert lookup("Paris", time.time_ns()) == {"city": "Paris", "temp": 21}


    @pytest.mark.cassette(ignore_paths=["$.at"])
    def test_a_different_city_still_misses():
        import os
        assert lookup(os.environ.get("CITY", "Paris"), time.time_ns())["temp"] == 21
"""


def test_ignore_paths_apply_to_mcp_call_arguments(project):
    project.write({"tests/test_mcp.py": MCP_TIMESTAMP})
    project.record().assert_outcomes(passed=1)
    files = project.cassettes()

    project.replay().assert_outcomes(passed=1)
    assert project.cassettes() == files


def test_ignore_paths_apply_to_recorded_tool_inputs(project):
    project.write({"tests/test_tool.py": TOOL_TIMESTAMP})
    project.record().assert_outcomes(passed=2)

    project.replay().assert_outcomes(passed=2)
    project.monkeypatch.setenv("CITY", "Lyon")
    missed = project.replay()
    missed.assert_outcomes(passed=1, failed=1)
    assert "'Paris' != 'Lyon'" in missed.stdout.str()


QUERY = """
    import os

    import httpx
    import pytest


    @pytest.mark.cassette
    def test_lists_page():
        query = os.environ.get("QUERY", "")
        body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]}
        r = httpx.post(os.environ["MODEL_URL"] + "/v1/messages" + query, json=body, headers={"x-api-key": "k"})
        assert r.status_code == 200
"""


def test_a_query_only_difference_is_reported_path_level_with_a_hint_that_fits(project):
    project.write({"tests/test_query.py": QUERY})
    project.monkeypatch.setenv("QUERY", "?page=1")
    project.record().assert_outcomes(passed=1)

    for query, line in [("?page=2", "$.query.page: '1' != '2'"), ("", "$.query.page: '1' != (missing)")]:
        project.monkeypatch.setenv("QUERY", query)
        out = project.replay().stdout.str()
        report = out[out.index("no recorded response matches") :]
        assert line in report
        assert "$.body" not in report and "$.messages" not in report  # the bodies are equal: not listed
        assert 'match_on=["method", "path", "body"]' in report  # a hint that can fix a query
        assert "ignore_paths" not in report.split("How to fix:")[1]


UPLOAD = """
    import os

    import openai
    import pytest


    @pytest.mark.cassette
    def test_uploads_a_file():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        content = os.environ.get("CONTENT", "hello file").encode()
        uploaded = client.files.create(file=("notes.txt", content), purpose="assistants")
        assert uploaded.filename == "notes.txt"
"""


def test_a_multipart_upload_replays_matched_by_its_parts_not_its_boundary(project):
    project.write({"tests/test_upload.py": UPLOAD})
    project.record().assert_outcomes(passed=1)
    project.replay().assert_outcomes(passed=1)

    # A different file content is a miss that names the part
    project.monkeypatch.setenv("CONTENT", "other file")
    missed = project.replay()
    missed.assert_outcomes(failed=1)
    assert "hello file" in missed.stdout.str() and "other file" in missed.stdout.str()
