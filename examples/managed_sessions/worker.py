"""A managed-agents tool worker: attach to a session, run its custom tool calls locally, post the results.

``save_note`` has a side effect (it appends to a notes file): recorded once, it never runs on replay.
"""

from __future__ import annotations

import os
from pathlib import Path

import anthropic
from anthropic import beta_tool

NOTES = Path(os.environ.get("NOTES_FILE", "notes.txt"))


@beta_tool
def save_note(text: str) -> str:
    """Save a note for later."""
    with NOTES.open("a", encoding="utf-8") as fh:
        fh.write(text + "\n")
    return f"saved {text!r}"


async def work(client: anthropic.AsyncAnthropic, session_id: str, *, max_idle: float = 60.0) -> list[str]:
    """Run the session's tool calls until it has been idle ``max_idle`` seconds; one line per call."""
    done = []
    async for call in client.beta.sessions.events.tool_runner(session_id, tools=[save_note], max_idle=max_idle):
        text = call.result["content"][0]["text"] if call.result else "(not run)"
        done.append(f"{call.name}: {text}")
    return done
