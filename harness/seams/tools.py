"""The local-tool seam: a tool function called by a runner is recorded with its input and result.

On replay the recorded result is returned and the function is not run (a Jira ticket, an email:
side effects must not happen in CI); an input other than the recorded one is a miss like any
other. ``--real-tools`` (or ``real_tools=True``) runs the functions instead.

Covered: anthropic's ``@beta_tool`` / ``@beta_async_tool`` objects (``BetaFunctionTool.call``),
openai's ``ResponsesToolRunner`` / ``AsyncResponsesToolRunner`` registered functions (recorded by
the function's name, its parsed arguments and its raw output), and any function wrapped with
:func:`harness.recorded_tool`. Every other kind of tool the SDKs' runners dispatch (built-in tools,
toolset members, decisions actions, agents sessions' handlers, the computer and browser helpers' driver
calls) is recorded at the runners' dispatch points by :mod:`harness.seams.tool_dispatch`, through
:class:`ToolCall` and :func:`call_sync` / :func:`call_async` here: one recording and replay path for all
of them.

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
from harness.seams.imports import ModuleSeam, restore

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


def _is_mcp_tool(tool: Any) -> bool:
    # anthropic's mcp_tool(...) helpers call an MCP server: the MCP seam records them, once.
    return getattr(tool, "_stainless_helper", None) == "mcp_tool"


# The registered function a responses runner is executing in this context: (its executor, name,
# parsed arguments, async?). ``_execute_function`` sets it; the module's ``invoke``, which only gets
# the executor, reads it. A context variable, because the sync runner executes functions in a
# thread pool (each in a copy of the context) and the async runner in concurrent tasks.
_responses_call: ContextVar[tuple[Any, str, Any, bool] | None] = ContextVar("harness_responses_call", default=None)


class ToolSeam(ModuleSeam):
    """Patches the SDKs' function-tool classes and the responses runner for one test, now or when the test imports the SDK."""

    # Module -> the method of this class that patches it.
    targets: ClassVar[dict[str, str]] = {
        "anthropic.lib.tools._beta_functions": "_patch_anthropic",
        "openai.lib.responses_tool_runner": "_patch_responses",
    }

    def _patch_anthropic(self, module: Any) -> None:
        self._patch(module.BetaFunctionTool, "call", is_async=False)
        self._patch(module.BetaAsyncFunctionTool, "call", is_async=True)

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
