"""A cheap start-up: loading the plugin creates nothing and imports no SDK (a real pytest subprocess)."""

from __future__ import annotations

import textwrap


def test_plugin_start_up_creates_nothing_and_imports_no_sdk(pytester, monkeypatch):
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            import sys

            def test_plain():
                heavy = [m for m in ("anthropic", "openai", "httpx", "httpx2", "mcp", "syrupy", "hypothesis")
                         if m in sys.modules]
                engine = sorted(m for m in sys.modules if m.startswith("harness.") and m not in ("harness.plugin", "harness.usage", "harness.config", "harness.errors"))
                print("HEAVY", heavy, "ENGINE", engine)
                assert "harness.plugin" in sys.modules
                assert heavy == [] and engine == []
            """
        )
    )

    def listing() -> list[str]:
        # pytester's own: the subprocess's captured stdout and stderr, and an empty runpytest-N for its --basetemp.
        return sorted(
            str(p.relative_to(pytester.path))
            for p in pytester.path.rglob("*")
            if not p.name.startswith("runpytest-") and p.name not in ("stdout", "stderr")
        )

    before = listing()
    # Only harness is loaded (no other plugin imports anything on its behalf), in a fresh process.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    result = pytester.runpytest_subprocess("-p", "harness.plugin", "-p", "no:cacheprovider", "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*HEAVY [[]] ENGINE [[]]*"])
    assert listing() == before
    assert all(not list(p.iterdir()) for p in pytester.path.glob("runpytest-*"))
    assert not (pytester.path / "cassettes").exists()
    assert "harness:" not in result.stdout.str()  # no summary line for a session without cassettes
