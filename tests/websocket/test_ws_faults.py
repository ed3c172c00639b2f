"""WebSocket faults and re-splits from ``harness.strategies``, replayed through the real openai client (sync and
async) with the loopback server gone: a consumer that handles a dropped, closed or garbled session passes, one
that does not fails with the shrunk variant; re-split deltas leave a careful consumer's answer unchanged and break
one that assumes a framing; a fault replays as the real ``websockets`` library reports a real drop."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.websocket.conftest import Project

AGENT = """
    import asyncio
    import json
    import os

    import harness
    import harness.strategies as hs
    import openai
    import pytest
    from websockets.exceptions import ConnectionClosedError

    TOOLS = [{"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    ANSWER = "It is sunny in Paris."
    UNAVAILABLE = "the weather service is unavailable"
    EXAMPLES = int(os.environ.get("EXAMPLES", "25"))


    @harness.recorded_tool
    def get_weather(city):
        return "sunny"


    def client(kind):
        cls = openai.OpenAI if kind == "sync" else openai.AsyncOpenAI
        return cls(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)


    def first():
        return {"type": "response.create", "model": "gpt-5", "input": "Weather in Paris?", "tools": TOOLS}


    def second(rid, call):
        output = get_weather(**json.loads(call.arguments))
        return {"type": "response.create", "model": "gpt-5", "previous_response_id": rid,
                "input": [{"type": "function_call_output", "call_id": call.call_id, "output": output}]}


    class Turn:
        \"\"\"What one response's events give: its function call, its text deltas, its id.\"\"\"

        def __init__(self):
            self.call = self.rid = None
            self.deltas = []

        def add(self, event):
            if event.type == "response.output_item.done" and event.item.type == "function_call":
                self.call = event.item
            if event.type == "response.output_text.delta":
                self.deltas.append(event.delta)
            if event.type == "response.completed":
                self.rid = event.response.id
                return True
            return False


    def read_sync(ws, careful):
        turn = Turn()
        while True:
            try:
                event = ws.recv()
            except ValueError:  # a frame that is not a JSON event: skip it
                if not careful:
                    raise
                continue
            if turn.add(event):
                return turn


    async def read_async(ws, careful):
        turn = Turn()
        while True:
            try:
                event = await ws.recv()
            except ValueError:
                if not careful:
                    raise
                continue
            if turn.add(event):
                return turn


    def agent_sync(careful, words=False):
        try:
            with client("sync").responses.connect() as ws:
                ws.send(first())
                turn = read_sync(ws, careful)
                ws.send(second(turn.rid, turn.call))
                deltas = read_sync(ws, careful).deltas
        except ConnectionClosedError:
            if not careful:
                raise
            return UNAVAILABLE
        return " ".join(d.strip() for d in deltas) if words else "".join(deltas)


    def agent_async(careful):
        async def go():
            async with client("async").responses.connect() as ws:
                await ws.send(first())
                turn = await read_async(ws, careful)
                await ws.send(second(turn.rid, turn.call))
                return "".join((await read_async(ws, careful)).deltas)

        try:
            return asyncio.run(go())
        except ConnectionClosedError:
            if not careful:
                raise
            return UNAVAILABLE


    def agent(kind, careful):
        return agent_sync(careful) if kind == "sync" else agent_async(careful)


    def expected(variant):
        if variant is None or variant.fault in (None, "malformed"):
            return ANSWER
        return UNAVAILABLE


    @pytest.mark.cassette("weather_agent")
    def test_record():
        assert agent_sync(careful=False) == ANSWER


    @pytest.mark.cassette("weather_agent")
    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_careful_agent_survives_websocket_faults(kind):
        @hs.fuzz(hs.ws_faults(), max_examples=EXAMPLES)
        def check(variant):
            assert agent(kind, careful=True) == expected(variant)

        check()


    @pytest.mark.cassette("weather_agent")
    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_naive_agent_under_websocket_faults(kind):
        @hs.fuzz(hs.ws_faults(kinds=(os.environ.get("FAULT", "drop"),)), max_examples=EXAMPLES)
        def check(variant):
            assert agent(kind, careful=False) == ANSWER

        check()


    @pytest.mark.cassette("weather_agent")
    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_resplit_deltas_keep_the_answer(kind):
        @hs.fuzz(hs.ws_resplit(), max_examples=EXAMPLES)
        def check(variant):
            assert agent(kind, careful=True) == ANSWER

        check()


    @pytest.mark.cassette("weather_agent")
    def test_a_consumer_that_assumes_one_word_per_delta():
        @hs.fuzz(hs.ws_resplit(), max_examples=EXAMPLES)
        def check(variant):
            assert agent_sync(careful=True, words=True) == ANSWER

        check()


    @pytest.mark.cassette("weather_agent")
    def test_properties(cassette):
        # every re-split gives the recorded answer; every fault surfaces as what websockets or the SDK raise
        assert hs.assert_equivalent(lambda: agent_sync(careful=True), hs.ws_resplit(), max_examples=10) == ANSWER
        outcomes = []
        hs.assert_fails_cleanly(lambda: agent_sync(careful=False), hs.ws_faults(), expected=(ConnectionClosedError, ValueError),
                                max_examples=10, outcomes=outcomes)
        assert outcomes and all(o.error is not None for o in outcomes)


    @pytest.mark.cassette("weather_agent")
    def test_faults_by_hand(cassette):
        ((index, session),) = hs.ws_targets()
        with hs.substitute(hs.ws_drop(index, session, after=3)) as variant:
            with pytest.raises(ConnectionClosedError) as info:
                agent_sync(careful=False)
        assert variant.played and info.value.rcvd is None and str(info.value) == "no close frame received or sent"
        with hs.substitute(hs.ws_close(index, session, after=9, code=1011, reason="overloaded")):
            with pytest.raises(ConnectionClosedError) as info:
                agent_sync(careful=False)
        assert (info.value.rcvd.code, info.value.rcvd.reason) == (1011, "overloaded")
        garbled = hs.ws_malformed(index, session, before=2, garbage="<html>502</html>")
        with hs.substitute(garbled):
            with pytest.raises(json.JSONDecodeError):
                agent_sync(careful=False)
        with hs.substitute(garbled):  # each block replays the cassette from its start
            assert agent_sync(careful=True) == ANSWER
"""

REAL_DROP = """
    import os

    import openai
    import pytest
    from websockets.exceptions import ConnectionClosedError


    @pytest.mark.cassette
    def test_the_connection_is_lost():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        with client.responses.connect() as ws:
            ws.send({"type": "response.create", "model": "gpt-5", "input": "drop"})
            assert ws.recv().type == "response.created"
            with pytest.raises(ConnectionClosedError) as info:
                ws.recv()
            assert info.value.rcvd is None and info.value.sent is None
            assert str(info.value) == "no close frame received or sent"
            with pytest.raises(ConnectionClosedError):  # and what the client sends after it fails too
                ws.send({"type": "response.create", "model": "gpt-5", "input": "again"})
"""


def _outcome(result: Any, name: str) -> str:
    return "\n".join(line for line in result.stdout.lines if name in line and ("PASSED" in line or "FAILED" in line))


def test_a_consumer_that_handles_websocket_faults_passes_and_one_that_does_not_fails(project: Project) -> None:
    # Given an agent's Responses WebSocket session (a function call round trip), recorded once
    project.write({"test_agent.py": AGENT})
    project.record("-k", "test_record").assert_outcomes(passed=1, deselected=9)
    # When the careful agent (it catches ConnectionClosedError and skips frames that are not JSON) is fuzzed
    # with every fault, and the re-split deltas are replayed, sync and async
    result = project.replay("-v", "-k", "careful or resplit or by_hand or properties")
    # Then it passes every variant
    result.assert_outcomes(passed=6, deselected=4)


def test_a_naive_consumer_fails_each_fault_with_the_shrunk_variant(project: Project) -> None:
    project.write({"test_agent.py": AGENT})
    project.record("-k", "test_record").assert_outcomes(passed=1, deselected=9)
    for fault, error, shrunk in [
        (
            "drop",
            "ConnectionClosedError",
            "ws_drop(#0: WebSocket to ws://127.0.0.1/v1/responses: connection lost before the first server frame)",
        ),
        (
            "close",
            "ConnectionClosedError",
            "ws_close(#0: WebSocket to ws://127.0.0.1/v1/responses: closed by the server with 1011 'internal error' before the first server frame)",
        ),
        (
            "malformed",
            "JSONDecodeError",
            "ws_malformed(#0: WebSocket to ws://127.0.0.1/v1/responses: the text frame '<html>502 Bad Gateway</html>' before server frame #1 response.created)",
        ),
    ]:
        # When the naive agent (no handling) is fuzzed with one kind of fault, sync and async
        project.monkeypatch.setenv("FAULT", fault)
        result = project.replay("-k", "naive")
        # Then both fail, with what the SDK raised and the smallest variant that breaks it
        result.assert_outcomes(failed=2, deselected=8)
        out = result.stdout.str()
        assert error in out, out
        assert out.count(shrunk) >= 2, out


def test_a_consumer_that_assumes_the_recorded_framing_fails_under_resplit(project: Project) -> None:
    project.write({"test_agent.py": AGENT})
    project.record("-k", "test_record").assert_outcomes(passed=1, deselected=9)
    result = project.replay("-k", "one_word_per_delta")
    result.assert_outcomes(failed=1, deselected=9)
    out = result.stdout.str()
    # the smallest re-split that breaks it: a delta cut mid-word (one split, or every delta cut every k chars)
    assert "variant=ws_resplit(#0: " in out and ("split frame #" in out or "cut every" in out), out
    assert re.search(r"AssertionError: assert '[^']*' == 'It is sunny in Paris.'", out), out


def test_a_real_drop_is_recorded_as_an_abnormal_closure_and_replays_as_websockets_raised_it(project: Project) -> None:
    # Given a session whose server cut the TCP connection mid-response (no close frame)
    project.write({"test_drop.py": REAL_DROP})
    project.record().assert_outcomes(passed=1)
    # Then the cassette says the server's side ended abnormally
    (text,) = project.cassettes().values()
    (item,) = [i for i in json.loads(text)["interactions"] if i["kind"] == "websocket"]
    assert item["close"] == {"by": "server", "code": 1006, "reason": ""}
    # And on replay the client sees what the live library raised (the same exception, no close frame, and a
    # send after it fails too), as a ws_drop fault gives it
    project.replay().assert_outcomes(passed=1)


REALTIME = """
    import asyncio
    import os

    import harness.strategies as hs
    import openai
    import pytest
    from hypothesis import strategies as st
    from websockets.exceptions import ConnectionClosedError

    ITEM = {"type": "conversation.item.create", "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Salut"}]}}


    class Text:
        def __init__(self):
            self.text, self.ids = "", set()

        def add(self, event):
            assert event.event_id not in self.ids, event  # a re-split delta is an event of its own
            self.ids.add(event.event_id)
            if event.type == "response.output_text.delta":
                self.text += event.delta
            return event.type == "response.done"


    def run_sync():
        client = openai.OpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        got = Text()
        try:
            with client.realtime.connect(model="gpt-realtime") as rt:
                rt.send(ITEM)
                rt.send({"type": "response.create"})
                while True:
                    try:
                        if got.add(rt.recv()):
                            return got.text
                    except ValueError:
                        continue
        except ConnectionClosedError:
            return None


    def run_async():
        client = openai.AsyncOpenAI(api_key="sk-test", base_url=os.environ["MODEL_URL"] + "/v1", max_retries=0)
        got = Text()

        async def go():
            async with client.realtime.connect(model="gpt-realtime") as rt:
                await rt.send(ITEM)
                await rt.send({"type": "response.create"})
                while True:
                    try:
                        if got.add(await rt.recv()):
                            return got.text
                    except ValueError:
                        continue

        try:
            return asyncio.run(go())
        except ConnectionClosedError:
            return None


    @pytest.mark.cassette
    @pytest.mark.parametrize("kind", ["sync", "async"])
    def test_realtime_text_under_resplits_and_faults(kind):
        @hs.fuzz(st.one_of(hs.ws_resplit(), hs.ws_faults()), max_examples=30)
        def check(variant):
            text = run_sync() if kind == "sync" else run_async()
            if variant is None or variant.fault in (None, "malformed"):
                assert text == "Bonjour !", variant
            else:
                assert text is None, variant

        check()
"""


def test_realtime_sessions_under_resplits_and_faults(project: Project) -> None:
    # Given Realtime sessions (the server speaks first, then text deltas with event ids), recorded
    project.write({"test_rt.py": REALTIME})
    project.record().assert_outcomes(passed=2)
    # When they are fuzzed with re-split deltas and every fault, sync and async, with the server gone
    # Then a consumer that handles the faults gives the recorded text or sees the connection end
    project.replay().assert_outcomes(passed=2)
