"""harness.seams.mcp.labels: server labels the same on every machine and from any folder."""

from __future__ import annotations

import os
from pathlib import Path

from harness.seams.mcp.labels import command_label, numbered


def test_loopback_servers_differing_only_in_port_are_numbered_in_order_of_first_connection() -> None:
    seen: dict[str, list[str]] = {}
    a, b = "http://127.0.0.1:41000/mcp", "http://127.0.0.1:42000/mcp"
    label = "http://127.0.0.1/mcp"
    assert [numbered(seen, label, u) for u in (a, b, a, b)] == [label, f"{label} (server 2)", label, f"{label} (server 2)"]


def test_an_absolute_path_is_relative_to_the_project_root_not_the_cwd(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "tests" / "servers").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "tests")
    script = os.path.join(tmp_path, "tests", "servers", "srv.py")
    assert command_label("/usr/bin/python3", [script]) == "python tests/servers/srv.py"


def test_the_environment_is_part_of_the_label_secrets_by_name_only() -> None:
    label = command_label("node", ["srv.js"], {"MODE": "fast", "API_TOKEN": "s3cr3t"})
    assert label == "API_TOKEN MODE=fast node srv.js"


def test_a_loopback_port_the_os_picked_is_dropped_and_one_the_user_fixed_is_kept() -> None:
    from harness.seams.mcp.labels import url_label

    assert url_label(("http://127.0.0.1:54321/mcp",), {}) == "http://127.0.0.1/mcp"
    assert url_label((), {"url": "http://localhost:8000/mcp"}) == "http://localhost:8000/mcp"
    assert url_label(("https://mcp.example.com:8443/mcp",), {}) == "https://mcp.example.com:8443/mcp"
