"""openai's runners that act, not only call functions: ``DecisionsToolRunner`` (the model picks one of the
candidate actions the application lists, and the runner executes it) and ``ComputerToolset.run`` (the model's
computer calls are driven on a screen). Each action is recorded as a tool interaction and answered from the
cassette on replay: no ticket is bought and no click is made from CI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
from openai.lib.computer import ComputerToolset
from openai.lib.decisions_tool_runner import DecisionsToolRunner

SHOT = {"type": "computer_screenshot", "image_url": "data:image/png;base64,iVBORw0KGgo="}


def _log(done: Path, what: str) -> None:
    with done.open("a", encoding="utf-8") as f:
        f.write(what + "\n")


def buy_ticket(client: openai.OpenAI, done: Path) -> dict[str, Any]:
    """The Decisions runner: buy the ticket, then finish. ``done`` logs every action executed."""
    steps = iter(["next: buy", "next: finish"])

    def buy() -> str:
        _log(done, "bought")
        return "bought"

    def candidates(observation: Any) -> list[dict[str, Any]]:
        return [
            {"id": "buy", "description": "Buy the ticket", "execute": buy},
            {"id": "finish", "description": "The task is done", "done": True},
        ]

    runner = DecisionsToolRunner(observe=lambda: next(steps), candidates=candidates)
    return dict(runner.run(client, {"model": "gpt-5", "input": "Buy the ticket, then finish."}))


class Screen:
    """A computer driver: every action it performs is logged to ``done``."""

    def __init__(self, done: Path) -> None:
        self.done = done

    def click(self, action: Any) -> None:
        _log(self.done, f"click {action.x},{action.y}")

    double_click = drag = keypress = move = scroll = type = wait = click

    def screenshot(self) -> dict[str, str]:
        _log(self.done, "screenshot")
        return SHOT


def use_computer(client: openai.OpenAI, done: Path) -> str:
    """``ComputerToolset.run``: the model's computer calls, driven on ``Screen``, until its answer."""
    response = ComputerToolset(Screen(done)).run(client, {"model": "computer-use", "input": "Click the button"})
    return str(response.output_text)
