"""Activation and collection: the cassette is active before the test's other fixtures, a marker on
one ``pytest.param`` is that parametrization's alone, cassette names stay unique and secret-free,
a failed test that recorded nothing writes nothing, the re-record command works from any folder,
another plugin's ``cassette`` fixture is caught, and fuzzing after replaying keeps what was played."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# Imported here once, so the in-process inner runs share one harness.active (pytester drops the
# modules a run imported, while harness's package keeps its attributes pointing at them).
import harness.session
import harness.strategies  # noqa: F401

CONFTEST = """
    import os

    import anthropic
    import pytest


    @pytest.fixture
    def claude():
        return anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0)


    @pytest.fixture
    def greeting(claude):
        # A function-scoped fixture that calls the model, as one creating a thread or a file does.
        reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Hello?"}])
        yield reply.content[0].text
        claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Bye?"}])
"""


def test_http_made_in_a_fixture_is_recorded_and_replayed(project):
    # Given a test whose fixture calls the model before (and after) the test
    project.write(
        {
            "conftest.py": CONFTEST,
            "tests/test_fixture.py": """
                import pytest


                @pytest.mark.cassette
                def test_uses_it(greeting, claude):
                    assert greeting
                    reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
                    assert reply.content[0].text
            """,
        }
    )

    # When it is recorded once and replayed with the world gone
    project.record().assert_outcomes(passed=1)
    text = project.cassettes()["cassettes/tests/test_fixture/test_uses_it.json"]
    result = project.replay()

    # Then the fixture's requests are in the cassette, and replay makes no connection at all
    assert "Hello?" in text and "Paris?" in text and "Bye?" in text
    result.assert_outcomes(passed=1)


MCP_TESTS = """
    import os

    import pytest
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client


    @pytest.fixture
    def anyio_backend():
        return "asyncio"


    @pytest.fixture
    async def tools(anyio_backend):
        async with streamable_http_client(os.environ["MCP_URL"]) as (read, write, *_):
            async with ClientSession(read, write) as session:
                await session.initialize()
                yield session


    @pytest.mark.cassette
    @pytest.mark.anyio
    async def test_echo(tools):
        result = await tools.call_tool("echo", {"text": "hi"})
        assert result.content[0].text == "hi"
"""


def test_an_mcp_session_opened_in_a_fixture_is_recorded_and_replayed(project):
    # Given an MCP session opened in an async fixture
    project.write({"tests/test_mcp.py": MCP_TESTS})

    # When it is recorded, then replayed with the servers gone
    project.record().assert_outcomes(passed=1)
    text = project.cassettes()["cassettes/tests/test_mcp/test_echo.json"]
    result = project.replay()

    # Then the session's whole exchange is in the cassette and replay reaches nothing
    assert "initialize" in text and "echo" in text
    result.assert_outcomes(passed=1)


def test_a_marker_on_one_param_gives_only_that_parametrization_a_cassette(project):
    # Given one marked parametrization among unmarked ones
    project.write(
        {
            "conftest.py": CONFTEST,
            "tests/test_params.py": """
                import pytest


                @pytest.mark.parametrize("city", ["Paris", pytest.param("Lyon", marks=pytest.mark.cassette), "Nice"])
                def test_city(city, request):
                    assert ("cassette" in request.fixturenames) == (city == "Lyon")
            """,
        }
    )

    # When it is recorded
    result = project.record()

    # Then only the marked one has a cassette
    result.assert_outcomes(passed=3)
    assert sorted(project.cassettes()) == ["cassettes/tests/test_params/test_city[Lyon].json"]


def test_a_failed_test_that_recorded_nothing_writes_no_cassette(project):
    # Given tests that fail before their first request, in the test and in a fixture
    project.write(
        {
            "conftest.py": CONFTEST,
            "tests/test_fails.py": """
                import pytest


                @pytest.fixture
                def broken():
                    raise RuntimeError("set-up failed")


                @pytest.mark.cassette
                def test_fails_early(claude):
                    assert False, "before any request"


                @pytest.mark.cassette
                def test_fixture_fails(broken, claude):
                    pass


                @pytest.mark.cassette
                def test_needs_no_request():
                    pass
            """,
        }
    )

    # When they are recorded
    result = project.record()

    # Then the failed ones write nothing (a later `once` run records them), the passing one its (empty) cassette
    result.assert_outcomes(passed=1, failed=1, errors=1)
    assert sorted(project.cassettes()) == ["cassettes/tests/test_fails/test_needs_no_request.json"]


SHADOW = """
    import pytest


    @pytest.fixture(autouse=True)
    def cassette(request):
        # What cassetter's plugin does: an autouse fixture of the same name, shadowing harness's.
        yield None
"""


def test_another_cassette_fixture_shadowing_harness_s_fails_loudly(project):
    # Given a plugin module loaded after harness (as cassetter's may be) and a conftest that each
    # define an autouse `cassette` fixture
    project.write(
        {
            "conftest.py": '\n    pytest_plugins = ["other_cassettes"]\n' + CONFTEST,
            "other_cassettes.py": SHADOW,
            "tests/test_shadowed.py": """
                import pytest


                @pytest.mark.cassette
                def test_asks(claude):
                    claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
            """,
            "tests/sub/conftest.py": SHADOW,
            "tests/sub/test_shadowed_too.py": """
                import pytest


                @pytest.mark.cassette
                def test_asks_too(claude):
                    claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Lyon?"}])
            """,
        }
    )
    project.monkeypatch.syspath_prepend(str(project.path))

    # When the project replays
    result = project.replay(offline_ok=True)

    # Then every marked test fails before reaching the network, saying what shadows harness's fixture
    result.assert_outcomes(errors=2)
    out = result.stdout.str()
    # (counted in the errors section: under CI=true pytest's short summary repeats each message whole)
    reports = [line for line in out.splitlines() if line.startswith("ConfigError: harness: another `cassette` fixture")]
    assert len(reports) == 2
    assert "other_cassettes.cassette (other_cassettes.py)" in out and "conftest.cassette (tests/sub/conftest.py)" in out
    assert project.attempts == []


def test_fuzzing_after_replaying_keeps_what_was_played(project):
    # Given a test that replays a request, then fuzzes another with assert_equivalent
    project.write(
        {
            "conftest.py": CONFTEST,
            "tests/test_fuzz.py": """
                import pytest
                import harness.strategies as hs


                @pytest.mark.cassette
                def test_then_fuzz(claude):
                    first = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Paris?"}])
                    assert first.content[0].text

                    def run():
                        with claude.messages.stream(model="m", max_tokens=20, messages=[{"role": "user", "content": "Lyon?"}]) as s:
                            return s.get_final_message().content[0].text

                    hs.assert_equivalent(run, max_examples=5)
            """,
        }
    )

    # When it is recorded, then replayed
    project.record().assert_outcomes(passed=1)
    result = project.replay()

    # Then the replay passes: the first request counts as played
    result.assert_outcomes(passed=1)


def test_ids_that_differ_in_punctuation_get_their_own_cassettes_and_a_key_stays_out_of_names(project):
    # Given parametrize ids that differ only in punctuation, and an API key used as a parameter
    project.write(
        {
            "conftest.py": CONFTEST,
            "tests/test_ids.py": """
                import pytest


                @pytest.mark.cassette
                @pytest.mark.parametrize("question", ["Is it sunny?", "Is it sunny!", "plain"])
                def test_ask(claude, question):
                    reply = claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": question}])
                    assert reply.content[0].text


                @pytest.mark.cassette
                @pytest.mark.parametrize("key", ["sk-ant-api03-abcdefghijklmnopqrstuvwx"])
                def test_key(claude, key):
                    claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "Key?"}])
            """,
        }
    )

    # When it is recorded, then replayed
    project.record().assert_outcomes(passed=4)
    files = project.cassettes()
    result = project.replay()

    # Then every test has its own file (a safe id keeps its plain name), no name holds the key, and replay passes
    result.assert_outcomes(passed=4)
    assert len(files) == 4
    assert "cassettes/tests/test_ids/test_ask[plain].json" in files
    assert not any("abcdefghijklmnop" in name for name in files)
    sunny = [name for name in files if "sunny" in name]
    assert (
        len(sunny) == 2
        and "Is it sunny?" in files[sunny[0]] + files[sunny[1]]
        and "Is it sunny!" in files[sunny[0]] + files[sunny[1]]
    )


def test_the_printed_rerecord_command_works_pasted_in_a_subfolder(project):
    # Given a recorded test whose request then changed, so that replay misses
    test = """
        import pytest


        @pytest.mark.cassette
        def test_asks(claude):
            claude.messages.create(model="m", max_tokens=20, messages=[{"role": "user", "content": "%s"}])
    """
    project.write({"conftest.py": CONFTEST, "tests/agents/test_ask.py": test % "Paris?"})
    project.record().assert_outcomes(passed=1)
    project.write({"tests/agents/test_ask.py": test % "Lyon?"})
    missed = project.replay(cwd="tests")
    missed.assert_outcomes(failed=1)
    commands = re.findall(r"((?:cd \S+ && )?pytest \S+ --record-mode=all)", missed.stdout.str())
    assert commands, missed.stdout.str()

    # When the printed command is pasted in another folder (with the servers up)
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, **project.live, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}
    done = subprocess.run(commands[0], shell=True, cwd=project.path / "tests" / "agents", env=env, capture_output=True, text=True)

    # Then it re-records the test, and the test replays again
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Lyon?" in project.cassettes()["cassettes/tests/agents/test_ask/test_asks.json"]
    project.replay(cwd="tests").assert_outcomes(passed=1)
