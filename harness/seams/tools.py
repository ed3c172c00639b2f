"""The local-tool seam: a tool function called by a runner is recorded with its input and result.

On replay the recorded result is returned and the function is not run (a Jira ticket, an email:
side effects must not happen in CI); an input other than the recorded one is a miss like any
other. ``--real-tools`` (or ``real_tools=True``) runs the functions instead.

Covered: anthropic's ``@beta_tool`` / ``@beta_async_tool`` objects (``BetaFunctionTool.call``),
openai's ``ResponsesToolRunner`` / ``AsyncResponsesToolRunner`` registered functions (recorded by
the function's name, its parsed arguments and its raw output), and any function wrapped with
:func:`harness.recorded_tool`.

The SDK classes are patched for the test's duration, whether the SDK was imported before the test
started or is imported by the test itself (an import hook patches a module the moment it is
loaded), and restored when the test ends.
"""

from __future__ import annotations

import builtins
import functools
import importlib
import inspect
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from harness.active import current
from harness.cassette.model import ToolInteraction
from harness.seams.imports import after_import, restore

if TYPE_CHECKING:
    from harness.engine.ledger import Ledger

F = TypeVar("F", bound=Callable[..., Any])


def to_json(value: Any) -> Any:
    """A tool result as JSON: pydantic models dumped, other objects as their string."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return to_json(dump(mode="json", exclude_none=True))
    return str(value)


def _json_native(value: Any) -> bool:
    """Whether ``value`` survives the cassette unchanged (plain JSON), so storing it loses nothing."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return True
    if isinstance(value, list):
        return all(_json_native(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_native(v) for k, v in value.items())
    return False


def _error_class(error: dict[str, Any]) -> Any:
    module, _, name = str(error.get("type", "Exception")).rpartition(".")
    try:
        if module in ("", "builtins"):
            return getattr(builtins, name)
        target: Any = sys.modules.get(module) or importlib.import_module(module)
        for part in name.split("."):  # a class nested in another (its __qualname__)
            target = getattr(target, part)
        return target
    except (ImportError, AttributeError):
        return None


def _rebuild_error(error: dict[str, Any]) -> BaseException:
    """The recorded exception again: the same class (``except JiraError`` catches it), its arguments and
    its plain attributes (anthropic's ``ToolError.content`` blocks) as recorded, its constructor not run
    (it may take other arguments than ``args``). A class that cannot be found: a look-alike of that name."""
    module, _, name = str(error.get("type", "Exception")).rpartition(".")
    message = str(error.get("message", ""))
    args = tuple(error["args"]) if isinstance(error.get("args"), list) else (message,)
    cls = _error_class(error)
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            rebuilt: BaseException = cls.__new__(cls, *args)
            rebuilt.args = args
            attrs = error.get("attrs")
            if isinstance(attrs, dict):
                rebuilt.__dict__.update(attrs)
            return rebuilt
        except Exception:
            try:
                return cls(message)
            except Exception:
                pass
    stand_in: type[Exception] = type(name.rpartition(".")[2], (Exception,), {"__module__": module or "builtins"})
    return stand_in(*args)


def _error_of(exc: BaseException) -> dict[str, Any]:
    """A raised exception as stored: its class, message, and (when plain JSON) its arguments and attributes."""
    cls = type(exc)
    qual = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    out: dict[str, Any] = {"type": qual, "message": str(exc)}
    if exc.args != (str(exc),) and _json_native(list(exc.args)):
        out["args"] = list(exc.args)
    attrs = {k: v for k, v in getattr(exc, "__dict__", {}).items() if not k.startswith("__") and _json_native(v)}
    if attrs:
        out["attrs"] = attrs
    return out


class ToolCall:
    """One tool call as the ledger sees it: planned, then (when it ran) its result or error noted."""

    __slots__ = ("ledger", "plan")

    def __init__(self, ledger: Ledger, name: str, input: Any) -> None:
        self.ledger = ledger
        # Stored and matched scrubbed, as the file holds it (the tool itself gets the real input).
        stored = ledger.scrubbed(to_json(input))
        self.plan = ledger.plan(ToolInteraction(name, stored), real=ledger.settings.real_tools)

    def finish(self, result: Any = None, exc: BaseException | None = None) -> None:
        if self.plan.slot < 0:
            return
        item: Any = self.ledger.cassette.interactions[self.plan.slot]
        if exc is not None:
            item.error = _error_of(exc)
        else:
            item.result = to_json(result)


def call_sync(name: str, input: Any, run: Callable[[], Any]) -> Any:
    ledger = current()
    if ledger is None:
        return run()
    call = ToolCall(ledger, name, input)
    if call.plan.replay is not None:
        return _replayed(call.plan.replay)
    try:
        result = run()
    except Exception as exc:
        call.finish(exc=exc)
        raise
    call.finish(result)
    return result


async def call_async(name: str, input: Any, run: Callable[[], Any]) -> Any:
    ledger = current()
    if ledger is None:
        return await run()
    call = ToolCall(ledger, name, input)
    if call.plan.replay is not None:
        return _replayed(call.plan.replay)
    try:
        result = await run()
    except Exception as exc:
        call.finish(exc=exc)
        raise
    call.finish(result)
    return result


def _replayed(item: ToolInteraction) -> Any:
    if item.error is not None:
        raise _rebuild_error(item.error)
    return item.result


def recorded_tool(fn: F | None = None, *, name: str | None = None) -> Any:
    """Record and replay a plain tool function (sync or async) called by your own agent loop.

    The recorded input is the call's arguments by name, defaults filled in: ``f("Paris")`` and
    ``f("Paris", units="c")`` (``units`` defaulting to ``"c"``) are the same call.

    In a cassette test the wrapper returns the result's JSON form (what the cassette holds: a
    pydantic model dumped, a tuple as a list, a datetime or any other object as its ``str``) while
    recording, on replay and with ``real_tools`` alike, so the code after the call sees the same
    value in CI as when the cassette was made; a tool whose caller needs the real object shows it
    at the first recording, not in a later replay. Outside a cassette test it is the function
    itself and returns what the function returns.
    """

    def wrap(func: F) -> F:
        tool_name = name or func.__name__
        signature = inspect.signature(func)

        def arguments(args: Any, kwargs: Any) -> dict[str, Any]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            return dict(bound.arguments)

        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                if current() is None:
                    return await func(*args, **kwargs)

                async def run() -> Any:
                    return to_json(await func(*args, **kwargs))

                return await call_async(tool_name, arguments(args, kwargs), run)

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if current() is None:
                return func(*args, **kwargs)
            return call_sync(tool_name, arguments(args, kwargs), lambda: to_json(func(*args, **kwargs)))

        return wrapper  # type: ignore[return-value]

    return wrap(fn) if fn is not None else wrap


def _function_tool_classes() -> tuple[type, ...]:
    module = sys.modules["anthropic.lib.tools._beta_functions"]  # imported by every anthropic runner module
    return (module.BetaFunctionTool, module.BetaAsyncFunctionTool)


def _is_mcp_tool(tool: Any) -> bool:
    # anthropic's mcp_tool(...) helpers call an MCP server: the MCP seam records them, once.
    return getattr(tool, "_stainless_helper", None) == "mcp_tool"


# The registered function a responses runner is executing in this context: (its executor, name,
# parsed arguments, async?). ``_execute_function`` sets it; the module's ``invoke``, which only gets
# the executor, reads it. A context variable, because the sync runner executes functions in a
# thread pool (each in a copy of the context) and the async runner in concurrent tasks.
_responses_call: ContextVar[tuple[Any, str, Any, bool] | None] = ContextVar("harness_responses_call", default=None)


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


class ToolSeam:
    """Patches the SDKs' tool classes and runners' tool dispatch for one test, now or when the test imports the SDK."""

    # Module -> the method of this class that patches it.
    targets: ClassVar[dict[str, str]] = {
        "anthropic.lib.tools._beta_functions": "_patch_anthropic",
        "anthropic.lib.tools._beta_runner": "_patch_anthropic_runner",
        "anthropic.lib.tools._beta_session_runner": "_patch_anthropic_sessions",
        "anthropic.lib.tools._toolsets._runnable": "_patch_anthropic_toolsets",
        "openai.lib.responses_tool_runner": "_patch_responses",
        "openai.lib.decisions_tool_runner": "_patch_decisions",
        "openai.lib.streaming.agents._tools": "_patch_agent_sessions",
    }

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        waiting: dict[str, Callable[[Any], None]] = {}
        for module_name, method in self.targets.items():
            patch = getattr(self, method)
            module = sys.modules.get(module_name)
            if module is not None:
                patch(module)
            else:
                # Not imported yet: an SDK imported (or a runner module first used) by the test
                # itself, after the session started, must not run its tools for real on replay.
                waiting[module_name] = patch
        if waiting:
            self._undo.append(after_import(waiting))

    def _patch_anthropic(self, module: Any) -> None:
        self._patch(module.BetaFunctionTool, "call", is_async=False)
        self._patch(module.BetaAsyncFunctionTool, "call", is_async=True)

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

    def _replace(self, cls: type, attr: str, wrapper: Any) -> None:
        real = cls.__dict__[attr]
        setattr(cls, attr, wrapper)
        self._undo.append(lambda: setattr(cls, attr, real))

    def _patch_responses(self, module: Any) -> None:
        # The runner's ``_execute_function`` does its own bookkeeping around the call of the
        # registered function (diagnostics, output validation, driver_failed on an error); only
        # ``invoke(function.execute, arguments, cancelled=...)`` inside it is replaced, so all of
        # that runs on replay exactly as while recording. What is recorded is the function's raw
        # return value: the runner validates it again on replay.
        real_invoke = module.__dict__["invoke"]

        def invoke(handler: Any, *args: Any, cancelled: Any = None) -> Any:
            call = _responses_call.get()
            if call is None or call[0] is not handler:
                return real_invoke(handler, *args, cancelled=cancelled)
            _, name, arguments, is_async = call

            def run() -> Any:
                return real_invoke(handler, *args, cancelled=cancelled)

            return call_async(name, arguments, run) if is_async else call_sync(name, arguments, run)

        module.invoke = invoke
        self._undo.append(functools.partial(restore, module.__dict__, "invoke", invoke, real_invoke))
        self._mark_responses_calls(module.ResponsesToolRunner, is_async=False)
        self._mark_responses_calls(module.AsyncResponsesToolRunner, is_async=True)

    def _mark_responses_calls(self, cls: type, *, is_async: bool) -> None:
        attr = "_execute_function"
        real = cls.__dict__[attr]

        def current(runner: Any, run: Any, item: Any) -> tuple[Any, str, Any, bool] | None:
            function = getattr(runner, "_functions", {}).get(item.name)
            arguments = getattr(run, "arguments", {}).get(item.call_id)
            return None if function is None else (function.execute, item.name, arguments, is_async)

        if is_async:

            async def aexecute(runner: Any, run: Any, item: Any) -> Any:
                token = _responses_call.set(current(runner, run, item))
                try:
                    return await real(runner, run, item)
                finally:
                    _responses_call.reset(token)

            setattr(cls, attr, aexecute)
        else:

            def execute(runner: Any, run: Any, item: Any) -> Any:
                token = _responses_call.set(current(runner, run, item))
                try:
                    return real(runner, run, item)
                finally:
                    _responses_call.reset(token)

            setattr(cls, attr, execute)
        self._undo.append(lambda: setattr(cls, attr, real))

    def _patch(self, cls: type, attr: str, *, is_async: bool) -> None:
        real = cls.__dict__[attr]
        if is_async:

            async def acall(tool: Any, input: Any) -> Any:
                if _is_mcp_tool(tool):
                    return await real(tool, input)
                return await call_async(tool.name, input, lambda: real(tool, input))

            setattr(cls, attr, acall)
        else:

            def call(tool: Any, input: Any) -> Any:
                if _is_mcp_tool(tool):
                    return real(tool, input)
                return call_sync(tool.name, input, lambda: real(tool, input))

            setattr(cls, attr, call)
        self._undo.append(lambda: setattr(cls, attr, real))

    def uninstall(self) -> None:
        while self._undo:
            self._undo.pop()()
