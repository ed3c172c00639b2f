"""The shape every other case builds on: a project with a conftest, a subfolder, a class, async and
sync tests, run from its root and from its subfolder, recorded once and replayed offline."""

from __future__ import annotations

CONFTEST = """
    import os

    import anthropic
    import pytest


    @pytest.fixture
    def claude():
        return anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0)
"""

TESTS = """
    import pytest


    @pytest.mark.cassette
    class TestWeather:
        def test_asks(self, claude):
            reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
            assert reply.content[0].text

        def test_streams(self, claude):
            with claude.messages.stream(model="m", max_tokens=20, messages=[{"role": "user", "content": "Lyon?"}]) as s:
                assert s.get_final_message().content[0].text
"""


def test_record_once_then_replay_offline_from_the_root_and_from_a_subfolder(project):
    # Given a project with its tests in a subfolder and the client in a conftest fixture
    project.write({"conftest.py": CONFTEST, "tests/agents/test_weather.py": TESTS})

    # When it is recorded once, then replayed with the world gone, from the root and from the subfolder
    project.record().assert_outcomes(passed=2)
    files = project.cassettes()
    from_root = project.replay()
    from_sub = project.replay(cwd="tests/agents")

    # Then both replays pass from the cassettes, which are not rewritten
    assert sorted(files) == [
        "cassettes/tests/agents/test_weather/TestWeather.test_asks.json",
        "cassettes/tests/agents/test_weather/TestWeather.test_streams.json",
    ]
    from_root.assert_outcomes(passed=2)
    from_sub.assert_outcomes(passed=2)
    assert project.cassettes() == files


def test_a_replay_in_a_child_process_with_xdist_is_offline_too(project):
    # Given the same project, recorded once
    project.write({"conftest.py": CONFTEST, "tests/agents/test_weather.py": TESTS})
    project.record().assert_outcomes(passed=2)

    # When it replays in a child process with two xdist workers, the guards load in every process
    result = project.replay("-p", "xdist", "-n", "2", subprocess=True)

    # Then it passes offline; and the guards do catch a call that escapes: a test that connects for real
    result.assert_outcomes(passed=2)
    project.write(
        {"tests/test_live.py": "import socket\n\ndef test_live():\n    socket.create_connection(('127.0.0.1', 9), 1)\n"}
    )
    escaped = project.replay("-p", "xdist", "-n", "2", "tests/test_live.py", subprocess=True, offline_ok=True)
    escaped.assert_outcomes(failed=1)
    assert len(project.attempts) == 1 and "connect" in project.attempts[0]
