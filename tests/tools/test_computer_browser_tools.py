"""openai's computer and browser helpers (``openai.lib.computer`` ``ComputerToolset``, ``openai.lib.browser``
``BrowserToolset``, sync and async): they run the model's actions on a driver of the caller's, each driver call
through the ``invoke`` their module imported. Every driver call (an action, the screenshot, the browser's state
report) is recorded there as ``computer.<member>`` / ``browser.<member>`` and replayed without touching the
driver; the helpers' own checks, approvals and output building run on replay too. Driven here by ``execute`` (one
call of the model's, as an application with its own loop does) and by the computer's ``run`` loop against the
loopback model server (a ``computer_call``, then the final message)."""

from __future__ import annotations

import json
from pathlib import Path

import hypothesis  # noqa: F401

# Imported once, before any pytester session (see tests/tools/test_local_tools.py).
import examples.openai_responses.agent  # noqa: F401
import harness.session  # noqa: F401

DRIVERS = """
import asyncio, json, os

import openai, pytest
from openai.lib.browser import AsyncBrowserToolset, BrowserToolset
from openai.lib.computer import AsyncComputerToolset, ComputerToolset
from openai.types.responses import ResponseComputerToolCall, ResponseFunctionToolCall

SHOT = {"type": "computer_screenshot", "image_url": "data:image/png;base64,iVBORw0KGgo="}
TABS = {"tabs": [{"id": "tab_1", "title": "Tickets", "url": "https://example.com", "active": True}]}


def side_effect(what):
    with open(os.environ["LEDGER"], "a") as ledger:
        ledger.write(what + "\\n")


class Screen:
    def click(self, action):
        side_effect(f"click {action.x},{action.y}")

    double_click = drag = keypress = move = scroll = type = wait = click

    def screenshot(self):
        side_effect("screenshot")
        return SHOT


class AsyncScreen:
    async def click(self, action):
        side_effect(f"async click {action.x},{action.y}")

    double_click = drag = keypress = move = scroll = type = wait = click

    async def screenshot(self):
        side_effect("async screenshot")
        return SHOT


class Browser:
    def state(self):
        side_effect("state")
        return TABS

    def click(self, action):
        side_effect(f"click {action['target']}")


class AsyncBrowser:
    async def state(self):
        side_effect("async state")
        return TABS

    async def click(self, action):
        side_effect(f"async click {action['target']}")


def computer_call():
    return ResponseComputerToolCall.model_validate({
        "type": "computer_call", "id": "cu_1", "call_id": "call_1", "status": "completed",
        "action": {"type": "click", "button": "left", "x": 3, "y": 4}, "pending_safety_checks": [],
    })


def browser_call():
    return ResponseFunctionToolCall.model_validate({
        "type": "function_call", "id": "fc_1", "call_id": "call_2", "status": "completed",
        "name": "browser_click", "arguments": '{"target": "ref_7", "tab_id": null}',
    })


def approve(context):
    side_effect("approved")  # the application's own policy: it runs on replay too
    return True


async def aapprove(context):
    return approve(context)


@pytest.mark.cassette
def test_computer():
    output = ComputerToolset(Screen()).execute(computer_call())
    assert output["output"]["image_url"] == SHOT["image_url"]


@pytest.mark.cassette
def test_async_computer():
    output = asyncio.run(AsyncComputerToolset(AsyncScreen()).execute(computer_call()))
    assert output["output"]["image_url"] == SHOT["image_url"]


@pytest.mark.cassette
def test_computer_run():
    client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
    response = ComputerToolset(Screen()).run(client, {"model": "computer-use", "input": "Click the button"})
    assert response.output_text == "Result: computer_screenshot"


@pytest.mark.cassette
def test_async_computer_run():
    async def main():
        async with openai.AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0) as client:
            return await AsyncComputerToolset(AsyncScreen()).run(client, {"model": "computer-use", "input": "Click the button"})

    assert asyncio.run(main()).output_text == "Result: computer_screenshot"


@pytest.mark.cassette
def test_browser():
    output = BrowserToolset(Browser(), members=["click"], confirm=approve).execute(browser_call())
    assert json.loads(output["output"][0]["text"]) == {"ok": True, "state": TABS, "result": None}


@pytest.mark.cassette
def test_async_browser():
    toolset = AsyncBrowserToolset(AsyncBrowser(), members=["click"], confirm=aapprove)
    output = asyncio.run(toolset.execute(browser_call()))
    assert json.loads(output["output"][0]["text"]) == {"ok": True, "state": TABS, "result": None}


def test_the_patches_are_gone_after_the_tests():
    from openai.lib import _tool_lifecycle, browser, computer

    assert computer.invoke is _tool_lifecycle.invoke and browser.invoke is _tool_lifecycle.invoke
    assert ComputerToolset._dispatch.__qualname__ == "ComputerToolset._dispatch"
    assert AsyncComputerToolset._dispatch.__qualname__ == "AsyncComputerToolset._dispatch"
    assert BrowserToolset._dispatch.__qualname__ == "BrowserToolset._dispatch"
    assert AsyncBrowserToolset._dispatch.__qualname__ == "AsyncBrowserToolset._dispatch"
"""

COMPUTER = ["click 3,4", "screenshot", "async click 3,4", "async screenshot"]
RUN = ["click 16,16", "screenshot", "async click 16,16", "async screenshot"]
DRIVEN = sorted([*COMPUTER, *RUN, "state", "click ref_7", "state", "async state", "async click ref_7", "async state"])
APPROVED = ["approved", "approved"]


def lines(path: Path) -> list[str]:
    return sorted(path.read_text().splitlines()) if path.exists() else []


def test_computer_and_browser_driver_calls_are_recorded_and_not_run_on_replay(
    pytester, tmp_path, model_server, closed_url, no_network, monkeypatch
):
    pytester.makepyfile(test_drivers=DRIVERS)
    ledger = tmp_path / "ledger.txt"
    monkeypatch.setenv("LEDGER", str(ledger))
    monkeypatch.setenv("MODEL_URL", model_server.url)

    pytester.runpytest("--record-mode=once").assert_outcomes(passed=7)
    assert lines(ledger) == sorted(DRIVEN + APPROVED)
    cassettes = pytester.path / "cassettes" / "test_drivers"
    tools = [(i["name"], i["input"]) for i in json.loads((cassettes / "test_computer.json").read_text())["interactions"]]
    assert tools == [("computer.click", {"button": "left", "type": "click", "x": 3, "y": 4}), ("computer.screenshot", {})]
    names = [i["name"] for i in json.loads((cassettes / "test_browser.json").read_text())["interactions"]]
    assert names == ["browser.state", "browser.click", "browser.state"]
    kinds = [i.get("kind", "http") for i in json.loads((cassettes / "test_computer_run.json").read_text())["interactions"]]
    assert kinds == ["http", "tool", "tool", "http"]

    # Replay: no driver call runs (the approvals, the application's own code, do), every output the same
    ledger.unlink()
    monkeypatch.setenv("MODEL_URL", closed_url)
    with no_network:
        pytester.runpytest().assert_outcomes(passed=7)
    assert lines(ledger) == APPROVED

    with no_network:
        pytester.runpytest("--real-tools").assert_outcomes(passed=7)
    assert lines(ledger) == sorted(DRIVEN + APPROVED * 2)
