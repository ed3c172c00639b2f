"""Shared cassettes (``@pytest.mark.cassette("shared")`` on several tests): ``once`` records every
test of the run into the file, each test replays from it without failing on the others' traffic,
and the outcome does not depend on how xdist schedules the tests."""

from __future__ import annotations

import json

import pytest

TESTS = """
    import os

    import anthropic
    import pytest


    def ask(question):
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0)
        return client.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": question}])


    @pytest.mark.cassette("shared")
    @pytest.mark.parametrize("city", ["Paris", "Lyon", "Nice", "Lille", "Metz", "Caen"])
    def test_city(city):
        assert ask(f"Weather in {city}?").content[0].text


    @pytest.mark.cassette("shared")
    class TestMore:
        def test_one(self):
            assert ask("Weather in Brest?").content[0].text

        def test_same_as_paris(self):
            assert ask("Weather in Paris?").content[0].text
"""

QUESTIONS = {f"Weather in {city}?" for city in ["Paris", "Lyon", "Nice", "Lille", "Metz", "Caen", "Brest"]}


def _questions(text: str) -> list[str]:
    return [i["request"]["body"]["json"]["messages"][0]["content"] for i in json.loads(text)["interactions"]]


@pytest.mark.parametrize("workers", [None, "2", "4"])
def test_once_records_every_test_of_a_shared_cassette_and_each_replays(project, workers):
    # Given eight tests sharing one cassette
    project.write({"tests/test_weather.py": TESTS})

    # When it is recorded once (in one process, or on xdist workers), then replayed offline
    xdist = ("-p", "xdist", "-n", workers) if workers else ()
    project.record(*xdist, subprocess=bool(workers)).assert_outcomes(passed=8)
    files = project.cassettes()
    result = project.replay()

    # Then the file holds every test's traffic, and every test replays from it
    assert list(files) == ["cassettes/tests/test_weather/shared.json"]
    asked = _questions(files["cassettes/tests/test_weather/shared.json"])
    assert set(asked) == QUESTIONS
    assert len(asked) <= 8  # the same request made by two tests may be stored once
    result.assert_outcomes(passed=8)
    assert project.cassettes() == files


def test_a_shared_cassette_recorded_before_the_run_only_replays_in_once_mode(project):
    # Given a shared cassette recorded in an earlier run, and a test added since
    project.write({"tests/test_weather.py": TESTS})
    project.record("-p", "xdist", "-n", "2", subprocess=True).assert_outcomes(passed=8)
    project.write(
        {
            "tests/test_added.py": """
                import pytest
                from test_weather import ask


                @pytest.mark.cassette("tests/test_weather/shared")
                def test_added():
                    ask("Weather in Dijon?")
            """
        }
    )

    # When the suite runs again in `once` mode with the servers gone
    result = project.replay("--record-mode=once", offline_ok=True)

    # Then `once` does not record into the existing file: the added test misses, the others replay
    result.assert_outcomes(passed=8, failed=1)
    assert "Dijon" in result.stdout.str() and "no recorded response matches" in result.stdout.str()


def test_new_episodes_then_replay_does_not_fail_on_the_other_tests_traffic(project):
    # Given a shared cassette recorded with new_episodes
    project.write({"tests/test_weather.py": TESTS})
    project.record(mode="new_episodes").assert_outcomes(passed=8)

    # When one test alone replays, then all
    one = project.replay("-k", "Lyon")
    every = project.replay()

    # Then neither fails for interactions that other tests recorded
    one.assert_outcomes(passed=1, deselected=7)
    every.assert_outcomes(passed=8)
