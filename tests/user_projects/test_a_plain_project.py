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
