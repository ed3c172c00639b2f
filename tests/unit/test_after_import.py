"""``after_import``: patching a module right after its first import, with several seams waiting for it."""

from __future__ import annotations

import importlib
import sys

import pytest

from harness.seams.imports import after_import


def test_two_seams_waiting_for_one_module_both_patch_it(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "harness_fresh_module.py").write_text("VALUE = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "harness_fresh_module", raising=False)
    seen: list[str] = []
    undo_a = after_import({"harness_fresh_module": lambda m: seen.append(f"a{m.VALUE}")})
    undo_b = after_import({"harness_fresh_module": lambda m: seen.append(f"b{m.VALUE}")})
    try:
        module = importlib.import_module("harness_fresh_module")
    finally:
        undo_a()
        undo_b()
        sys.modules.pop("harness_fresh_module", None)
    assert module.VALUE == 1
    assert sorted(seen) == ["a1", "b1"]
