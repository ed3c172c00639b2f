"""Replaying variants: ``substitute()`` swaps one recorded response for a variant, ``@fuzz`` runs a
test body once per generated variant, and a watchdog makes sure nothing hangs."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import hashlib
import inspect
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from harness.engine.ledger import Substitution
from harness.errors import HarnessError
from harness.fuzz.current import is_recording
from harness.fuzz.current import ledger as _ledger
from harness.fuzz.strategies import equivalent
from harness.fuzz.variant import Variant

DEFAULT_EXAMPLES = 25
DEFAULT_TIMEOUT = 10.0


class StreamHang(HarnessError, AssertionError):
    """The code under test did not finish within the time limit for a variant: it hangs."""


@contextlib.contextmanager
def substitute(variant: Variant, cassette: Any = None) -> Iterator[Variant]:
    """Replay ``variant`` in place of its recorded interaction for the duration of the block.

    The cassette replays from its first interaction again (so the block can run the whole agent
    loop), the variant's ``before`` interactions (a 529 first...) answer the same request first, and
    at the end everything is put back. A request the cassette cannot answer during the block is
    raised when the block ends, even if the SDK swallowed it.

    With plain ``@given`` (``@hs.fuzz`` does all this for you)::

        @pytest.mark.cassette
        @settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(variant=hs.rechunked())
        def test_stream(cassette, variant):
            with hs.substitute(variant, cassette):
                assert final_message().content[0].text == "Café ☕"
    """
    ledger = _ledger(cassette)
    if not ledger.replaying or ledger.recording:
        raise HarnessError(
            "harness.strategies: variants replay over a recorded cassette, in replay-only mode "
            f"(this one is in record mode {ledger.settings.record_mode!r}): record it first, then fuzz it"
        )
    count = len(ledger.cassette.interactions)
    if not 0 <= variant.index < count:
        raise HarnessError(f"harness.strategies: the cassette has no interaction #{variant.index} ({count} recorded)")
    result = Substitution()
    try:
        with ledger.substitute(variant.index, variant.interaction, variant.before, cut_short_ok=not variant.preserving) as result:
            _note(variant)
            yield variant
    finally:
        variant.played = result.played
    if result.misses:
        raise result.misses[0]


def hang_hint(variant: Variant | None) -> str:
    """For a hang report: what a ``read_timeout`` fault waits for."""
    if variant is None or variant.fault != "read_timeout":
        return ""
    return (
        "\n  (the read_timeout fault stalls the stream, as a real network can: the client waits for its own read "
        "timeout, 600 s by default in the SDKs, or for ever with timeout=None; give the clients in the test a short "
        "one, e.g. Anthropic(timeout=0.05))"
    )


def _note(variant: Variant) -> None:
    try:
        note(variant.explain())
    except Exception:  # not inside a hypothesis example
        pass


def call_with_timeout(
    fn: Callable[..., Any],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    what: str = "",
) -> Any:
    """``fn(*args, **kwargs)``; a coroutine it returns runs in a fresh event loop. With ``timeout``,
    a body still running after it raises :class:`StreamHang`: in the main thread a ``SIGALRM``
    interrupts it (as pytest-timeout does); elsewhere the body runs in a daemon thread that is
    abandoned if it hangs (Python cannot stop a thread)."""
    kwargs = kwargs or {}
    message = f"harness: the test body did not finish within {timeout} s{what}: it hangs"

    def call() -> Any:
        result = fn(*args, **kwargs)
        if inspect.iscoroutine(result):  # an async def, or a lambda returning a coroutine
            result = asyncio.run(result)
        return result

    if timeout is None:
        return call()
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():

        def alarm(signum: int, frame: Any) -> None:
            raise StreamHang(message)

        old_handler = signal.signal(signal.SIGALRM, alarm)
        old_timer = signal.setitimer(signal.ITIMER_REAL, timeout)
        start = time.monotonic()
        try:
            return call()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old_handler)
            if old_timer[0]:  # someone else's alarm (pytest-timeout...): give back what is left of it
                signal.setitimer(signal.ITIMER_REAL, max(0.001, old_timer[0] - (time.monotonic() - start)), old_timer[1])
    box: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["result"] = ctx.run(call)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="harness-fuzz-example", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise StreamHang(message)
    if "error" in box:
        raise box["error"]
    return box.get("result")


def run_examples(
    strategy: st.SearchStrategy[Variant],
    body: Callable[[Variant], None],
    *,
    key: str,
    name: str = "fuzz",
    max_examples: int = DEFAULT_EXAMPLES,
    **settings_kw: Any,
) -> None:
    """Run ``body(variant)`` under hypothesis: shrinking, the example database (keyed by ``key``,
    e.g. the test id, so a failure replays first on the next run), and readable variant reprs."""

    def inner(variant: Variant) -> None:
        body(variant)

    inner.__name__ = inner.__qualname__ = name
    inner._hypothesis_internal_add_digest = hashlib.sha256(key.encode()).digest()  # type: ignore[attr-defined]
    options: dict[str, Any] = {
        "max_examples": max_examples,
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
        "print_blob": True,
        "report_multiple_bugs": False,
        # Not the explain phase: it re-runs the shrunk failure many times under a tracer, and a
        # hanging variant costs its whole timeout each time (minutes for one hang). A variant
        # explains itself (its note says what it changed and where).
        "phases": [p for p in Phase if p is not Phase.explain],
    }
    options.update(settings_kw)
    test = settings(**options)(given(variant=strategy)(inner))
    test()


def fuzz(
    strategy: st.SearchStrategy[Variant] | None = None,
    *,
    max_examples: int = DEFAULT_EXAMPLES,
    timeout: float | None = DEFAULT_TIMEOUT,
    argname: str = "variant",
    **settings_kw: Any,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Run the decorated cassette test once per generated variant of its recorded stream(s).

    The body replays the whole cassette each time, with one recorded response swapped for a
    variant (``substitute``). It may take a ``variant`` argument (its fixtures are resolved once),
    may be ``async def`` (each example runs in a fresh event loop), and must finish within
    ``timeout`` seconds per example. While the cassette is being recorded, the body runs once, as is.
    Failures shrink to the smallest variant, print it readably, and replay first on the next run.
    """

    def decorate(test: Callable[..., Any]) -> Callable[..., Any]:
        sig = inspect.signature(test)
        takes_variant = argname in sig.parameters

        @functools.wraps(test)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            ledger = _ledger()
            if is_recording(ledger):  # recording (once, all, new_episodes): the body runs once, as is
                call_with_timeout(test, args, {**kwargs, argname: None} if takes_variant else kwargs, timeout)
                return

            def body(variant: Variant) -> None:
                with substitute(variant, ledger):
                    call_with_timeout(
                        test,
                        args,
                        {**kwargs, argname: variant} if takes_variant else kwargs,
                        timeout,
                        f" for {variant!r}{hang_hint(variant)}",
                    )

            run_examples(
                strategy if strategy is not None else equivalent(),
                body,
                key=ledger.nodeid or test.__qualname__,
                name=test.__name__,
                max_examples=max_examples,
                **settings_kw,
            )

        wrapper.__signature__ = sig.replace(parameters=[p for n, p in sig.parameters.items() if n != argname])  # type: ignore[attr-defined]
        if inspect.iscoroutinefunction(test):
            # pytest must see a plain function: the examples run their own event loops.
            del wrapper.__wrapped__
        return wrapper

    return decorate
