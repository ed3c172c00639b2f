"""Agent frameworks' tools are recorded and not run again on replay: an openai-agents ``Runner``
(a ``@function_tool``, streamed and not, a handoff) and a pydantic-ai ``Agent`` (``@agent.tool_plain``,
``agent.run`` and ``agent.run_stream``). Each tool appends a line to a file: recording writes them,
replay (servers gone, every connection refused) must write none."""

from __future__ import annotations

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)

TOOLS = """
    import os


    def note(line):
        with open(os.environ["TOOL_LOG"], "a", encoding="utf-8") as log:
            log.write(line + "\\n")
"""

AGENTS = """
    import asyncio
    import os

    import pytest
    from agents import Agent, OpenAIResponsesModel, Runner, function_tool, handoff, set_tracing_disabled
    from agents.extensions import handoff_filters
    from openai import AsyncOpenAI
    from pydantic import BaseModel

    from tools_log import note

    set_tracing_disabled(True)  # traces would be posted to the network


    @function_tool
    def get_weather(city: str) -> str:
        \"\"\"The current weather in a city.\"\"\"
        note(f"agents get_weather {city}")
        return f"sunny in {city}"


    class Forecast(BaseModel):
        city: str
        sky: str


    @function_tool
    def get_forecast(city: str) -> Forecast:
        \"\"\"Tomorrow's forecast for a city.\"\"\"
        note(f"agents get_forecast {city}")
        raise RuntimeError("the forecast service is down")


    def agents():
        client = AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        model = OpenAIResponsesModel(model="gpt-5", openai_client=client)
        weather = Agent(name="Weather", instructions="Weather questions.", tools=[get_weather, get_forecast], model=model)
        triage = Agent(
            name="Triage",
            instructions="Hand off.",
            handoffs=[handoff(weather, input_filter=handoff_filters.remove_all_tools)],
            model=model,
        )
        return weather, triage


    @pytest.mark.cassette
    def test_runner():
        weather, _ = agents()
        result = asyncio.run(Runner.run(weather, "What is the weather in Paris?"))
        assert result.final_output == "Result: sunny in Paris"


    @pytest.mark.cassette
    def test_a_tool_that_raises():
        # The default failure_error_function sends the model the error text, as the runner's own error output.
        weather, _ = agents()
        result = asyncio.run(Runner.run(weather, "What does get_forecast say for Paris?"))
        assert result.final_output == "Result: An error occurred while running the tool. Please try again."


    @pytest.mark.cassette
    def test_streamed():
        weather, _ = agents()

        async def main():
            run = Runner.run_streamed(weather, "What is the weather in Paris?")
            kinds = [event.name async for event in run.stream_events() if event.type == "run_item_stream_event"]
            return run.final_output, kinds

        output, kinds = asyncio.run(main())
        assert output == "Result: sunny in Paris"
        assert kinds == ["tool_called", "tool_output", "message_output_created"]


    @pytest.mark.cassette
    def test_handoff():
        _, triage = agents()
        result = asyncio.run(Runner.run(triage, "What is the weather in Paris?"))
        assert result.last_agent.name == "Weather"
        assert result.final_output == "Result: sunny in Paris"
"""

PYDANTIC_AI = """
    import asyncio
    import os

    import pytest
    from openai import AsyncOpenAI
    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    from tools_log import note


    def weather_agent():
        client = AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        agent = Agent(OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client)), instructions="Weather.")

        @agent.tool_plain
        def get_weather(city: str) -> str:
            \"\"\"The current weather in a city.\"\"\"
            note(f"pydantic-ai get_weather {city}")
            return f"sunny in {city}"

        return agent


    @pytest.mark.cassette
    def test_agent_run():
        result = asyncio.run(weather_agent().run("What is the weather in Paris?"))
        assert result.output == "Result: sunny in Paris"


    @pytest.mark.cassette
    def test_agent_stream():
        async def main():
            async with weather_agent().run_stream("What is the weather in Paris?") as run:
                return [delta async for delta in run.stream_text(delta=True, debounce_by=None)]

        deltas = asyncio.run(main())
        assert "".join(deltas) == "Result: sunny in Paris"
        assert len(deltas) > 1
"""


def test_framework_tools_are_recorded_and_not_run_on_replay(project, tmp_path, monkeypatch):
    log = tmp_path / "tools.log"
    monkeypatch.setenv("TOOL_LOG", str(log))
    project.write(
        {
            "tests/tools_log.py": TOOLS,
            "tests/test_openai_agents.py": AGENTS,
            "tests/test_pydantic_ai.py": PYDANTIC_AI,
        }
    )

    project.record().assert_outcomes(passed=6)
    recorded = log.read_text(encoding="utf-8").splitlines()
    assert (
        sorted(recorded)
        == ["agents get_forecast Paris"] + ["agents get_weather Paris"] * 3 + ["pydantic-ai get_weather Paris"] * 2
    )
    cassettes = project.cassettes()
    assert (
        '"type": "harness.seams.frameworks.SdkToolError"'
        in cassettes["cassettes/tests/test_openai_agents/test_a_tool_that_raises.json"]
    )
    assert len(cassettes) == 6 and all('"kind": "tool"' in text for text in cassettes.values()), cassettes.keys()
    log.unlink()

    project.replay().assert_outcomes(passed=6)
    assert not log.exists(), log.read_text(encoding="utf-8")

    # --real-tools: the model calls replay, the tools run again
    project.replay("--real-tools").assert_outcomes(passed=6)
    assert sorted(log.read_text(encoding="utf-8").splitlines()) == sorted(recorded)


def test_a_framework_tool_called_with_other_arguments_is_a_miss(project, tmp_path, monkeypatch):
    log = tmp_path / "tools.log"
    monkeypatch.setenv("TOOL_LOG", str(log))
    project.write({"tests/tools_log.py": TOOLS, "tests/test_pydantic_ai.py": PYDANTIC_AI})
    project.record().assert_outcomes(passed=2)
    cassette = project.path / "cassettes/tests/test_pydantic_ai/test_agent_run.json"
    cassette.write_text(cassette.read_text(encoding="utf-8").replace('"city": "Paris"', '"city": "Lyon"'), encoding="utf-8")

    result = project.replay("-k", "test_agent_run")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*no recorded tool call matches this one", '*tool get_weather({"city":"Paris"})', "*$.city: 'Lyon' != 'Paris'"]
    )
    assert not (tmp_path / "tools.log").read_text(encoding="utf-8").count("\n") > 2


LATE_IMPORT = """
    import asyncio
    import os

    import pytest

    from tools_log import note


    @pytest.mark.cassette
    def test_frameworks_imported_inside_the_test():
        import agents
        from openai import AsyncOpenAI
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        agents.set_tracing_disabled(True)
        client = AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)

        @agents.function_tool
        def get_weather(city: str) -> str:
            \"\"\"The current weather in a city.\"\"\"
            note(f"agents get_weather {city}")
            return f"sunny in {city}"

        weather = agents.Agent(name="Weather", tools=[get_weather], model=agents.OpenAIResponsesModel(model="gpt-5", openai_client=client))
        assert asyncio.run(agents.Runner.run(weather, "What is the weather in Paris?")).final_output == "Result: sunny in Paris"

        client = AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)  # a new loop
        pai = Agent(OpenAIChatModel("gpt-4o", provider=OpenAIProvider(openai_client=client)))

        @pai.tool_plain
        def get_time(city: str) -> str:
            \"\"\"The time in a city.\"\"\"
            note(f"pydantic-ai get_time {city}")
            return "noon"

        assert asyncio.run(pai.run("What is the get_time in Paris?")).output == "Result: noon"
"""


def test_frameworks_imported_inside_the_test_are_covered(project, tmp_path, monkeypatch):
    # A fresh interpreter: the frameworks are first imported by the test itself, after its cassette started.
    log = tmp_path / "tools.log"
    monkeypatch.setenv("TOOL_LOG", str(log))
    project.write({"tests/tools_log.py": TOOLS, "tests/test_late.py": LATE_IMPORT})

    project.record(subprocess=True).assert_outcomes(passed=1)
    assert log.read_text(encoding="utf-8").splitlines() == ["agents get_weather Paris", "pydantic-ai get_time Paris"]
    (text,) = project.cassettes().values()
    assert text.count('"kind": "tool"') == 2  # each call recorded once
    log.unlink()

    project.replay(subprocess=True).assert_outcomes(passed=1)
    assert not log.exists()
