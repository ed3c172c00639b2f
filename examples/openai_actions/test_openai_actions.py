"""openai's Decisions runner and computer toolset, replayed from the cassette: the runs complete, and the
actions (a ticket bought, a screen driven) are not performed again."""

from __future__ import annotations

import openai
import pytest

from examples.openai_actions import agent

KEY = "sk-example-not-a-key"


def performed(done):
    return done.read_text(encoding="utf-8").splitlines() if done.exists() else []


@pytest.mark.cassette
def test_the_decisions_runner_buys_nothing_on_replay(cassette, model_url, tmp_path):
    done = tmp_path / "done.txt"
    result = agent.buy_ticket(openai.OpenAI(api_key=KEY, base_url=model_url + "/v1"), done)

    assert (result["status"], result["completed_candidate_ids"]) == ("unverified", ["buy"])
    assert "tool" in [i.kind for i in cassette.interactions]
    assert performed(done) == ([] if cassette.mode == "none" else ["bought"])


@pytest.mark.cassette
def test_the_computer_toolset_clicks_nothing_on_replay(cassette, model_url, tmp_path):
    done = tmp_path / "done.txt"
    answer = agent.use_computer(openai.OpenAI(api_key=KEY, base_url=model_url + "/v1"), done)

    assert answer == "Result: computer_screenshot"
    assert "tool" in [i.kind for i in cassette.interactions]
    assert performed(done) == ([] if cassette.mode == "none" else ["click 16,16", "screenshot"])
