"""The properties users want out of the box, checked over generated variants.

* :func:`assert_equivalent`: for every meaning-preserving variant, the code under test gives the
  same result as for the recording (SDK objects compared field by field, the first differences
  printed as JSON paths); callback traces in the result are checked with :func:`callback_violations`.
* :func:`assert_fails_cleanly`: for every fault, the failure surfaces as the SDK's documented
  exception (``anthropic.APIError``, ``openai.APIError`` and their subclasses) and nothing hangs.
* :func:`callback_violations` / :func:`assert_callback_order`: per content block, created, then
  deltas, then done; no delta after done; nothing after the end (``on_end``, ``message_stop``,
  ``response.completed``); every block opened is closed by the end; a Responses event of an output
  item (or content part) only while that item (part) is open.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from harness import providers
from harness.callbacks import Call
from harness.callbacks.collapse import FRAGMENT_KEYS, identity, is_delta, merge_fragment
from harness.fuzz.current import is_recording
from harness.fuzz.current import ledger as _ledger
from harness.fuzz.runner import (
    DEFAULT_EXAMPLES,
    DEFAULT_TIMEOUT,
    StreamHang,
    call_with_timeout,
    hang_hint,
    run_examples,
    substitute,
)
from harness.fuzz.sdk_errors import sdk_behaviour
from harness.fuzz.strategies import equivalent, faults
from harness.fuzz.variant import Variant
from harness.matching import diff
from harness.providers.base import index_key, key_text

# --------------------------------------------------------------------------------------------- equivalence


def comparable(value: Any, traces: str = "order") -> Any:
    """Plain data for comparing results: SDK (pydantic) objects and dataclasses dumped field by field. Callback
    traces (lists of :class:`harness.Call`) are left out with ``traces="order"`` (their order is
    checked instead), or compared collapsed with ``traces="collapsed"`` (see :func:`collapse`)."""
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return comparable(dump(mode="json", warnings=False), traces)
        except TypeError:
            return comparable(dump(), traces)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: comparable(getattr(value, f.name), traces) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): comparable(v, traces) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Call) for v in value):
            return collapse(value) if traces == "collapsed" else "<callback trace>"
        return [comparable(v, traces) for v in value]
    if isinstance(value, Call):
        return [value.name, comparable(value.args, traces)]
    return value


def collapse(calls: Iterable[Call]) -> list[Any]:
    """A callback trace with each run of deltas merged per block (fragments concatenated, snapshots
    keeping their last value) and the raw ``chunk`` events left out: what a trace says, whatever the
    chunking. (Whether the *callbacks* are chunking-invariant is the SDK's business: the Assistants
    handler, for one, hands a tool call's first fragment to ``on_tool_call_created``, not to
    ``on_tool_call_delta``.)"""

    def merge(old: Call, new: Call) -> Call:
        args = dict(old.args)
        for k, v in new.args.items():
            if k in old.args and k in FRAGMENT_KEYS:
                o = old.args[k]
                # a top-level fragment is always text to concatenate (``arguments_delta`` included)
                args[k] = o + v if isinstance(o, str) and isinstance(v, str) else merge_fragment(o, v, k)
            else:
                args[k] = v
        return Call(old.name, args)

    out: list[Call] = []
    run_start = 0
    for call in calls:
        if call.name == "chunk":
            continue
        if not is_delta(call):
            out.append(call)
            run_start = len(out)
            continue
        key = identity(call)
        for i in range(run_start, len(out)):
            if identity(out[i]) == key:
                out[i] = merge(out[i], call)
                break
        else:
            out.append(call)
    return [[c.name, comparable(c.args)] for c in out]


def _traces(value: Any) -> Iterable[list[Call]]:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Call) for v in value):
            yield list(value)
        else:
            for v in value:
                yield from _traces(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _traces(v)
    elif hasattr(value, "calls") and isinstance(getattr(value, "calls", None), list):
        yield from _traces(value.calls)


def _replayed_again(ledger: Any, run: Callable[[], Any], timeout: float | None) -> Any:
    """``run()`` over the recording as it is, from its first interaction, keeping what the test
    played before (the ledger's substitute, with every interaction standing in for itself)."""
    items = ledger.cassette.interactions
    if not items:
        return call_with_timeout(run, timeout=timeout, what=" for the recording itself")
    with ledger.substitute(0, items[0]) as result:
        value = call_with_timeout(run, timeout=timeout, what=" for the recording itself")
    if result.misses:
        raise result.misses[0]
    return value


def assert_equivalent(
    run: Callable[[], Any],
    strategy: st.SearchStrategy[Variant] | None = None,
    *,
    cassette: Any = None,
    traces: str = "order",
    compare: Callable[[Any], Any] | None = None,
    max_examples: int = DEFAULT_EXAMPLES,
    timeout: float | None = DEFAULT_TIMEOUT,
    **settings_kw: Any,
) -> Any:
    """``run()`` (sync or ``async``) gives the same result for every meaning-preserving variant as
    for the recording itself; callback traces (lists of :class:`harness.Call`) in its result must
    also keep their order invariants (``traces="collapsed"`` compares them collapsed, too). Returns
    the recording's result. ``compare(result)`` gives what is compared (default :func:`comparable`).

    Call it from a cassette test: ``hs.assert_equivalent(lambda: client.messages.stream(...)...)``.
    While the cassette is being recorded, ``run()`` runs once, as is, and its result is returned.
    """
    if traces not in ("order", "collapsed"):
        raise ValueError(f"traces must be 'order' or 'collapsed', not {traces!r}")
    if compare is None:
        compare = functools.partial(comparable, traces=traces)
    ledger = _ledger(cassette)
    if is_recording(ledger):  # recording: run once, as is (the variants replay what it records)
        return call_with_timeout(run, timeout=timeout, what=" while recording")
    baseline = _replayed_again(ledger, run, timeout)
    expected = compare(baseline)
    _check_traces(baseline, "the recording")

    def body(variant: Variant) -> None:
        with substitute(variant, ledger):
            got = call_with_timeout(run, timeout=timeout, what=f" for {variant!r}")
        _check_traces(got, repr(variant))
        actual = compare(got)
        if actual != expected:
            try:
                lines = diff(expected, actual, "$")
            except (TypeError, ValueError):  # values that are not JSON-like: shown whole below
                lines = []
            raise AssertionError(
                f"harness: a meaning-preserving variant changed the result\n  variant: {variant!r}\n"
                "  recorded != with the variant:\n"
                + "\n".join(f"    {d}" for d in lines or [f"{expected!r:.300} != {actual!r:.300}"])
            )

    run_examples(
        strategy if strategy is not None else equivalent(),
        body,
        key=f"{ledger.nodeid}::assert_equivalent",
        name="assert_equivalent",
        max_examples=max_examples,
        **settings_kw,
    )
    return baseline


def _check_traces(result: Any, what: str) -> None:
    for trace in _traces(result):
        problems = callback_violations(trace)
        if problems:
            raise AssertionError(f"harness: callback order broken for {what}:\n" + "\n".join(f"  {p}" for p in problems[:10]))


# --------------------------------------------------------------------------------------------- faults


def documented_errors(variant: Variant) -> tuple[type[BaseException], ...]:
    """The exceptions the SDK raises for ``variant``'s fault in a stream of its format, as measured
    (:data:`harness.fuzz.sdk_errors.SDK_BEHAVIOUR`: the documented ``APIError`` family where the SDK
    keeps to it, and what it raises instead where it does not). For a format or fault not in the
    table: ``anthropic.APIError`` / ``openai.APIError`` by the stream's format."""
    behaviour = sdk_behaviour(variant.format, variant.fault)
    if behaviour is not None:
        classes = behaviour.classes()
        if classes:
            return classes
    provider = providers.get(variant.format)
    module = provider.sdk if provider is not None and provider.sdk else None
    found: list[type[BaseException]] = []
    for name in [module] if module else ["anthropic", "openai"]:
        try:
            found.append(importlib.import_module(name).APIError)
        except (ImportError, AttributeError):
            pass
    return tuple(found)


class Outcome:
    """What the code under test did for one fault: returned ``value`` or raised ``error``."""

    __slots__ = ("error", "value", "variant")

    def __init__(self, variant: Variant, value: Any = None, error: BaseException | None = None) -> None:
        self.variant, self.value, self.error = variant, value, error

    def __repr__(self) -> str:
        got = (
            f"raised {type(self.error).__module__}.{type(self.error).__qualname__}: {self.error}"
            if self.error
            else f"returned {self.value!r:.200}"
        )
        return f"{self.variant!r}: {got}"


def assert_fails_cleanly(
    run: Callable[[], Any],
    strategy: st.SearchStrategy[Variant] | None = None,
    *,
    cassette: Any = None,
    expected: type[BaseException] | tuple[type[BaseException], ...] | None = None,
    accept: Callable[[Outcome], bool] | None = None,
    max_examples: int = DEFAULT_EXAMPLES,
    timeout: float | None = DEFAULT_TIMEOUT,
    outcomes: list[Outcome] | None = None,
    **settings_kw: Any,
) -> None:
    """For every fault, ``run()`` raises, within ``timeout`` seconds, what the SDK raises for that
    fault (``expected``; by default :func:`documented_errors`: per format and fault, as measured,
    so code that lets the SDK's errors through passes, and code that turns them into something else,
    swallows them or hangs does not). ``expected=openai.APIError`` demands the documented family only.

    ``accept(outcome)`` may allow other outcomes (say, a truncated message the code flags itself);
    an HTTP error status the SDK recovers from by retrying is accepted, and so is a variant the
    code never requested. Returning normally otherwise fails, even where the SDK itself returns a
    partial result (the message says so). ``outcomes``, if given, collects what happened for each
    example. Clients need a short read timeout (``timeout=0.05``) for the ``read_timeout`` fault.
    While the cassette is being recorded, ``run()`` runs once, as is.
    """
    ledger = _ledger(cassette)
    if is_recording(ledger):  # recording: run once, as is (the faults replay what it records)
        call_with_timeout(run, timeout=timeout, what=" while recording")
        return

    def body(variant: Variant) -> None:
        try:
            with substitute(variant, ledger):
                value = call_with_timeout(run, timeout=timeout, what=f" for {variant!r}{hang_hint(variant)}")
        except StreamHang:
            raise
        except Exception as exc:
            outcome = Outcome(variant, error=exc)
        else:
            outcome = Outcome(variant, value=value)
        if outcomes is not None:
            outcomes.append(outcome)
        if accept is not None and accept(outcome):
            return
        if outcome.error is None:
            if variant.fault == "status" or not variant.played:
                return  # the SDK retried and got the recorded answer; or the code never got there
            behaviour = sdk_behaviour(variant.format, variant.fault)
            known = (
                f"\n  (the SDK itself returns normally here: {behaviour.finding})"
                if behaviour is not None and behaviour.returns
                else ""
            )
            raise AssertionError(f"harness: the fault did not surface: the code returned normally\n  {outcome!r}{known}")
        errors = expected if expected is not None else documented_errors(variant)
        if errors and not isinstance(outcome.error, errors):
            names = ", ".join(f"{e.__module__}.{e.__qualname__}" for e in (errors if isinstance(errors, tuple) else (errors,)))
            what = (
                "an undocumented exception"
                if expected is not None or variant.fault is None
                else "an exception the SDK does not raise here"
            )
            raise AssertionError(f"harness: the fault surfaced as {what} (expected {names})\n  {outcome!r}") from outcome.error

    run_examples(
        strategy if strategy is not None else faults(),
        body,
        key=f"{ledger.nodeid}::assert_fails_cleanly",
        name="assert_fails_cleanly",
        max_examples=max_examples,
        **settings_kw,
    )


# --------------------------------------------------------------------------------------------- callback order

# Each provider names its API's callbacks (``Provider.callback_kind``: family, phase, key) and the
# families it creates explicitly, must close by the end or keys by nesting. What no provider names
# follows the SDK helpers' common convention: ``<path>.delta`` and ``<path>.done``.


def _classify(call: Call) -> tuple[str, str, tuple[Any, ...] | None] | None:
    name, args = call.name, call.args
    for provider in providers.providers():
        found = provider.callback_kind(name, args)
        if found is not None:
            return found
    if name.endswith(".delta"):
        family, phase = name[: -len(".delta")], "delta"
    elif name.endswith(".done"):
        family, phase = name[: -len(".done")], "done"
    else:
        return None
    nested = frozenset().union(*(p.nested_families for p in providers.providers()))
    return family, phase, None if family in nested else index_key(args)


def _families() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The families every provider creates explicitly, those that must close, and the callbacks
    that may come after the end."""
    every = providers.providers()
    return (
        frozenset().union(*(p.explicit_families for p in every)),
        frozenset().union(*(p.must_close for p in every)),
        frozenset().union(*(p.after_end for p in every)),
    )


def callback_violations(calls: Iterable[Call | tuple[str, dict[str, Any]]]) -> list[str]:
    """The broken order invariants of a callback trace (``harness.record_callbacks(...).calls``):
    per block created, then deltas, then done; no delta after done; nothing after the end; every
    block created is done by the end. Works on Anthropic stream events, OpenAI chat / Responses
    stream events and Assistants event-handler callbacks. An empty list means all is well."""
    explicit, must_close, after_end = _families()
    every = providers.providers()
    problems: list[str] = []
    state: dict[tuple[str, tuple[Any, ...]], str] = {}
    stacks: dict[str, list[tuple[Any, ...]]] = {}
    counters: dict[str, int] = {}
    ended_at: str | None = None
    for n, raw in enumerate(calls):
        call = raw if isinstance(raw, Call) else Call(raw[0], dict(raw[1]))
        where = f"#{n} {call.name}"
        if ended_at is not None and call.name not in after_end:
            problems.append(f"{where} after the end ({ended_at})")
        for provider in every:
            problems.extend(provider.callback_problems(call.name, call.args, where, state))
        kind = _classify(call)
        if kind is None:
            continue
        family, phase, key = kind
        if phase == "end":
            ended_at = where
            continue
        stack = stacks.setdefault(family, [])
        if phase == "created":
            if key is None:
                counters[family] = counters.get(family, 0) + 1
                key = ("#", counters[family])
            if state.get((family, key)) is not None:
                problems.append(f"{where}: {family} {key_text(key)} created twice")
            state[(family, key)] = "open"
            stack.append(key)
            continue
        if key is None:
            open_keys = [k for k in stack if state.get((family, k)) == "open"]
            if not open_keys:
                if family in explicit:
                    problems.append(f"{where}: {phase} of a {family} that is not open")
                    continue
                key = ("#implicit",)
            else:
                key = open_keys[-1]
        status = state.get((family, key))
        if status == "done":
            problems.append(f"{where}: {phase} after {family} {key_text(key)} was done")
            continue
        if status is None:
            if family in explicit:
                problems.append(f"{where}: {phase} before {family} {key_text(key)} was created")
            state[(family, key)] = "open"
            stack.append(key)
        if phase in ("done", "done+end"):
            state[(family, key)] = "done"
            if phase == "done+end":
                ended_at = where
    if ended_at is not None:
        for (family, key), status in state.items():
            if status == "open" and family in must_close:
                problems.append(f"{family} {key_text(key)} was never done before the end")
    return problems


def assert_callback_order(calls: Iterable[Call | tuple[str, dict[str, Any]]]) -> None:
    """Raise ``AssertionError`` listing the broken invariants (see :func:`callback_violations`)."""
    problems = callback_violations(calls)
    if problems:
        raise AssertionError("harness: callback order broken:\n" + "\n".join(f"  {p}" for p in problems[:20]))
