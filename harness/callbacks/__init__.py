"""Record the callbacks an agent loop fires, and the events a stream yields, in order.

``recorder = harness.record_callbacks(target)`` works on three kinds of target:

* **An event handler** (an openai ``AssistantEventHandler`` / ``AsyncAssistantEventHandler``
  subclass instance, or any object with ``on_*`` methods). Each ``on_*`` method is shadowed by an
  instance attribute that records the call, then calls the original, so the object keeps its
  class (the SDK's ``isinstance(handler, AssistantEventHandler)`` checks still pass) and the
  callbacks the SDK fires internally through ``self.on_x(...)`` are caught too. Pass
  ``recorder.target`` (the very same object) to the SDK; ``recorder.stop()`` takes the
  shadows away again.
* **A stream**: anthropic ``MessageStream`` / ``BetaMessageStream`` (and async), openai
  ``ChatCompletionStream``, ``ResponseStream``, a raw SDK ``Stream`` (``create(stream=True)``), or
  any iterable / async iterable of events. Iterate the recorder (``for`` or ``async for``): it
  yields the events unchanged and records each one. Attribute access goes through to the stream
  (``get_final_message()``, ``text_stream``, ``until_done()``, ``current_message_snapshot``...).
  For the SDK stream helpers the recording sits on the stream's own event iterator, so events
  are recorded however the stream is consumed: the recorder, ``stream.text_stream``,
  ``stream.get_final_message()``.
* **A stream manager** (what ``client.messages.stream(...)``, ``client.chat.completions.stream(...)``,
  ``client.responses.stream(...)``, ``client.beta.threads.runs.stream(...)`` return): use the
  recorder as the context manager, ``with harness.record_callbacks(client.messages.stream(...)) as
  stream:``; ``stream`` is the recorder, bound to the stream (or to the event handler, whose
  callbacks are then recorded) that the manager opened.

For a stream or a stream manager the recorder stands in for the object it wraps, and says so the
way ``unittest.mock`` does, through ``__class__``: ``isinstance(recorder, MessageStream)`` holds
for a recorded ``MessageStream``, ``isinstance(recorder, MessageStreamManager)`` for a manager
not yet entered, and once entered, for the class of what the manager opened (so code that checks
the stream it is given keeps working). ``type(recorder)`` stays :class:`CallbackRecorder`, and so
does ``isinstance(recorder, CallbackRecorder)``. An event handler needs no stand-in: the recorder
records on the handler itself (``recorder.target``), whose class is unchanged.

Entries
-------

``recorder.calls`` is a list of :class:`Call` entries, ``Call(name, args)``, a named tuple that
compares equal to a plain ``(name, args)`` tuple and prints as ``name(key=value, ...)``:

* a callback: ``name`` is the method name and ``args`` maps its parameter names to summaries,
  ``Call("on_text_delta", {"delta": "Hel", "snapshot": "Hel"})``,
  ``Call("on_end", {})``, ``Call("on_event", {"event": "thread.run.created"})``;
* a stream event: ``name`` is the event's type (``type``, else ``event``, else ``object``) and
  ``args`` its other fields, summarised:
  ``Call("text", {"text": "Hel", "snapshot": "Hel"})``,
  ``Call("input_json", {"partial_json": '{"city": ', "snapshot": {}})``,
  ``Call("content.delta", {"delta": "Hel", "snapshot": "Hel"})``,
  ``Call("response.output_text.delta", {"content_index": 0, "delta": "Hel", "output_index": 0, "snapshot": "Hel"})``.

Summaries are small, JSON-like values (str, int, float, bool, None, lists, dicts). An SDK
(pydantic) object keeps only its meaningful fields: type, role, status, index, text and delta
values, tool names, ids of tool calls, arguments and inputs, stop and finish reasons, content;
``None`` fields, usage, models, timestamps, request echoes (tools, instructions, temperature...)
and the ids of messages, runs and steps are left out. An openai ``Text`` / ``TextDelta`` becomes
its string; an openai assistants stream event given to a callback (``on_event``) becomes its
event name. Plain dicts and lists (user data, tool inputs) are kept whole. The ids that remain
(tool call ids) and any timestamps are for the ``agent_snapshot`` extension to normalise.

Options
-------

``include`` / ``exclude``: names (callbacks or event types) to keep / to drop, e.g.
``exclude={"on_event", "chunk"}``. ``collapse_deltas=True`` merges each uninterrupted run of delta
entries (names ending in ``delta``, the anthropic ``text``, ``input_json``, ``thinking``,
``citation`` events, openai ``chunk`` events, ``on_event`` of a ``*.delta`` event) into one entry
per name and index: text fragments concatenated, snapshots the last one. That makes a snapshot
insensitive to how the model's output was chunked; by default every entry is kept (order matters).
"""

from __future__ import annotations

from harness.callbacks.recorder import CallbackRecorder, record_callbacks
from harness.callbacks.summary import Call, summarize

__all__ = ["Call", "CallbackRecorder", "record_callbacks", "summarize"]
