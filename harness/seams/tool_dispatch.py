"""Tool dispatch: the one point where each SDK runner calls a tool of any kind, recorded and replayed there.

Function tools are recorded by their own patched classes (:mod:`harness.seams.tools`); this seam covers what
else the runners dispatch, so that a tool kind harness does not know yet is recorded without a change:

* anthropic's messages tool runners (``client.beta.messages.tool_runner``, sync and async, streamed, run
  eagerly or not): every tool that is not a function tool — ``BetaBuiltinFunctionTool``s such as the memory
  tool — at ``_run_tool``; every toolset member call (computer, browser, your own ``BetaRunnableToolset``)
  at ``BetaRunnableToolset.tool_result``, which your own loop may call too.
* anthropic's sessions tool runner (and the environment worker on it): ``run_runnable_tool``.
* openai's ``DecisionsToolRunner`` / ``AsyncDecisionsToolRunner``: the chosen action's executor.
* openai's ``client.beta.agents`` sessions streams: every ``tool_handlers`` entry, at ``ToolInvocation.invoke``.
* openai's computer and browser helpers (``ComputerToolset`` / ``BrowserToolset``, sync and async, ``run`` and
  ``execute``): every call of the caller's driver (an action, the screenshot, the browser's state report), at
  the ``invoke`` their module calls it through. The helpers' approval callbacks are the application's own
  policy and run on replay too.

The runners' own bookkeeping around the call (result blocks, error results, diagnostics) runs on replay as
while recording, on the recorded result.
"""

from __future__ import annotations

import functools
import inspect
import sys
from contextvars import ContextVar
from typing import Any, ClassVar

from harness.active import current
from harness.seams.imports import ModuleSeam, restore
from harness.seams.tools import ToolCall, _replayed, call_async, call_sync


def _function_tool_classes() -> tuple[type, ...]:
    module = sys.modules["anthropic.lib.tools._beta_functions"]  # imported by every anthropic runner module
    return (module.BetaFunctionTool, module.BetaAsyncFunctionTool)


# The driver calls of the computer / browser dispatch going on in this context: [(bound method, recorded name)].
_driver_calls: ContextVar[tuple[bool, list[tuple[Any, str]]] | None] = ContextVar("harness_driver_calls", default=None)

# The decisions run going on in this context: (async?, {id(executor): (executor, candidate id)}).
_decisions_run: ContextVar[tuple[bool, dict[int, tuple[Any, str]]] | None] = ContextVar("harness_decisions_run", default=None)


class _Dispatched:
    """A tool as a runner's dispatch hands it on: its ``call`` recorded and replayed, all else the tool's own.

    Any tool kind the runner dispatches that is not a function tool (whose class is patched itself) goes
    through it: the built-in memory tool, a user's own ``BetaBuiltinFunctionTool``, a kind a later SDK adds.
    """

    __slots__ = ("_async", "_tool")

    def __init__(self, tool: Any, *, is_async: bool) -> None:
        self._tool = tool
        self._async = is_async

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tool, name)

    def call(self, input: Any) -> Any:
        tool = self._tool
        if self._async:
            return call_async(tool.name, input, lambda: tool.call(input))
        return call_sync(tool.name, input, lambda: tool.call(input))


class _DispatchedToolset:
    """A toolset as its ``tool_result`` sees itself: each member call recorded as ``<family>.<member>``."""

    __slots__ = ("_async", "_toolset")

    def __init__(self, toolset: Any, *, is_async: bool) -> None:
        self._toolset = toolset
        self._async = is_async

    def __getattr__(self, name: str) -> Any:
        return getattr(self._toolset, name)

    def call(self, context: Any, name: str, input: Any) -> Any:
        toolset = self._toolset
        recorded = f"{toolset.toolset_name}.{name}"
        if self._async:
            return call_async(recorded, input, lambda: toolset.call(context, name, input))
        return call_sync(recorded, input, lambda: toolset.call(context, name, input))


class ToolDispatchSeam(ModuleSeam):
    """Patches the runners' tool dispatch for one test, now or when the test imports the SDK."""

    # Module -> the method of this class that patches it.
    targets: ClassVar[dict[str, str]] = {
        "anthropic.lib.tools._beta_runner": "_patch_anthropic_runner",
        "anthropic.lib.tools._beta_session_runner": "_patch_anthropic_sessions",
        "anthropic.lib.tools._toolsets._runnable": "_patch_anthropic_toolsets",
        "openai.lib.decisions_tool_runner": "_patch_decisions",
        "openai.lib.streaming.agents._tools": "_patch_agent_sessions",
        "openai.lib.computer": "_patch_computer",
        "openai.lib.browser": "_patch_browser",
    }

    def _patch_anthropic_runner(self, module: Any) -> None:
        # Every tool call of the messages runners (sync and async, streamed, run eagerly or not) but a
        # toolset member's goes through ``_run_tool(tool, tool_use)``, which calls ``tool.call(input)``:
        # the tool is handed on wrapped, so whatever its kind its call is recorded, and the runner's own
        # result and error handling runs on replay as while recording. Function tools are recorded by
        # their class's patched ``call`` (which also covers a loop of the user's own calling it).
        functions = _function_tool_classes()
        for cls, is_async in ((module.BaseSyncToolRunner, False), (module.BaseAsyncToolRunner, True)):
            real = cls.__dict__["_run_tool"]

            def dispatched(tool: Any, is_async: bool = is_async) -> Any:
                if current() is None or isinstance(tool, functions):
                    return tool
                return _Dispatched(tool, is_async=is_async)

            if is_async:

                async def arun_tool(runner: Any, tool: Any, tool_use: Any, real: Any = real) -> Any:
                    return await real(runner, dispatched(tool, True), tool_use)

                self._replace(cls, "_run_tool", arun_tool)
            else:

                def run_tool(runner: Any, tool: Any, tool_use: Any, real: Any = real) -> Any:
                    return real(runner, dispatched(tool, False), tool_use)

                self._replace(cls, "_run_tool", run_tool)

    def _patch_anthropic_sessions(self, module: Any) -> None:
        # The sessions runner (and the environment worker on it) calls every tool through the
        # ``run_runnable_tool`` it imported; sync tools on a worker thread, which replay does not need.
        real = module.__dict__["run_runnable_tool"]
        functions = _function_tool_classes()

        async def run_runnable_tool(tool: Any, input: Any, *, limiter: Any = None) -> Any:
            if current() is None or isinstance(tool, functions) or not isinstance(getattr(tool, "name", None), str):
                return await real(tool, input, limiter=limiter)
            return await call_async(tool.name, input, lambda: real(tool, input, limiter=limiter))

        module.run_runnable_tool = run_runnable_tool
        self._undo.append(functools.partial(restore, module.__dict__, "run_runnable_tool", run_runnable_tool, real))

    def _patch_anthropic_toolsets(self, module: Any) -> None:
        # A toolset (computer, browser, one of the user's own) answers a member call in ``tool_result``,
        # which the runner calls and a loop of the user's own may call too; it calls ``self.call(context,
        # name, input)``, on the toolset handed in wrapped: the member call is recorded, and the
        # toolset's own checks and error results run on replay too.
        for cls, is_async in ((module.BetaRunnableToolset, False), (module.BetaAsyncRunnableToolset, True)):
            real = cls.__dict__["tool_result"]
            if is_async:

                async def atool_result(toolset: Any, tool_use: Any, real: Any = real) -> Any:
                    if current() is None:
                        return await real(toolset, tool_use)
                    return await real(_DispatchedToolset(toolset, is_async=True), tool_use)

                self._replace(cls, "tool_result", atool_result)
            else:

                def tool_result(toolset: Any, tool_use: Any, real: Any = real) -> Any:
                    if current() is None:
                        return real(toolset, tool_use)
                    return real(_DispatchedToolset(toolset, is_async=False), tool_use)

                self._replace(cls, "tool_result", tool_result)

    def _patch_decisions(self, module: Any) -> None:
        # A decisions run executes the action the model chose with ``invoke(choice.execute, cancelled=...)``;
        # the runner's own checks, diagnostics and bookkeeping stay as they are. An action is recorded by its
        # candidate id (with no input: an action takes none), its result being the executor's return value.
        # The run methods say whether the run is async; ``_Run.candidates`` which executor is which action.
        real_invoke = module.__dict__["invoke"]

        def invoke(handler: Any, *args: Any, cancelled: Any = None) -> Any:
            run = _decisions_run.get()
            action = None if run is None else run[1].get(id(handler))
            if run is None or action is None or action[0] is not handler:
                return real_invoke(handler, *args, cancelled=cancelled)

            def execute() -> Any:
                return real_invoke(handler, *args, cancelled=cancelled)

            return call_async(action[1], {}, execute) if run[0] else call_sync(action[1], {}, execute)

        module.invoke = invoke
        self._undo.append(functools.partial(restore, module.__dict__, "invoke", invoke, real_invoke))

        real_candidates = module._Run.__dict__["candidates"]

        def candidates(run: Any, values: Any) -> Any:
            listed = real_candidates(run, values)
            state = _decisions_run.get()
            if state is not None:
                state[1].clear()
                state[1].update({id(c.execute): (c.execute, c.id) for c in listed if c.execute is not None})
            return listed

        self._replace(module._Run, "candidates", candidates)
        for cls, is_async in ((module.DecisionsToolRunner, False), (module.AsyncDecisionsToolRunner, True)):
            real = cls.__dict__["run"]
            if is_async:

                async def arun(runner: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
                    token = _decisions_run.set((True, {}))
                    try:
                        return await real(runner, *args, **kwargs)
                    finally:
                        _decisions_run.reset(token)

                self._replace(cls, "run", arun)
            else:

                def run(runner: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
                    token = _decisions_run.set((False, {}))
                    try:
                        return real(runner, *args, **kwargs)
                    finally:
                        _decisions_run.reset(token)

                self._replace(cls, "run", run)

    def _patch_agent_sessions(self, module: Any) -> None:
        # ``client.beta.agents`` sessions streams call every ``tool_handlers`` entry (a ``FunctionTool``
        # or a plain callable) through ``ToolInvocation.invoke``. Recorded with the call's name and its
        # parsed arguments; an async handler's awaited output. On replay the output is handed back as a
        # value: the async dispatcher awaits only what is awaitable.
        cls = module.ToolInvocation
        real = cls.__dict__["invoke"]
        parse = module.arguments

        def invoke(invocation: Any, handler: Any) -> Any:
            ledger = current()
            if ledger is None:
                return real(invocation, handler)
            try:
                parsed = parse(invocation.call)
            except Exception:
                return real(invocation, handler)  # the SDK reports its own argument errors
            call = ToolCall(ledger, invocation.call.name, parsed)
            if call.plan.replay is not None:
                invocation.stage = "execution"
                return _replayed(call.plan.replay)
            try:
                output = real(invocation, handler)
            except Exception as exc:
                call.finish(exc=exc)
                raise
            if not inspect.isawaitable(output):
                call.finish(output)
                return output

            async def settled() -> Any:
                try:
                    value = await output
                except Exception as exc:
                    call.finish(exc=exc)
                    raise
                call.finish(value)
                return value

            return settled()

        self._replace(cls, "invoke", invoke)

    def _patch_computer(self, module: Any) -> None:
        # ``_dispatch`` (under ``run`` and ``execute``) calls each driver member through ``invoke(handler,
        # action, cancelled=...)``, the screenshot with no action; ``_handlers`` maps member -> bound method.
        self._patch_driver_dispatch(
            module,
            "computer",
            ((module.ComputerToolset, False), (module.AsyncComputerToolset, True)),
            lambda toolset: [(method, f"computer.{member}") for member, method in toolset._handlers.items()],
        )

    def _patch_browser(self, module: Any) -> None:
        # As the computer's; ``_handlers`` is keyed ``browser_<member>``, and the state report (before and
        # after each action) is the driver's ``state``.
        def calls(toolset: Any) -> list[tuple[Any, str]]:
            listed = [(method, f"browser.{key.removeprefix('browser_')}") for key, method in toolset._handlers.items()]
            state = getattr(toolset.driver, "state", None)
            return [*listed, (state, "browser.state")] if state is not None else listed

        self._patch_driver_dispatch(
            module, "browser", ((module.BrowserToolset, False), (module.AsyncBrowserToolset, True)), calls
        )

    def _patch_driver_dispatch(self, module: Any, family: str, classes: Any, calls: Any) -> None:
        """Record every driver call a toolset's ``_dispatch`` makes through its module's ``invoke``: the
        dispatch lists the driver's bound methods (compared with ``==``: a bound method is made anew at each
        attribute access), the patched ``invoke`` records a call of one of them, by member, with its argument."""
        real_invoke = module.__dict__["invoke"]

        def invoke(handler: Any, *args: Any, cancelled: Any = None) -> Any:
            run_state = _driver_calls.get()
            name = None if run_state is None else next((n for method, n in run_state[1] if method == handler), None)
            if name is None:
                return real_invoke(handler, *args, cancelled=cancelled)
            input = args[0] if args else {}

            def run() -> Any:
                return real_invoke(handler, *args, cancelled=cancelled)

            return call_async(name, input, run) if run_state[0] else call_sync(name, input, run)  # type: ignore[index]

        module.invoke = invoke
        self._undo.append(functools.partial(restore, module.__dict__, "invoke", invoke, real_invoke))
        for cls, is_async in classes:
            real = cls.__dict__["_dispatch"]
            if is_async:

                async def adispatch(toolset: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
                    token = _driver_calls.set((True, calls(toolset)) if current() is not None else None)
                    try:
                        return await real(toolset, *args, **kwargs)
                    finally:
                        _driver_calls.reset(token)

                self._replace(cls, "_dispatch", adispatch)
            else:

                def dispatch(toolset: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
                    token = _driver_calls.set((False, calls(toolset)) if current() is not None else None)
                    try:
                        return real(toolset, *args, **kwargs)
                    finally:
                        _driver_calls.reset(token)

                self._replace(cls, "_dispatch", dispatch)

    def _replace(self, cls: type, attr: str, wrapper: Any) -> None:
        real = cls.__dict__[attr]
        setattr(cls, attr, wrapper)
        self._undo.append(lambda: setattr(cls, attr, real))
