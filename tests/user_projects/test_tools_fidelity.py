"""Local tools replay their errors faithfully: the real exception class with its arguments, and
anthropic's ToolError with its structured content (issue 12, item 15)."""

from __future__ import annotations

import harness.session  # noqa: F401  (imported before pytester's module snapshots: one harness for every inner run)

JIRA = """
    import harness
    import pytest


    class JiraError(Exception):
        def __init__(self, status, text):
            super().__init__(status, text)
            self.status = status


    @harness.recorded_tool
    def open_ticket(title):
        raise JiraError(503, f"cannot open {title!r}")


    @pytest.mark.cassette
    def test_the_real_class_comes_back():
        try:
            open_ticket("outage")
        except JiraError as exc:
            assert type(exc) is JiraError
            assert exc.args == (503, "cannot open 'outage'")
            assert exc.status == 503
        else:
            raise AssertionError("no JiraError")
"""

TOOL_ERROR = """
    import os

    import anthropic
    import pytest
    from anthropic.lib.tools import ToolError, beta_tool


    @beta_tool
    def get_weather(city: str) -> str:
        \"\"\"Get the current weather for a city.

        Args:
            city: the city's name
        \"\"\"
        raise ToolError([{"type": "text", "text": "the weather service is down"}])


    @pytest.mark.cassette
    def test_a_tool_error_keeps_its_content_blocks():
        claude = anthropic.Anthropic(api_key="sk-ant-test", base_url=os.environ["MODEL_URL"], max_retries=0)
        runner = claude.beta.messages.tool_runner(
            model="claude-opus-4-7", max_tokens=200, tools=[get_weather],
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        )
        assert runner.until_done().stop_reason == "end_turn"
"""


def test_a_custom_exception_with_two_arguments_replays_as_its_own_class(project):
    project.write({"tests/test_jira.py": JIRA})
    project.record().assert_outcomes(passed=1)
    project.replay().assert_outcomes(passed=1)


def test_a_tool_error_replays_with_its_structured_content(project):
    project.write({"tests/test_weather.py": TOOL_ERROR})
    project.record().assert_outcomes(passed=1)
    project.replay().assert_outcomes(passed=1)
