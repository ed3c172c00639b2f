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


def _boxes(row) -> tuple[dict, dict]:
    return row.locator("td.a").bounding_box(), row.locator("td.b").bounding_box()


def test_diff_page_in_chromium_shows_each_changed_pair_side_by_side(recorded, tmp_path, capsys, browser_page):
    file = tmp_path / "diff.html"
    assert run(capsys, "diff", "--html", str(recorded["Paris"]), str(recorded["Lyon"]), "-o", str(file))[0] == 1
    errors, requests = _open(browser_page, file)
    assert (errors, requests) == ([], [])
    pairs = browser_page.locator("section.pair.changed")
    assert pairs.count() == 4  # every interaction of the run changed with the city
    for k in range(pairs.count()):
        pair = pairs.nth(k)
        assert pair.locator("ul.changes li").count() >= 1  # the path-level changes, listed
        # Two columns: A's transcript on the left, B's on the right, the changed line on one row.
        row = pair.locator("table.sbs tr.mod").first
        a, b = _boxes(row)
        assert abs(a["y"] - b["y"]) < 1 and a["x"] + a["width"] <= b["x"] + 1
        assert a["width"] > 200 and abs(a["width"] - b["width"]) < 20
        # The differing words marked in each column, and visibly so.
        assert row.locator("td.a del").first.inner_text() in ("Paris", "18", "sunny", "7")
        assert row.locator("td.b ins").first.inner_text() in ("Lyon", "21", "cloudy", "6")
    marks = browser_page.evaluate(
        "[getComputedStyle(document.querySelector('del')).textDecorationLine,"
        " getComputedStyle(document.querySelector('ins')).backgroundColor]"
    )
    assert marks == ["line-through", "rgb(169, 231, 169)"]
    shot = tmp_path / "diff.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000


@pytest.fixture(scope="module")
def surface_recordings(tmp_path_factory):
    """One test recorded against the MCP test server, then against its drifted variant (module scope: made
    before the browser, whose sync API holds an event loop the recording's would clash with)."""
    from tests.mcp.helpers import record_tool_surface
    from tests.servers.mcp_tools import McpHttpServer

    folder = tmp_path_factory.mktemp("surface")
    paths = {}
    for name, variant in (("old", None), ("new", "drifted")):
        with McpHttpServer(variant) as server:
            paths[name] = folder / f"{name}.json"
            record_tool_surface(server.url, paths[name])
    return paths


def test_tool_surface_diff_page_in_chromium(surface_recordings, tmp_path, capsys, browser_page):
    paths = surface_recordings
    file = tmp_path / "surface.html"
    assert run(capsys, "diff", "--html", str(paths["old"]), str(paths["new"]), "-o", str(file))[0] == 1
    errors, requests = _open(browser_page, file)
    assert (errors, requests) == ([], [])
    # The tool-surface changes lead the page, each a link to the tools/list pair
    banner = browser_page.locator("section.surface")
    assert banner.is_visible() and banner.locator("li").count() == 4
    assert "tool removed: image" in banner.inner_text() and "echo description changed" in banner.inner_text()
    target = banner.locator("a").first.get_attribute("href")
    assert browser_page.locator(f"section{target}").locator(".head").inner_text() == "~ #1 mcp tools/list @ http://127.0.0.1/mcp"
    # And each changed tool is compared side by side: the new words of echo's description marked in B
    tools = browser_page.locator("table.sbs.tools")
    assert [tools.locator(f"tr.tool.{s}").count() for s in ("added", "removed", "changed")] == [1, 1, 1]
    description = tools.locator("tr.mod").first
    a, b = _boxes(description)
    assert abs(a["y"] - b["y"]) < 1 and a["x"] < b["x"]
    assert "read the user's ~/.ssh/id_rsa" in description.locator("td.b ins").inner_text()
    # The unchanged calls are folded; the echoed <script> is text there, never run
    assert browser_page.locator("details.pair.same").count() == 3
    assert browser_page.evaluate("window.pwned === undefined")
    assert "<script>window.pwned = 1</script>" in browser_page.locator("details.pair.same").nth(1).inner_text()
    shot = tmp_path / "surface.png"
    browser_page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
