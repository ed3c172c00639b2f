"""``harness show --html`` in a real headless Chromium (the system package, driven by Playwright): the page
loads with no console error and no network request, shows every interaction of the cassette, and a model
answer holding ``<script>`` is shown as text, not run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.cassette.model import ToolInteraction
from tests.cli.helpers import run, write

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser_page(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        # The system's Chromium, else the one `playwright install chromium` downloaded (.ci/run's fallback)
        executable = CHROMIUM or (p.chromium.executable_path if Path(p.chromium.executable_path).exists() else None)
        if executable is None:
            if os.environ.get("CI"):
                pytest.fail("no chromium under CI: .ci/run installs one (apt-get install chromium, or playwright install)")
            pytest.skip("chromium is not installed (apt-get install chromium, or playwright install chromium)")
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=ARGS, headless=True
        )
        try:
            yield context.new_page()
        finally:
            context.close()


def _open(page, file: Path) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(file.as_uri())
    page.wait_for_load_state("load")
    return errors, requests


def test_timeline_page_in_chromium(recorded, tmp_path, capsys, browser_page):
    cassette = recorded["Paris"]
    evil = tmp_path / "evil.json"
    doc = json.loads(cassette.read_text(encoding="utf-8"))
    items = doc["interactions"]
    file = tmp_path / "timeline.html"
    assert run(capsys, "show", "--html", str(cassette), "-o", str(file))[0] == 0
    errors, requests = _open(browser_page, file)
    assert (errors, requests) == ([], [])
    assert browser_page.locator("section.item").count() == len(items)
    assert browser_page.locator("section.item[data-kind='http']").count() == sum(i["kind"] == "http" for i in items)
    shot = tmp_path / "timeline.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000

    write(evil, [ToolInteraction("lookup", {"q": "x"}, "<script>window.pwned = 1</script><img src=x onerror='window.pwned=2'>")])
    page_file = tmp_path / "evil.html"
    assert run(capsys, "show", "--html", str(evil), "-o", str(page_file))[0] == 0
    errors, requests = _open(browser_page, page_file)
    assert (errors, requests) == ([], [])
    assert browser_page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in browser_page.locator("pre").inner_text()
