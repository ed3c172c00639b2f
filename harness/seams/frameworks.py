"""Agent frameworks' function tools: openai-agents and pydantic-ai, at the one point each calls them.

Their model calls go through the HTTP seam like any SDK's; their tools are the frameworks' own, so
this seam hooks each framework's tool dispatch (one hook per framework, not one per tool class):

* **openai-agents** (``agents``): every ``FunctionTool`` — ``@function_tool`` functions and tools
  built by hand — is invoked through ``_invoke_function_tool_with_metadata`` (the runner's and the
  public ``invoke_function_tool``'s one path). The recorded input is the call's parsed JSON
  arguments, the result what ``on_invoke_tool`` returned. A tool that raised: with a
  ``failure_error_function`` (the default) the error text it produced is recorded as the call's error
  (:class:`SdkToolError`) and handed back on replay as the runner's own error output, flag included;
  without one the exception is recorded and raised again. Not recorded here: tools backed by an MCP server (the MCP
  seam records their messages) and agents used as tools (``Agent.as_tool``: their own model calls
  are recorded, and replayed, one by one).
* **pydantic-ai** (``pydantic_ai``): every tool of a ``FunctionToolset`` — ``@agent.tool``,
  ``@agent.tool_plain``, ``Agent(tools=[...])`` — is called by ``FunctionToolset.call_tool``. The
  recorded input is the validated arguments (the ``RunContext`` is not part of it), the result the
  function's return value as JSON; ``ModelRetry`` and other exceptions are recorded and raised again
  on replay. MCP toolsets are not function toolsets: the MCP seam records them.

On replay the recorded result is returned and the function does not run; ``--real-tools`` runs it.
A framework imported by the test itself (after the session started) is patched when it is imported.
"""

from __future__ import annotations

import functools
import json
import sys
from typing import Any, ClassVar

from harness.active import current
from harness.seams.imports import ModuleSeam, restore
from harness.seams.tools import ToolCall, call_async
from harness.seams.tools import _replayed as replayed  # (the local-tool seam's own replay of a recorded call)


class SdkToolError(Exception):
    """Stored as the error of an openai-agents tool call whose exception the tool's
    ``failure_error_function`` turned into the output (its message): the runner's own error text."""


SDK_ERROR = f"{__name__}.SdkToolError"


def _arguments(raw: Any) -> Any:
    """An openai-agents tool call's arguments (a JSON string) as JSON when they parse, else as sent."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw


def _framework_owned(tool: Any) -> bool:
    # An MCP server's tool (the MCP seam records it) or an agent used as a tool (its model calls are recorded).
    return bool(getattr(tool, "_is_agent_tool", False)) or getattr(tool, "_mcp_tool_binding", None) is not None


class FrameworkToolSeam(ModuleSeam):
    """Patches openai-agents' and pydantic-ai's tool dispatch for one test, now or when imported."""

    # Module -> the method of this class that patches it.
    targets: ClassVar[dict[str, str]] = {
        "agents.tool": "_patch_agents",
        "agents.run_internal.tool_execution": "_patch_agents",
        "pydantic_ai.toolsets.function": "_patch_pydantic_ai",
    }

    only_installed = True

    def _patch_agents(self, module: Any) -> None:
        # Both modules hold the function under this name (one defines it, the other imports it);
        # each call path reads one of the two, so a call is recorded once.
        name = "_invoke_function_tool_with_metadata"
        real = module.__dict__.get(name)
        if real is None or getattr(real, "_harness_wrapper", False):
            return  # imported (already patched) from the other module while this test runs
        result_class = sys.modules["agents.tool"]._FunctionToolInvocationResult

        async def invoke(*, function_tool: Any, context: Any, arguments: str) -> Any:
            ledger = current()
            if ledger is None or _framework_owned(function_tool):
                return await real(function_tool=function_tool, context=context, arguments=arguments)
            call = ToolCall(ledger, function_tool.name, _arguments(arguments))
            if call.plan.replay is not None:
                item = call.plan.replay
                if item.error is not None and item.error.get("type") == SDK_ERROR:
                    return result_class(item.error.get("message", ""), is_sdk_generated_error=True)
                return result_class(replayed(item))
            try:
                outcome = await real(function_tool=function_tool, context=context, arguments=arguments)
            except Exception as exc:
                call.finish(exc=exc)
                raise
            if outcome.is_sdk_generated_error:
                # The tool raised and the tool's failure_error_function answered for it: the cassette
                # says the call failed, and replay hands the runner the same flag (the model is then
                # sent the same error output, whatever the tool's output schema).
                call.finish(exc=SdkToolError(str(outcome.output)))
            else:
                call.finish(outcome.output)
            return outcome

        invoke._harness_wrapper = True  # type: ignore[attr-defined]
        setattr(module, name, invoke)
        self._undo.append(functools.partial(restore, module.__dict__, name, invoke, real))

    def _patch_pydantic_ai(self, module: Any) -> None:
        cls = module.FunctionToolset
        real = cls.__dict__["call_tool"]

        async def call_tool(toolset: Any, name: str, tool_args: dict[str, Any], ctx: Any, tool: Any) -> Any:
            return await call_async(name, tool_args, lambda: real(toolset, name, tool_args, ctx, tool))

        cls.call_tool = call_tool
        self._undo.append(lambda: setattr(cls, "call_tool", real))
