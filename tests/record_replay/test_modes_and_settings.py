"""Record modes and settings: no cassette in mode none, the cassette fixture, the settings' one precedence,
a misspelt marker option, --record-mode shared with pytest-recording, new_episodes, --cassette-dir. Every
test runs real pytest sessions (pytester)."""

from __future__ import annotations

from tests.conftest import load_cassette
from tests.helpers import MISS_TEST


def test_no_cassette_in_mode_none_says_how_to_record(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cassette
        def test_new():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*NoCassetteError: harness: this test has no cassette yet (mode 'none' only replays)",
            "*  expected: cassettes/test_no_cassette_in_mode_none_says_how_to_record/test_new.json",
            "*&& pytest test_no_cassette_in_mode_none_says_how_to_record.py::test_new --record-mode=once",
        ]
    )
    assert not (pytester.path / "cassettes").exists()


def test_cassette_fixture_exposes_the_cassette(pytester, model_server, monkeypatch):
    pytester.makepyfile(
        """
        import os, anthropic, pytest

        def test_fixture(cassette):
            client = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"])
            client.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
            print("MODE", cassette.mode, "N", len(cassette.interactions), "PLAYED", cassette.played, "REC", cassette.recorded)
            assert cassette.path.name == "test_fixture.json"
        """
    )
    monkeypatch.setenv("MODEL_URL", model_server.url)
    first = pytester.runpytest("--record-mode=once", "-s")
    first.assert_outcomes(passed=1)
    first.stdout.fnmatch_lines(["*MODE once N 1 PLAYED [[]] REC [[]0]*"])
    again = pytester.runpytest("-s")
    again.stdout.fnmatch_lines(["*MODE none N 1 PLAYED [[]0] REC [[]]*"])


def test_settings_precedence(pytester, model_server, monkeypatch):
    # pyproject says once, the fixture says new_episodes, the marker says all, the CLI says none.
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        harness_record_mode = "once"
        harness_cassette_dir = "tapes"
        asyncio_default_fixture_loop_scope = "function"
        """
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def harness_config():
            return {"record_mode": "new_episodes"}
        """
    )
    pytester.makepyfile(
        """
        import pytest

        def test_ini_and_fixture(cassette):
            print("MODE", cassette.mode, cassette.path.parent.name)

        @pytest.mark.cassette(record_mode="all")
        def test_marker(cassette):
            print("MODE", cassette.mode)
        """
    )
    result = pytester.runpytest("-s")
    result.stdout.fnmatch_lines(["*MODE new_episodes test_settings_precedence*", "*MODE all*"])
    assert (pytester.path / "tapes").is_dir()
    result = pytester.runpytest("-s", "--record-mode=none", "-k", "marker")
    result.stdout.fnmatch_lines(["*MODE none*"])


def test_a_misspelt_marker_option_fails_loudly(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.cassette(record_mod="once")
        def test_typo():
            pass

        @pytest.mark.cassette(record_mode="sometimes")
        def test_bad_mode():
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ConfigError: harness: @pytest.mark.cassette has no option 'record_mod' (did you mean 'record_mode'?)",
            "*ConfigError: harness: cassette marker: record mode 'sometimes' is not one of none, once, new_episodes, all, rewrite",
        ]
    )


def test_coexists_with_pytest_recording(pytester, model_server, closed_url, monkeypatch):
    # pytest-recording is installed in this environment and defines --record-mode too.
    pytester.makepyfile(MISS_TEST)
    result = pytester.runpytest("--help")
    assert result.stdout.str().count("--record-mode") == 1
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "hi")
    pytester.runpytest("-p", "recording", "--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest("-p", "recording", "--record-mode=none").assert_outcomes(passed=1)
    pytester.runpytest("-p", "no:recording").assert_outcomes(passed=1)


def test_new_episodes_appends(pytester, model_server, closed_url, monkeypatch):
    pytester.makepyfile(MISS_TEST)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "first")
    pytester.runpytest("--record-mode=once").assert_outcomes(passed=1)
    monkeypatch.setenv("QUESTION", "second")
    pytester.runpytest("--record-mode=new_episodes", "--allow-unplayed").assert_outcomes(passed=1)
    (path,) = (pytester.path / "cassettes").rglob("*.json")
    contents = [i["request"]["body"]["json"]["messages"][0]["content"] for i in load_cassette(path)["interactions"]]
    assert contents == ["first", "second"]


def test_cassette_dir_option_and_pyproject_record_mode(pytester, model_server, closed_url, monkeypatch):
    # pyproject sets only the record mode; the cassette folder comes from the command line.
    pytester.makepyprojecttoml(
        """
        [tool.pytest.ini_options]
        harness_record_mode = "once"
        asyncio_default_fixture_loop_scope = "function"
        """
    )
    pytester.makepyfile(test_weather=MISS_TEST)
    monkeypatch.setenv("MODEL_URL", model_server.url)
    monkeypatch.setenv("QUESTION", "hi")
    pytester.runpytest("--cassette-dir=recorded/tapes").assert_outcomes(passed=1)
    assert (pytester.path / "recorded" / "tapes" / "test_weather" / "test_weather.json").is_file()
    assert not (pytester.path / "cassettes").exists()

    # once, from pyproject, replays the cassette that now exists: no server needed
    monkeypatch.setenv("MODEL_URL", closed_url)
    pytester.runpytest("--cassette-dir=recorded/tapes").assert_outcomes(passed=1)
    # without the option, the default folder has none
    result = pytester.runpytest("--record-mode=none")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*expected: cassettes/test_weather/test_weather.json"])
