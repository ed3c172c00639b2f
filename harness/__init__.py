"""harness: record and replay LLM agent loops (Anthropic, OpenAI, MCP) in pytest.

The public names are loaded on first use, so ``import harness`` stays cheap for the plugin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "RECORD_MODES",
    "Call",
    "CallbackRecorder",
    "Cassette",
    "CassetteFormatError",
    "CassetteMiss",
    "ConfigError",
    "HarnessError",
    "NoCassetteError",
    "Settings",
    "UnplayedInteractions",
    "record_callbacks",
    "recorded_tool",
]

_WHERE = {
    "Call": "harness.callbacks",
    "CallbackRecorder": "harness.callbacks",
    "record_callbacks": "harness.callbacks",
    "recorded_tool": "harness.seams.tools",
    "Cassette": "harness.cassette.model",
    "CassetteFormatError": "harness.errors",
    "CassetteMiss": "harness.errors",
    "ConfigError": "harness.errors",
    "HarnessError": "harness.errors",
    "NoCassetteError": "harness.errors",
    "UnplayedInteractions": "harness.errors",
    "RECORD_MODES": "harness.config",
    "Settings": "harness.config",
}

if TYPE_CHECKING:
    from harness.callbacks import Call, CallbackRecorder, record_callbacks
    from harness.cassette.model import Cassette
    from harness.config import RECORD_MODES, Settings
    from harness.errors import (
        CassetteFormatError,
        CassetteMiss,
        ConfigError,
        HarnessError,
        NoCassetteError,
        UnplayedInteractions,
    )
    from harness.seams.tools import recorded_tool


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
